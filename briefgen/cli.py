"""Command line: parse arguments, call the library, print messages. No logic lives here."""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .errors import BriefgenError, display_path


def _fail(exc: BriefgenError) -> None:
    for line in exc.lines():
        click.echo(line, err=True)
    sys.exit(exc.exit_code)


def _warn(report) -> None:
    for d in report.diagnostics.warnings:
        click.echo(d.format(), err=True)


class Group(click.Group):
    """Usage errors exit 2 (click's default); content errors are BriefgenError -> 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BriefgenError as exc:
            _fail(exc)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefgen")
def main() -> None:
    """Build a cited, verified policy brief from content/ (sources and an outline)."""


project_argument = click.argument("project", default=".", type=click.Path(file_okay=False))
strict_option = click.option(
    "--strict", is_flag=True, help="Treat warnings (changed or ambiguous quotes) as errors."
)


@main.command()
@project_argument
@strict_option
@click.option("--no-pdf", is_flag=True, help="Write only output/brief.html.")
def build(project: str, strict: bool, no_pdf: bool) -> None:
    """Verify every excerpt, then write output/brief.html and output/brief.pdf."""
    from .build import build as run_build

    result = run_build(project, strict=strict, pdf=not no_pdf)
    _warn(result.report)
    verified = sum(1 for e in result.report.excerpts if e.anchor.status == "verified")
    names = ", ".join(display_path(p) for p in result.written if not p.parent.name.startswith("."))
    click.echo(
        f"{verified} of {len(result.report.excerpts)} excerpts verified; wrote {names} "
        f"in {result.report.timings['total']:.2f} s"
    )


@main.command()
@project_argument
@strict_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
def check(project: str, strict: bool, as_json: bool) -> None:
    """Verify every excerpt against its source without rendering anything."""
    from .build import check as run_check

    report = run_check(project, strict=strict)
    if as_json:
        counts: dict[str, int] = {}
        for e in report.excerpts:
            counts[e.anchor.status] = counts.get(e.anchor.status, 0) + 1
        click.echo(
            json.dumps(
                {
                    "ok": not report.diagnostics.errors,
                    "counts": counts,
                    "excerpts": [e.as_json() for e in report.excerpts],
                    "diagnostics": [
                        {
                            "path": display_path(d.path),
                            "line": d.line,
                            "col": d.col,
                            "severity": d.severity,
                            "message": d.message,
                        }
                        for d in report.diagnostics
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        sys.exit(1 if report.diagnostics.errors else 0)
    _warn(report)
    report.diagnostics.raise_if_errors()
    counts = {}
    for e in report.excerpts:
        counts[e.anchor.status] = counts.get(e.anchor.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"{len(report.excerpts)} excerpts checked: {summary or 'none'}")
