"""Read `content/brief.yaml` into an `Outline`, keeping every node's position for messages.

All problems are collected (unknown keys with suggestions, missing fields, wrong types,
duplicate section ids); the caller fails once with all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Diagnostics
from .project import MAX_OUTLINE_BYTES, Project, UnreadableFile, read_limited
from .schema import Reader, kind, where
from .theme import DEFAULT_THEME, Style, check_template_links, read_style, read_theme
from .yamlfile import MDict, MList, YAMLContentError, load_yaml

TOP_KEYS = {
    "title",
    "subtitle",
    "series",
    "date",
    "authors",
    "organization",
    "distribution",
    "summary",
    "sections",
    "keywords",
    "language",
    "citation_style",
    "bibliography",
    "theme",
    "report_number",
    "style",
}
SECTION_KEYS = {"id", "title", "content"}
EXCERPT_KEYS = {"source", "quote", "note"}
AUTHOR_KEYS = {"name", "affiliation"}
BLOCK_KINDS = {"excerpt", "key", "heading"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Place:
    """A 1-based position in the outline file."""

    line: int
    col: int


@dataclass(frozen=True)
class Author:
    name: str
    affiliation: str | None = None


@dataclass(frozen=True)
class Prose:
    """Editor's Markdown (a paragraph block, a summary point, a key point or a sub-heading)."""

    markdown: str
    place: Place
    kind: str = "prose"  # "prose", "key" or "heading"


@dataclass(frozen=True)
class Excerpt:
    """A verbatim quote the editor takes from a source."""

    source: str
    quote: str
    note: str | None
    place: Place  # of the 'excerpt:' mapping
    quote_place: Place
    source_place: Place
    index: int  # 1-based among the section's excerpts


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    number: int
    blocks: tuple[Prose | Excerpt, ...]
    place: Place

    @property
    def excerpts(self) -> list[Excerpt]:
        return [b for b in self.blocks if isinstance(b, Excerpt)]


@dataclass(frozen=True)
class Outline:
    path: Path
    title: str
    subtitle: str | None
    series: str | None
    date: str | None
    authors: tuple[Author, ...]
    organization: str | None
    distribution: str | None
    keywords: tuple[str, ...]
    language: str
    summary: tuple[Prose, ...]
    sections: tuple[Section, ...]
    lines: tuple[str, ...]  # the file's lines, to place citations inside multi-line text
    citation_style: str | None = None  # a shipped style's name or a .csl path (briefgen.cite)
    citation_style_place: Place = Place(1, 1)
    bibliography: str | None = None  # CSL-JSON or BibTeX file, relative to content/
    bibliography_place: Place = Place(1, 1)
    theme: str = DEFAULT_THEME  # a name in theme.THEMES
    report_number: str | None = None
    style: Style = Style()

    @property
    def excerpts(self) -> list[tuple[Section, Excerpt]]:
        return [(s, e) for s in self.sections for e in s.excerpts]


def _place(value, parent=None, key=None) -> Place:
    return Place(*where(value, parent, key))


def read_outline(path: Path, diags: Diagnostics) -> Outline | None:
    """The outline at `path`, or None when it cannot be read at all (errors are in `diags`)."""
    text = _read_text(path, diags)
    if text is None:
        return None
    try:
        data = load_yaml(text, path)
    except YAMLContentError as exc:
        diags.append(exc.diagnostic)
        return None
    reader = Reader(path, diags)
    if data is None or data == "":  # no document, or only '---'
        diags.error(path, 1, 1, "the outline is empty: it needs at least 'title:' and 'sections:'")
        return None
    data = reader.mapping(data, "the outline")
    if data is None:
        return None
    what = "the outline"
    reader.keys(data, TOP_KEYS, {"title", "sections"}, what)
    # The project folder: the outline is content/brief.yaml, paths in 'style' start there.
    root = path.absolute().parent.parent.resolve()
    check_template_links(root, diags)
    return Outline(
        path=path,
        title=reader.text(data, "title", what, required=True) or "",
        subtitle=reader.text(data, "subtitle", what),
        series=reader.text(data, "series", what),
        date=reader.date(data, "date", what),
        authors=tuple(_authors(reader, data)),
        organization=reader.text(data, "organization", what),
        distribution=reader.text(data, "distribution", what),
        keywords=tuple(str(k) for k in reader.text_list(data, "keywords", what)),
        language=reader.text(data, "language", what) or "en",
        summary=tuple(
            Prose(str(p), _place(p, data, "summary"))
            for p in reader.text_list(data, "summary", what)
        ),
        sections=tuple(_sections(reader, data)),
        lines=tuple(text.splitlines()),
        citation_style=reader.text(data, "citation_style", what),
        citation_style_place=_place(data.get("citation_style"), data, "citation_style"),
        bibliography=reader.text(data, "bibliography", what),
        bibliography_place=_place(data.get("bibliography"), data, "bibliography"),
        theme=read_theme(reader, data),
        report_number=reader.text(data, "report_number", what),
        style=read_style(reader, data, root),
    )


