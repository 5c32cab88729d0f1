"""Format notes, in-text citations and the bibliography with a CSL style, through pandoc's citeproc.

Pandoc comes inside the `pypandoc-binary` wheel (a `pandoc` on the PATH is the fallback). One
pandoc run formats a whole brief: every note becomes one paragraph holding one citation, in
reading order, so citeproc sees the notes as a reader does and decides first, subsequent and
ibid. positions itself. Its HTML is then cut back into one piece per note and per source, links
to `#ref-ID` become links to the brief's source list (`#src-ID`), and everything is sanitised.
Results are cached in memory by a hash of their inputs (the screen and print HTML share one
run, and `watch` reruns pandoc only when a citation, a source or the style changes).

Pandoc runs with no temporary file or folder, so a build killed while it runs leaves nothing
behind: the document comes on its standard input, with the CSL-JSON items in its YAML metadata as
a `data:` URL (`bibliography: 'data:application/json;base64,...'`: read exactly as a `.json`
bibliography file would be), and the HTML comes back on its standard output. Its data folder is
briefgen's own package folder, which holds none of the files pandoc looks for there (templates,
translations, CSL styles), so that pandoc uses its built-in ones and never the user's. Only a
pandoc too old to take a bibliography as a `data:` URL is given a temp file instead.

See docs/citations.md for why pandoc and not citeproc-py (correctness and speed, measured).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import nh3

from ..errors import BriefgenError

_TAGS = {"a", "em", "i", "b", "strong", "span", "sup", "sub", "small", "cite"}
_ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}}
_CACHE: dict[str, Formatted] = {}
_CACHE_SIZE = 8


@dataclass(frozen=True)
class Formatted:
    """A brief's citations as its style prints them (HTML fragments, already sanitised)."""

    in_text: bool  # author-date: each citation prints in the text, e.g. '(Lee 2024, 9)'
    notes: tuple[str, ...]  # one per note, in note order: the note's text or the citation
    entries: dict  # source id -> its bibliography entry
    order: tuple[str, ...]  # source ids in the style's bibliography order


def pandoc_path() -> str:
    spec = importlib.util.find_spec("pypandoc")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "files" / "pandoc"
            if candidate.is_file():
                return str(candidate)
    found = shutil.which("pandoc")
    if found:
        return found
    raise BriefgenError(
        "pandoc not found: briefgen formats citations with pandoc's citeproc, which comes "
        "with its dependency pypandoc-binary (pip install pypandoc-binary)"
    )


#: GHC runtime options for pandoc: a 16 MB suggested heap instead of the 64 MB it is built with.
#: A brief's citations need some 6 MB live; pandoc's peak memory falls from about 180 to 130 MB
#: (most of the rest is its own 160 MB program), for about 0.1 s more CPU in its collector, and a
#: build's peak memory stays within 1.5 times WeasyPrint's own (docs/performance.md). A pandoc
#: built without runtime options ignores the variable.
PANDOC_RTS = "-H16m"


#: pandoc's data folder (`--data-dir`): this package's folder, which holds nothing pandoc looks
#: for there (`templates/`, `translations/`, `csl/`, `defaults/`, `filters/`, `init.lua`), so
#: pandoc uses its built-in files and never the user's own (`~/.local/share/pandoc`). A folder that
#: is always there, and never a temp folder that a killed build would leave behind.
PANDOC_DATA_DIR = Path(__file__).resolve().parent


def run_pandoc(args: list[str], stdin: str) -> subprocess.CompletedProcess:
    """pandoc with `args` reading `stdin` (UTF-8 text in and out), with no user data folder."""
    env = dict(os.environ)
    env.setdefault("GHCRTS", PANDOC_RTS)  # the user's own setting wins
    return subprocess.run(
        [pandoc_path(), "--data-dir", str(PANDOC_DATA_DIR), *args],
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        check=False,
        env=env,
    )


def format_citations(
    style, items: dict[str, dict], notes: list[list[tuple[str, str | None]]], lang: str | None
) -> Formatted:
    """Every note (a list of (source id, locator)) and every cited source, formatted by `style`.

    `items` maps each cited source id to its CSL-JSON item; `lang` (e.g. 'de') overrides the
    style's own locale, None keeps it.
    """
    key = hashlib.sha256(
        json.dumps([style.digest, items, notes, lang], sort_keys=True).encode()
    ).hexdigest()
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _format(style, items, notes, lang)
    return _CACHE[key]


