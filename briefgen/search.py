"""Full-text search across the sources, with a quote-ready excerpt for every passage found.

The index is a SQLite database with an FTS5 table (`output/.briefgen/search.sqlite`), a cache
that can always be thrown away. Each source is cut into **passages**: runs of one to three
sentences within a paragraph (about 160 to 480 characters), each with its character offsets in
`Source.text`, so `Source.text[start:end]` is the passage. A passage is made long enough to occur
only once in its source (it takes in the next passage until it does), so the excerpt printed for
it is found verbatim, once, by `briefgen check`.

The index is brought up to date before every search, by content: a source file's sha256 is
compared with the one recorded when it was indexed, and only added or changed sources are read
and cut again; removed ones are dropped. As git does, a file whose size, times and inode are
those recorded when it was hashed (and that had not been modified just before) is not hashed
again, so an unchanged collection costs one `stat` per file, and nothing is written. A touched
file with the same bytes is hashed, and not indexed again. A different briefgen version or index
layout rebuilds everything.

Matching is insensitive to case, accents and other combining marks (é = e, ё = е, Arabic
harakat), and to Unicode compatibility forms (NFKD): the text is folded that way before SQLite's
`unicode61` tokenizer sees it, and so is the query. Queries are words (all must occur),
"quoted phrases" and prefix* words; everything else in the user's input is taken literally, never
as FTS5 syntax. Ranking is FTS5's bm25.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import stat
import textwrap
import time
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import __version__
from .errors import BriefgenError, Diagnostic, Diagnostics, UsageError
from .project import SOURCE_SUFFIXES, Project, open_project
from .state import state_dir

INDEX_NAME = "search.sqlite"
#: Bump when the layout of the database or the way sources are cut into passages changes.
SCHEMA = 3

#: A passage is closed once it has this many characters, or three sentences ...
TARGET_CHARS = 160
MAX_SENTENCES = 3
#: ... and a sentence joins it only if the passage stays within this many characters.
MAX_CHARS = 480
#: A paragraph's last passage shorter than this joins the one before it.
MIN_CHARS = 60
#: A sentence longer than this is cut (at a clause, else at a space) into pieces of about
#: LONG_PIECE characters.
LONG_SENTENCE = 600
LONG_PIECE = 360
#: Text with fewer words than this on its own (a heading, a page number, a byline) is not a
#: passage: nobody quotes it.
MIN_WORDS = 3
#: How many following passages a repeated passage may take in to become unique.
MAX_EXTEND = 3
#: A line without a sentence's end is a wrapped line of a paragraph (not a heading or a
#: paragraph of its own) when it is at least this long.
WRAPPED_LINE = 50
#: Excerpt blocks fit in this many columns (as `briefgen accept` writes quotes), at this indent:
#: the `- excerpt:` of a section's `content:` list in a briefgen outline.
WRAP = 90
EXCERPT_INDENT = 6
#: Characters of a passage shown around the first match in the terminal.
SNIPPET_CHARS = 110


# --- folding and tokens ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _category(ch: str) -> str:
    return unicodedata.category(ch)


class _DropMarks(dict):
    """A str.translate table that deletes combining marks (Mn, Mc, Me), filled as it is used."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.category(chr(code))[0] == "M" else code
        self[code] = value
        return value


_DROP_MARKS = _DropMarks()


def search_fold(text: str) -> str:
    """The text the index sees: NFKD, combining marks dropped, recomposed (NFC).

    Plain ASCII passes unchanged. Only the tokens matter to the index, so offsets need not be
    kept: passages keep their own characters separately.
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text).translate(_DROP_MARKS))


def _is_token_char(ch: str) -> bool:
    """Letters, numbers and private use: unicode61's default token characters."""
    if ch.isascii():
        return ch.isalnum()
    cat = _category(ch)
    return cat[0] in "LN" or cat == "Co"


def tokens(text: str) -> list[str]:
    """The words of already folded text as unicode61 sees them, in lower case."""
    out, word = [], []
    for ch in text:
        if _is_token_char(ch):
            word.append(ch)
        elif word:
            out.append("".join(word).lower())
            word = []
    if word:
        out.append("".join(word).lower())
    return out


