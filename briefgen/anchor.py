"""Place each excerpt's quote in its source: exact first, then the closest passage.

Modelled on the Hypothesis client's quote anchoring (`src/annotator/anchoring/match-quote.ts`):

1. Exact search on folded text (see `textnorm`). Found once: `verified`. Found more than once:
   the `Hint` (the text around the quote and its offset when it was last placed) picks one if
   its prefix and suffix clearly match one occurrence better than the others; else `ambiguous`.
2. Otherwise an approximate search with a bounded cost: candidate regions are found by words the
   quote shares with the source (rare words first, a capped number of votes), each region is
   aligned character by character in a small window (rapidfuzz), and its extent is refined to
   the word boundaries that best match the quote. Each candidate is scored on the quote's
   similarity (1 - Levenshtein edits / length) and, with a hint, also on Hypothesis's weighted
   score: quote 50, prefix 20, suffix 20, position 2. Its score is the better of the two, so
   a matching context can vouch for a reworded passage but a moved one loses nothing.
3. The best candidate is `changed` if its score is at least `CHANGED_MIN` (and its quote
   similarity at least `QUOTE_MIN`), else the quote is `missing` and the candidate is reported
   as the closest passage. Nothing is guessed silently: a reworded passage found twice equally
   well is `ambiguous`. docs/anchoring.md gives the measured scores behind the thresholds.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein

from .textnorm import NormalizedText, fold, is_mark, normalize

VERIFIED, CHANGED, MISSING, AMBIGUOUS = "verified", "changed", "missing", "ambiguous"

#: Quote similarity (0..1, 1 - edits / length) from which a non-verbatim quote counts as the
#: same passage, reworded; below it the quote is `missing`. See docs/anchoring.md.
CHANGED_MIN = 0.75
#: With a hint, a candidate whose context matches can reach CHANGED_MIN on the weighted score
#: alone; but never with more errors than half the quote (Hypothesis's own error cap).
QUOTE_MIN = 0.5
#: A hint picks one of several occurrences if that occurrence's context score (prefix and suffix
#: similarity, 0..1) is at least CONTEXT_MIN and beats every other one by CONTEXT_MARGIN.
CONTEXT_MIN = 0.75
CONTEXT_MARGIN = 0.15
#: A side of the context this similar to the hint's marks where the quote starts (ends).
CONTEXT_STRONG = 0.9
#: Characters of context a hint keeps on each side of the quote.
HINT_CONTEXT = 32

# Hypothesis's weights (match-quote.ts): the quote, its prefix and suffix, the position.
QUOTE_WEIGHT, PREFIX_WEIGHT, SUFFIX_WEIGHT, POSITION_WEIGHT = 50, 20, 20, 2

_MAX_OCCURRENCES = 1000  # exact hits counted
_MAX_VOTES = 10_000  # word-position votes per quote in the candidate search
_MAX_CANDIDATES = 4  # regions aligned per quote
_COARSE_MARGIN = 10  # regions refined: partial ratio (0..100) this close to the best region's
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Anchor:
    """Where a quote is in its source. `text` is the source's own characters there."""

    status: str
    start: int  # offsets in the source text; for `missing`, the closest passage
    end: int
    score: float
    text: str
    occurrences: int = 1


@dataclass(frozen=True)
class Hint:
    """Where a quote was found last time: the text just before and after it, and its offset."""

    prefix: str
    suffix: str
    position: int


def make_hint(source_text: str, start: int, end: int) -> Hint:
    """The hint for a quote found at source_text[start:end]: 32 characters each side."""
    return Hint(
        source_text[max(0, start - HINT_CONTEXT) : start],
        source_text[end : end + HINT_CONTEXT],
        start,
    )


@dataclass(frozen=True)
class _Candidate:
    start: int  # folded offsets
    end: int
    quote: float  # similarity of folded quote and folded candidate, 0..1
    context: float | None  # prefix + suffix similarity to the hint, 0..1 (None: no hint)
    total: float  # Hypothesis's weighted score of quote, prefix, suffix, position (or `quote`)

    @property
    def score(self) -> float:
        """The reported score: the context can vouch for a reworded passage, never count
        against a passage that moved."""
        return max(self.quote, self.total)


