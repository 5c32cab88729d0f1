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
max_seconds_option = click.option(
    "--max-seconds",
    type=click.FloatRange(min=0),
    default=None,
    metavar="N",
    help="Stop if it takes longer than N seconds in all (default: $BRIEFGEN_MAX_SECONDS, "
    "else 120; 0: no limit).",
)
max_memory_option = click.option(
    "--max-memory",
    type=click.FloatRange(min=0),
    default=None,
    metavar="MB",
    help="Stop once the process uses more than MB megabytes of memory (default: "
    "$BRIEFGEN_MAX_MEMORY_MB, else 2048; 0: no limit).",
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
@click.option(
    "--pdf-variant",
    type=click.Choice(["pdf/a-3b", "pdf/ua-1"]),
    default=None,
    help="Write an archival (PDF/A-3b) or a tagged, accessible (PDF/UA-1) PDF.",
)
@max_seconds_option
@max_memory_option
def build(
    project: str,
    strict: bool,
    as_json: bool,
    no_pdf: bool,
    force: bool,
    pdf_variant: str | None,
    max_seconds: float | None,
    max_memory: float | None,
) -> None:
    """Verify every excerpt, then write output/brief.html and output/brief.pdf."""
    from .build import build as run_build
    from .limits import Limits

    result = run_build(
        project,
        strict=strict,
        pdf=not no_pdf,
        force=force,
        pdf_variant=pdf_variant,
        limits=Limits.resolve(max_seconds, max_memory),
    )
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
@max_seconds_option
@max_memory_option
def check(
    project: str,
    strict: bool,
    as_json: bool,
    max_seconds: float | None,
    max_memory: float | None,
) -> None:
    """Verify every excerpt against its source without rendering anything."""
    from .build import check as run_check
    from .limits import Limits

    report = run_check(project, strict=strict, limits=Limits.resolve(max_seconds, max_memory))
    if as_json:
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2))
        sys.exit(1 if report.diagnostics.errors else 0)
    for d in report.diagnostics.warnings:
        click.echo(d.format(), err=True)
    report.diagnostics.raise_if_errors()
    print_summary(report)


def echo_result(result) -> None:
    """Print a watcher's build: warnings or errors, then one summary line."""
    for line, to_stderr in result.lines():
        click.echo(line, err=to_stderr)


no_pdf_watch_option = click.option(
    "--no-pdf", is_flag=True, help="Write only output/brief.html (faster rebuilds)."
)


@main.command()
@project_argument
@strict_option
@no_pdf_watch_option
def watch(project: str, strict: bool, no_pdf: bool) -> None:
    """Build, then rebuild whenever content/ or templates/ change (Ctrl-C stops)."""
    from .project import open_project
    from .watch import Watcher

    root = open_project(project).root
    click.echo(
        f"watching {display_path(root / 'content')}/ and {display_path(root / 'templates')}/ "
        "(Ctrl-C stops)"
    )
    try:
        Watcher(root, on_result=echo_result, strict=strict, pdf=not no_pdf).run()
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command()
@project_argument
@strict_option
@no_pdf_watch_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port; a taken port falls back to a free one).",
)
def serve(project: str, strict: bool, no_pdf: bool, port: int) -> None:
    """Preview on 127.0.0.1, rebuild like `watch`, reload the page after each build."""
    from .serve import PreviewServer

    server = PreviewServer(project, port=port, on_result=echo_result, strict=strict, pdf=not no_pdf)
    if server.port_was_taken:
        click.echo(f"port {port} is in use; using a free one", err=True)
    click.echo(f"serving {display_path(server.project.output)}/ at {server.url} (Ctrl-C stops)")
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.close()


