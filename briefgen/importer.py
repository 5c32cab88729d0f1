"""`briefgen add`: import a saved web page or a PDF as a new source in content/sources/.

The text stored is what every excerpt is later checked against, so it is kept faithful:

- HTML: trafilatura picks the main text (navigation, headers, footers, cookie banners, scripts,
  styles and comments are left out) from the local file only; nothing is fetched. Each block
  (paragraph, heading, list item, quotation, table row) becomes one paragraph, paragraphs are
  separated by a blank line, and every paragraph is checked to occur, character for character
  (white space aside), in the page's own text: one that does not is left out and reported.
  Paragraphs that are script code leaked into the page's text (a script cut short by a stray
  `</script>`) are left out and reported too.
- PDF: pdfminer.six's layout analysis gives the text blocks in reading order; each block is a
  paragraph, its line breaks kept as printed (a hyphen at a line end stays: words are never
  joined or changed). Running heads and page numbers in the top and bottom margins are left out.
- The source is written as `.txt`, whose body briefgen reads as written: no Markdown reduction
  can change a character, and what an editor copies from the file is what is matched.

Metadata comes only from what the file states (see `HTML_METADATA` and `read_pdf`); what is not
found is reported, never guessed, except `accessed`, which is today unless the file says when it
was saved.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import io
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from .errors import BriefgenError, Diagnostic, UsageError, display_path
from .project import SOURCE_SUFFIXES, open_project

SOURCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FIELDS = ("title", "publisher", "authors", "date", "url", "accessed")


@dataclass
class Imported:
    """What one file yields: metadata (with where each value came from) and paragraphs."""

    kind: str  # "html" or "pdf"
    meta: dict[str, object] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)  # field -> where it was found
    paragraphs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the editor should check or add

    def set(self, key: str, value: object, where: str) -> bool:
        if key in self.meta or not value:
            return False
        self.meta[key] = value
        self.found[key] = where
        return True

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs) + "\n"


@dataclass(frozen=True)
class AddResult:
    id: str
    path: Path
    imported: Imported

    @property
    def words(self) -> int:
        return len(self.imported.text.split())

    def lines(self) -> list[str]:
        """What was written, then each metadata field with where it was found."""
        imp = self.imported
        n = len(imp.paragraphs)
        out = [
            f"added source '{self.id}': {display_path(self.path)} "
            f"({n} paragraph{'s' if n != 1 else ''}, {self.words} words)"
        ]
        for key in FIELDS:
            value = imp.meta.get(key)
            if value:
                shown = "; ".join(value) if isinstance(value, list) else str(value)
                out.append(f"  {key + ':':<10} {shown}  [{imp.found[key]}]")
        return out

    def warnings(self) -> list[Diagnostic]:
        """What could not be found or was left out, as warnings on the new file."""
        return [Diagnostic(self.path, 1, 1, note, "warning") for note in self.imported.notes]


# --- the command ---------------------------------------------------------------------------


def add_source(
    path: str | Path,
    project: str | Path = ".",
    source_id: str | None = None,
    today: dt.date | None = None,
) -> AddResult:
    """Import `path` (a saved HTML page or a PDF) as `content/sources/<id>.txt` of `project`."""
    proj = open_project(project)
    path = Path(path)
    if source_id is not None and not SOURCE_ID.match(source_id):
        raise UsageError(
            f"'{source_id}' is not a usable source id: use letters, digits, '.', '-' and '_' "
            "only, starting with a letter or digit"
        )
    if source_id is not None:
        _refuse_existing(proj.sources_dir, source_id, explicit=True)
    imported = import_file(path)
    today = today or dt.date.today()
    imported.set("accessed", today.isoformat(), "today")
    if "title" not in imported.meta:
        imported.set("title", path.stem, "the file name")
        imported.notes.append(
            f"no title found; used the file name '{path.stem}': change `title:` by hand"
        )
    for key, what in (
        ("publisher", "no publisher found; add `publisher:` by hand"),
        ("authors", "no author found; add `authors:` by hand if the source names any"),
        ("date", "no date found; add `date:` (YYYY-MM-DD) by hand"),
        ("url", "no URL found; add `url:` (where the source was found) by hand"),
    ):
        if key not in imported.meta and not any(f"`{key}:" in n for n in imported.notes):
            imported.notes.append(what)
    sid = source_id or derive_id(imported.meta, path)
    target = proj.sources_dir / f"{sid}.txt"
    _refuse_existing(proj.sources_dir, sid, explicit=source_id is not None)
    _write_new(target, render_source(imported.meta, imported.text))
    return AddResult(sid, target, imported)


def import_file(path: Path) -> Imported:
    """Read a saved page or a PDF; a usage error for any other kind of file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"'{path}' does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"'{path}' is a folder; give a saved web page or a PDF") from None
    except OSError as exc:
        raise BriefgenError(f"cannot read '{path}': {exc.strerror}") from None
    kind = sniff(raw, path.suffix.lower())
    if kind == "pdf":
        return read_pdf(raw, path)
    if kind == "html":
        return read_html(raw, path)
    hint = ""
    if path.suffix.lower() in (".txt", ".md"):
        hint = (
            "; a text or Markdown file is already a source: copy it into content/sources/ "
            "and put `title:` front matter at its top"
        )
    elif path.suffix.lower() in (".mht", ".mhtml", ".webarchive"):
        hint = "; save the page as 'Webpage, HTML only' or 'Webpage, Complete' instead"
    raise UsageError(
        f"cannot import '{path}': briefgen add reads saved web pages (.html, .htm) "
        f"and PDF files (.pdf){hint}"
    )