def locate(
    quote: str,
    source_text: str,
    folded: NormalizedText | None = None,
    hint: Hint | None = None,
) -> Anchor:
    """Find `quote` in `source_text` (pass `folded` = normalize(source_text) to reuse it).

    `hint` (from `make_hint` at the last build) breaks ties between occurrences and ranks
    approximate candidates; without it every occurrence is equally likely.
    """
    folded = folded or normalize(source_text)
    needle = fold(quote)
    if not needle or not folded.text:
        return Anchor(MISSING, 0, 0, 0.0, "", 0)
    context = _Context(folded, source_text, hint)
    hits = _exact_hits(needle, folded.text)
    if hits:
        candidates = [context.score(s, s + len(needle), 1.0) for s in hits]
        best, clear = _pick(candidates)
        status = VERIFIED if len(hits) == 1 or clear else AMBIGUOUS
        return _anchor(status, best, folded, source_text, 1.0, len(hits))

    candidates = _approximate(needle, folded, source_text, context)
    if not candidates:
        return Anchor(MISSING, 0, 0, 0.0, "", 0)
    best = max(candidates, key=_rank)
    score = round(best.score, 3)
    if not _close_enough(best):
        return _anchor(MISSING, best, folded, source_text, score, 0)
    # The same reworded passage in two places is as ambiguous as an exact quote found twice.
    rivals = [c for c in candidates if _close_enough(c) and c.score >= best.score - 0.02]
    if len(rivals) > 1:
        best, clear = _pick(rivals)
        if not clear:
            return _anchor(AMBIGUOUS, best, folded, source_text, score, len(rivals))
    return _anchor(CHANGED, best, folded, source_text, score, 1)


def _close_enough(c: _Candidate) -> bool:
    return c.score >= CHANGED_MIN and c.quote >= QUOTE_MIN


def _anchor(status, cand: _Candidate, folded, source_text, score, occurrences) -> Anchor:
    start, end = folded.span(cand.start, cand.end)
    return Anchor(status, start, end, score, source_text[start:end], occurrences)


def _rank(c: _Candidate) -> tuple[float, float, float, int]:
    return (c.score, c.total, c.quote, -c.start)


def _pick(candidates: list[_Candidate]) -> tuple[_Candidate, bool]:
    """The best-ranked candidate, and whether the hint's context singles it out clearly."""
    ranked = sorted(candidates, key=_rank, reverse=True)
    best = ranked[0]
    if best.context is None or len(ranked) == 1:
        return best, len(ranked) == 1
    runner_up = max(c.context for c in ranked[1:])
    clear = best.context >= CONTEXT_MIN and best.context - runner_up >= CONTEXT_MARGIN
    return best, clear


def _exact_hits(needle: str, text: str) -> list[int]:
    """Start offsets of `needle` in `text`, skipping hits that split a letter from its accent."""
    found, at = [], text.find(needle)
    while at != -1 and len(found) < _MAX_OCCURRENCES:
        end = at + len(needle)
        if not (end < len(text) and is_mark(text[end])) and not (at and is_mark(text[at])):
            found.append(at)
        at = text.find(needle, at + 1)
    return found


