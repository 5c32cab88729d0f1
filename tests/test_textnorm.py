"""The matching rules (content contract, DESIGN section 1) and the map back to the source."""

from __future__ import annotations

import random
import time
import unicodedata
from pathlib import Path

import pytest

from briefgen.errors import Diagnostics
from briefgen.sources import read_source
from briefgen.textnorm import fold, normalize

SOURCES = Path(__file__).resolve().parent.parent / "content" / "sources"


def body(name: str) -> str:
    """A source's text as briefgen reads it: the body after the front matter."""
    source = read_source(SOURCES / name, Diagnostics())
    assert source is not None
    return source.text


@pytest.mark.parametrize(
    ("original", "folded"),
    [
        ("  Russia and\n\n\tIraq  ", "Russia and Iraq"),  # runs of white space, trimmed
        ("West\u00a0Qurna-2", "West Qurna-2"),  # NBSP
        ("a\u2009b\u202fc\u3000d", "a b c d"),  # thin, narrow no-break, ideographic space
        ("a\u200bb", "a b"),  # zero-width space counts as white space
        ("\ufeffTitle", "Title"),  # BOM
        ("Russia\u2019s", "Russia's"),
        ("\u2018a\u2019 \u201cb\u201d \u201ec\u201f \u00abd\u00bb", '\'a\' "b" "c" "d"'),
        ("`x\u00b4", "'x'"),
        ("2014\u20132017 \u2014 x \u2212 y \u2011", "2014-2017 - x - y -"),
        ("\ufb01nance \ufb02ow", "finance flow"),  # ligatures (NFKC)
        ("\uff21\uff22\uff23", "ABC"),  # fullwidth forms
        ("Kurdistan.\u2079", "Kurdistan.9"),  # superscript (a footnote mark) folds to a digit
        ("caf\u00e9", "cafe\u0301"),  # composed and decomposed letters compare equal
        ("", ""),
        ("   \n ", ""),
    ],
)
def test_fold(original: str, folded: str) -> None:
    assert fold(original) == folded


def test_case_and_hyphenation_are_not_folded() -> None:
    # DESIGN section 1: white space, Unicode forms, quotes and dashes; nothing else.
    assert fold("Russia") != fold("russia")
    assert fold("invest-\nment") != fold("investment")


def test_combining_marks_end_up_in_canonical_order() -> None:
    dot_below_then_above = "a\u0323\u0307"
    dot_above_then_below = "a\u0307\u0323"
    assert fold(dot_below_then_above) == fold(dot_above_then_below)
    assert fold(dot_above_then_below) == unicodedata.normalize("NFKD", dot_below_then_above)


def test_span_maps_back_to_whole_characters() -> None:
    text = "the cafe\u0301 and the \ufb01sh, \u201cquoted\u201d"
    n = normalize(text)
    at = n.text.index("cafe")
    # The 'e' of a decomposed letter maps to the letter plus its accent.
    assert text[slice(*n.span(at, at + 4))] == "cafe\u0301"
    # One ligature is two folded letters; either one maps to the whole ligature.
    fi = n.text.index("fi")
    assert text[slice(*n.span(fi, fi + 1))] == "\ufb01"
    assert text[slice(*n.span(fi, fi + 2))] == "\ufb01"
    q = n.text.index('"quoted"')
    assert text[slice(*n.span(q, q + 8))] == "\u201cquoted\u201d"


def test_span_of_collapsed_white_space_is_the_whole_run() -> None:
    text = "one \n\n  two"
    n = normalize(text)
    assert n.text == "one two"
    assert n.span(3, 4) == (3, 8)
    assert n.span(0, 7) == (0, len(text))
    assert n.span(7, 7) == (len(text), len(text))  # empty span at the end


def test_span_is_exact_on_a_real_source() -> None:
    """For any folded range, the original characters it maps to fold back to the same text."""
    text = body("primakov-2024-russia-iraq.txt")
    n = normalize(text)
    rng = random.Random(4)
    for _ in range(3000):
        a = rng.randrange(len(n.text))
        b = rng.randrange(a + 1, min(len(n.text), a + 300) + 1)
        start, end = n.span(a, b)
        assert fold(text[start:end]) == n.text[a:b].strip(" ")
    assert n.origin[0] == text.index(n.text[0])  # the per-character map, for old callers


def test_span_is_exact_with_every_kind_of_folding() -> None:
    pieces = ["Lukoil\u2019s", "\u00a0", "West", "\n\n", "Qurna\u20112", "\ufb01", "cafe\u0301"]
    rng = random.Random(7)
    text = "".join(rng.choice(pieces + [" ", "x"]) for _ in range(400))
    n = normalize(text)
    for a in range(len(n.text)):
        for b in range(a + 1, min(len(n.text), a + 12) + 1):
            start, end = n.span(a, b)
            # Never inside a letter: a span ends before a combining mark only at a letter's end.
            assert not (end < len(text) and unicodedata.category(text[end]).startswith("M"))
            assert n.text[a:b].strip(" ") in fold(text[start:end])


def test_normalize_is_fast_on_a_large_source() -> None:
    text = body("primakov-2024-russia-iraq.txt") * 50  # about 1 MB
    started = time.perf_counter()
    n = normalize(text)
    elapsed = time.perf_counter() - started
    assert len(n.text) > 1_000_000
    assert elapsed < 1.0, elapsed  # measured: 45-90 ms
