"""The matching rules of the content contract: what counts as "the same words".

A quote matches its source if both are equal after folding white space, Unicode compatibility
forms (NFKD, so NBSP, ligatures and composed letters compare equal) and straight vs typographic
quotes and dashes; nothing else. `normalize` keeps, for every character it produces, the index of
the source character it came from, so a match can be mapped back to the source's own characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_FOLD = {
    **{c: "'" for c in _SINGLE_QUOTES},
    **{c: '"' for c in _DOUBLE_QUOTES},
    **{c: "-" for c in _DASHES},
}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _FOLD:
        return _FOLD[ch]
    if ch.isspace() or ch in "\u200b\ufeff":
        return " "
    folded = unicodedata.normalize("NFKD", ch)
    return "".join(_FOLD.get(c, " " if c.isspace() else c) for c in folded)


@dataclass(frozen=True)
class NormalizedText:
    """Folded text plus, for each of its characters, the index in the original text."""

    text: str
    origin: tuple[int, ...]
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) range that normalised [start, end) came from."""
        if start >= end:
            pos = self.origin[start] if start < len(self.origin) else self.original_length
            return pos, pos
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> NormalizedText:
    """Fold `text` per the matching rules; runs of white space become one space, trimmed."""
    out: list[str] = []
    origin: list[int] = []
    pending_space = False
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        for piece in folded:
            if piece == " ":
                pending_space = bool(out)
                continue
            if pending_space:
                out.append(" ")
                origin.append(index - 1 if index else 0)
                pending_space = False
            out.append(piece)
            origin.append(index)
    return NormalizedText("".join(out), tuple(origin), len(text))


def fold(text: str) -> str:
    """Just the folded text, for comparing short strings."""
    return normalize(text).text