class _Context:
    """Scores a candidate's surroundings against the hint (Hypothesis's prefix/suffix/position)."""

    def __init__(self, folded: NormalizedText, source_text: str, hint: Hint | None) -> None:
        self.folded = folded
        self.length = max(1, len(source_text))
        self.hint = hint
        if hint is not None:
            self.prefix = fold(hint.prefix)
            self.suffix = fold(hint.suffix)

    def sides(self, start: int, end: int) -> tuple[float, float]:
        """Similarity of the text before and after folded [start, end) to the hint's."""
        # An empty side means the quote was at the start (end) of the text: it matches only a
        # candidate that is there too (Hypothesis scores it 1.0 everywhere; briefgen lets a
        # context lift a candidate's score, so an absent context must not count as a match).
        text = self.folded.text
        before = text[max(0, start - len(self.prefix) - 1) : start].rstrip(" ")
        before = before[len(before) - len(self.prefix) :]
        after = text[end : end + len(self.suffix) + 1].lstrip(" ")[: len(self.suffix)]
        if not self.prefix:
            before = text[:start].strip(" ")[:1]
        if not self.suffix:
            after = text[end:].strip(" ")[:1]
        return (
            Levenshtein.normalized_similarity(self.prefix, before),
            Levenshtein.normalized_similarity(self.suffix, after),
        )

    def score(self, start: int, end: int, quote_score: float) -> _Candidate:
        if self.hint is None:
            return _Candidate(start, end, quote_score, None, quote_score)
        prefix_score, suffix_score = self.sides(start, end)
        offset = abs(self.folded.span(start, end)[0] - self.hint.position)
        position_score = max(0.0, 1.0 - offset / self.length)
        total = (
            QUOTE_WEIGHT * quote_score
            + PREFIX_WEIGHT * prefix_score
            + SUFFIX_WEIGHT * suffix_score
            + POSITION_WEIGHT * position_score
        ) / (QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT)
        context = (PREFIX_WEIGHT * prefix_score + SUFFIX_WEIGHT * suffix_score) / (
            PREFIX_WEIGHT + SUFFIX_WEIGHT
        )
        return _Candidate(start, end, quote_score, context, total)


# --- approximate search -----------------------------------------------------------------------


def _word_index(folded: NormalizedText) -> dict[str, list[int]]:
    """Where each word (lower case) starts in the folded text; built once per source."""
    index = folded.cache.get("words")
    if index is None:
        index = defaultdict(list)
        for m in _WORD.finditer(folded.text.lower()):
            index[m[0]].append(m.start())
        folded.cache["words"] = index = dict(index)
    return index


def _approximate(
    needle: str, folded: NormalizedText, source_text: str, context: _Context
) -> list[_Candidate]:
    """Candidates for a quote not found verbatim, best first; at most a few, all distinct."""
    text = folded.text
    seen: dict[tuple[int, int], _Candidate] = {}
    placed = [_place(needle, text, lo, hi) for lo, hi in _regions(needle, folded)]
    if not placed:
        return []
    # Refine only the regions whose rough alignment is near the best one's.
    floor = max(p.score for p in placed) - _COARSE_MARGIN
    for placement in placed:
        if placement.score < floor:
            continue
        start, end = _align(needle, folded, source_text, context, placement)
        if (start, end) in seen or start >= end:
            continue
        similarity = Levenshtein.normalized_similarity(needle, text[start:end])
        seen[(start, end)] = context.score(start, end, similarity)
    return _distinct(sorted(seen.values(), key=_rank, reverse=True))


def _distinct(candidates: list[_Candidate]) -> list[_Candidate]:
    """Drop candidates that overlap a better one (two windows can settle on one passage)."""
    kept: list[_Candidate] = []
    for c in candidates:
        if all(c.end <= k.start or c.start >= k.end for k in kept):
            kept.append(c)
    return kept