def sniff(raw: bytes, suffix: str) -> str | None:
    """'pdf', 'html' or None, from the bytes first (a PDF named .html is still a PDF)."""
    head = raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n\x0c")
    if head.startswith(b"%PDF-") or (not head.startswith(b"<") and b"%PDF-" in raw[:1024]):
        return "pdf"
    if suffix == ".pdf":
        return None
    lower = head[:1024].lower()
    if suffix in (".html", ".htm", ".xhtml") or re.match(
        rb"<(!doctype html|html|head|body|!--|\?xml)", lower
    ):
        # a saved page is text: refuse binaries that merely carry the name
        return None if b"\x00" in raw[:4096] else "html"
    return None


def derive_id(meta: dict[str, object], path: Path) -> str:
    """`publisher-year-title` slug, e.g. `jpost-2023-russia-lavrov-iraq`."""
    parts = []
    url = meta.get("url")
    publisher = _host_slug(str(url)) if url else ""
    if not publisher and meta.get("publisher"):
        words = [w for w in _words(str(meta["publisher"])) if w not in _STOP]
        publisher = "-".join(words[:2])
    if publisher:
        parts.append(publisher)
    if meta.get("date"):
        parts.append(str(meta["date"])[:4])
    title = [w for w in _words(str(meta.get("title", ""))) if w not in _STOP]
    if title:
        parts.append("-".join(title[:3]))
    sid = "-".join(parts) or "-".join(_words(path.stem)) or "source"
    return sid[:80].strip("-._") or "source"


# fmt: off
_STOP = frozenset((
    "a", "an", "the", "of", "in", "on", "and", "or", "for", "to", "is", "are", "was", "were",
    "be", "been", "what", "why", "how", "who", "with", "at", "by", "from", "does", "do", "did",
    "its", "it", "as", "into", "about", "after", "over", "under", "than", "that", "this", "these",
    "those", "new", "analysis", "www", "com", "org", "net",
))
# fmt: on


