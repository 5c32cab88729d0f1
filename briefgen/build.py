"""Orchestrate a build: gather and check everything first, render, and write last.

Nothing under `output/` changes unless every stage succeeded, so a failed build leaves the
previous brief byte-for-byte as it was. Inputs are fingerprinted first: when nothing an output
depends on changed (and the file on disk is the one written), that output is not rebuilt, and a
build with nothing to do imports none of the rendering stack.

Everything up to the writes runs under the build's bounds on time and memory (`limits.py`):
reading, checking, formatting citations, rendering. The writes come after, unbounded (they are
quick, and must not stop halfway). A check runs under the same bounds.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BriefgenError, Diagnostic, Diagnostics
from .limits import Guard, Limits, address_space_backstop
from .project import Project, builtin_templates, open_project
from .sourcecache import CACHE_NAME
from .state import (
    STATE_NAME,
    BuildState,
    Fingerprint,
    fingerprint,
    load_state,
    sha256,
    state_bytes,
    state_dir,
)

OUTPUTS = {"brief.html": "screen", "brief.pdf": "print"}
REPORT_NAME = "report.html"
#: Every file a build writes, by name: their temp files are a killed build's leftovers.
TEMP_NAMES = (*OUTPUTS, REPORT_NAME, "print.html", CACHE_NAME, STATE_NAME)


@dataclass
class CheckedExcerpt:
    """One excerpt's verification result and its change since the last good build."""

    section: str
    index: int
    source: str
    quote: str
    line: int
    col: int
    anchor: object  # anchor.Anchor
    change: object  # changes.ExcerptChange

    def as_json(self) -> dict:
        a, c = self.anchor, self.change
        item = {
            "section": self.section,
            "index": self.index,
            "source": self.source,
            "quote": self.quote,
            "line": self.line,
            "status": a.status,
            "score": a.score,
            "change": c.change,
            "text": a.text,
        }
        if a.status == "missing":
            item["closest"] = item.pop("text")
        if c.old_text is not None:
            item["previous_text"] = c.old_text
        if c.diff:
            item["diff"] = c.diff_text()
        return item


@dataclass
class Report:
    """What verification found: the verified brief (if any), every excerpt, every message."""

    project: Project
    diagnostics: Diagnostics
    excerpts: list[CheckedExcerpt] = field(default_factory=list)
    sources: object = None  # changes.SourceChanges since the last good build
    first_build: bool = True
    verified: object = None  # verified.Verified, when there are no errors
    source_cache: object = None  # sourcecache.SourceCache: written once the run succeeded
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self, attribute: str = "status") -> dict[str, int]:
        found: dict[str, int] = {}
        for e in self.excerpts:
            value = e.anchor.status if attribute == "status" else e.change.change
            found[value] = found.get(value, 0) + 1
        return found


def verify(
    project: Project,
    strict: bool = False,
    state: BuildState | None = None,
    guard: Guard | None = None,
) -> Report:
    """Read the outline and sources, place every excerpt, compare with the last good build.

    `guard`, when this runs under one (see `build`, `check`), is told each step, for its message.
    """
    from .anchor import locate
    from .changes import PreviousExcerpts, classify, source_changes
    from .citations import number_citations
    from .outline import read_outline
    from .sourcecache import SourceCache
    from .sources import read_sources
    from .textnorm import normalize
    from .verified import Verified

    def step(phase: str) -> None:
        if guard is not None:
            guard.phase = phase

    step("reading the build state")
    state = state if state is not None else load_state(project)
    diags = Diagnostics()
    report = Report(project, diags, first_build=not state.fingerprint)
    step("reading the outline")
    outline = read_outline(project.outline_path, diags)
    step("reading the sources")
    report.source_cache = SourceCache(project)
    sources = read_sources(project, diags, report.source_cache)
    report.sources = source_changes(
        state.source_digests(), {s.path.name: s.digest for s in sources.values()}
    )
    if outline is None:
        return report
    step("checking the citations")
    citations = number_citations(outline, sources, diags)
    step("checking the excerpts")
    previous = PreviousExcerpts(state.excerpts)
    folded, anchors = {}, {}
    for section, excerpt in outline.excerpts:
        source = sources.get(excerpt.source)
        if source is None:
            continue  # reported by number_citations
        if source.id not in folded:
            folded[source.id] = normalize(source.text)
        record = previous.find(section.id, excerpt.index, source.id, excerpt.quote)
        anchor = locate(excerpt.quote, source.text, folded[source.id], previous.hint(record))
        anchors[(section.number, excerpt.index)] = anchor
        at = excerpt.quote_place
        change = classify(
            section.id,
            excerpt.index,
            source.id,
            at.line,
            anchor,
            record,
            excerpt.quote,
            source.text,
        )
        report.excerpts.append(
            CheckedExcerpt(
                section.id, excerpt.index, source.id, excerpt.quote, at.line, at.col, anchor, change
            )
        )
        _report_anchor(diags, outline.path, excerpt, source, anchor, change)
    if strict:
        diags[:] = [d.as_error() for d in diags]
    if not diags.errors:
        report.verified = Verified(outline, sources, anchors, citations)
    return report