def _format(style, items, notes, lang) -> Formatted:
    if not notes:
        return Formatted(style.in_text, (), {}, ())
    document = "\n\n".join(
        "["
        + "; ".join(f"@{{{sid}}}" + (f", {_escape(loc)}" if loc else "") for sid, loc in note)
        + "]"
        for note in notes
    )
    args = [
        "--citeproc",
        "--from=markdown",
        "--to=html",
        "--wrap=none",
        f"--csl={style.path}",
        "--metadata=link-citations:true",
        "--metadata=link-bibliography:true",
    ]
    if lang:
        args.append(f"--metadata=lang:{lang}")
    bibliography = json.dumps(list(items.values()), ensure_ascii=False).encode("utf-8")
    # The items travel inside the document (see the module's docstring): no file to leave behind.
    url = "data:application/json;base64," + base64.b64encode(bibliography).decode("ascii")
    result = run_pandoc(args, f"---\nbibliography: '{url}'\n---\n\n{document}\n")
    if result.returncode != 0 and "Could not determine bibliography format" in result.stderr:
        result = _format_from_file(args, document, bibliography)  # an old pandoc
    if result.returncode != 0:
        raise BriefgenError(
            f"citation style '{style.name}' ({style.path.name}) could not be applied: "
            + (result.stderr.strip() or f"pandoc exited with status {result.returncode}")
        )
    return _parse(result.stdout, style, len(notes), style.puts_punctuation_in_quotes(lang))


def _format_from_file(
    args: list[str], document: str, bibliography: bytes
) -> subprocess.CompletedProcess:
    """For a pandoc that reads a bibliography only from a file (by its extension): a temp file."""
    with tempfile.TemporaryDirectory(prefix="briefgen-csl-") as folder:
        path = Path(folder) / "items.json"
        path.write_bytes(bibliography)
        return run_pandoc([*args, f"--bibliography={path}"], document)


def _parse(html: str, style, count: int, in_quotes: bool) -> Formatted:
    import lxml.html  # libxml2: some ten times quicker than BeautifulSoup on a long brief's notes

    root = lxml.html.document_fromstring(html)
    if style.in_text:
        pieces = [_inner(span) for span in root.xpath(f"//p/span[{_CLASS % 'citation'}]")]
    else:
        pieces = []
        for item in root.xpath(f"//section[{_CLASS % 'footnotes'}]/ol/li"):
            for back in item.xpath(f".//a[{_CLASS % 'footnote-back'}]"):
                back.drop_tree()  # its tail (text after it) stays
            body = item.find(".//p")
            pieces.append(_inner(item if body is None else body, in_quotes))
    if len(pieces) != count:
        raise BriefgenError(
            f"citation style '{style.name}': expected {count} citations from pandoc, "
            f"got {len(pieces)}"
        )
    entries, order = {}, []
    for div in root.xpath(f"//div[{_CLASS % 'csl-entry'}]"):
        sid = (div.get("id") or "")[len("ref-") :]
        entries[sid] = _inner(div)
        order.append(sid)
    return Formatted(style.in_text, tuple(pieces), entries, tuple(order))


#: XPath test for an element with the class %s (among others), as CSS's `.name`.
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' %s ')"


# A link that ends in a closing quotation mark, then a period or comma from the style's layout:
# citeproc moves such punctuation inside the quotes, but not across the link it wraps each cited
# source in (pandoc's link-citations), so that is done here; after '?' or '!' the period goes.
_QUOTE_THEN_STOP = re.compile(r"([?!.]?)([”’])((?:</a>)+)([.,])")


def _in_quotes(match: re.Match) -> str:
    before, quote, close, stop = match.groups()
    return f"{before}{quote}{close}" if before else f"{stop}{quote}{close}"


def _inner(element, in_quotes: bool = False) -> str:
    """The element's content as sanitised HTML on one line (an lxml element)."""
    from lxml.html import tostring

    for span in list(element.iterdescendants("span")):
        if not span.attrib or span.get("class", "").split() == ["citation"]:
            span.drop_tag()  # its text, children and tail stay in place
    html = escape(element.text or "", quote=False) + "".join(
        tostring(child, encoding=str, with_tail=True) for child in element
    )
    html = re.sub(r'href="#ref-([^"]*)"', r'href="#src-\1" class="src-link"', html)
    html = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    if in_quotes:
        html = _QUOTE_THEN_STOP.sub(_in_quotes, html)
    return re.sub(r"\s+", " ", html).strip()


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<>$^~#|@\[\]])")


def _escape(locator: str) -> str:
    """A locator as literal Markdown text (pandoc still reads its label, 'p.', 'chap.', ...)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", locator)


def plain_text(html: str) -> str:
    """A formatted fragment as plain text, italics marked *like this* (for goldens and tests)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["em", "i"]):
        tag.insert_before("*")
        tag.insert_after("*")
    return re.sub(r"\s+", " ", soup.get_text()).strip()
