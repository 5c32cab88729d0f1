"""The matching rules of the content contract: what counts as "the same words".

A quote matches its source if both are equal after folding white space, Unicode compatibility
forms (NFKD, so NBSP, ligatures and composed letters compare equal) and straight vs typographic
quotes and dashes; nothing else. `normalize` remembers where every character it produces came
from, so a match in the folded text maps back to the source's own characters.

The folding works on grapheme-like clusters (a character plus the combining marks after it), so
combining marks end up in canonical order whatever order the source typed them in, and a folded
character that came from a cluster maps back to the whole cluster: a span never splits an accent
from its letter. Plain ASCII runs (most of any English text) are copied as they are, which keeps
`normalize` fast on large sources (about 30 ms per MB).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_FOLD = {
    **{c: "'" for c in _SINGLE_QUOTES},
    **{c: '"' for c in _DOUBLE_QUOTES},
    **{c: "-" for c in _DASHES},
}
#: Characters that count as white space besides str.isspace(): zero-width space and BOM.
_EXTRA_SPACE = "\u200b\ufeff"

# Printable ASCII that folds to itself (everything but the space and the backtick, which is a
# quote mark), in runs joined by single spaces: copied through unchanged.
_PLAIN_RUN = re.compile(r"[!-_a-~]+(?: [!-_a-~]+)*")
_SPACE_RUN = re.compile(rf"[\s{_EXTRA_SPACE}]+")


@lru_cache(maxsize=8192)
def is_mark(ch: str) -> bool:
    """A combining mark (Mn, Mc, Me): it belongs to the character before it."""
    return unicodedata.category(ch)[0] == "M"


@lru_cache(maxsize=8192)
def _fold_cluster(cluster: str) -> str:
    """Fold one character plus its combining marks; white space comes out as ' '."""
    out = []
    cluster = "".join(_FOLD.get(c, c) for c in cluster)  # before NFKD: it would split U+00B4
    for c in unicodedata.normalize("NFKD", cluster):
        c = _FOLD.get(c, c)
        out.append(" " if c.isspace() or c in _EXTRA_SPACE else c)
    return "".join(out)


@dataclass(frozen=True)
class NormalizedText:
    """Folded text plus a map from its characters back to the original text.

    The map is a list of segments in folded order: segment k starts at folded offset
    `seg_folded[k]` and came from the original offset `seg_original[k]`. A *plain* segment
    (`seg_original_end[k] == -1`) is a one-to-one copy; any other segment is one folded unit (a
    collapsed run of white space, or a folded cluster) that came from the original range
    `seg_original[k]:seg_original_end[k]` as a whole.
    """

    text: str
    seg_folded: tuple[int, ...]
    seg_original: tuple[int, ...]
    seg_original_end: tuple[int, ...]
    original_length: int
    #: scratch space for derived data (e.g. anchor's word index); not part of the value
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def _origin_range(self, i: int) -> tuple[int, int]:
        k = bisect_right(self.seg_folded, i) - 1
        start, end = self.seg_original[k], self.seg_original_end[k]
        if end == -1:
            at = start + (i - self.seg_folded[k])
            return at, at + 1
        return start, end

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) range that folded [start, end) came from."""
        if start >= end:
            pos = self._origin_range(start)[0] if start < len(self.text) else self.original_length
            return pos, pos
        return self._origin_range(start)[0], self._origin_range(end - 1)[1]

    @cached_property
    def origin(self) -> tuple[int, ...]:
        """For each folded character, the original index it came from (start of its unit)."""
        return tuple(self._origin_range(i)[0] for i in range(len(self.text)))


#: Texts whose normalized form is known already (the sources being checked, from the cache of
#: `sourcecache`): `remember` sets them, `normalize` looks there first.
_known: dict[str, NormalizedText] = {}


def remember(known: dict[str, NormalizedText]) -> None:
    """Let `normalize(text)` answer with `known[text]`, which must be `normalize(text)` (the
    sources of the current check; replaces what was remembered before)."""
    global _known
    _known = known


def normalize(text: str) -> NormalizedText:
    """Fold `text` per the matching rules; runs of white space become one space, trimmed."""
    known = _known.get(text)
    if known is not None:
        return known
    out: list[str] = []
    seg_f: list[int] = []
    seg_o: list[int] = []
    seg_e: list[int] = []
    length = 0  # of the folded text so far
    space_from = -1  # original start of pending white space, -1 if none
    space_to = -1
    n = len(text)
    i = 0

    def emit(piece: str, start: int, end: int) -> None:
        nonlocal length, space_from
        if space_from >= 0:
            if length:
                out.append(" ")
                seg_f.append(length)
                seg_o.append(space_from)
                seg_e.append(space_to)
                length += 1
            space_from = -1
        out.append(piece)
        seg_f.append(length)
        seg_o.append(start)
        seg_e.append(end)
        length += len(piece)

    while i < n:
        plain = _PLAIN_RUN.match(text, i)
        if plain:
            j = plain.end()
            if j < n and is_mark(text[j]):
                j -= 1  # the last letter goes with the mark after it
                if j > i and text[j - 1] == " ":
                    j -= 1
            if j > i:
                emit(text[i:j], i, -1)
                i = j
                continue
        space = _SPACE_RUN.match(text, i)
        if space:
            if space_from < 0:
                space_from = i
            space_to = i = space.end()
            continue
        j = i + 1
        while j < n and is_mark(text[j]):
            j += 1
        for k, piece in enumerate(_fold_cluster(text[i:j]).split(" ")):
            if k and space_from < 0:
                space_from, space_to = i, j
            if piece:
                emit(piece, i, j)
        i = j
    return NormalizedText("".join(out), tuple(seg_f), tuple(seg_o), tuple(seg_e), n)


@lru_cache(maxsize=1 << 15)
def fold(text: str) -> str:
    """Just the folded text, for comparing short strings (kept for the next call with the same
    string: a check folds each quote more than once)."""
    return normalize(text).text
