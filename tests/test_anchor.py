"""Quote anchoring on realistic revisions of the example brief's own sources.

Each test takes a real passage from content/sources/, revises the source the way sources really
change between two captures, and asserts the exact status, the exact text briefgen would print
(always a slice of the source) and, for `changed`, the score's range. docs/anchoring.md has the
score table these ranges come from; `python tests/test_anchor.py` prints it again.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from briefgen.anchor import (
    AMBIGUOUS,
    CHANGED,
    CHANGED_MIN,
    MISSING,
    VERIFIED,
    Anchor,
    Hint,
    locate,
    make_hint,
)
from briefgen.errors import Diagnostics
from briefgen.sources import read_source
from briefgen.textnorm import fold, normalize

SOURCES = Path(__file__).resolve().parent.parent / "content" / "sources"

PRIMAKOV = "primakov-2024-russia-iraq.txt"
ROGOZIN = "rogozin-baghdad-delegation.txt"
JPOST = "jpost-lavrov-iraq-visit.txt"

# The example brief's excerpt from the Primakov Center's policy brief, as the outline has it
# (straight dash; the source has an en dash and a footnote mark after the full stop).
PROJECTS = (
    "Three key projects are most important - Lukoil's investment in West Qurna-2, "
    "Gazprom's investment in Badr, and Rosneft's investment in Iraqi Kurdistan."
)
PROJECTS_IN_SOURCE = (
    "Three key projects are most important \u2013 Lukoil's investment in West Qurna-2, "
    "Gazprom's investment in Badr, and Rosneft's investment in Iraqi Kurdistan."
)
DEBT = (
    "Given the role played by Russian oil and gas companies in the country until 2003 and "
    "Iraq's debt to Russia, this made Moscow an important extra-regional player for Baghdad."
)
AIRLINERS = (
    "Russia is ready to sell civil airliners to Iraq and keep providing it with military aid to "
    "fight Islamic State, Deputy Prime Minister Dmitry Rogozin said on Thursday, accompanied on "
    "a trip to Baghdad by the biggest Russian delegation in years."
)


def body(name: str) -> str:
    """A source's text as briefgen reads it: the body after the front matter."""
    source = read_source(SOURCES / name, Diagnostics())
    assert source is not None
    return source.text


