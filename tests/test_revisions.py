"""Realistic revisions of a source between two builds, and what each excerpt becomes.

The example brief is built once (HTML only, to keep it quick), a source is revised the way
sources really change, and every excerpt's status and change are asserted exactly.
"""

import pytest

from briefgen.build import build, check

ROGOZIN = "content/sources/rogozin-baghdad-delegation.txt"
PRIMAKOV = "content/sources/primakov-2024-russia-iraq.txt"


def excerpts_of(report, source):
    return {
        (e.section, e.index): (e.anchor.status, e.change.change)
        for e in report.excerpts
        if e.source == source
    }


def others_unchanged(report, source):
    return {(e.anchor.status, e.change.change) for e in report.excerpts if e.source != source}


@pytest.fixture
def built(example_copy):
    build(example_copy, pdf=False)
    return example_copy


def revise(root, path, *edits):
    file = root / path
    text = file.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    file.write_text(text, encoding="utf-8")


def test_typo_reword_move_and_delete_in_one_source(built):
    moved = (
        "Russia is ready to sell civil airliners to Iraq and keep providing it with military "
        "aid to fight Islamic State, Deputy Prime Minister Dmitry Rogozin said on Thursday, "
        "accompanied on a trip to Baghdad by the biggest Russian delegation in years.\n\n"
    )
    deleted = (
        "“We need support, training and intelligence-sharing,” he told reporters. "
        "“Intelligence plays an important role in the war on Daesh, and we’ve been "
        "coordinating for a while now with the Russian side to place this information in "
        "the hands of Iraqis.”\n\n"
    )
    revise(
        built,
        ROGOZIN,
        ("double bilateral trade", "double bilatreal trade"),  # a typo
        (
            "Russia has invested millions of dollars in Iraq’s energy sector",  # reworded
            "Russia has poured millions of dollars into the Iraqi energy sector",
        ),
        (moved, ""),
        (deleted, ""),
    )
    text = (built / ROGOZIN).read_text()
    (built / ROGOZIN).write_text(text + "\n" + moved)  # moved to the end
    report = check(built)
    assert excerpts_of(report, "rogozin-baghdad-delegation") == {
        ("history", 5): ("verified", "moved"),
        ("energy", 4): ("changed", "changed"),
        ("security", 1): ("missing", "missing"),
        ("security", 2): ("changed", "changed"),
    }
    assert others_unchanged(report, "rogozin-baghdad-delegation") == {("verified", "unchanged")}
    assert report.sources.changed == ("rogozin-baghdad-delegation.txt",)
    by_place = {(e.section, e.index): e for e in report.excerpts}
    assert by_place[("energy", 4)].change.diff_text().count("[-bilateral-] {+bilatreal+}") == 1
    reworded = by_place[("security", 2)]
    assert reworded.anchor.text.startswith("Russia has poured millions of dollars into the Iraqi")
    assert "[-invested-]" in reworded.change.diff_text()
    assert "{+poured+}" in reworded.change.diff_text()


def test_recaptured_with_hard_line_breaks_is_unchanged(built):
    file = built / PRIMAKOV
    head, body = file.read_text().split("\n---\n", 1)
    words = body.split(" ")
    rewrapped = "".join(w + ("\n" if i % 9 == 8 else " ") for i, w in enumerate(words))[:-1]
    file.write_text(head + "\n---\n" + rewrapped)
    report = check(built)
    assert set(excerpts_of(report, "primakov-2024-russia-iraq").values()) == {
        ("verified", "unchanged")
    }
    assert report.sources.changed == ("primakov-2024-russia-iraq.txt",)


def test_a_quote_that_now_occurs_twice(built, example_copy):
    passage = (
        "Three key projects are most important – Lukoil's investment in West Qurna-2, "
        "Gazprom's investment in Badr, and Rosneft's investment in Iraqi Kurdistan."
    )
    file = built / PRIMAKOV
    file.write_text(file.read_text() + "\nAs noted above: " + passage + "\n")
    # with the last build's prefix and suffix, the original place is still the clear choice
    report = check(built)
    assert excerpts_of(report, "primakov-2024-russia-iraq")[("energy", 1)] == (
        "verified",
        "unchanged",
    )
    # without an earlier build there is nothing to tell the two apart
    (built / "output" / ".briefgen" / "state.json").unlink()
    report = check(built)
    assert excerpts_of(report, "primakov-2024-russia-iraq")[("energy", 1)] == ("ambiguous", "new")
    assert any("occurs 2 times" in d.message for d in report.diagnostics.warnings)