def _token_spans(text: str) -> list[tuple[int, int, str]]:
    """Words of the original text with their offsets; marks belong to the word before them."""
    spans, start = [], None
    for i, ch in enumerate(text):
        inside = _is_token_char(ch) or (start is not None and _category(ch)[0] == "M")
        if inside and start is None:
            start = i
        elif not inside and start is not None:
            spans.append((start, i, text[start:i]))
            start = None
    if start is not None:
        spans.append((start, len(text), text[start:]))
    return [(s, e, "".join(tokens(search_fold(w)))) for s, e, w in spans]


# --- cutting a source into passages ----------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """`text[start:end]` of a source; `unique`: the text occurs only once in the source."""

    start: int
    end: int
    unique: bool = True


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r\u00a0]*\n\s*")
_FINAL = "\"'\u201d\u2019\u00bb)]*"  # closing quotes and brackets after a sentence's end
_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079"
_LINE_END = re.compile(rf"[.!?\u2026:;][{_FINAL}{_SUPERSCRIPTS}\d]*\s*$")
_BULLET = re.compile(r"\s*(?:[-*\u2022\u25c6\u25aa\u25cf\u2013\u2014\u00b7]\s|\d{1,3}[.)]\s)")
_SENTENCE_END = re.compile(rf"[.!?\u2026]+[{_FINAL}]*[\d{_SUPERSCRIPTS}]{{0,3}}(?=\s)")
#: Words after which a full stop does not end a sentence (besides initials like "F." or "U.S.").
_ABBREVIATIONS_TEXT = (
    "mr mrs ms dr prof st no nos vs etc cf pp p vol fig al gen col lt sgt gov sen rep inc "
    "ltd co corp jr sr jan feb mar apr jun jul aug sep sept oct nov dec art para ch sec ed "
    "eds approx"
)
_ABBREVIATIONS = frozenset(_ABBREVIATIONS_TEXT.split())
_WORD_BEFORE_DOT = re.compile(r"([\w.]+)\.$")
_SPACE = re.compile(r"[\s\u200b\ufeff]+")
_WORD_CHARS = re.compile(r"\w+")


def collapse(text: str) -> str:
    """White space (any run, line breaks included) as single spaces, trimmed."""
    return _SPACE.sub(" ", text).strip()


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs, as ranges: split at blank lines, and at line breaks that end a paragraph.

    Some sources put each paragraph on a line of its own (web pages), others wrap a paragraph's
    lines (PDF extractions). A line break ends a block unless the line before is long and stops
    without a sentence's end, and the next line is not a list item.
    """
    blocks = []
    for para in _split(text, 0, len(text), _PARAGRAPH_BREAK):
        start = para[0]
        lines = text[para[0] : para[1]].split("\n")
        at = para[0]
        for k, line in enumerate(lines[:-1]):
            at += len(line) + 1
            following = lines[k + 1]
            wrapped = (
                len(line.strip()) >= WRAPPED_LINE
                and not _LINE_END.search(line)
                and not _BULLET.match(following)
            )
            if not wrapped:
                blocks.append((start, at - 1))
                start = at
        blocks.append((start, para[1]))
    return [b for b in (_trim(text, s, e) for s, e in blocks) if b[0] < b[1]]


def _split(text: str, start: int, end: int, pattern: re.Pattern) -> list[tuple[int, int]]:
    pieces, at = [], start
    for m in pattern.finditer(text, start, end):
        pieces.append((at, m.start()))
        at = m.end()
    pieces.append((at, end))
    return pieces


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in "\u200b\ufeff"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in "\u200b\ufeff"):
        end -= 1
    return start, end


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of text[start:end]: split after . ! ? … unless an abbreviation or an initial
    ends there, or the next word starts in lower case."""
    found, at = [], start
    for m in _SENTENCE_END.finditer(text, start, end):
        k = m.end()
        while k < end and text[k].isspace():
            k += 1
        nxt = k
        if nxt >= end or text[nxt].islower():
            continue
        word = _WORD_BEFORE_DOT.search(text, max(at, m.start() - 40), m.start() + 1)
        if word:
            w = word.group(1).lower()
            if w in _ABBREVIATIONS or len(w) == 1 or "." in w:
                continue
        found.append((at, m.end()))
        at = nxt
    found.append((at, end))
    pieces = []
    for s, e in found:
        s, e = _trim(text, s, e)
        if s < e:
            pieces.extend(_cut_long(text, s, e))
    return pieces


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A very long sentence (a list run together, a table) in pieces, at clauses or spaces."""
    pieces = []
    while end - start > LONG_SENTENCE:
        window = text[start : start + LONG_PIECE + 1]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(" \u2013 "))
        if cut < LONG_PIECE // 3:
            cut = window.rfind(" ")
        if cut < LONG_PIECE // 3:
            m = _SPACE.search(text, start + LONG_PIECE, end)
            if not m:
                break
            cut = m.start() - start
        stop = start + cut + (1 if text[start + cut] in ",;" else 0)
        pieces.append(_trim(text, start, stop))
        start = _trim(text, stop, end)[0]
    pieces.append((start, end))
    return [p for p in pieces if p[0] < p[1]]


def _chunks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A block's sentences grouped into passages of one to three sentences."""
    chunks: list[list[int]] = []
    for s, e in _sentences(text, start, end):
        if chunks:
            cur = chunks[-1]
            full = cur[1] - cur[0] >= TARGET_CHARS or cur[2] >= MAX_SENTENCES
            if not full and e - cur[0] <= MAX_CHARS:
                cur[1], cur[2] = e, cur[2] + 1
                continue
        chunks.append([s, e, 1])
    if len(chunks) >= 2:
        last, before = chunks[-1], chunks[-2]
        if last[1] - last[0] < MIN_CHARS and last[1] - before[0] <= MAX_CHARS + MIN_CHARS:
            before[1] = last[1]
            chunks.pop()
    return [(s, e) for s, e, _ in chunks]


