"""Orchestrate a build: gather and check everything first, render, and write last.

Nothing under `output/` changes unless every stage succeeded, so a failed build leaves the
previous brief byte-for-byte as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .anchor import AMBIGUOUS, CHANGED, MISSING, Anchor, locate
from .atomic import write_atomic
from .citations import number_citations
from .errors import BriefgenError, Diagnostics
from .outline import read_outline
from .project import Project, open_project
from .render import Verified, make_environment, render_html
from .sources import read_sources
from .textnorm import normalize


@dataclass
class CheckedExcerpt:
    """One excerpt's verification result, as `check --json` reports it."""

    section: str
    index: int
    source: str
    quote: str
    line: int
    anchor: Anchor

    def as_json(self) -> dict:
        a = self.anchor
        item = {
            "section": self.section,
            "index": self.index,
            "source": self.source,
            "quote": self.quote,
            "line": self.line,
            "status": a.status,
            "score": a.score,
        }
        if a.status != MISSING:
            item["text"] = a.text
        else:
            item["closest"] = a.text
        return item


@dataclass
class Report:
    """What verification found: the verified brief (if any), every excerpt, every message."""

    project: Project
    diagnostics: Diagnostics
    excerpts: list[CheckedExcerpt] = field(default_factory=list)
    verified: Verified | None = None
    timings: dict[str, float] = field(default_factory=dict)


def verify(project: Project, strict: bool = False) -> Report:
    """Read the outline and sources and place every excerpt; all problems go in the report."""
    diags = Diagnostics()
    report = Report(project, diags)
    outline = read_outline(project.outline_path, diags)
    sources = read_sources(project, diags)
    if outline is None:
        return report
    citations = number_citations(outline, sources, diags)
    folded = {}
    anchors = {}
    for section, excerpt in outline.excerpts:
        source = sources.get(excerpt.source)
        if source is None:
            continue  # reported by number_citations
        if source.id not in folded:
            folded[source.id] = normalize(source.text)
        anchor = locate(excerpt.quote, source.text, folded[source.id])
        anchors[(section.number, excerpt.index)] = anchor
        report.excerpts.append(
            CheckedExcerpt(
                section.id,
                excerpt.index,
                source.id,
                excerpt.quote,
                excerpt.quote_place.line,
                anchor,
            )
        )
        _report_anchor(diags, outline.path, excerpt, source, anchor)
    if strict:
        diags[:] = [d.as_error() for d in diags]
    if not diags.errors:
        report.verified = Verified(outline, sources, anchors, citations)
    return report


def _report_anchor(diags: Diagnostics, path: Path, excerpt, source, anchor: Anchor) -> None:
    at = excerpt.quote_place
    name = source.path.name
    if anchor.status == MISSING:
        closest = _clip(anchor.text)
        hint = (
            f'; the closest passage ({anchor.score:.0%} similar) is: "{closest}"' if closest else ""
        )
        diags.error(
            path, at.line, at.col, f"quote not found in source '{source.id}' ({name}){hint}"
        )
    elif anchor.status == CHANGED:
        diags.warning(
            path,
            at.line,
            at.col,
            f"quote differs from source '{source.id}' ({anchor.score:.0%} similar); "
            f'the brief prints the source\'s wording: "{_clip(anchor.text)}"',
        )
    elif anchor.status == AMBIGUOUS:
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
    report: Report
    written: list[Path]


def build(path: str | Path = ".", *, strict: bool = False, pdf: bool = True) -> BuildResult:
    """Verify, render HTML and PDF, then write both; raise BriefgenError if anything fails."""
    project = open_project(path)
    started = time.perf_counter()
    report = verify(project, strict)
    report.diagnostics.raise_if_errors()
    assert report.verified is not None
    env = make_environment(project.templates)
    screen = render_html(env, report.verified, "screen", report.diagnostics)
    printed = render_html(env, report.verified, "print", report.diagnostics) if pdf and screen else None
    report.diagnostics.raise_if_errors()
    report.timings["render"] = time.perf_counter() - started
    outputs: dict[Path, bytes] = {project.output / "brief.html": screen.encode("utf-8")}
    if pdf:
        from .pdf import html_to_pdf

        pdf_start = time.perf_counter()
        outputs[project.output / "brief.pdf"] = html_to_pdf(printed, project.root)
        outputs[project.output / ".briefgen" / "print.html"] = printed.encode("utf-8")
        report.timings["pdf"] = time.perf_counter() - pdf_start
    _check_output_folder(project)
    for target, data in outputs.items():
        write_atomic(target, data)
    report.timings["total"] = time.perf_counter() - started
    return BuildResult(report, list(outputs))


def check(path: str | Path = ".", *, strict: bool = False) -> Report:
    """Verify only (no rendering); the caller decides how to report."""
    return verify(open_project(path), strict)


def _check_output_folder(project: Project) -> None:
    out = project.output
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BriefgenError(f"'{out}' must be a folder for briefgen's outputs")