def _regions(needle: str, folded: NormalizedText) -> list[tuple[int, int]]:
    """Folded-text windows worth aligning: where the quote's words occur in its order.

    Every occurrence of a quote word votes for the diagonal it implies (its offset in the source
    minus its offset in the quote, i.e. where the quote would start). Rare words vote first and
    the number of votes is capped, so a long source or a quote of common words costs a bounded
    amount. Diagonals are binned to absorb inserted and deleted words; the best bins become
    windows, with slack, for `_align`.
    """
    text = folded.text
    index = _word_index(folded)
    words: dict[str, list[int]] = defaultdict(list)
    for m in _WORD.finditer(needle.lower()):
        words[m[0]].append(m.start())
    votes: list[int] = []
    for w in sorted(words, key=lambda w: len(index.get(w, ()))):
        occurs = index.get(w)
        if not occurs:
            continue
        if votes and len(votes) + len(occurs) * len(words[w]) > _MAX_VOTES:
            break
        for offset in words[w]:
            votes.extend(at - offset for at in occurs)
    if not votes:
        # No word in common: only a small source is worth a character-level scan.
        small = len(text) * len(needle) <= 20_000_000
        return [(0, len(text))] if small and text else []
    width = max(32, len(needle) // 5)  # drift (inserted or deleted text) absorbed by one bin
    bins = Counter(d // width for d in votes)
    # Windows of two neighbouring bins, around the fullest bins.
    paired: dict[int, int] = {}
    for b, _ in bins.most_common(3 * _MAX_CANDIDATES):
        for first in (b - 1, b):
            paired[first] = bins.get(first, 0) + bins.get(first + 1, 0)
    top = max(paired.values())
    best = sorted(paired, key=lambda b: (-paired[b], b))
    slack = max(32, len(needle) // 4)
    regions: list[tuple[int, int]] = []
    chosen: list[int] = []
    for b in best:
        if len(regions) == _MAX_CANDIDATES or paired[b] < top / 3:
            break
        if any(abs(b - c) <= 1 for c in chosen):
            continue
        chosen.append(b)
        lo = max(0, b * width - slack)
        hi = min(len(text), (b + 2) * width + len(needle) + slack)
        regions.append((lo, hi))
    return regions


#: Quotes longer than twice this are aligned by their head and tail only (bounded cost).
_PIECE = 160


@dataclass(frozen=True)
class _Placement:
    """A rough alignment: where the quote's head and tail best fit in a region."""

    head_start: int
    head_end: int
    tail_start: int
    tail_end: int
    score: float  # rapidfuzz partial ratio, 0..100


def _place(needle: str, text: str, lo: int, hi: int) -> _Placement:
    """Fit a needle-sized window (for a long quote: its head and its tail) in text[lo:hi]."""
    if len(needle) <= 2 * _PIECE:
        start, end, score = _fit(needle, text, lo, hi)
        return _Placement(start, end, start, end, score)
    middle = (lo + hi) // 2
    head = _fit(needle[:_PIECE], text, lo, min(hi, middle + _PIECE))
    tail = _fit(needle[-_PIECE:], text, max(lo, middle - _PIECE), hi)
    return _Placement(head[0], head[1], tail[0], tail[1], (head[2] + tail[2]) / 2)


def _fit(needle: str, text: str, lo: int, hi: int) -> tuple[int, int, float]:
    """Where in text[lo:hi] a needle-sized window best matches `needle` (rapidfuzz)."""
    if hi - lo <= len(needle):
        return lo, hi, fuzz.ratio(needle, text[lo:hi])
    match = fuzz.partial_ratio_alignment(needle, text[lo:hi])
    return lo + match.dest_start, lo + match.dest_end, match.score


def _align(
    needle: str,
    folded: NormalizedText,
    source_text: str,
    context: _Context,
    placement: _Placement,
) -> tuple[int, int]:
    """The extent of the placed region that best matches `needle`, on word boundaries.

    rapidfuzz's partial_ratio_alignment has placed a needle-sized window (for a long quote: its
    first and last 160 characters, each in its half of the region); each end now moves to the
    word boundary nearby that best matches the quote: the highest Indel similarity (LCS-based,
    so unrelated words added at an end cost more than leaving them out), except that among
    extents within a short word of the best, the one whose surroundings match the hint wins,
    then one that starts and ends like the quote (the same first and last words, or a
    sentence's edges where the quote has them), then the closest word-level match, then the
    closest length. So a neighbouring sentence's last word stays out and a reworded first or
    last word comes in.
    """
    text = folded.text
    breaks = _LineBreaks(folded, source_text)
    head_start, head_end = placement.head_start, placement.head_end
    tail_start, tail_end = placement.tail_start, placement.tail_end
    if len(needle) <= 2 * _PIECE:
        head = tail = needle
    else:
        head, tail = needle[:_PIECE], needle[-_PIECE:]
    reach = max(16, min(len(head), len(tail)) // 3)
    starts = _boundaries(text, max(0, head_start - reach), min(len(text), head_start + reach), True)
    ends = _boundaries(text, max(0, tail_end - reach), min(len(text), tail_end + reach), False)
    if not starts or not ends:
        return head_start, tail_end
    start = min(starts, key=lambda i: abs(i - head_start))
    end = min(ends, key=lambda i: abs(i - tail_end))
    if head is needle:
        judge = _ExtentJudge(needle, text, breaks, context)
        for _ in range(4):  # coordinate ascent: best start for this end, best end for that start
            before = [(s, end) for s in starts if s < end] or [(start, end)]
            new_start = judge.best(before, 0)[0]
            after = [(new_start, e) for e in ends if e > new_start] or [(new_start, end)]
            new_end = judge.best(after, 1)[1]
            if (new_start, new_end) == (start, end):
                break
            start, end = new_start, new_end
    else:  # the ends of a long quote are independent: judge each by its own piece
        head_end = max(head_end, max(starts) + 1)
        tail_start = min(tail_start, min(ends) - 1)
        judge = _ExtentJudge(head, text, breaks, context)
        start = judge.best([(s, head_end) for s in starts], 0)[0]
        judge = _ExtentJudge(tail, text, breaks, context)
        end = judge.best([(tail_start, e) for e in ends], 1)[1]
    return _whole_sentence(needle, text, breaks, start, end, starts, ends)


def _whole_sentence(needle, text, breaks, start, end, starts, ends) -> tuple[int, int]:
    """Widen a match to the sentence edges the quote has, if that costs little.

    Words added at a sentence's edge cost similarity, so the best-matching extent leaves them
    out ("...investment in the Kurdistan" for a source sentence ending "Kurdistan Region.");
    a quote ending a sentence should get the whole sentence. Likewise a quote starting one,
    unless the match already starts with the quote's first word (an editor may capitalise a
    fragment's first word). The widening never turns a `changed` match into a `missing` one.
    """
    edge = max(24, min(len(needle), 2 * _PIECE) // 4)
    wide_start, wide_end = start, end
    if _ends_sentence(needle, len(needle)) and not _ends_sentence(text, end, breaks):
        after = (e for e in ends if end < e <= end + edge)
        wide_end = next((e for e in after if _ends_sentence(text, e, breaks)), end)
    if (
        _starts_sentence(needle, 0)
        and not _after_gap(text, start, breaks)
        and _first_word(needle) != _first_word(text[start : start + 64])
    ):
        before = (s for s in reversed(starts) if start - edge <= s < start)
        wide_start = next((s for s in before if _after_gap(text, s, breaks)), start)
    if (wide_start, wide_end) == (start, end):
        return start, end
    narrow = Levenshtein.normalized_similarity(needle, text[start:end])
    wide = Levenshtein.normalized_similarity(needle, text[wide_start:wide_end])
    keep = narrow >= CHANGED_MIN > wide
    return (start, end) if keep else (wide_start, wide_end)


class _LineBreaks:
    """Whether a space in the folded text stands for a line break in the source."""

    def __init__(self, folded: NormalizedText, source_text: str) -> None:
        self.folded, self.source_text = folded, source_text

    def at(self, i: int) -> bool:
        if not 0 <= i < len(self.folded.text) or self.folded.text[i] != " ":
            return False
        start, end = self.folded.span(i, i + 1)
        return "\n" in self.source_text[start:end]


class _ExtentJudge:
    """Ranks extents of the folded text as matches for the quote (see `_align`)."""

    #: Indel edits within which two extents tie: one short word (a 3-letter word replaced).
    TOLERANCE = 6

    def __init__(self, needle: str, text: str, breaks: _LineBreaks, context: _Context) -> None:
        self.needle, self.text, self.breaks, self.context = needle, text, breaks, context
        self.words = _WORD.findall(needle.lower())
        self.quote_starts = _starts_sentence(needle, 0)
        self.quote_ends = _ends_sentence(needle, len(needle))
        self.first, self.last = _first_word(needle), _last_word(needle)
        self.known: dict[tuple[int, int], int] = {}

    def distance(self, extent: tuple[int, int]) -> int:
        edits = self.known.get(extent)
        if edits is None:
            edits = Indel.distance(self.needle, self.text[slice(*extent)])
            self.known[extent] = edits
        return edits

    def best(self, extents: list[tuple[int, int]], side: int) -> tuple[int, int]:
        """The best of extents that differ in their start (side 0) or their end (side 1).

        Those within TOLERANCE edits of the closest match are ranked by `_tie_break`; so is
        one whose moving end has the hint's context right next to it (that is where the quote
        was: a reworded first or last word), if within a quarter of the quote's length.
        """
        scored = [(self.distance(x), x) for x in extents]
        least = min(edits for edits, _ in scored)
        near = [x for edits, x in scored if edits <= least + self.TOLERANCE]
        if self.context.hint is not None:
            wide = least + max(self.TOLERANCE, len(self.needle) // 4)
            near += [
                x
                for edits, x in scored
                if least + self.TOLERANCE < edits <= wide
                and self.context.sides(*x)[side] >= CONTEXT_STRONG
            ]
        return max(near, key=self._tie_break) if len(near) > 1 else near[0]

    def _tie_break(self, extent: tuple[int, int]) -> tuple[float, int, float, int, int]:
        start, end = extent
        # A side of the hint's context counts only where it still matches well: after an edit
        # next to the quote, a chance resemblance must not pull the extent into it.
        sides = 0.0
        if self.context.hint is not None:
            sides = sum(s for s in self.context.sides(start, end) if s >= CONTEXT_MIN)
        # Each end agrees with the quote's if it has the same word, or is a sentence's edge
        # exactly when the quote's is.
        edges = (
            _first_word(self.text[start : start + 64]) == self.first
            or _starts_sentence(self.text, start, self.breaks) == self.quote_starts
        ) + (
            _last_word(self.text[max(0, end - 64) : end]) == self.last
            or _ends_sentence(self.text, end, self.breaks) == self.quote_ends
        )
        words = _WORD.findall(self.text[start:end].lower())
        return (
            round(sides, 2),
            edges,
            Levenshtein.normalized_similarity(self.words, words),
            -abs(end - start - len(self.needle)),
            -self.distance(extent),
        )


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")
_SENTENCE_GAP = re.compile(r"(?:^|[.!?][\"')\]]*\d{0,3}) ?$")  # \d: a footnote mark


def _first_word(text: str) -> str:
    m = _WORD.search(text)
    return m[0].lower() if m else ""


def _last_word(text: str) -> str:
    words = _WORD.findall(text[-64:])
    return words[-1].lower() if words else ""


def _ends_sentence(text: str, end: int, breaks: _LineBreaks | None = None) -> bool:
    """Whether text[:end] ends a sentence (or, with `breaks`, a line of the source)."""
    if breaks is not None and (end >= len(text) or breaks.at(end)):
        return True
    return bool(_SENTENCE_END.search(text, max(0, end - 4), end))


def _starts_sentence(text: str, start: int, breaks: _LineBreaks | None = None) -> bool:
    """Whether a capitalised sentence (or, with `breaks`, a line of the source) starts here."""
    if start >= len(text) or not text[start : start + 2].lstrip("\"'(")[:1].isupper():
        return False
    return _after_gap(text, start, breaks)


def _after_gap(text: str, start: int, breaks: _LineBreaks | None = None) -> bool:
    """Whether `start` follows a sentence's end or (with `breaks`) a line break."""
    if breaks is not None and breaks.at(start - 1):
        return True
    return bool(_SENTENCE_GAP.search(text, max(0, start - 8), start))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_" or is_mark(ch)


def _boundaries(text: str, lo: int, hi: int, starts: bool) -> list[int]:
    """Offsets in [lo, hi] where a passage may start (or end).

    A passage starts at a space-separated token or at its first letter (after an opening quote
    or bracket); it ends at a token's end, before its closing punctuation, or before a footnote
    number ("Kurdistan.9"). Never inside a word, never between a letter and its accent.
    """
    found = []
    a = lo
    while a > 0 and text[a - 1] != " ":
        a -= 1
    n = len(text)
    while a <= hi and a < n:
        b = text.find(" ", a)
        b = n if b == -1 else b
        if starts:
            p = a
            while p < b and not _is_word_char(text[p]):
                p += 1
            found.extend(i for i in ((a, p) if a < p < b else (a,)) if lo <= i <= hi)
        else:
            q = b
            while q > a and text[q - 1].isdigit():
                q -= 1
            r = q
            while r > a and not _is_word_char(text[r - 1]):
                r -= 1
            for i in (r, q, b):
                if lo <= i <= hi and a < i and not (found and found[-1] == i):
                    found.append(i)
        a = b + 1
    return found
