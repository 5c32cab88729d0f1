"""Place each excerpt's quote in its source: exact first, then the closest passage.

Modelled on the Hypothesis client's quote anchoring: an exact search on folded text (see
`textnorm`), and only when that fails an approximate search whose best candidate is reported
with its similarity. Nothing is guessed silently: below `CHANGED_MIN` the quote is `missing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from .textnorm import NormalizedText, normalize

VERIFIED, CHANGED, MISSING, AMBIGUOUS = "verified", "changed", "missing", "ambiguous"

#: Similarity (0..1) from which a non-verbatim quote counts as the same passage, reworded.
CHANGED_MIN = 0.80


@dataclass(frozen=True)
class Anchor:
    """Where a quote is in its source. `text` is the source's own characters there."""

    status: str
    start: int  # offsets in the source text; for `missing`, the closest passage
    end: int
    score: float
    text: str
    occurrences: int = 1


def _occurrences(needle: str, haystack: str, limit: int = 3) -> list[int]:
    found, at = [], haystack.find(needle)
    while at != -1 and len(found) < limit:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def _widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def locate(quote: str, source_text: str, folded: NormalizedText | None = None) -> Anchor:
    """Find `quote` in `source_text` (pass `folded` = normalize(source_text) to reuse it)."""
    folded = folded or normalize(source_text)
    needle = normalize(quote).text
    if not needle:
        return Anchor(MISSING, 0, 0, 0.0, "", 0)
    hits = _occurrences(needle, folded.text)
    if hits:
        start, end = folded.span(hits[0], hits[0] + len(needle))
        status = VERIFIED if len(hits) == 1 else AMBIGUOUS
        return Anchor(status, start, end, 1.0, source_text[start:end], len(hits))
    match = fuzz.partial_ratio_alignment(needle, folded.text)
    if match is None or not folded.text:
        return Anchor(MISSING, 0, 0, 0.0, "", 0)
    start, end = _widen_to_words(folded.text, match.dest_start, match.dest_end)
    score = round(match.score / 100, 3)
    start, end = folded.span(start, end)
    status = CHANGED if score >= CHANGED_MIN else MISSING
    return Anchor(status, start, end, score, source_text[start:end], 0)