def revise(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def found(quote: str, source: str, hint: Hint | None = None) -> Anchor:
    """locate(), plus the invariant every anchor keeps: its text is a slice of the source."""
    anchor = locate(quote, source, normalize(source), hint=hint)
    assert anchor.text == source[anchor.start : anchor.end]
    return anchor


def hint_for(quote: str, source: str) -> Hint:
    """The hint a previous build would have stored for `quote` in `source`."""
    anchor = found(quote, source)
    assert anchor.status == VERIFIED
    return make_hint(source, anchor.start, anchor.end)


@pytest.fixture(scope="module")
def primakov() -> str:
    return body(PRIMAKOV)


# --- verbatim ---------------------------------------------------------------------------------


def test_verbatim_quote_is_verified_with_the_sources_own_characters(primakov: str) -> None:
    a = found(PROJECTS, primakov)
    assert (a.status, a.score, a.occurrences) == (VERIFIED, 1.0, 1)
    assert a.text == PROJECTS_IN_SOURCE  # the en dash, not the outline's hyphen; no footnote
    assert primakov[a.end] == "\u2079"  # the footnote mark right after stays out


def test_typographic_forms_in_the_source_are_verified(primakov: str) -> None:
    typographic = revise(
        primakov,
        PROJECTS_IN_SOURCE,
        "Three\u00a0key projects are most important \u2014 Lukoil\u2019s investment in West "
        "Qurna\u20112, Gazprom\u2019s investment in Badr, and Rosneft\u2019s investment in "
        "\uff29raqi Kurdistan.",
    )
    a = found(PROJECTS, typographic)
    assert a.status == VERIFIED
    assert a.text.startswith("Three\u00a0key") and a.text.endswith("\uff29raqi Kurdistan.")


def test_typographic_forms_in_the_quote_are_verified() -> None:
    source = body(ROGOZIN)
    quote = (
        "The officials signed a wide\u2011ranging memorandum of understanding that included "
        "measures to more than double bilateral trade and boost Iraq's electricity production"
    )
    a = found(quote, source)
    assert a.status == VERIFIED
    assert "Iraq\u2019s electricity" in a.text


def test_hard_line_breaks_mid_sentence_are_verified(primakov: str) -> None:
    """A source re-captured from a PDF: every line ends in a hard break, mid-sentence."""
    wrapped = re.sub(r"(.{1,60})(?: |$)", lambda m: m.group(1) + "\n", primakov.replace("\n", " "))
    a = found(PROJECTS, wrapped)
    assert a.status == VERIFIED
    assert "\n" in a.text
    assert fold(a.text) == fold(PROJECTS_IN_SOURCE)


def test_hyphenation_at_a_line_end_is_a_change_not_white_space(primakov: str) -> None:
    # DESIGN section 1 folds white space only: "invest-\nment" is not "investment".
    hyphenated = revise(primakov, "investment in Badr", "invest-\nment in Badr")
    a = found(PROJECTS, hyphenated)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace("investment in Badr", "invest-\nment in Badr")
    assert 0.98 <= a.score < 1


# --- moved, duplicated ------------------------------------------------------------------------


def test_moved_paragraph_is_verified_at_its_new_place(primakov: str) -> None:
    hint = hint_for(PROJECTS, primakov)
    moved = primakov.replace(PROJECTS_IN_SOURCE, "") + "\n\n" + PROJECTS_IN_SOURCE + "\n"
    for h in (None, hint):
        a = found(PROJECTS, moved, h)
        assert (a.status, a.occurrences) == (VERIFIED, 1)
        assert a.start == len(moved) - len(PROJECTS_IN_SOURCE) - 1 != hint.position


def test_quote_found_twice_is_ambiguous_unless_the_hint_decides(primakov: str) -> None:
    hint = hint_for(PROJECTS, primakov)
    original_start = hint.position
    twice = primakov + "\n\nIn short: " + PROJECTS_IN_SOURCE + " That is all.\n"
    a = found(PROJECTS, twice)
    assert (a.status, a.occurrences) == (AMBIGUOUS, 2)
    a = found(PROJECTS, twice, hint)
    assert (a.status, a.occurrences, a.start) == (VERIFIED, 2, original_start)
    assert a.text == PROJECTS_IN_SOURCE
    # The hint is a position in an older capture: text added before the quote moves it, and
    # the prefix and suffix still decide.
    shifted = "A new preface.\n\n" * 20 + twice
    a = found(PROJECTS, shifted, hint)
    assert (a.status, a.start) == (VERIFIED, original_start + 16 * 20)


def test_duplicated_paragraph_with_the_same_context_stays_ambiguous(primakov: str) -> None:
    hint = hint_for(PROJECTS, primakov)
    at = hint.position
    paragraph = primakov[at - 300 : at + len(PROJECTS_IN_SOURCE) + 300]
    doubled = primakov[: at - 300] + paragraph + primakov[at - 300 :]
    a = found(PROJECTS, doubled, hint)  # both copies have the hint's prefix and suffix
    assert (a.status, a.occurrences) == (AMBIGUOUS, 2)


def test_short_quote_in_a_real_source_counts_every_occurrence(primakov: str) -> None:
    a = found("Iraqi Kurdistan", primakov)
    assert a.status == AMBIGUOUS
    assert a.occurrences == fold(primakov).count("Iraqi Kurdistan")


# --- changed ----------------------------------------------------------------------------------


def test_typo_fixed_in_the_source(primakov: str) -> None:
    # The outline copied a typo the source has since fixed.
    a = found(PROJECTS.replace("Rosneft's investment", "Rosneft's investmnet"), primakov)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE
    assert 0.98 <= a.score < 1


def test_typo_in_an_other_source() -> None:
    source = revise(body(ROGOZIN), "double bilateral trade", "double bilatreal trade")
    quote = (
        "The officials signed a wide-ranging memorandum of understanding that included measures "
        "to more than double bilateral trade and boost Iraq's electricity production, which "
        "only meets around 60 percent of its peak demand during the hot summer months."
    )
    a = found(quote, source)
    assert a.status == CHANGED
    assert a.text == quote.replace("bilateral", "bilatreal").replace("Iraq's", "Iraq\u2019s")
    assert 0.98 <= a.score < 1


def test_sentence_reworded(primakov: str) -> None:
    reworded = revise(
        primakov,
        "Three key projects are most important",
        "Three projects stand out as the most important",
    )
    a = found(PROJECTS, reworded)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace(
        "Three key projects are most important", "Three projects stand out as the most important"
    )
    assert 0.85 <= a.score <= 0.92


def test_reworded_start_does_not_spill_into_the_previous_sentence(primakov: str) -> None:
    # The old matcher returned "sector. Three key projects..." here.
    source = revise(primakov, "Three key projects are most", "Four key projects are most")
    a = found(PROJECTS, source)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace("Three", "Four")
    assert 0.95 <= a.score < 1
    source = revise(primakov, "most important \u2013", "the most significant \u2013")
    a = found(PROJECTS, source)
    assert a.status == CHANGED
    assert a.text.startswith("Three key projects are the most significant")
    assert not a.text.startswith("sector")


def test_reworded_end_takes_the_whole_sentence(primakov: str) -> None:
    source = revise(
        primakov,
        "Rosneft's investment in Iraqi Kurdistan.",
        "Rosneft's stake in the Kurdistan Region.",
    )
    a = found(PROJECTS, source)
    assert a.status == CHANGED
    assert a.text.endswith("and Rosneft's stake in the Kurdistan Region.")  # not "...Kurdistan"
    assert a.text.startswith("Three key projects")
    assert 0.84 <= a.score <= 0.9


def test_word_inserted(primakov: str) -> None:
    source = revise(primakov, "Lukoil's investment", "Lukoil's large investment")
    a = found(PROJECTS, source)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace("Lukoil's", "Lukoil's large")
    assert 0.95 <= a.score < 1


def test_word_deleted(primakov: str) -> None:
    source = revise(primakov, "Three key projects", "Three projects")
    a = found(PROJECTS, source)
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace("key ", "")
    assert 0.95 <= a.score < 1


def test_reworded_and_moved(primakov: str) -> None:
    hint = hint_for(DEBT, primakov)
    reworded = DEBT.replace("this made Moscow", "this turned Moscow into")
    source = primakov.replace(DEBT, "") + "\n\n" + reworded + "\n"
    for h in (None, hint):  # the context no longer matches: the hint must not count against it
        a = found(DEBT, source, h)
        assert a.status == CHANGED
        assert a.text == reworded
        assert 0.9 <= a.score < 1


def test_reworded_passage_found_twice_is_ambiguous(primakov: str) -> None:
    reworded = PROJECTS_IN_SOURCE.replace("key ", "")
    source = primakov.replace(PROJECTS_IN_SOURCE, reworded) + "\n\nAgain: " + reworded + "\n"
    a = found(PROJECTS, source)
    assert (a.status, a.occurrences) == (AMBIGUOUS, 2)
    assert a.text == reworded
    # ...unless the hint's context picks one.
    a = found(PROJECTS, source, hint_for(PROJECTS, primakov))
    assert (a.status, a.text, a.occurrences) == (CHANGED, reworded, 1)
    assert a.start < len(primakov)


def test_long_quote_reworded_at_both_ends(primakov: str) -> None:
    """A quote of a whole paragraph (over 320 characters) is aligned by its head and tail."""
    quote = next(p for p in primakov.split("\n\n") if p.startswith("For Russia, Iraq is"))
    assert len(quote) > 800
    source = revise(primakov, "For Russia, Iraq is important", "For Moscow, Iraq matters")
    source = revise(source, "entire spectrum of Iraqi political forces.", "whole Iraqi spectrum.")
    a = found(quote, source)
    assert a.status == CHANGED
    assert a.text.startswith("For Moscow, Iraq matters both in terms of trade")
    assert a.text.endswith("has stable relations with the whole Iraqi spectrum.")
    assert 0.93 <= a.score < 1


# --- missing ----------------------------------------------------------------------------------


def test_deleted_passage_is_missing_despite_similar_vocabulary(primakov: str) -> None:
    hint = hint_for(PROJECTS, primakov)
    deleted = primakov.replace(PROJECTS_IN_SOURCE, "")
    # The source still talks of Russian investment, energy projects, Badr and Kurdistan.
    for words in ("Russian investment", "projects", "Badr", "Iraqi Kurdistan", "important"):
        assert words in deleted
    for h in (None, hint):
        a = found(PROJECTS, deleted, h)
        assert (a.status, a.occurrences) == (MISSING, 0)
        assert a.score < 0.5
        assert a.text  # the closest passage, for the error message


def test_passage_rewritten_beyond_recognition_is_missing(primakov: str) -> None:
    rewritten = revise(
        primakov,
        PROJECTS_IN_SOURCE,
        "Lukoil, Gazprom and Rosneft lead the main projects: West Qurna-2, Badr and Iraqi "
        "Kurdistan.",
    )
    for h in (None, hint_for(PROJECTS, primakov)):
        a = found(PROJECTS, rewritten, h)
        assert a.status == MISSING
        assert a.score < CHANGED_MIN


def test_quote_from_another_source_is_missing() -> None:
    # The Baghdad Post retells this story in similar words; it is still not this quote.
    a = found(
        "Russia has invested millions of dollars in Iraq's energy sector and last year opened a "
        "command center in Baghdad under an intelligence-sharing agreement with Iraq, Iran and "
        "Syria aimed at combating Islamic State.",
        body("baghdadpost-2020-russia-counterbalance.txt"),
    )
    assert a.status == MISSING
    assert a.score < 0.6


def test_the_hint_vouches_for_a_passage_reworded_in_place() -> None:
    """Half the words changed, but the text around it is the same: with the hint, `changed`."""
    source = body(ROGOZIN)
    hint = hint_for(AIRLINERS, source)
    rewritten = (
        "Russia stands ready to supply passenger jets to Iraq and continue its military "
        "assistance against Islamic State, Deputy Prime Minister Dmitry Rogozin told reporters "
        "on Thursday, leading to Baghdad the largest Russian delegation in years."
    )
    source = revise(source, AIRLINERS, rewritten)
    a = found(AIRLINERS, source)
    assert a.status == MISSING
    assert 0.5 <= a.score < CHANGED_MIN
    a = found(AIRLINERS, source, hint)
    assert a.status == CHANGED
    assert a.text == rewritten
    assert CHANGED_MIN <= a.score < 0.85


# --- edge cases -------------------------------------------------------------------------------


def test_empty_and_blank_quotes_are_missing(primakov: str) -> None:
    for quote in ("", "  \n\t"):
        assert found(quote, primakov) == Anchor(MISSING, 0, 0, 0.0, "", 0)


def test_empty_source() -> None:
    assert found(PROJECTS, "") == Anchor(MISSING, 0, 0, 0.0, "", 0)
    assert found(PROJECTS, " \n\n ") == Anchor(MISSING, 0, 0, 0.0, "", 0)


def test_quote_longer_than_its_source() -> None:
    source = "Intro.\n\n" + PROJECTS_IN_SOURCE.removesuffix(
        ", and Rosneft's investment in Iraqi Kurdistan."
    )
    a = found(PROJECTS, source)
    assert a.status == MISSING  # a third of the quote is not there
    assert a.text.startswith("Three key projects")
    a = found(PROJECTS, "Intro.\n\n" + PROJECTS_IN_SOURCE.replace(" in Badr", ""))
    assert a.status == CHANGED
    assert a.text == PROJECTS_IN_SOURCE.replace(" in Badr", "")


def test_combining_marks() -> None:
    decomposed = "Le cafe\u0301 de la gare, puis le cafe de la place."
    a = found("le caf\u00e9 de la gare", decomposed.lower())
    assert (a.status, a.text) == (VERIFIED, "le cafe\u0301 de la gare")
    # "cafe" without its accent is not verified inside "café", however it is typed...
    a = found("puis le cafe", "Puis le caf\u00e9 de la gare, puis le cafe de la place.")
    assert (a.status, a.text) == (VERIFIED, "puis le cafe")
    a = found("le cafe de la gare", decomposed)
    assert a.status == CHANGED
    assert a.text == "cafe\u0301 de la gare" or a.text == "Le cafe\u0301 de la gare"
    # ...and a quote never ends between a letter and its accent.
    a = found("Le cafe", decomposed)
    assert a.status != VERIFIED
    assert a.text.endswith("\u0301")


def test_hint_helpers(primakov: str) -> None:
    a = found(PROJECTS, primakov)
    hint = make_hint(primakov, a.start, a.end)
    assert hint.position == a.start
    assert hint.prefix == primakov[a.start - 32 : a.start]
    assert hint.suffix == primakov[a.end : a.end + 32]
    assert make_hint("short text", 0, 5) == Hint("", " text", 0)
    # A stale position beyond the text is harmless.
    assert found(PROJECTS, primakov, Hint("", "", 10**9)).status == VERIFIED
    # An empty side means "at the start (end) of the text", not "anything goes".
    assert found("x", "x y x", Hint("", " y", 0)).start == 0
    assert found("x", "x y x", Hint("y ", "", 4)).start == 4
    assert found("x", "x y x", Hint("", "", 0)).status == AMBIGUOUS
    retelling = body("baghdadpost-2020-russia-counterbalance.txt")
    quote = "Russia has invested millions of dollars in Iraq's energy sector and last year opened"
    unrelated = found(quote, retelling, Hint("", "", 0))
    assert unrelated.score == found(quote, retelling).score < CHANGED_MIN


# --- speed ------------------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"[A-Z][^.\n]{80,400}\.", text)]


def test_thirty_verbatim_quotes_in_a_20_kb_source_take_well_under_100_ms(primakov: str) -> None:
    quotes = random.Random(1).sample(sentences(primakov), 30)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        folded = normalize(primakov)
        anchors = [locate(q, primakov, folded) for q in quotes]
        best = min(best, time.perf_counter() - started)
    assert {a.status for a in anchors} <= {VERIFIED, AMBIGUOUS}
    assert best < 0.1, best  # measured: 1-2 ms


def test_approximate_search_on_a_1_mb_source_is_bounded(primakov: str) -> None:
    rng = random.Random(2)
    words = primakov.split()
    filler = " ".join(rng.choice(words) for _ in range(80_000))  # same vocabulary throughout
    big = filler + "\n\n" + primakov + "\n\n" + filler
    assert len(big) > 1_000_000
    quotes = rng.sample(sentences(primakov), 10)
    reworded = [
        q.replace(" the ", " a ", 1).replace(" of ", " in ", 1) + " Indeed." for q in quotes
    ]
    reworded.append(" ".join(words[1000:1300]).replace(" the ", " a "))  # 300 words
    started = time.perf_counter()
    folded = normalize(big)
    anchors = [locate(q, big, folded) for q in reworded]
    elapsed = time.perf_counter() - started
    assert {a.status for a in anchors} <= {CHANGED, AMBIGUOUS}
    assert elapsed < 5, elapsed  # measured: about 0.4 s, a third of it indexing the words


# --- the score table in docs/anchoring.md -------------------------------------------------------


def score_table() -> dict[str, list[tuple[float, float]]]:  # pragma: no cover - by hand
    """Print, for every excerpt of the example brief, the scores of realistic revisions:
    `python tests/test_anchor.py`. Returns {revision: [(score, score with hint)]}."""
    import statistics

    import yaml

    brief = yaml.safe_load((SOURCES.parent / "brief.yaml").read_text(encoding="utf-8"))
    excerpts = [
        b["excerpt"]
        for section in brief["sections"]
        for b in section["content"]
        if isinstance(b, dict) and "excerpt" in b
    ]
    sources = {p.stem: body(p.name) for p in SOURCES.glob("*.txt")}
    vocabulary = sorted({w for t in sources.values() for w in re.findall(r"[A-Za-z]{3,}", t)})
    rng = random.Random(7)
    rows: dict[str, list[tuple[float, float]]] = {}

    def add(kind: str, quote: str, source: str, hint: Hint) -> None:
        plain, hinted = (found(quote, source, h) for h in (None, hint))
        rows.setdefault(kind, []).append((plain.score, hinted.score))

    for e in excerpts:
        source, quote = sources[e["source"]], e["quote"]
        a = found(quote, source)
        hint = make_hint(source, a.start, a.end)
        s, t = a.start, a.end
        passage = source[s:t]
        words = list(re.finditer(r"[A-Za-z]{3,}", passage))
        m = rng.choice(words[1:-1])  # inside the passage, so it is not verbatim any more
        add(
            "typo (one letter)",
            quote,
            source[: s + m.start() + 1] + "x" + source[s + m.start() + 2 :],
            hint,
        )
        add(
            "word inserted",
            quote,
            source[: s + m.start()] + "very " + source[s + m.start() :],
            hint,
        )
        add("word deleted", quote, source[: s + m.start()] + source[s + m.end() + 1 :], hint)
        for k in (1, 2, 3, 4, 6, 8, 10):
            for _ in range(3):
                new = passage
                for w in sorted(rng.sample(words, min(k, len(words))), key=lambda w: -w.start()):
                    new = new[: w.start()] + rng.choice(vocabulary) + new[w.end() :]
                add(f"{k} words replaced", quote, source[:s] + new + source[t:], hint)
        add("passage deleted", quote, source[:s] + source[t:], hint)
        for other, text in sources.items():
            if other != e["source"]:
                add("quote from another source", quote, text, Hint("", "", 0))

    print(f"{'revision':28} {'n':>4}  {'min':>5} {'median':>6} {'max':>5}  changed")
    for kind, pairs in rows.items():
        for label, scores in (("", [p for p, _ in pairs]), (" +hint", [h for _, h in pairs])):
            if label and kind == "quote from another source":
                continue
            share = sum(x >= CHANGED_MIN for x in scores) / len(scores)
            print(
                f"{kind + label:28} {len(scores):4}  {min(scores):.3f} "
                f"{statistics.median(scores):6.3f} {max(scores):.3f}  {share:6.0%}"
            )
    return rows


if __name__ == "__main__":  # pragma: no cover
    score_table()