def _report_anchor(diags: Diagnostics, path: Path, excerpt, source, anchor, change) -> None:
    at = excerpt.quote_place
    if anchor.status == "missing":
        closest = _clip(anchor.text)
        hint = (
            f'; the closest passage ({anchor.score:.0%} match) is: "{closest}"' if closest else ""
        )
        diags.error(
            path,
            at.line,
            at.col,
            f"quote not found in source '{source.id}' ({source.path.name}){hint}",
        )
    elif anchor.status == "changed":
        diags.warning(
            path,
            at.line,
            at.col,
            f"quote differs from source '{source.id}' ({anchor.score:.0%} match); "
            f"the brief prints the source's wording: {change.diff_text()}",
        )
    elif anchor.status == "ambiguous":
        diags.warning(
            path,
            at.line,
            at.col,
            f"quote occurs {anchor.occurrences} times in source '{source.id}'; "
            "quote a longer passage so it is found once",
        )


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass
class BuildResult:
    report: Report | None  # None when nothing had to be done
    written: list[Path]
    warnings: list[Diagnostic] = field(default_factory=list)  # replayed from the last build
    seconds: float = 0.0

    @property
    def skipped(self) -> bool:
        return self.report is None


def build(
    path: str | Path = ".",
    *,
    strict: bool = False,
    pdf: bool = True,
    force: bool = False,
    pdf_variant: str | None = None,
    limits: Limits | None = None,
) -> BuildResult:
    """Verify, render what is out of date, write it; raise BriefgenError if anything fails.

    `pdf_variant` is None (a plain PDF), "pdf/a-3b" or "pdf/ua-1" (see `pdf.VARIANTS`).
    `limits` bounds the build's time and memory, everything but its writes (see `limits.py`);
    None: the BRIEFGEN_MAX_SECONDS / BRIEFGEN_MAX_MEMORY_MB variables, else 120 s and 2048 MB.
    """
    started = time.perf_counter()
    limits = limits if limits is not None else Limits.resolve()
    guard = Guard(limits, "reading the project")
    plan = guard.run(_prepare, path, strict, pdf, force, pdf_variant, guard)
    project, report = plan.project, plan.report
    if report is None:  # nothing to do
        _clean_leftovers(project)
        return BuildResult(None, [], plan.replay, time.perf_counter() - started)
    _write(project, plan.outputs, plan.state, report.source_cache)
    report.timings["total"] = time.perf_counter() - started
    return BuildResult(
        report,
        [project.output / n for n in plan.outputs],
        report.diagnostics.warnings,
        report.timings["total"],
    )


@dataclass
class _Plan:
    """What a build is to write (`report` None: nothing), all gathered before the first write."""

    project: Project
    report: Report | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)
    state: BuildState | None = None
    replay: list[Diagnostic] = field(default_factory=list)