def folded_slice(normalized, start: int, end: int) -> str:
    """`textnorm.fold(text[start:end])`, taken from `normalized` = `normalize(text)`.

    `start` and `end` must not split a character from its combining marks, nor fall inside
    white space (passages start and end at a visible character). Much cheaper than folding the
    slice again, for the many passages of one text.
    """
    origins, ends = normalized.seg_original, normalized.seg_original_end
    k = bisect_right(origins, start) - 1
    while k > 0 and origins[k - 1] == origins[k]:
        k -= 1  # a cluster folded into several pieces: from its first
    lo = normalized.seg_folded[k] + (start - origins[k] if ends[k] == -1 else 0)
    k = bisect_right(origins, end - 1) - 1
    if ends[k] == -1:
        hi = normalized.seg_folded[k] + (end - origins[k])
    else:
        hi = normalized.seg_folded[k + 1] if k + 1 < len(origins) else len(normalized.text)
    return normalized.text[lo:hi].strip(" ")


def cut_passages(text: str) -> list[Passage]:
    """The passages of a source's text, in order; each unique in the text where possible."""
    from .textnorm import normalize

    chunks = [
        c
        for block in _blocks(text)
        for c in _chunks(text, *block)
        if len(_WORD_CHARS.findall(text[c[0] : c[1]])) >= MIN_WORDS
    ]
    normalized = normalize(text)
    folded = normalized.text

    def unique(s: int, e: int) -> bool:
        needle = folded_slice(normalized, s, e)
        first = folded.find(needle)
        return first != -1 and folded.find(needle, first + 1) == -1

    out: list[Passage] = []
    i = 0
    while i < len(chunks):
        s, e = chunks[i]
        j = i
        ok = unique(s, e)
        while not ok and j + 1 < len(chunks) and j - i < MAX_EXTEND:
            j += 1
            e = chunks[j][1]
            ok = unique(s, e)
        if ok:
            out.append(Passage(s, e))
            i = j + 1
            continue
        s, e = chunks[i]
        if out and unique(out[-1].start, e):  # the last one: take in the passage before
            out[-1] = Passage(out[-1].start, e)
        else:
            out.append(Passage(s, e, unique=False))
        i += 1
    return out


# --- the excerpt block ------------------------------------------------------------------------

