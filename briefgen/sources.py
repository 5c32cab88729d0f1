"""Find and read the source files: front matter metadata plus the text quotes are checked against.

A `.txt` source is its body as written; `.md` and `.html` sources are reduced to the text a
reader sees (markup dropped, block elements on their own lines), because that is what an editor
quotes. briefgen never edits a source file.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from html.parser import HTMLParser
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


def read_sources(project: Project, diags: Diagnostics, cache=None) -> dict[str, Source]:
    """Every readable source by id; problems go to `diags` (a broken source is left out).

    What reading a file costs most (its reader's text, and that folded by `textnorm.normalize`)
    is taken from `cache` (a `sourcecache.SourceCache`; by default the project's, read only)
    when the file's bytes are those cached; what is not there is made and put in `cache`, which
    the caller saves once its run has succeeded. `normalize` then answers for these texts at
    once (`textnorm.remember`).
    """
    from .sourcecache import SourceCache
    from .textnorm import normalize, remember

    cache = cache if cache is not None else SourceCache(project)
    inside = project.contains(project.sources_dir)
    sources: dict[str, Source] = {}
    known = {}
    for path in find_source_files(project):
        if not (inside and not path.is_symlink()) and not project.contains(path):
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
        source = read_source(path, diags, cache)
        if source is not None:
            sources[source.id] = source
            suffix = path.suffix.lower()
            key = cache.key(source.digest, suffix)
            normalized = known.get(source.text) or cache.normalized(key)
            if normalized is None:
                normalized = normalize(source.text)
                cache.put(key, None if suffix == ".txt" else source.text, normalized)
            known[source.text] = normalized
    remember(known)
    return sources


def read_source(path: Path, diags: Diagnostics, cache=None) -> Source | None:
    """The source in `path`, or None (with the reason in `diags`); `cache`: a `SourceCache`."""
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
    digest = hashlib.sha256(raw).hexdigest()
    suffix = path.suffix.lower()
    cached = cache.text(cache.key(digest, suffix)) if cache and suffix != ".txt" else None
    try:
        reader_text = cached if cached is not None else body_text(body, suffix)
    except RecursionError:  # Python-Markdown recurses once per level of nested lists
        diags.error(
            path,
            body_line,
            1,
            "the Markdown nests lists or quotes too deeply to be read; "
            "save the source as plain text (.txt)",
        )
        return None
    except HTMLUnreadable as exc:
        diags.error(
            path,
            body_line,
            1,
            f"the HTML cannot be read ({exc}); save the source as plain text (.txt)",
        )
        return None
    return Source(
        id=path.stem,
        path=path,
        meta=meta,
        text=reader_text,
        digest=digest,
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
        body = markdown_html(body)
    return html_text(body)


# -- Markdown ---------------------------------------------------------------------------------
#
# Python-Markdown looks for the ']' that closes every '[' (a link, an image, a reference, a
# footnote) by reading on to the end of the text, so a text with many '[' that nothing closes
# took time in proportion to the square of its length (12 KB of "[x " took 13 s). Two changes,
# each leaving the HTML Python-Markdown makes as it was, make that time linear:
#
# - a '[' with no ']' after it in the text being read can start none of those: before the inline
#   patterns run, each such '[' is swapped for a private-use character that does not occur in
#   the source (a plain character to Markdown, as '[' is when it starts nothing), and swapped
#   back in the HTML. A '[' after a backslash (an escape) or after '<!' (HTML) is left as it is,
#   and so is every '[' when an abbreviation (`*[A[B]: ...`) has one.
# - the link, image and reference patterns first ask `_Brackets` whether their '[' is closed
#   (one pass over the text's brackets, kept until the text changes) and give up at once when it
#   is not, as they would after reading to the end. Python-Markdown's `getText` is the rule.


def markdown_html(body: str) -> str:
    """The HTML Python-Markdown (with "extra") makes of `body`, in time linear in its length."""
    md = _markdown()
    mark = next((c for c in _PRIVATE_USE if c not in body), None)
    md.treeprocessors["briefgen-lone-brackets"].mark = mark
    try:
        html = md.reset().convert(body)
    except BaseException:
        # A conversion cut off halfway (an error, or the build's time bound) can leave state that
        # reset() does not clear (the block parser's state stack): the next one starts afresh.
        _local.markdown = None
        raise
    return html.replace(mark, "[") if mark else html


_PRIVATE_USE = [chr(c) for c in range(0xE000, 0xF900)]
_BRACKET = re.compile(r"[\[\]]")
_LONE_BRACKET = re.compile(r"(?<!\\)(?<!<!)\[")
_local = threading.local()


def _markdown():
    """This thread's Markdown converter (one per thread: a converter keeps state while it works)."""
    md = getattr(_local, "markdown", None)
    if md is None:
        import markdown
        from markdown.treeprocessors import Treeprocessor
        from markdown.util import AtomicString

        class LoneBrackets(Treeprocessor):
            """Swaps each '[' with no ']' after it in its text for `mark` (see above)."""

            mark: str | None = None

            def run(self, root) -> None:
                found = self.md.treeprocessors
                abbrs = getattr(found["abbr"], "abbrs", ()) if "abbr" in found else ()
                if self.mark is None or any("[" in a for a in abbrs):
                    return  # an abbreviation with a '[' in it is looked for in the text
                for element in root.iter():
                    for attr in ("text", "tail"):
                        text = getattr(element, attr)
                        if not text or isinstance(text, AtomicString):
                            continue  # code: not read for links
                        last = text.rfind("]")
                        if text.find("[", last + 1) >= 0:
                            rest = _LONE_BRACKET.sub(self.mark, text[last + 1 :])
                            setattr(element, attr, text[: last + 1] + rest)

        md = markdown.Markdown(extensions=["extra"])
        md.treeprocessors.register(LoneBrackets(md), "briefgen-lone-brackets", 21)  # before inline
        brackets = _Brackets()
        for name in (
            "reference",
            "link",
            "image_link",
            "image_reference",
            "short_reference",
            "short_image_ref",
        ):
            md.inlinePatterns[name].handleMatch = brackets.guard(md.inlinePatterns[name])
        _local.markdown = md
    return md


class _Brackets:
    """Whether Python-Markdown's `getText(data, index)` finds the ']' closing a '['.

    `getText` counts from 1 at `index` (just after the '['), adding one for each '[' and taking
    one for each ']', and succeeds where the count first reaches 0. So it succeeds if and only
    if, after `index`, the running count of brackets of the whole text falls below its value at
    `index`: one pass over the text's brackets (their running counts, and the lowest count from
    each bracket on) answers that for every `index`.
    """

    def __init__(self) -> None:
        self.data: str | None = None

    def guard(self, processor):
        """`processor.handleMatch`, giving up at once where `getText` would fail."""
        handle = processor.handleMatch

        def handle_match(m, data):
            if not self.closes(data, m.end(0)):
                return None, None, None  # what handleMatch returns when getText fails
            return handle(m, data)

        return handle_match

    def closes(self, data: str, index: int) -> bool:
        if data is not self.data:
            positions, counts, count = [], [], 0
            for bracket in _BRACKET.finditer(data):
                count += 1 if bracket.group() == "[" else -1
                positions.append(bracket.start())
                counts.append(count)
            lowest = counts[:]  # lowest[k]: the lowest count from bracket k on
            for k in range(len(counts) - 2, -1, -1):
                lowest[k] = min(counts[k], lowest[k + 1])
            self.data, self.positions, self.counts, self.lowest = data, positions, counts, lowest
        k = bisect_left(self.positions, index)  # the brackets before `index`: k of them
        before = self.counts[k - 1] if k else 0
        return k < len(self.positions) and self.lowest[k] < before


#: What Beautiful Soup's html.parser tree builder does with some elements, kept here as data:
#: void elements close at once, pre and textarea keep their white space, and the text inside rt,
#: rp, style, script and template is not the page's text.
_VOID = {
    "area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr",
    "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param",
    "source", "spacer", "track", "wbr",
}  # fmt: skip
_PRESERVE_SPACE = {"pre", "textarea"}
_OTHER_STRINGS = {"rt", "rp", "style", "script", "template"}
_ASCII_SPACES = " \n\t\f\r"


def html_text(html: str) -> str:
    """Visible text of an HTML fragment or page, one line per block, scripts and styles dropped.

    One pass of the standard library's HTML tokenizer, building no tree. The text is what the
    tree Beautiful Soup builds with the same tokenizer ("html.parser") gives when walked (the
    tests compare the two on the example, the fixtures, generated sources and random markup):
    an end tag closes the most recent open element of its name and all open inside it, and
    one with no open element is ignored; void elements close at once; a run of text that is
    all white space (outside pre and textarea) counts as one space or one line break;
    comments, declarations and processing instructions are no text, CDATA sections are.
    """
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError as exc:  # html.parser's refusal ("unknown status keyword ...")
        raise HTMLUnreadable(str(exc)) from None
    text = re.sub(r"[ \t\r\f\v]+", " ", parser.finish())
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip() + "\n"


class HTMLUnreadable(ValueError):
    """Markup the HTML tokenizer refuses (a marked section it does not know: '<![x[')."""


class _VisibleText(HTMLParser):
    """The visible text of a page, as html.parser's events arrive (see `html_text`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []  # the text so far, with a line break at each block's edges
        self.data: list[str] = []  # the run of text since the last tag
        self.stack: list[str] = []  # the open elements
        self.open: dict[str, int] = {}  # open elements by name
        self.hidden = 0  # open elements whose content is not shown (_HIDDEN)
        self.preserve = 0  # open pre and textarea elements
        self.other_strings = 0  # open elements whose text is not the page's (_OTHER_STRINGS)
        self.closed_voids: list[str] = []  # void elements closed at once: their end tag is moot

    # -- the tree, as a stack of open elements

    def _push(self, name: str) -> None:
        self.stack.append(name)
        self.open[name] = self.open.get(name, 0) + 1
        if name in _BLOCKS and not self.hidden:
            self.parts.append("\n")
        self.hidden += name in _HIDDEN
        self.preserve += name in _PRESERVE_SPACE
        self.other_strings += name in _OTHER_STRINGS

    def _pop(self) -> str:
        name = self.stack.pop()
        self.open[name] -= 1
        self.hidden -= name in _HIDDEN
        self.preserve -= name in _PRESERVE_SPACE
        self.other_strings -= name in _OTHER_STRINGS
        if name in _BLOCKS and not self.hidden:
            self.parts.append("\n")
        return name

    def _close(self, name: str) -> None:
        self._end_text()
        if self.open.get(name):
            while self._pop() != name:
                pass

    def _end_text(self, kind: str = "text") -> None:
        """End the current run of `kind`: 'text', 'cdata' or 'other' (a comment, a declaration)."""
        if not self.data:
            return
        text = "".join(self.data)
        self.data = []
        if not self.preserve and not text.strip(_ASCII_SPACES):
            text = "\n" if "\n" in text else " "
        shown = kind == "cdata" or (kind == "text" and not self.other_strings)
        if shown and not self.hidden:
            self.parts.append(text)

    def finish(self) -> str:
        self._end_text()
        while self.stack:
            self._pop()
        return "".join(self.parts)

    # -- html.parser's events

    def handle_starttag(self, tag, attrs) -> None:
        self._end_text()
        self._push(tag)
        if tag in _VOID:
            self._close(tag)
            self.closed_voids.append(tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self._end_text()
        self._push(tag)
        self._close(tag)

    def handle_endtag(self, tag) -> None:
        if tag in self.closed_voids:
            self.closed_voids.remove(tag)
        else:
            self._end_text()
            self._close(tag)

    def handle_data(self, data) -> None:
        self.data.append(data)

    def handle_charref(self, name) -> None:
        self.data.append(_charref(name))

    def handle_entityref(self, name) -> None:
        self.data.append(_entities().get(name, "&" + name))

    def handle_comment(self, data) -> None:
        self._end_text()
        self.data.append(data)
        self._end_text("other")

    def handle_decl(self, decl) -> None:
        self.handle_comment(decl)

    def handle_pi(self, data) -> None:
        self.handle_comment(data)

    def unknown_decl(self, data) -> None:
        if data.upper().startswith("CDATA["):  # a CDATA section is text, wherever it is
            self._end_text()
            self.data.append(data[6:])
            self._end_text("cdata")
        else:
            self.handle_comment(data)


@functools.cache
def _entities() -> dict[str, str]:
    """Named character references, each also without its ';' (the first of a name wins)."""
    from html.entities import html5

    names: dict[str, str] = {}
    for name, chars in sorted(html5.items()):
        names.setdefault(name.removesuffix(";"), chars)
    return names


_DECIMAL_REF = re.compile("^([0-9]+)(.*)")
_HEX_REF = re.compile("^([0-9a-f]+)(.*)")


def _charref(name: str) -> str:
    """A numeric character reference's text, as the HTML standard resolves it ('&#' left off).

    U+0000, surrogates and numbers beyond U+10FFFF give U+FFFD; 0x80-0x9F are read as
    Windows-1252 where it has a character there (what pages mislabelled as such hold). What
    follows the number, if anything, stays text.
    """
    base, body, pattern = 10, name, _DECIMAL_REF
    if name[:1] in ("x", "X"):
        base, body, pattern = 16, name[1:], _HEX_REF
    rest = ""
    try:
        number = int(body, base)
    except ValueError:
        match = pattern.search(body)
        if match is None:
            return body
        number, rest = int(match.group(1), base), match.group(2)
    if number == 0 or number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
        return "\ufffd" + rest
    if 0x80 <= number <= 0x9F:
        try:
            return bytes([number]).decode("cp1252") + rest
        except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D
            pass
    return chr(number) + rest