def _words(text: str) -> list[str]:
    text = re.sub(r"['’]s\b", "", text.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.findall(r"[a-z0-9]+", text.replace("'", ""))


def _host_slug(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    labels = [x for x in host.split(".") if x]
    while labels and labels[0] in ("www", "m", "amp", "mobile"):
        labels.pop(0)
    if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3:
        labels = labels[:-2]  # example.co.uk, example.org.il
    elif len(labels) >= 2:
        labels = labels[:-1]
    return "-".join(_words(labels[-1])) if labels else ""


def _refuse_existing(folder: Path, sid: str, explicit: bool) -> None:
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.stem == sid and p.suffix.lower() in SOURCE_SUFFIXES:
            how = "choose another id" if explicit else "if this is another source, give it an id"
            raise BriefgenError(
                f"a source with the id '{sid}' already exists ({display_path(p)}); "
                f"briefgen add never overwrites a source: {how} with --id ID"
            )


def _write_new(path: Path, text: str) -> None:
    """Write the whole file, then link it into place: never over an existing file.

    Where the file system has no hard links, the file is created exclusively instead.
    """
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            raise _appeared(path) from None
        except OSError:
            try:
                with path.open("xb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except FileExistsError:
                raise _appeared(path) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _appeared(path: Path) -> BriefgenError:
    return BriefgenError(
        f"'{display_path(path)}' appeared while importing; briefgen add never "
        "overwrites a source: choose another id with --id ID"
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def render_source(meta: dict[str, object], body: str) -> str:
    """Front matter (yaml.safe_dump: every value quoted or escaped as YAML needs) and body."""
    ordered = {k: meta[k] for k in FIELDS if meta.get(k)}
    front = yaml.safe_dump(
        ordered, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10**6
    )
    return f"---\n{front}---\n{body}"


# --- HTML ------------------------------------------------------------------------------------


def read_html(raw: bytes, path: Path) -> Imported:
    from bs4 import BeautifulSoup, Comment, UnicodeDammit

    html = UnicodeDammit(raw, is_html=True).unicode_markup
    if html is None:
        raise BriefgenError(f"cannot read '{path}' as text: its encoding is not recognised")
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    result = Imported("html")
    soup = BeautifulSoup(html, "html.parser")
    comments = [str(c) for c in soup.find_all(string=lambda s: isinstance(s, Comment))]
    _html_metadata(soup, comments, result)
    paragraphs = main_text(html)
    if not paragraphs:
        raise BriefgenError(
            f"found no main text in '{path}': is it the saved article page (not a login, "
            "cookie or redirect page)?"
        )
    from .sources import html_text

    page = _squash(html_text(html))
    kept = []
    for par in paragraphs:
        if _looks_like_code(par):
            result.notes.append(f"left out a paragraph that is script code: {_clip(par)!r}")
        elif _squash(par) not in page:
            result.notes.append(
                f"left out a paragraph not found verbatim in the page: {_clip(par)!r}"
            )
        else:
            kept.append(par)
    if not kept:
        raise BriefgenError(f"found no main text in '{path}'")
    words = sum(len(p.split()) for p in kept)
    if words < 40:
        result.notes.append(
            f"only {words} word{'s' if words != 1 else ''} of main text found: check that this "
            "is the saved article (not a login, cookie or redirect page)"
        )
    result.paragraphs = kept
    return result


def main_text(html: str) -> list[str]:
    """The page's main text as paragraphs (trafilatura on the string: nothing is fetched)."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        include_formatting=False,
        deduplicate=False,
        with_metadata=False,
    )
    if not xml:
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    main = root.find("main")
    return _blocks(main if main is not None else root)


_XML_BLOCKS = {"p", "head", "quote", "list", "item", "code", "div", "main", "doc", "table"}


def _blocks(root) -> list[str]:
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = "".join(buf)
        buf.clear()
        lines = [re.sub(r" +", " ", line).strip() for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)

    def inline(e) -> str:
        parts = [e.text or ""]
        for c in e:
            parts.append("\n" if c.tag == "lb" else inline(c))
            parts.append(c.tail or "")
        return "".join(parts)

    def walk(e) -> None:
        if e.tag == "lb":
            buf.append("\n")
        elif e.tag == "table":
            flush()
            rows = []
            for row in e.iter("row"):
                cells = [" ".join(inline(c).split()) for c in row if c.tag == "cell"]
                rows.append("\t".join(c for c in cells if c))
            buf.append("\n".join(r for r in rows if r))
            flush()
        elif e.tag in _XML_BLOCKS:
            flush()
            buf.append(e.text or "")
            for c in e:
                walk(c)
            flush()
        else:
            buf.append(e.text or "")
            for c in e:
                walk(c)
        if e.tail:
            buf.append(e.tail)

    walk(root)
    flush()
    return out


def _squash(text: str) -> str:
    """For 'is it in the page' checks: NFC, no white space, no invisible format characters."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace())


_CODE = re.compile(
    r"\bdocument\.\w|\bwindow\.\w|\bfunction\s*\(|\b(?:var|let|const)\s+[\w$]+\s*=|=>|\)\s*;"
    r"|\.style\.|\binnerHTML\b|getElementById|!==|===|&&|\|\||\{\s*\}|\}\s*\)|;\s*\}"
    r"|[\w-]+\s*:\s*[^;{}]+;\s*[\w-]+\s*:|^\s*[.#]?[\w-]+\s*\{"
)


def _looks_like_code(par: str) -> bool:
    """Script or style code that leaked into the text (seen after a stray `</script>`)."""
    marks = len(_CODE.findall(par))
    visible = [ch for ch in par if not ch.isspace()]
    symbols = sum(ch in "{}();=<>[]`$&|" for ch in visible)
    return marks >= 3 and symbols >= 0.05 * max(len(visible), 1)


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Where each field is looked for, best first (after JSON-LD, which comes first for every field).
HTML_METADATA = {
    "title": [
        ("property", "og:title"),
        ("name", "citation_title"),
        ("name", "dc.title"),
        ("name", "dcterms.title"),
        ("name", "twitter:title"),
        ("name", "parsely-title"),
    ],
    "publisher": [
        ("property", "og:site_name"),
        ("name", "citation_publisher"),
        ("name", "dc.publisher"),
        ("name", "dcterms.publisher"),
    ],
    "authors": [
        ("name", "citation_author"),
        ("name", "author"),
        ("property", "article:author"),
        ("name", "dc.creator"),
        ("name", "dcterms.creator"),
        ("name", "parsely-author"),
        ("name", "sailthru.author"),
    ],
    "date": [
        ("property", "article:published_time"),
        ("name", "citation_publication_date"),
        ("name", "citation_date"),
        ("name", "citation_online_date"),
        ("name", "dc.date.issued"),
        ("name", "dcterms.issued"),
        ("name", "dc.date"),
        ("name", "dcterms.date"),
        ("name", "dcterms.created"),
        ("name", "date"),
        ("name", "pubdate"),
        ("name", "publishdate"),
        ("name", "publish-date"),
        ("name", "parsely-pub-date"),
        ("name", "sailthru.date"),
        ("itemprop", "datePublished"),
    ],
    "url": [
        ("property", "og:url"),
        ("name", "citation_public_url"),
        ("name", "citation_abstract_html_url"),
    ],
}

_ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "ReportageNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "BlogPosting",
    "ScholarlyArticle",
    "Report",
    "TechArticle",
    "LiveBlogPosting",
}


def _html_metadata(soup, comments: list[str], result: Imported) -> None:
    metas = _meta_values(soup)
    saved_url, saved_date = _saved_from(comments)
    base = None
    for candidate in (
        _first(metas, ("property", "og:url")),
        _canonical(soup, None),
        saved_url[0] if saved_url else None,
    ):
        if candidate and _URL.match(candidate):
            base = candidate
            break
    article = _json_ld_article(soup)
    # title
    if article:
        result.set(
            "title",
            _clean(_ld_text(article.get("headline") or article.get("name"))),
            "JSON-LD headline",
        )
    publisher_hint = _ld_name(article.get("publisher")) if article else None
    site = _first(metas, ("property", "og:site_name"))
    for key, attr in HTML_METADATA["title"]:
        value = _first(metas, (key, attr))
        if value:
            result.set("title", _strip_site(_clean(value), publisher_hint, site), _tag(key, attr))
    title_tag = soup.find("title")
    if title_tag and title_tag.get_text(strip=True):
        result.set(
            "title", _strip_site(_clean(title_tag.get_text()), publisher_hint, site), "<title>"
        )
    h1 = soup.find_all("h1")
    if len(h1) == 1:
        result.set("title", _clean(h1[0].get_text(" ")), "<h1>")
    # publisher
    if publisher_hint:
        result.set("publisher", _clean(publisher_hint), "JSON-LD publisher")
    for key, attr in HTML_METADATA["publisher"]:
        result.set("publisher", _clean(_first(metas, (key, attr)) or ""), _tag(key, attr))
    # authors
    if article:
        names = _ld_names(article.get("author") or article.get("creator"))
        result.set("authors", _dedupe(names), "JSON-LD author")
    for key, attr in HTML_METADATA["authors"]:
        names = []
        for value in metas.get((key, attr), []):
            if not _URL.match(value):
                names.extend(_split_authors(value))
        result.set("authors", _dedupe(names), _tag(key, attr))
    # date
    raw_dates: list[tuple[str, str]] = []
    if article:
        for k in ("datePublished", "dateCreated"):
            value = _ld_text(article.get(k))
            if value:
                raw_dates.append((value, f"JSON-LD {k}"))
    for key, attr in HTML_METADATA["date"]:
        for value in metas.get((key, attr), []):
            raw_dates.append((value, _tag(key, attr)))
    for time in soup.find_all("time", attrs={"datetime": True}):
        if time.has_attr("pubdate") or time.get("itemprop") == "datePublished":
            raw_dates.append((time["datetime"], "<time pubdate>"))
    _choose_date(raw_dates, result)
    # url: the page's own word on its address first
    result.set("url", _canonical(soup, base), "<link rel=canonical>")
    if article:
        page = article.get("mainEntityOfPage")
        ld_url = _ld_text(article.get("url")) or (
            page.get("@id") if isinstance(page, dict) else _ld_text(page)
        )
        if ld_url and _URL.match(ld_url):
            result.set("url", ld_url, "JSON-LD url")
    for key, attr in HTML_METADATA["url"]:
        value = _first(metas, (key, attr))
        if value and _URL.match(value):
            result.set("url", value, _tag(key, attr))
    if saved_url:
        result.set("url", *saved_url)
    # accessed
    if saved_date:
        result.set("accessed", saved_date, "SingleFile's 'saved date:' comment")


_URL = re.compile(r"^https?://[^\s<>\"]+$")


def _tag(key: str, attr: str) -> str:
    return f'<meta {key}="{attr}">'


def _meta_values(soup) -> dict[tuple[str, str], list[str]]:
    metas: dict[tuple[str, str], list[str]] = {}
    for tag in soup.find_all("meta"):
        content = tag.get("content")
        if content is None and tag.get("itemprop"):
            content = tag.get("datetime")
        if not content or not content.strip():
            continue
        for key in ("property", "name", "itemprop"):
            name = tag.get(key)
            if name:
                name = name.strip()
                name = name if key == "itemprop" else name.lower()
                metas.setdefault((key, name), []).append(content.strip())
    # some sites write OpenGraph with name= instead of property=
    for (key, name), values in list(metas.items()):
        if key == "name" and name.startswith(("og:", "article:")):
            metas.setdefault(("property", name), []).extend(values)
    return metas


def _first(metas: dict, key: tuple[str, str]) -> str | None:
    values = metas.get(key)
    return values[0] if values else None


def _canonical(soup, base: str | None) -> str | None:
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rel = rel.split() if isinstance(rel, str) else rel
        if "canonical" in [r.lower() for r in rel]:
            href = urljoin(base, link["href"].strip()) if base else link["href"].strip()
            if _URL.match(href):
                return href
    return None


_SAVED_URL = re.compile(r"saved from url=\(\d+\)(\S+)", re.I)
_SINGLEFILE_URL = re.compile(r"^\s*url:\s*(\S+)", re.M)
_SINGLEFILE_DATE = re.compile(
    r"saved date:\s*(?:\w{3},?\s+)?(\w{3})\w*\s+(\d{1,2}),?\s+(\d{4})", re.I
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _saved_from(comments: list[str]) -> tuple[tuple[str, str] | None, str | None]:
    """(URL, where) and save date left by browsers ('saved from url=') and SingleFile."""
    url = date = None
    for text in comments:
        m = _SAVED_URL.search(text)
        if m and _URL.match(m.group(1)):
            url = url or (m.group(1), "the browser's 'saved from url' comment")
        if "SingleFile" in text:
            m = _SINGLEFILE_URL.search(text)
            if m and _URL.match(m.group(1)):
                url = url or (m.group(1), "SingleFile's 'url:' comment")
            m = _SINGLEFILE_DATE.search(text)
            if m and m.group(1).lower()[:3] in _MONTHS:
                with contextlib.suppress(ValueError):
                    date = dt.date(
                        int(m.group(3)), _MONTHS[m.group(1).lower()[:3]], int(m.group(2))
                    ).isoformat()
    return url, date


def _json_ld_article(soup) -> dict | None:
    nodes: list[dict] = []
    for script in soup.find_all("script", type=re.compile(r"application/ld\+json", re.I)):
        try:
            data = json.loads(script.string or script.get_text(), strict=False)
        except ValueError:
            continue
        _collect_nodes(data, nodes)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        types = node.get("@type")
        types = {types} if isinstance(types, str) else set(types or [])
        if types & _ARTICLE_TYPES:
            return {k: _resolve(v, by_id) for k, v in node.items()}
    return None


def _collect_nodes(data, nodes: list[dict]) -> None:
    if isinstance(data, list):
        for item in data:
            _collect_nodes(item, nodes)
    elif isinstance(data, dict):
        if "@type" in data or "@id" in data:
            nodes.append(data)
        for key in ("@graph", "mainEntity"):
            if key in data:
                _collect_nodes(data[key], nodes)


def _resolve(value, by_id: dict):
    if isinstance(value, dict) and set(value) == {"@id"} and value["@id"] in by_id:
        return by_id[value["@id"]]
    if isinstance(value, list):
        return [_resolve(v, by_id) for v in value]
    return value


def _ld_text(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    return str(value).strip() if isinstance(value, str | int) and str(value).strip() else None


def _ld_name(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        return _ld_text(value.get("name"))
    return _ld_text(value)


def _ld_names(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, dict):
            name = _ld_text(item.get("name"))
            if name:
                names.append(_clean(name))
        elif isinstance(item, str) and item.strip() and not _URL.match(item.strip()):
            names.extend(_split_authors(item))
    return names


def _clean(text: str | None) -> str:
    """One line of metadata: white space collapsed (titles and names are not quoted from)."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _strip_site(title: str, *sites: str | None) -> str:
    """'Headline - The Site' -> 'Headline', only when the tail is the site's own name."""
    for site in sites:
        if not site:
            continue
        for name in {site.strip(), *(part.strip() for part in re.split(r"\s[|–—-]\s", site))}:
            for sep in (" | ", " - ", " – ", " — ", " :: ", " · "):
                tail = f"{sep}{name}"
                if name and title.endswith(tail) and len(title) > len(tail):
                    return title[: -len(tail)].rstrip()
    return title


def _split_authors(value: str) -> list[str]:
    """'A; B' always, 'Ann Roe, Bob Doe' too; 'Roe, Ann' is one name, turned to 'Ann Roe'.

    briefgen takes a name's last word as the surname, so names are stored given name first.
    """
    value = re.sub(r"^\s*by\s+", "", _clean(value), flags=re.I)
    parts = [p.strip() for p in value.split(";") if p.strip()]
    names: list[str] = []
    for part in parts:
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        elif len(pieces) == 2 and pieces[1].rstrip(".").lower() not in _SUFFIXES:
            names.append(f"{pieces[1]} {pieces[0]}")  # 'Roe, Ann' -> 'Ann Roe'
        else:
            names.append(part)
    return names


_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md"}


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _choose_date(candidates: list[tuple[str, str]], result: Imported) -> None:
    partial = None
    for value, where in candidates:
        date, how = parse_date(value)
        if date:
            result.set("date", date, where)
            return
        if how == "partial" and partial is None:
            partial = (value, where)
    if partial:
        result.notes.append(
            f"no full date found: {partial[1]} gives only '{partial[0]}'; "
            "add `date:` (YYYY-MM-DD) by hand"
        )
    elif candidates:
        value, where = candidates[0]
        result.notes.append(
            f"no date found that could be read ({where} says '{_clip(value, 40)}'); "
            "add `date:` (YYYY-MM-DD) by hand"
        )


def parse_date(value: str) -> tuple[str | None, str]:
    """(YYYY-MM-DD, 'ok') from ISO 8601, '2023/02/05', PDF 'D:20230205...' or RFC 2822 dates.

    The calendar date is taken as written (its own time zone), never shifted to UTC.
    """
    text = value.strip()
    m = re.match(r"^(?:D:)?(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})(?:$|[T\s\d+Z:.-])", text)
    if not m:
        m = re.match(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b", text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat(), "ok"
        except ValueError:
            return None, "bad"
    if re.match(r"^(?:D:)?\d{4}(?:[-/]?\d{2})?$", text):
        return None, "partial"
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None, "bad"
    return parsed.date().isoformat(), "ok"


# --- PDF -------------------------------------------------------------------------------------


def read_pdf(raw: bytes, path: Path) -> Imported:
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser, PDFSyntaxError

    result = Imported("pdf")
    try:
        doc = PDFDocument(PDFParser(io.BytesIO(raw)))
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise BriefgenError(
            f"'{path}' is encrypted with a password; save an unlocked copy and add that"
        ) from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise BriefgenError(f"'{path}' is not a readable PDF: {exc}") from None
    _pdf_metadata(doc, result)
    result.paragraphs = _pdf_paragraphs(raw, path, result)
    if not result.paragraphs:
        raise BriefgenError(
            f"found no text in '{path}': it may be scanned pages (images); run OCR on it first"
        )
    return result


def _pdf_metadata(doc, result: Imported) -> None:
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    info: dict[str, str] = {}
    for entry in doc.info or []:
        for key, value in (resolve1(entry) or {}).items():
            value = resolve1(value)
            if isinstance(value, bytes):
                text = decode_text(value)
            elif isinstance(value, str):
                text = value
            else:
                continue
            text = text.replace("\x00", "").strip()
            if text:
                info[str(key)] = text
    xmp = _xmp(doc)
    title = xmp.get("title")
    if title and not _file_like(title):
        result.set("title", _clean(title), "XMP dc:title")
    if info.get("Title"):
        if _file_like(info["Title"]):
            result.notes.append(
                f"the PDF's title '{_clip(info['Title'], 50)}' is a file name, not a title"
            )
        else:
            result.set("title", _clean(info["Title"]), "PDF info /Title")
    if xmp.get("publisher"):
        result.set("publisher", _clean(xmp["publisher"]), "XMP dc:publisher")
    if xmp.get("creators"):
        result.set("authors", _dedupe([_clean(n) for n in xmp["creators"]]), "XMP dc:creator")
    if info.get("Author"):
        result.set("authors", _dedupe(_split_authors(info["Author"])), "PDF info /Author")
    for key, where in (
        ("publicationDate", "XMP prism:publicationDate"),
        ("coverDate", "XMP prism:coverDate"),
        ("date", "XMP dc:date"),
    ):
        if xmp.get(key):
            date, _how = parse_date(xmp[key])
            if date:
                result.set("date", date, where)
    for value, where in (
        (xmp.get("CreateDate"), "XMP xmp:CreateDate"),
        (info.get("CreationDate"), "PDF info /CreationDate"),
    ):
        if value and "date" not in result.meta:
            date, _how = parse_date(value)
            if date and result.set("date", date, where):
                result.notes.append(
                    f"date {date} is when the PDF file was made ({where}); "
                    "check it against the date printed in the document"
                )
    if xmp.get("url") and _URL.match(xmp["url"]):
        result.set("url", xmp["url"], "XMP prism:url")


def _file_like(title: str) -> bool:
    t = title.strip().lower()
    return bool(
        re.search(r"\.(docx?|pdf|indd|qxd|odt|rtf|pages|tex|pptx?|xlsx?)$", t)
        or t.startswith("microsoft word - ")
        or t in {"untitled", "untitled document", "document", "title"}
    )


_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "prism": "http://prismstandard.org/namespaces/basic/2.0/",
}


def _xmp(doc) -> dict:
    """dc:title, dc:creator (list), dc:publisher, dc:date, prism dates and url, xmp:CreateDate."""
    import xml.etree.ElementTree as ET

    from pdfminer.pdftypes import resolve1

    try:
        stream = resolve1(doc.catalog.get("Metadata"))
        data = stream.get_data() if stream is not None else None
    except Exception:  # a broken metadata stream must not stop the import of the text
        return {}
    if not data or b"<!ENTITY" in data:  # no entity expansion from an untrusted file
        return {}
    try:
        root = ET.fromstring(data.strip(b"\x00 \r\n\t"))
    except ET.ParseError:
        return {}
    out: dict = {}

    def values(tag: str) -> list[str]:
        found = []
        for el in root.iter(tag):
            items = [li.text for li in el.iter(f"{{{_NS['rdf']}}}li") if li.text]
            found.extend(items or ([el.text] if el.text and el.text.strip() else []))
        return [v.strip() for v in found if v.strip()]

    def attribute(tag: str) -> list[str]:  # the shorthand form: rdf:Description dc:date="..."
        return [
            el.attrib[tag] for el in root.iter(f"{{{_NS['rdf']}}}Description") if tag in el.attrib
        ]

    for key, ns, name in (
        ("title", "dc", "title"),
        ("publisher", "dc", "publisher"),
        ("date", "dc", "date"),
        ("publicationDate", "prism", "publicationDate"),
        ("coverDate", "prism", "coverDate"),
        ("url", "prism", "url"),
        ("CreateDate", "xmp", "CreateDate"),
    ):
        tag = f"{{{_NS[ns]}}}{name}"
        found = values(tag) or attribute(tag)
        if found:
            out[key] = found[0]
    creators = values(f"{{{_NS['dc']}}}creator")
    if creators:
        out["creators"] = creators
    return out


_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _pdf_paragraphs(raw: bytes, path: Path, result: Imported) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextContainer
    from pdfminer.pdfparser import PDFSyntaxError

    pages: list[tuple[float, list[tuple[float, float, str]]]] = []
    try:
        for page in extract_pages(io.BytesIO(raw), laparams=LAParams()):
            boxes = []
            for el in page:
                if isinstance(el, LTTextContainer):
                    text = _CONTROL.sub("", el.get_text())
                    lines = [line.rstrip() for line in text.split("\n")]
                    text = "\n".join(line for line in lines if line.strip()).strip("\n")
                    if text.strip():
                        boxes.append((el.y0, el.y1, text))
            pages.append((page.height, boxes))
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise BriefgenError(f"'{path}' is not a readable PDF: {exc}") from None

    def margin(height: float, y0: float, y1: float) -> bool:
        return y0 >= height * 0.88 or y1 <= height * 0.12

    def key(text: str) -> str:
        return re.sub(r"\d+", "#", " ".join(text.split()).lower())

    repeats: dict[str, int] = {}
    for height, boxes in pages:
        for k in {key(t) for y0, y1, t in boxes if margin(height, y0, y1)}:
            repeats[k] = repeats.get(k, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    paragraphs: list[str] = []
    dropped = 0
    for height, boxes in pages:
        for y0, y1, text in boxes:
            if margin(height, y0, y1) and (
                _PAGE_NUMBER.match(" ".join(text.split()))
                or (len(pages) > 1 and repeats.get(key(text), 0) >= needed)
            ):
                dropped += 1
                continue
            paragraphs.append(text)
    if dropped:
        result.notes.append(
            f"left out {dropped} running head{'s' if dropped != 1 else ''} and page "
            "number" + ("s" if dropped != 1 else "") + " in the page margins"
        )
    if any("(cid:" in p for p in paragraphs):
        result.notes.append(
            "some characters of the PDF have no text equivalent and appear as '(cid:NN)'; "
            "check the text around them against the PDF"
        )
    return paragraphs
