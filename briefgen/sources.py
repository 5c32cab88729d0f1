"""Find and read the source files: front matter metadata plus the text quotes are checked against.

A `.txt` source is its body as written; `.md` and `.html` sources are reduced to the text a
reader sees (markup dropped, block elements on their own lines), because that is what an editor
quotes. briefgen never edits a source file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .cite.items import CSL_TYPES
from .errors import Diagnostics
from .project import MAX_SOURCE_BYTES, SOURCE_SUFFIXES, Project, UnreadableFile, read_limited
from .schema import Reader, suggest, where
from .yamlfile import MDict, YAMLContentError, load_yaml

META_KEYS = {"title", "publisher", "authors", "date", "url", "accessed", "ref", "type"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)


@dataclass(frozen=True)
class SourceMeta:
    title: str
    publisher: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None
    url: str | None = None
    accessed: str | None = None
    ref: str | None = None  # key of an entry in the outline's bibliography file
    type: str | None = None  # CSL item type ('report', 'article-newspaper', ...)
    entry: dict | None = field(default=None, compare=False, hash=False)  # the ref's CSL-JSON
    places: dict = field(default_factory=dict, compare=False, hash=False)  # key -> (line, col)


@dataclass(frozen=True)
class Source:
    """One source: `text` is what excerpts are matched against and printed from."""

    id: str
    path: Path
    meta: SourceMeta
    text: str
    digest: str
    body_line: int = 1


def find_source_files(project: Project) -> list[Path]:
    if not project.sources_dir.is_dir():
        return []
    return sorted(
        p
        for p in project.sources_dir.iterdir()
        if p.suffix.lower() in SOURCE_SUFFIXES and not p.name.startswith(".")
    )


def read_sources(project: Project, diags: Diagnostics) -> dict[str, Source]:
    """Every readable source by id; problems go to `diags` (a broken source is left out)."""
    sources: dict[str, Source] = {}
    for path in find_source_files(project):
        if not project.contains(path):
            diags.error(
                path,
                1,
                1,
                "this source is a link to a file outside the project; "
                "copy the file into content/sources/ instead",
            )
            continue
        if path.stem in sources:
            diags.error(
                path,
                1,
                1,
                f"two sources share the id '{path.stem}' "
                f"({sources[path.stem].path.name} and {path.name}); rename one",
            )
            continue
        source = read_source(path, diags)
        if source is not None:
            sources[source.id] = source
    return sources


def read_source(path: Path, diags: Diagnostics) -> Source | None:
    if not _ID.match(path.stem):
        diags.error(
            path,
            1,
            1,
            f"the file name '{path.name}' is not a usable source id: "
            "use letters, digits, '.', '-' and '_' only",
        )
        return None
    try:
        raw = read_limited(path, MAX_SOURCE_BYTES, "a source")
    except UnreadableFile as exc:
        diags.error(path, 1, 1, f"this source {exc}")
        return None
    text = _decode(raw, path, diags)
    if text is None:
        return None
    front = _FRONT.match(text)
    if not front:
        diags.error(
            path,
            1,
            1,
            "missing front matter: start the file with a '---' line, "
            "'title: ...' and a closing '---' line",
        )
        return None
    meta = _read_meta(front.group(1), path, diags)
    body = text[front.end() :]
    body_line = text.count("\n", 0, front.end()) + 1
    if meta is None:
        return None
    try:
        reader_text = body_text(body, path.suffix.lower())
    except RecursionError:  # Python-Markdown recurses once per level of nested lists
        diags.error(
            path,
            body_line,
            1,
            "the Markdown nests lists or quotes too deeply to be read; "
            "save the source as plain text (.txt)",
        )
        return None
    return Source(
        id=path.stem,
        path=path,
        meta=meta,
        text=reader_text,
        digest=hashlib.sha256(raw).hexdigest(),
        body_line=body_line,
    )


def _decode(raw: bytes, path: Path, diags: Diagnostics) -> str | None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diags.error(path, line, col, "not UTF-8 text: save the source as UTF-8")
        return None
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        diags.error(
            path,
            line,
            at - text.rfind("\n", 0, at),
            "the file holds NUL bytes: it is "
            "binary, not text; save the source as plain text, Markdown or HTML",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_meta(front: str, path: Path, diags: Diagnostics) -> SourceMeta | None:
    try:
        data = load_yaml(front, path, line_offset=1)
    except YAMLContentError as exc:
        diags.append(exc.diagnostic)
        return None
    reader = Reader(path, diags)
    before = len(diags.errors)
    data = reader.mapping(data, "the front matter", at=(2, 1))
    if data is None:
        return None
    what = "the source's front matter"
    ref = reader.text(data, "ref", what)
    # With 'ref:' the title (and everything else) may come from the bibliography entry.
    reader.keys(data, META_KEYS, set() if ref else {"title"}, what)
    kind = reader.text(data, "type", what)
    if kind is not None and kind not in CSL_TYPES:
        reader.error(
            where(data["type"], data, "type"),
            f"unknown source type '{kind}'{suggest(kind, CSL_TYPES, 'CSL types')}",
        )
    meta = SourceMeta(
        title=reader.text(data, "title", what, required=not ref) or "",
        publisher=reader.text(data, "publisher", what),
        authors=tuple(str(a) for a in reader.text_list(data, "authors", what)),
        date=reader.date(data, "date", what),
        url=reader.url(data, "url", what),
        accessed=reader.date(data, "accessed", what),
        ref=ref,
        type=kind,
        places={key: where(data[key], data, key) for key in data if key in META_KEYS},
    )
    return meta if len(diags.errors) == before and isinstance(data, MDict) else None


_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "hr",
    "dd",
    "dt",
    "dl",
    "main",
    "aside",
}

_HIDDEN = {"script", "style", "noscript", "template", "head", "svg"}


def body_text(body: str, suffix: str) -> str:
    """The text a reader sees in a source body of the given file type."""
    if suffix == ".txt":
        return body
    if suffix == ".md":
        import markdown

        body = markdown.markdown(body, extensions=["extra"])
    return html_text(body)


def html_text(html: str) -> str:
    """Visible text of an HTML fragment or page, one line per block, scripts and styles dropped.

    One walk over the tree (not bs4's insert_before/insert_after around every block element,
    which costs time in proportion to the depth: 5,000 nested <div> took 13 s).
    """
    from bs4 import BeautifulSoup, CData, NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    parts: list[str] = []
    # A stack of (the children still to visit, whether the element is a block); no recursion.
    stack = [(iter(soup.contents), False)]
    while stack:
        children, block = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            if block:
                parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in _HIDDEN:
                continue
            is_block = node.name in _BLOCKS
            if is_block:
                parts.append("\n")
            stack.append((iter(node.contents), is_block))
        elif type(node) in (NavigableString, CData):  # what get_text() keeps: no comments
            parts.append(str(node))
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parts))
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip() + "\n"
