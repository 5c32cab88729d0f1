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
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object for scripts."
)


def report_json(report) -> dict:
    """The object `check --json` and `build --json` print."""
    return {
        "ok": not report.diagnostics.errors,
        "counts": report.counts("status"),
        "changes": report.counts("change"),
        "first_build": report.first_build,
        "sources": {
            "added": list(report.sources.added),
            "removed": list(report.sources.removed),
            "changed": list(report.sources.changed),
        },
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
    }


def print_summary(report) -> None:
    """Counts by status, then what changed since the last good build, excerpt by excerpt."""
    counts = report.counts("status")
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(f"{len(report.excerpts)} excerpts checked: {summary or 'none'}")
    if report.first_build:
        return
    src = report.sources
    sources = "; ".join(
        f"{len(names)} {kind} ({', '.join(names)})"
        for kind, names in (
            ("added", src.added),
            ("removed", src.removed),
            ("changed", src.changed),
        )
        if names
    )
    changes = ", ".join(f"{n} {c}" for c, n in sorted(report.counts("change").items()))
    click.echo(
        f"since the last build: sources {sources or 'unchanged'}; excerpts {changes or 'none'}"
    )
    for e in report.excerpts:
        if e.change.change in ("moved", "new"):
            click.echo(
                f"  {display_path(report.project.outline_path)}:{e.line}:{e.col}: "
                f"{e.section} #{e.index} ({e.source}) {e.change.change}"
            )


@main.command()
@project_argument
@strict_option
@json_option
@click.option("--no-pdf", is_flag=True, help="Write only output/brief.html.")
@click.option("--force", is_flag=True, help="Rebuild everything, even if nothing changed.")
def build(project: str, strict: bool, as_json: bool, no_pdf: bool, force: bool) -> None:
    """Verify every excerpt, then write output/brief.html and output/brief.pdf."""
    from .build import build as run_build

    result = run_build(project, strict=strict, pdf=not no_pdf, force=force)
    for d in result.warnings:
        click.echo(d.format(), err=True)
    if result.skipped:
        if as_json:
            click.echo(json.dumps({"ok": True, "skipped": True}))
        else:
            click.echo(
                "nothing changed since the last build; output/ is up to date (--force rebuilds)"
            )
        return
    if as_json:
        click.echo(
            json.dumps(
                report_json(result.report) | {"skipped": False}, ensure_ascii=False, indent=2
            )
        )
        return
    print_summary(result.report)
    names = ", ".join(display_path(p) for p in result.written if not p.parent.name.startswith("."))
    click.echo(f"wrote {names} in {result.seconds:.2f} s")


@main.command()
@project_argument
@strict_option
@json_option
def check(project: str, strict: bool, as_json: bool) -> None:
    """Verify every excerpt against its source without rendering anything."""
    from .build import check as run_check

    report = run_check(project, strict=strict)
    if as_json:
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        sys.exit(1 if report.diagnostics.errors else 0)
    for d in report.diagnostics.warnings:
        click.echo(d.format(), err=True)
    report.diagnostics.raise_if_errors()
    print_summary(report)