def _prepare(
    path: str | Path,
    strict: bool,
    pdf: bool,
    force: bool,
    pdf_variant: str | None,
    guard: Guard,
) -> _Plan:
    """Everything of a build but its writes (under `guard`, which is told each step)."""
    project = open_project(path)
    state = load_state(project)
    guard.phase = "comparing the content with the last build"
    prints = fingerprint(project, builtin_templates())
    wanted = {
        name: prints.key(medium) for name, medium in OUTPUTS.items() if pdf or medium == "screen"
    }
    if "brief.pdf" in wanted:  # the variant and SOURCE_DATE_EPOCH change the PDF's bytes
        options = {"variant": pdf_variant, "epoch": os.environ.get("SOURCE_DATE_EPOCH")}
        wanted["brief.pdf"] = sha256(f"{wanted['brief.pdf']} {options}".encode())
    stale = [
        name
        for name, key in wanted.items()
        if force or not state.output_current(project, name, key)
    ]
    if not stale and not (strict and state.warnings):
        replay = [
            Diagnostic(Path(w["path"]), w["line"], w["col"], w["message"], "warning")
            for w in state.warnings
        ]
        return _Plan(project, replay=replay)

    report = verify(project, strict, state, guard)
    report.diagnostics.raise_if_errors()
    report.verified.citations.prefetch()  # pandoc formats the notes while WeasyPrint is imported
    guard.phase = "loading the renderer"
    from . import render  # noqa: F401

    if "brief.pdf" in stale:
        from . import pdf as _pdf  # noqa: F401  (WeasyPrint)
    guard.phase = "rendering the brief"
    outputs = _render(project, report, stale, pdf_variant, guard)
    guard.phase = "checking the output folder"
    _check_output_folder(project)
    return _Plan(project, report, outputs, _new_state(state, prints, report, wanted, outputs))


def _render(
    project: Project,
    report: Report,
    stale: list[str],
    pdf_variant: str | None = None,
    guard: Guard | None = None,
) -> dict[str, bytes]:
    """The bytes of every stale output, plus the change report page; nothing written yet.

    `guard`, when given, runs this (see `build`): its phase is kept up to date for its message.
    The address-space backstop (`limits.address_space_backstop`) is set around the PDF.
    """
    from .render import make_environment, render_html, render_report

    env = make_environment(project.templates)
    diags = report.diagnostics
    pages = {name: render_html(env, report.verified, OUTPUTS[name], diags) for name in stale}
    page = render_report(env, report, diags)
    diags.raise_if_errors()
    outputs = {
        name: html.encode("utf-8") for name, html in pages.items() if OUTPUTS[name] == "screen"
    }
    if "brief.pdf" in pages:
        from .pdf import html_to_pdf

        if guard is not None:
            guard.phase = "rendering the PDF"
        begun = time.perf_counter()
        with address_space_backstop(guard.limits if guard is not None else Limits.none()):
            outputs["brief.pdf"] = html_to_pdf(
                pages["brief.pdf"],
                project.root,
                date=report.verified.outline.date,
                variant=pdf_variant,
            )
        outputs[".briefgen/print.html"] = pages["brief.pdf"].encode("utf-8")
        report.timings["pdf"] = time.perf_counter() - begun
    outputs[REPORT_NAME] = page.encode("utf-8")
    return outputs


def _write(project: Project, outputs: dict[str, bytes], state: BuildState, cache=None) -> None:
    """Write every output and the sources' cache (`cache`), then the state (last: it vouches
    for the outputs' hashes).

    All of them are written to temp files first and renamed only then (`atomic.write_all`): a
    failure to write (a full disk) leaves every file as it was. Under the output folder's lock,
    so that no other build writes at the same time, and after removing the temp files a killed
    build left (no live build can be writing them).
    """
    from .atomic import output_lock, write_all

    files = {project.output / name: data for name, data in outputs.items()}
    if cache is not None:
        files.update(cache.pending(creating_output=True))
    files[state_dir(project) / STATE_NAME] = state_bytes(state)  # renamed last
    try:
        with output_lock(state_dir(project)):
            _clean_temps(project)
            write_all(files)
    except OSError as exc:
        where = exc.filename or project.output
        raise BriefgenError(f"cannot write '{where}': {exc.strerror or exc}") from exc


def _clean_temps(project: Project) -> list[Path]:
    from .atomic import clean_temps

    return [
        path
        for folder in (project.output, state_dir(project))
        for path in clean_temps(folder, TEMP_NAMES)
    ]


