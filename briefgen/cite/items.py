"""Sources as CSL items: front matter, or a bibliography entry the front matter points to (`ref:`).

A source whose front matter says `ref: mamedov2024` takes its metadata from that entry of the
outline's `bibliography:` file; what the front matter also gives must agree with the entry (a
different title, author, date, publisher or address is an error naming both places), and what
only the front matter gives (say `accessed:`) is added. Title, authors, date, publisher and URL
from the entry then fill the source's `meta`, so the rest of briefgen sees one set of fields.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..errors import Diagnostics, display_path
from ..schema import suggest
from ..textnorm import fold
from .bibdata import SUFFIXES, Bibliography, Entry, load_bibliography

#: CSL 1.0.2 item types (`type:` in front matter).
CSL_TYPES = {
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "bill",
    "book",
    "broadcast",
    "chapter",
    "classic",
    "collection",
    "dataset",
    "document",
    "entry",
    "entry-dictionary",
    "entry-encyclopedia",
    "event",
    "figure",
    "graphic",
    "hearing",
    "interview",
    "legal_case",
    "legislation",
    "manuscript",
    "map",
    "motion_picture",
    "musical_score",
    "pamphlet",
    "paper-conference",
    "patent",
    "performance",
    "periodical",
    "personal_communication",
    "post",
    "post-weblog",
    "regulation",
    "report",
    "review",
    "review-book",
    "software",
    "song",
    "speech",
    "standard",
    "thesis",
    "treaty",
    "webpage",
}
DEFAULT_TYPE = "webpage"
#: Types whose `publisher:` in front matter is the name of the site, paper or journal.
_CONTAINED = {
    "webpage",
    "post",
    "post-weblog",
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "chapter",
    "entry",
    "entry-dictionary",
    "entry-encyclopedia",
    "paper-conference",
    "review",
    "review-book",
}


def short_title(title: str) -> str:
    """A short title for repeated notes: the main title (no subtitle), cut if very long."""
    main = re.split(r":\s|\s[-–—]\s", title, maxsplit=1)[0].strip()
    words = main.split()
    return main if len(words) <= 9 else " ".join(words[:6])


def _name(name: str) -> dict:
    """'Ruslan Mamedov' or 'Mamedov, Ruslan' -> CSL name; one word (an agency) stays literal."""
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return {"family": family, "given": given}
    parts = name.split()
    if len(parts) < 2:
        return {"literal": name}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}


def _name_text(name: dict) -> str:
    if "literal" in name:
        return str(name["literal"])
    parts = [name.get("given"), name.get("non-dropping-particle"), name.get("family")]
    return " ".join(str(p) for p in parts if p)


def _date_parts(value: str) -> dict:
    return {"date-parts": [[int(p) for p in value.split("-")]]}


def _iso(date: dict | None) -> str | None:
    """A CSL date as YYYY-MM-DD when it has year, month and day; else None."""
    try:
        parts = [int(p) for p in (date or {}).get("date-parts", [[]])[0]]
    except (TypeError, ValueError, IndexError):
        return None
    return f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}" if len(parts) >= 3 else None


def _untag(text) -> str:
    return re.sub(r"<[^>]+>", "", str(text or ""))


def csl_item(source) -> dict:
    """The CSL-JSON item for a source: its bibliography entry (if any) plus its front matter."""
    meta = source.meta
    item = dict(meta.entry or {})
    item["id"] = source.id
    kind = meta.type or item.get("type") or (DEFAULT_TYPE if meta.url or not meta.entry else "")
    item["type"] = kind if kind in CSL_TYPES else ("webpage" if item.get("URL") else "document")
    if meta.title and not item.get("title"):
        item["title"] = meta.title
    if meta.authors and not item.get("author"):
        item["author"] = [_name(a) for a in meta.authors]
    if meta.date and not item.get("issued"):
        item["issued"] = _date_parts(meta.date)
    if meta.accessed and not item.get("accessed"):
        item["accessed"] = _date_parts(meta.accessed)
    if meta.url and not item.get("URL"):
        item["URL"] = meta.url
    if meta.publisher and not (item.get("publisher") or item.get("container-title")):
        item["container-title" if item["type"] in _CONTAINED else "publisher"] = meta.publisher
    title = _untag(item.get("title"))
    if title and not item.get("title-short") and short_title(title) != title:
        item["title-short"] = short_title(title)
    return item


# --- the bibliography file and `ref:` --------------------------------------------------------


def resolve_references(outline, sources: dict, root: Path, diags: Diagnostics) -> None:
    """Fill in the metadata of every source with `ref:` from the outline's bibliography.

    Sources are replaced in `sources` (a dict the caller shares with later stages). Problems
    (no such file or entry, an entry without a title, fields that disagree) go to `diags`.
    """
    bibliography = _bibliography(outline, root, diags)
    for sid, source in list(sources.items()):
        meta = source.meta
        if not meta.ref:
            continue
        at = meta.places.get("ref", (1, 1))
        if bibliography is None:
            if not outline.bibliography:
                diags.error(
                    source.path,
                    *at,
                    f"'ref: {meta.ref}' needs a bibliography: name the file in the outline "
                    "(bibliography: refs.bib, or a CSL-JSON refs.json)",
                )
            continue  # else the bibliography's own error says why
        entry = bibliography.entries.get(meta.ref)
        if entry is None:
            hint = (
                suggest(meta.ref, bibliography.entries, "its keys") if bibliography.entries else ""
            )
            diags.error(
                source.path,
                *at,
                f"no entry '{meta.ref}' in {_rel(bibliography.path, root)}{hint}",
            )
            continue
        merged = _merge(source, entry, bibliography.path, root, diags)
        if merged is not None:
            sources[sid] = dataclasses.replace(source, meta=merged)


def _bibliography(outline, root: Path, diags: Diagnostics) -> Bibliography | None:
    name = getattr(outline, "bibliography", None)
    if not name:
        return None
    at = (outline.bibliography_place.line, outline.bibliography_place.col)
    path = (outline.path.parent / name).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        diags.error(
            outline.path,
            *at,
            f"bibliography '{name}' is outside the project; copy it into content/",
        )
        return None
    if path.suffix.lower() not in SUFFIXES:
        diags.error(
            outline.path,
            *at,
            f"bibliography '{name}' must be CSL-JSON (.json) or BibTeX (.bib), as Zotero exports",
        )
        return None
    if not path.is_file():
        diags.error(
            outline.path,
            *at,
            f"bibliography file '{name}' not found (paths are relative to content/)",
        )
        return None
    return load_bibliography(path, diags)


def _merge(source, entry: Entry, bib_path: Path, root: Path, diags: Diagnostics):
    meta, data = source.meta, entry.data
    errors = len(diags.errors)

    def clash(field: str, csl: str, ours: str, theirs: str) -> None:
        line, col = meta.places.get(field, meta.places.get("ref", (1, 1)))
        there = "{}:{}:{}".format(_rel(bib_path, root), *entry.place(csl))
        verb = "differ" if field == "authors" else "differs"
        diags.error(
            source.path,
            line,
            col,
            f"{field} '{ours}' {verb} from the bibliography entry '{entry.key}' ({there}): "
            f"'{theirs}'; remove it here to use the entry's, or correct one of them",
        )

    title = _untag(data.get("title", ""))
    if not title and not meta.title:
        diags.error(
            bib_path,
            entry.line,
            entry.col,
            f"bibliography entry '{entry.key}' has no title (used by source '{source.id}'); "
            "add one to the entry or 'title:' to the source's front matter",
        )
    elif title and meta.title and _same(title) != _same(meta.title):
        clash("title", "title", meta.title, title)
    names = [_name_text(n) for n in data.get("author", []) if isinstance(n, dict)]
    if meta.authors and names:
        ours = [_same(_family(_name(a))) for a in meta.authors]
        theirs = [_same(_family(n)) for n in data["author"] if isinstance(n, dict)]
        if ours != theirs:
            clash("authors", "author", ", ".join(meta.authors), ", ".join(names))
    issued = data.get("issued")
    if meta.date and issued:
        theirs = [int(p) for p in (issued.get("date-parts") or [[]])[0] if str(p).isdigit()]
        ours = [int(p) for p in meta.date.split("-")]
        if theirs and ours[: len(theirs)] != theirs:
            clash("date", "issued", meta.date, "-".join(f"{p:02d}" for p in theirs))
    publishers = [_untag(data.get(k)) for k in ("publisher", "container-title") if data.get(k)]
    if meta.publisher and publishers and _same(meta.publisher) not in map(_same, publishers):
        clash("publisher", "publisher", meta.publisher, publishers[0])
    url = data.get("URL")
    if meta.url and url and meta.url.rstrip("/") != str(url).rstrip("/"):
        clash("url", "URL", meta.url, str(url))
    if len(diags.errors) != errors:
        return None
    return dataclasses.replace(
        meta,
        title=meta.title or title,
        authors=meta.authors or tuple(names),
        date=meta.date or _iso(issued),
        publisher=meta.publisher or (publishers[0] if publishers else None),
        url=meta.url or (str(url) if url else None),
        accessed=meta.accessed or _iso(data.get("accessed")),
        entry=data,
    )


def _family(name: dict) -> str:
    return str(name.get("family") or name.get("literal") or "")


def _same(text: str) -> str:
    """Text compared for agreement: case, white space, quotes and dashes do not count."""
    return fold(_untag(text)).casefold().strip(" .")


def _rel(path: Path, root: Path) -> str:
    return display_path(path, root)