@main.command()
@project_argument
@click.option("--all", "select_all", is_flag=True, help="Accept every changed excerpt.")
@click.option(
    "--excerpt",
    metavar="SECTION:INDEX",
    help="Accept one excerpt: section id and its number in the section (from 1), e.g. history:2.",
)
@click.option("--source", metavar="ID", help="Accept the excerpts quoting this source.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def accept(project: str, select_all: bool, excerpt: str, source: str, dry_run: bool) -> None:
    """Write the sources' current wording of changed quotes back into content/brief.yaml."""
    from .accept import Selection
    from .accept import accept as run_accept

    if [select_all, excerpt is not None, source is not None].count(True) != 1:
        raise click.UsageError("give exactly one of --all, --excerpt SECTION:INDEX, --source ID")
    selection = (
        Selection.excerpt(excerpt)
        if excerpt is not None
        else Selection(source=source)
        if source is not None
        else Selection()
    )
    result = run_accept(project, selection, dry_run=dry_run)
    for line in result.lines():
        click.echo(line)
    click.echo(result.summary())
    if not result.diagnostics.errors:
        for d in result.diagnostics.warnings:
            click.echo(d.format(), err=True)
    result.diagnostics.raise_if_errors()


@main.command()
@click.argument("directory", default=".", type=click.Path())
def init(directory: str) -> None:
    """Start a new brief in DIRECTORY (default: here): a commented outline, a sample source,
    templates/ and .gitignore. Never overwrites a file."""
    import shlex
    from pathlib import Path

    from .init import init as run_init

    result = run_init(directory)
    here = directory in (".", "./")
    if here:
        click.echo("created a brief project in the current folder:")
    else:
        made = " (a new folder)" if result.created_root else ""
        click.echo(f"created a brief project in {directory}{made}:")
    shown = [
        (path if here else str(Path(directory) / path), what) for path, what in result.described()
    ]
    width = max(len(path) for path, _ in shown)
    for path, what in shown:
        click.echo(f"  {path:<{width}}  {what}")
    arg = "" if here else " " + shlex.quote(directory)
    steps = [
        (f"briefgen check{arg}", "verify every quote against its source"),
        (f"briefgen build{arg}", "write output/brief.pdf and output/brief.html"),
        (f"briefgen serve{arg}", "preview in a browser, rebuilt on every save"),
    ]
    width = max(len(command) for command, _ in steps)
    click.echo("next:")
    for command, what in steps:
        click.echo(f"  {command:<{width}}  {what}")
    click.echo("then make content/brief.yaml and content/sources/ your own.")


@main.command()
@click.argument("query")
@project_argument
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(1, 1000),
    default=5,
    show_default=True,
    help="Show at most this many passages.",
)
@json_option
def find(query: str, project: str, limit: int, as_json: bool) -> None:
    """Search every source for QUERY: words (all must occur), "a phrase", prefix*.

    Prints the best passages, each with a ready-to-paste `- excerpt:` block for the outline.
    The index (output/.briefgen/search.sqlite) is brought up to date first: only added or
    changed sources are read again.
    """
    from .search import find as run_find

    result = run_find(project, query, limit=limit)
    for d in result.update.problems:
        click.echo(d.format(), err=True)
    if result.update.summary():
        click.echo(result.update.summary(), err=True)
    if as_json:
        click.echo(json.dumps([h.as_json() for h in result.hits], ensure_ascii=False, indent=2))
        return
    if not result.hits:
        click.echo(f"no passage matches {query!r}", err=True)
        return
    if not result.all_terms:
        click.echo("no passage has all the words; passages with some of them:", err=True)
    mark = click.style("", bold=True, fg="yellow", reset=False)
    for n, hit in enumerate(result.hits):
        if n:
            click.echo()
        click.echo(f"{n + 1}. " + "\n".join(hit.lines(mark, click.style("", reset=True))))


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--project",
    default=".",
    type=click.Path(file_okay=False),
    help="The brief project to add to (default: the current folder).",
)
@click.option(
    "--id", "source_id", metavar="ID", help="The new source's id (default: publisher-year-title)."
)
def add(path: str, project: str, source_id: str | None) -> None:
    """Import a saved web page (.html) or a PDF as a new source in content/sources/.

    Keeps the main text (no navigation, scripts or boilerplate), one paragraph per block, and the
    metadata the file states; reports what it could not find. Never overwrites a source.
    """
    from .importer import add_source

    result = add_source(path, project, source_id=source_id)
    for line in result.lines():
        click.echo(line)
    for d in result.warnings():
        click.echo(d.format(), err=True)