def _read_text(path: Path, diags: Diagnostics) -> str | None:
    """The outline's text: a plain file inside the project, of UTF-8 text, within the size limit."""
    project = Project(path.absolute().parent.parent.resolve())
    if not project.contains(path):
        diags.error(
            path,
            1,
            1,
            "the outline is a link to a file outside the project; "
            "copy the file into content/ instead",
        )
        return None
    try:
        raw = read_limited(path, MAX_OUTLINE_BYTES, "an outline")
    except UnreadableFile as exc:
        diags.error(path, 1, 1, f"the outline {exc}")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diags.error(path, line, col, "not UTF-8 text: save the outline as UTF-8")
        return None


def _authors(reader: Reader, data: MDict):
    value = data.get("authors")
    if value is None:
        return
    if not isinstance(value, MList):
        reader.error(
            where(value, data, "authors"),
            "'authors' must be a list of entries with 'name:' (and optionally 'affiliation:')",
        )
        return
    for item in value:
        if isinstance(item, str):
            yield Author(str(item))
            continue
        entry = reader.mapping(item, "an author", at=(value.line, value.col))
        if entry is None:
            continue
        reader.keys(entry, AUTHOR_KEYS, {"name"}, "an author")
        name = reader.text(entry, "name", "an author", required=True)
        if name:
            yield Author(name, reader.text(entry, "affiliation", "an author"))


def _sections(reader: Reader, data: MDict):
    value = data.get("sections")
    if value is None:
        return
    if not isinstance(value, MList) or not value:
        reader.error(
            where(value, data, "sections"),
            "'sections' must be a non-empty list of sections, not "
            + ("an empty list" if isinstance(value, MList) else kind(value)),
        )
        return
    seen: dict[str, int] = {}
    for number, item in enumerate(value, start=1):
        entry = reader.mapping(item, "a section", at=(value.line, value.col))
        if entry is None:
            continue
        what = f"section {number}"
        reader.keys(entry, SECTION_KEYS, {"id", "title", "content"}, what)
        section_id = reader.text(entry, "id", what, required=True) or ""
        if section_id:
            at = where(entry["id"], entry, "id")
            if not _SLUG.match(section_id):
                reader.error(
                    at,
                    f"section id '{section_id}' must be a slug: lower-case letters, "
                    "digits and '-' (e.g. 'regional-dynamics')",
                )
            elif section_id in seen:
                reader.error(
                    at,
                    f"duplicate section id '{section_id}' (first used on line "
                    f"{seen[section_id]}); section ids must be unique",
                )
            else:
                seen[section_id] = at[0]
        title = reader.text(entry, "title", what, required=True) or ""
        blocks = tuple(_blocks(reader, entry, f"section '{section_id or number}'"))
        yield Section(section_id, title, number, blocks, _place(entry))


def _blocks(reader: Reader, section: MDict, what: str):
    content = section.get("content")
    if content is None:
        return
    if not isinstance(content, MList):
        reader.error(
            where(content, section, "content"),
            f"'content' of {what} must be a list of blocks, not {kind(content)}",
        )
        return
    excerpts = 0
    for block in content:
        if isinstance(block, str):
            yield Prose(str(block), _place(block))
            continue
        if not isinstance(block, MDict) or len(block) != 1:
            reader.error(
                where(block) if hasattr(block, "line") else (content.line, content.col),
                f"each block of {what} must be Markdown text, 'excerpt:', 'key:' or 'heading:'",
            )
            continue
        ((name, body),) = block.items()
        if name not in BLOCK_KINDS:
            reader.keys(block, BLOCK_KINDS, set(), f"a block of {what}")
            continue
        if name in ("key", "heading"):
            if isinstance(body, str) and body:
                yield Prose(str(body), _place(body, block, name), kind=name)
            else:
                reader.error(where(body, block, name), f"'{name}' in {what} must be Markdown text")
            continue
        excerpt = reader.mapping(body, f"an excerpt in {what}", at=block.mark_of("excerpt"))
        if excerpt is None:
            continue
        excerpts += 1
        ewhat = f"excerpt {excerpts} of {what}"
        reader.keys(excerpt, EXCERPT_KEYS, {"source", "quote"}, ewhat)
        source = reader.text(excerpt, "source", ewhat, required=True)
        quote = reader.text(excerpt, "quote", ewhat, required=True)
        note = reader.text(excerpt, "note", ewhat)
        if source and quote:
            yield Excerpt(
                source,
                quote,
                note,
                _place(excerpt, block, "excerpt"),
                _place(excerpt["quote"], excerpt, "quote"),
                _place(excerpt["source"], excerpt, "source"),
                excerpts,
            )
