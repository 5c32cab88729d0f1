"""Find citations in the editor's Markdown, number them as notes, and build the source list.

Syntax (as in Pandoc): `[@id]`, `[@id, p. 9]`, `[@a; @b, pp. 3-4]`. Every citation and every
excerpt becomes one numbered note, in reading order. How a note reads (full on first use, short
or ibid. after), whether it is a note at all (author-date styles cite in the text), and how the
sources are listed and in which order is the citation style's business: see `briefgen.cite`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from . import cite
from .errors import Diagnostics
from .outline import Excerpt, Outline, Place, Prose
from .schema import suggest
from .sources import Source

CITATION = re.compile(r"\[\s*(-?@[^\[\]]*?)\s*\]")
_ITEM = re.compile(r"^-?@([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:,\s*(.*))?$", re.S)


@dataclass(frozen=True)
class Reference:
    """One source cited once, with an optional locator ('p. 9')."""

    source_id: str
    locator: str | None = None


@dataclass(frozen=True)
class Note:
    """A numbered note: one citation in prose, or the citation of one excerpt."""

    number: int
    references: tuple[Reference, ...]
    first_use: tuple[bool, ...]  # per reference: the source's first note (print it in full)


@dataclass(frozen=True)
class Citations:
    notes: tuple[Note, ...]
    by_place: dict  # (where, ..., index of the citation there) -> Note; see number_citations
    order: tuple[str, ...]  # source ids by first use
    sources: dict[str, Source]
    style: cite.CitationStyle | None = None  # None: the default (Chicago notes and bibliography)
    language: str | None = None  # the brief's language, when it is not English
    _formatted: list = field(default_factory=list, compare=False, repr=False)
    _prefetch: list = field(default_factory=list, compare=False, repr=False)

    def number_of(self, source_id: str) -> int:
        return self.order.index(source_id) + 1

    def formatted(self) -> cite.Formatted:
        """Every note and source list entry as the style prints them (one pandoc run, cached)."""
        if not self._formatted:
            if self._prefetch:
                thread, outcome = self._prefetch.pop()
                thread.join()
                if "error" in outcome:
                    raise outcome["error"]
                self._formatted.append(outcome["formatted"])
            else:
                self._formatted.append(self._format())
        return self._formatted[0]

    def _format(self) -> cite.Formatted:
        style = self.style or cite.default_style()
        items = {sid: cite.csl_item(self.sources[sid]) for sid in self.order}
        notes = [[(r.source_id, r.locator) for r in n.references] for n in self.notes]
        return cite.format_citations(style, items, notes, self.language)

    def prefetch(self) -> None:
        """Start formatting (pandoc, a process of its own) in the background; `formatted()`
        waits for it. A build calls this before importing WeasyPrint, so that the two overlap."""
        if self._formatted or self._prefetch:
            return
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["formatted"] = self._format()
            except BaseException as exc:  # handed to formatted(), in the build's own thread
                outcome["error"] = exc

        thread = threading.Thread(target=run, name="briefgen-citations", daemon=True)
        thread.start()
        self._prefetch.append((thread, outcome))

    @property
    def bibliography_order(self) -> tuple[str, ...]:
        """Cited source ids in the order the style lists them (alphabetical for most)."""
        listed = self.formatted().order
        return tuple(listed) + tuple(sid for sid in self.order if sid not in listed)


def parse_citation(body: str) -> list[Reference] | None:
    """The references of one `[...]` citation body, or None if it is not a citation."""
    refs = []
    for part in body.split(";"):
        match = _ITEM.match(part.strip())
        if not match:
            return None
        locator = (match.group(2) or "").strip() or None
        refs.append(Reference(match.group(1), locator))
    return refs


def find_citations(markdown: str) -> list[tuple[re.Match, list[Reference]]]:
    found = []
    for match in CITATION.finditer(markdown):
        refs = parse_citation(match.group(1))
        if refs is not None:
            found.append((match, refs))
    return found


def locate_in_outline(outline: Outline, start: Place, needle: str) -> Place:
    """Where `needle` (text from a YAML scalar starting at `start`) sits in the file."""
    first = needle.split("\n", 1)[0][:40]
    for index in range(start.line - 1, min(len(outline.lines), start.line + 400)):
        col = outline.lines[index].find(first)
        if col != -1:
            return Place(index + 1, col + 1)
    return start


def number_citations(outline: Outline, sources: dict[str, Source], diags: Diagnostics) -> Citations:
    """Number every note in reading order; unknown source ids are errors with suggestions.

    Also resolves the outline's `citation_style:` and, for sources with `ref:`, fills in their
    metadata from its `bibliography:` (the sources are replaced in `sources`, in place).
    """
    root = outline.path.resolve().parent.parent  # the project: the outline is content/brief.yaml
    cite.resolve_references(outline, sources, root, diags)
    at = outline.citation_style_place
    style = cite.resolve_style(outline.citation_style, (at.line, at.col), outline.path, root, diags)
    notes: list[Note] = []
    by_place: dict = {}
    order: list[str] = []

    def add(key, refs: list[Reference]) -> None:
        first = tuple(r.source_id not in order for r in refs)
        for ref in refs:
            if ref.source_id not in order:
                order.append(ref.source_id)
        note = Note(len(notes) + 1, tuple(refs), first)
        notes.append(note)
        by_place[key] = note

    def cite_prose(key: tuple, prose: Prose) -> None:
        for index, (match, refs) in enumerate(find_citations(prose.markdown)):
            known = [r for r in refs if r.source_id in sources]
            for ref in refs:
                if ref.source_id not in sources:
                    at = locate_in_outline(outline, prose.place, match.group(0))
                    diags.error(
                        outline.path,
                        at.line,
                        at.col,
                        f"unknown source "
                        f"'{ref.source_id}' in citation{_ids(ref.source_id, sources)}",
                    )
            if known:
                add((*key, index), known)

    for number, point in enumerate(outline.summary):
        cite_prose(("summary", number), point)
    for section in outline.sections:
        for number, block in enumerate(section.blocks):
            key = (section.number, number)
            if isinstance(block, Excerpt):
                if block.source in sources:
                    add((*key, "quote"), [Reference(block.source)])
                else:
                    diags.error(
                        outline.path,
                        block.source_place.line,
                        block.source_place.col,
                        f"unknown source '{block.source}'{_ids(block.source, sources)}",
                    )
                if block.note:
                    cite_prose((*key, "note"), Prose(block.note, block.quote_place))
            else:
                cite_prose(key, block)
    language = None if outline.language.lower() in ("en", "") else outline.language
    return Citations(tuple(notes), by_place, tuple(order), sources, style, language)


def _ids(wanted: str, sources: dict[str, Source]) -> str:
    if not sources:
        return "; there are no sources in content/sources/"
    hint = suggest(wanted, sources, "known source ids")
    return hint or ""