_YAML_UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def excerpt_yaml(source: str, text: str, indent: int = EXCERPT_INDENT, width: int = WRAP) -> str:
    """An outline `- excerpt:` block quoting `text` (white space collapsed) from `source`.

    The quote is a folded block scalar (`>-`) wrapped so no line passes `width` columns; its
    characters are the source's own. (Text with characters YAML cannot hold literally, such as
    control characters, is written as a double-quoted scalar with escapes instead.)
    """
    quote = collapse(text)
    pad = " " * indent
    lines = [f"{pad}- excerpt:", f"{pad}    source: {source}"]
    if _YAML_UNPRINTABLE.search(quote):
        lines.append(f"{pad}    quote: {_double_quoted(quote)}")
    else:
        lines.append(f"{pad}    quote: >-")
        body = textwrap.wrap(
            quote,
            width=max(20, width - indent - 6),
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.extend(f"{pad}      {line}" for line in body)
    return "\n".join(lines) + "\n"


def _double_quoted(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _YAML_UNPRINTABLE.match(ch) or ch == "\x85":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# --- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query: its folded tokens; `prefix`: the last one is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        return '"' + " ".join(self.tokens) + '"' + ("*" if self.prefix else "")


_QUERY_PART = re.compile(r'"([^"]*)("?)(\*?)|([^\s"]+)')


def parse_query(query: str) -> list[Term]:
    """Words, "quoted phrases" and prefix* words; a usage error if there is nothing to find.

    Every term becomes a quoted FTS5 string of its tokens, so no input is FTS5 syntax: `OR`,
    `NEAR(`, `-` and `^` are words or nothing, never operators.
    """
    terms = []
    for m in _QUERY_PART.finditer(query):
        if m.group(4) is not None:
            word = m.group(4)
            prefix = word.endswith("*")
            found = tokens(search_fold(word.rstrip("*")))
            # "West-Qurna-2" is a phrase of its words; "a*b" two words
            if found:
                terms.append(Term(tuple(found), prefix))
        else:
            found = tokens(search_fold(m.group(1)))
            if found:
                terms.append(Term(tuple(found), bool(m.group(2) and m.group(3))))
    if not terms:
        raise UsageError(f'nothing to search for in {query!r}: give words, "a phrase" or a prefix*')
    return terms


# --- the index ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexUpdate:
    """What bringing the index up to date did."""

    added: tuple[str, ...]  # source ids read and indexed for the first time
    changed: tuple[str, ...]  # source ids whose file changed, read and indexed again
    removed: tuple[str, ...]  # source ids whose passages were dropped
    unchanged: int  # sources left as they were
    passages: int  # passages written
    sources: int  # sources in the index now
    total_passages: int  # passages in the index now
    problems: tuple[Diagnostic, ...] = ()  # sources left out, as warnings
    seconds: float = 0.0
    rebuilt: bool = False  # the whole index was made afresh (none, outdated or unreadable)

    @property
    def indexed(self) -> tuple[str, ...]:
        return self.added + self.changed

    def summary(self) -> str | None:
        """One line on what was (re)indexed, or None when nothing had to be."""
        if not (self.indexed or self.removed):
            return None
        parts = [
            f"{len(ids)} {kind}" + (f" ({', '.join(ids)})" if len(ids) <= 3 else "")
            for kind, ids in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
            )
            if ids
        ]
        return (
            f"search index: {', '.join(parts)} ({self.passages} passages written) in "
            f"{self.seconds:.2f} s; {self.sources} sources, {self.total_passages} passages"
        )


@dataclass(frozen=True)
class Hit:
    """A passage found: `text` is `Source.text[start:end]`, the source's own characters."""

    source: str
    title: str
    start: int
    end: int
    score: float  # bm25 relevance, higher is better
    text: str
    unique: bool  # occurs once in its source (its excerpt verifies)
    terms: tuple[Term, ...] = field(default=(), repr=False, compare=False)
    all_terms: bool = True  # False: found by the fallback (some, not all, of the terms)

    @property
    def excerpt_yaml(self) -> str:
        return excerpt_yaml(self.source, self.text)

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "text": self.text,
            "unique": self.unique,
            "excerpt_yaml": self.excerpt_yaml,
        }

    def matches(self) -> list[tuple[int, int]]:
        """Offsets in `text` of the words that match a query term."""
        whole = {t.tokens[i] for t in self.terms for i in range(len(t.tokens) - t.prefix)}
        prefixes = tuple(t.tokens[-1] for t in self.terms if t.prefix)
        return [
            (s, e)
            for s, e, word in _token_spans(self.text)
            if word and (word in whole or word.startswith(prefixes or ("\0",)))
        ]

    def snippet(self, before: str = "[", after: str = "]", chars: int = SNIPPET_CHARS) -> str:
        """The passage on one line (about `chars` long, around the first match), with each
        matching word between `before` and `after`."""
        text, spans = self.text, self.matches()
        lo, hi = 0, len(text)
        if hi > chars:
            first = spans[0][0] if spans else 0
            lo = max(0, min(first - chars // 4, hi - chars))
            if lo:  # start and end at white space, never inside a word
                lo = max((m.end() for m in _SPACE.finditer(text, 0, lo)), default=0)
            cut = _SPACE.search(text, min(hi, lo + chars))
            hi = cut.start() if cut else hi
        out, at = [], lo
        for s, e in spans:
            if s < lo or e > hi:
                continue
            out.extend((text[at:s], before, text[s:e], after))
            at = e
        out.append(text[at:hi])
        line = collapse("".join(out))
        return ("\u2026" if lo else "") + line + ("\u2026" if hi < len(text) else "")

    def lines(self, before: str = "[", after: str = "]") -> list[str]:
        """How the terminal shows the hit: source, title, place, snippet, excerpt block."""
        head = f"{self.source}: {self.title}"
        place = f"  characters {self.start}-{self.end}, score {self.score:.2f}"
        if not self.unique:
            place += (
                "; this passage occurs more than once in the source, so the excerpt will be "
                "ambiguous: quote more of it"
            )
        return [
            head,
            place,
            "  " + self.snippet(before, after),
            "",
            *self.excerpt_yaml.splitlines(),
        ]


#: A file modified less than this long before it was hashed is hashed again next time.
_RACY_NS = 2_000_000_000


def _signature(info: os.stat_result) -> str:
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}"


def _meta() -> dict[str, str]:
    """What the index was made with: a change to any of these rebuilds it."""
    return {"schema": str(SCHEMA), "briefgen": __version__, "unicode": unicodedata.unidata_version}


_TABLES = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source(
    file TEXT PRIMARY KEY,      -- file name in content/sources/
    id TEXT NOT NULL,           -- source id (the file stem)
    digest TEXT NOT NULL,       -- sha256 of the file when it was indexed
    title TEXT NOT NULL,
    problem TEXT,               -- why the source was left out (then it has no passages)
    stat TEXT NOT NULL,         -- size, mtime, ctime and inode when it was hashed
    seen INTEGER NOT NULL,      -- when it was hashed (ns since the epoch)
    passages INTEGER NOT NULL
);
CREATE TABLE passage(
    id INTEGER PRIMARY KEY,     -- = rowid in passage_fts
    file TEXT NOT NULL,
    start INTEGER NOT NULL,     -- offsets in Source.text
    end INTEGER NOT NULL,
    uniq INTEGER NOT NULL,
    text TEXT NOT NULL          -- Source.text[start:end]
);
CREATE INDEX passage_file ON passage(file);
-- contentless: the text is kept once, in passage; the index holds search_fold(text)
CREATE VIRTUAL TABLE passage_fts USING fts5(
    body, content = '', tokenize = 'unicode61 remove_diacritics 2'
);
"""


class SearchIndex:
    """The search index of one project, kept in `output/.briefgen/search.sqlite`."""

    def __init__(self, project: Project | str | Path, path: Path | None = None) -> None:
        self.project = project if isinstance(project, Project) else open_project(project)
        self.path = path or state_dir(self.project) / INDEX_NAME
        self._db: sqlite3.Connection | None = None
        self._fresh = False

    # connection and schema

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        out = self.project.output
        if out.is_symlink() or (out.exists() and not out.is_dir()):
            raise BriefgenError(f"'{out}' must be a folder for briefgen's outputs")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connect()
            if self._current(db):
                return db
            db.close()
        except sqlite3.DatabaseError:  # not a database, or a damaged one: it is only a cache
            pass
        except OSError as exc:
            raise BriefgenError(f"cannot write the search index at '{self.path}': {exc}") from exc
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()
        try:
            db = self._connect()
            with db:
                db.executescript("BEGIN IMMEDIATE;" + _TABLES)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    list(_meta().items()),
                )
        except sqlite3.Error as exc:
            raise BriefgenError(f"cannot write the search index at '{self.path}': {exc}") from exc
        self._fresh = True
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @staticmethod
    def _current(db: sqlite3.Connection) -> bool:
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError:
            return False
        return meta == _meta()

    # keeping it up to date

    def _listing(self, problems: Diagnostics) -> dict[str, tuple[str, os.stat_result]]:
        """The source files `read_sources` reads (see `find_source_files`), with their stat.

        Files that lead out of the project are skipped, as are files whose id another file
        already has (with a warning); `check` reports both as errors.
        """
        folder = self.project.sources_dir
        if not folder.is_dir():
            return {}
        inside = self.project.contains(folder)
        found: dict[str, tuple[str, os.stat_result]] = {}  # file name -> (path, stat)
        stems: dict[str, str] = {}
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            stem, suffix = os.path.splitext(entry.name)
            if entry.name.startswith(".") or suffix.lower() not in SOURCE_SUFFIXES:
                continue
            if (not inside or entry.is_symlink()) and not self.project.contains(Path(entry.path)):
                continue  # a link out of the project: never read
            try:
                info = entry.stat()
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if stem in stems:
                problems.warning(
                    Path(entry.path),
                    1,
                    1,
                    f"left out of the search: the id '{stem}' is also {stems[stem]}'s; rename one",
                )
                continue
            stems[stem] = entry.name
            found[entry.name] = (entry.path, info)
        return found

    def _changes(self, listing, known) -> tuple[dict[str, str], list[str], list[str]]:
        """Files to (re)index with their digests, files whose new stat is to be recorded, and
        files gone.

        A file is read and hashed unless its size, times and inode are what they were when it
        was last hashed, and it was last modified well before that (a change within the clock's
        granularity can leave them all as they were, so a recent file is always hashed). So
        the content hash decides, and an unchanged collection costs one stat per file.
        """
        todo: dict[str, str] = {}
        touched: list[str] = []
        now = time.time_ns()
        for name, (path, info) in listing.items():
            record = known.get(name)
            signature = _signature(info)
            if (
                record is not None
                and record["stat"] == signature
                and info.st_mtime_ns < record["seen"] - _RACY_NS
            ):
                continue
            try:
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                continue
            if record is None or record["digest"] != digest:
                todo[name] = digest
            elif record["stat"] != signature or now - info.st_mtime_ns > _RACY_NS:
                touched.append(name)  # same bytes: only the record of its stat is updated
        gone = [name for name in known if name not in listing]
        return todo, touched, gone

    def _known(self) -> dict[str, dict]:
        return {
            row[0]: dict(zip(("file", "id", "digest", "problem", "stat", "seen"), row, strict=True))
            for row in self.db.execute("SELECT file, id, digest, problem, stat, seen FROM source")
        }

    def update(self) -> IndexUpdate:
        """Index added and changed sources, drop removed ones; nothing to do, nothing written."""
        begun = time.perf_counter()
        db = self.db
        rebuilt, self._fresh = self._fresh, False
        problems = Diagnostics()
        listing = self._listing(problems)
        known = self._known()
        todo, touched, gone = self._changes(listing, known)
        added: list[str] = []
        changed: list[str] = []
        removed: list[str] = []
        written = 0
        if todo or touched or gone:
            db.execute("BEGIN IMMEDIATE")
            try:
                # another process may have brought the index up to date meanwhile
                known = self._known()
                todo, touched, gone = self._changes(listing, known)
                for name in gone:
                    self._drop(name)
                    if not known[name]["problem"]:
                        removed.append(known[name]["id"])
                now = time.time_ns()
                for name in touched:
                    db.execute(
                        "UPDATE source SET stat = ?, seen = ? WHERE file = ?",
                        (_signature(listing[name][1]), now, name),
                    )
                next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM passage").fetchone()[0]
                for name, digest in todo.items():
                    path, info = listing[name]
                    record = known.get(name)
                    if record is not None:
                        self._drop(name)
                    count, sid = self._index(Path(path), info, digest, next_id)
                    next_id += count
                    written += count
                    if sid is not None:
                        (changed if record and not record["problem"] else added).append(sid)
                if written > 5000:
                    db.execute("INSERT INTO passage_fts(passage_fts) VALUES ('optimize')")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        for name, problem in db.execute("SELECT file, problem FROM source WHERE problem NOT NULL"):
            if name in listing:
                problems.warning(Path(listing[name][0]), 1, 1, f"left out of the search: {problem}")
        sources, total = db.execute(
            "SELECT count(*), coalesce(sum(passages), 0) FROM source WHERE problem IS NULL"
        ).fetchone()
        return IndexUpdate(
            tuple(added),
            tuple(changed),
            tuple(removed),
            len(listing) - len(todo),
            written,
            sources,
            total,
            tuple(problems),
            time.perf_counter() - begun,
            rebuilt,
        )

    def _index(
        self, path: Path, info: os.stat_result, digest: str, first_id: int
    ) -> tuple[int, str | None]:
        """Read one source and write its passages: (passages written, its id or None)."""
        from .sources import read_source

        db = self.db
        seen = time.time_ns()
        diags = Diagnostics()
        try:
            source = read_source(path, diags)
        except OSError:  # gone or unreadable since it was listed: not recorded, tried again
            return 0, None
        if source is None:
            message = "; ".join(d.message for d in diags.errors) or "unreadable"
            db.execute(
                "INSERT INTO source VALUES (?, ?, ?, '', ?, ?, ?, 0)",
                (path.name, path.stem, digest, message, _signature(info), seen),
            )
            return 0, None
        rows = self._passages(source, first_id)
        # the digest of the bytes read: if the file changed since it was hashed, the next
        # update sees a difference and reads it again
        db.execute(
            "INSERT INTO source VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                path.name,
                source.id,
                source.digest,
                source.meta.title,
                _signature(info),
                seen,
                len(rows),
            ),
        )
        db.executemany(
            "INSERT INTO passage VALUES (?, ?, ?, ?, ?, ?)",
            [(r[0], path.name, r[1], r[2], r[3], r[5]) for r in rows],
        )
        db.executemany(
            "INSERT INTO passage_fts(rowid, body) VALUES (?, ?)", [(r[0], r[4]) for r in rows]
        )
        return len(rows), source.id

    def _drop(self, file: str) -> None:
        db = self.db
        # a contentless FTS5 table forgets a row when told the values it was given
        rows = db.execute("SELECT id, text FROM passage WHERE file = ?", (file,)).fetchall()
        db.executemany(
            "INSERT INTO passage_fts(passage_fts, rowid, body) VALUES ('delete', ?, ?)",
            [(rowid, search_fold(text)) for rowid, text in rows],
        )
        db.execute("DELETE FROM passage WHERE file = ?", (file,))
        db.execute("DELETE FROM source WHERE file = ?", (file,))

    @staticmethod
    def _passages(source, first_id: int) -> list[tuple]:
        """Rows (id, start, end, unique, indexed text, text)."""
        rows = []
        for k, p in enumerate(cut_passages(source.text)):
            text = source.text[p.start : p.end]
            rows.append((first_id + k, p.start, p.end, int(p.unique), search_fold(text), text))
        return rows

    # searching

    def search(self, query: str | list[Term], limit: int = 10) -> list[Hit]:
        """The best passages for `query`, best first (as the index is: see `update`).

        All terms must occur in a passage; if no passage has them all, passages with some of
        them are returned instead (their `all_terms` is False).
        """
        terms = parse_query(query) if isinstance(query, str) else list(query)
        hits = self._query(" AND ".join(t.fts() for t in terms), terms, limit, True)
        if not hits and len(terms) > 1:
            hits = self._query(" OR ".join(t.fts() for t in terms), terms, limit, False)
        return hits

    def _query(self, match: str, terms: list[Term], limit: int, all_terms: bool) -> list[Hit]:
        rows = self.db.execute(
            """
            SELECT s.id, s.title, p.start, p.end, f.rank, p.text, p.uniq
            FROM (SELECT rowid, rank FROM passage_fts WHERE passage_fts MATCH ?
                  ORDER BY rank LIMIT ?) AS f
            JOIN passage AS p ON p.id = f.rowid
            JOIN source AS s ON s.file = p.file
            ORDER BY f.rank, s.id, p.start
            """,
            (match, limit),
        ).fetchall()
        return [
            Hit(sid, title, start, end, round(-rank, 3), text, bool(uniq), tuple(terms), all_terms)
            for sid, title, start, end, rank, text, uniq in rows
        ]

    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size


@dataclass(frozen=True)
class FindResult:
    query: str
    update: IndexUpdate
    hits: list[Hit]

    @property
    def all_terms(self) -> bool:
        return all(h.all_terms for h in self.hits)


def find(path: str | Path | Project, query: str, limit: int = 10) -> FindResult:
    """Bring the project's search index up to date, then search it (see `SearchIndex`)."""
    terms = parse_query(query)  # a bad query fails before any indexing
    with SearchIndex(path) as index:
        update = index.update()
        return FindResult(query, update, index.search(terms, limit))