def _clean_leftovers(project: Project) -> None:
    """On a build with nothing to do: remove a killed build's temp files, if there are any
    (after a kill while writing, the content may have been put back as it was: a no-op)."""
    from .atomic import output_lock, temp_pattern

    pattern = temp_pattern(TEMP_NAMES)
    for folder in (project.output, state_dir(project)):
        try:
            if any(pattern.match(name) for name in os.listdir(folder)):
                break
        except OSError:
            continue
    else:
        return
    with contextlib.suppress(OSError), output_lock(state_dir(project)):
        _clean_temps(project)


def _new_state(
    state: BuildState,
    prints: Fingerprint,
    report: Report,
    wanted: dict[str, str],
    outputs: dict[str, bytes],
) -> BuildState:
    """The record of this build, once `outputs` are written."""
    from .changes import excerpt_record

    records = {name: state.outputs[name] for name in wanted if name in state.outputs}
    records.update(
        {
            name: {"key": wanted[name], "sha256": sha256(data)}
            for name, data in outputs.items()
            if name in wanted
        }
    )
    sources = report.verified.sources
    excerpts = [
        excerpt_record(e.section, e.index, e.source, e.quote, e.anchor, sources[e.source].text)
        for e in report.excerpts
    ]
    return BuildState(
        fingerprint={
            "outline": prints.outline,
            "sources": prints.sources,
            "templates": prints.templates,
            "assets": prints.assets,
        },
        outputs=records,
        excerpts=excerpts,
        warnings=[
            {"path": str(d.path), "line": d.line, "col": d.col, "message": d.message}
            for d in report.diagnostics.warnings
        ],
    )


def check(path: str | Path = ".", *, strict: bool = False, limits: Limits | None = None) -> Report:
    """Verify only (no rendering); the caller decides how to report. Nothing is written but,
    after a check without errors, the sources' cache (`sourcecache`) into an existing output/.

    Under `limits`, as a build (None: BRIEFGEN_MAX_SECONDS / BRIEFGEN_MAX_MEMORY_MB, else the
    defaults); past one, BriefgenError.
    """
    limits = limits if limits is not None else Limits.resolve()
    guard = Guard(limits, "reading the project", subject="the check", writes=False)
    report = guard.run(lambda: verify(open_project(path), strict, guard=guard))
    if not report.diagnostics.errors and report.source_cache is not None:
        report.source_cache.save()
    return report


def _check_output_folder(project: Project) -> None:
    """Refuse to write unless output/ (and output/.briefgen/) is a real folder, or is missing.

    Outputs go only to `<project>/output`: a link there could lead to the project folder itself,
    to content/ or to a folder above, where a build would write its files (and its state) among
    the editor's. A folder where an output file should be would fail one rename halfway.
    """
    from .state import STATE_NAME

    out = project.output
    for folder in (out, out / ".briefgen"):
        shown = folder.relative_to(project.root).as_posix()
        if folder.is_symlink():
            target = os.readlink(folder)
            resolved = folder.resolve()
            if resolved == project.root:
                lands = " (the project folder itself)"
            elif resolved.is_relative_to(project.content):
                lands = " (inside content/)"
            elif project.root.is_relative_to(resolved):
                lands = " (a folder above the project)"
            else:
                lands = ""
            _refuse(
                folder,
                f"{shown}/ is a link to '{target}'{lands}; briefgen writes only into a real "
                f"folder {shown}/ in the project: remove the link (a build makes the folder)",
            )
        if folder.exists() and not folder.is_dir():
            _refuse(folder, f"{shown} is a file; it must be a folder for briefgen's outputs")
    names = [
        *(out / n for n in (*OUTPUTS, REPORT_NAME)),
        *(out / ".briefgen" / n for n in ("print.html", STATE_NAME)),
    ]
    for path in names:
        if path.is_dir() and not path.is_symlink():
            _refuse(path, "this is a folder; briefgen writes a file here: move the folder away")


def _refuse(path: Path, message: str) -> None:
    raise BriefgenError(Diagnostic(path, 1, 1, message))
