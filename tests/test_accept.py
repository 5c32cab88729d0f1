"""`briefgen accept`: the source's wording written back as the quote, nothing else touched."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from cli_run import run
from conftest import OUTLINE, REPO, SOURCE_A, SOURCE_B, write_project

from briefgen.accept import Selection, _fold_positions, accept, rewrite, round_trip
from briefgen.errors import Diagnostics, UsageError
from briefgen.outline import read_outline

# The outline of conftest with comments in it: accepting must keep them.
COMMENTED = (
    "# A test brief, with comments that must survive.\n"
    + OUTLINE.replace("sections:\n", "sections:  # in reading order\n")
    .replace("      - excerpt:\n          source: lavrov\n",
             "      # the Lavrov quote\n      - excerpt:\n          source: lavrov\n")
    .replace("          note: The dash", "          # a note follows\n          note: The dash")
)
# Sources reworded so that each of the outline's two quotes is `changed`.
LAVROV_NOW = SOURCE_A.replace("does continue to partner", "does continue to partner closely")
ENERGY_NOW = SOURCE_B.replace("are most important", "are the most important")
HISTORY_NEW = "The US does continue to partner closely with Iraq against ISIS."
ENERGY_NEW = "Three key projects are the most important \u2013 Lukoil's investment in West Qurna-2."


def make(tmp_path: Path, lavrov: str = LAVROV_NOW, energy: str = ENERGY_NOW,
         outline: str = COMMENTED) -> Path:
    return write_project(tmp_path / "brief", outline,
                         {"lavrov.txt": lavrov, "energy.txt": energy})


def outline_text(project: Path) -> str:
    return (project / "content" / "brief.yaml").read_text(encoding="utf-8")


def statuses(project: Path) -> list[tuple[str, str]]:
    result = run("check", "--json", cwd=project)
    return [(e["section"], e["status"]) for e in json.loads(result.stdout)["excerpts"]]


def changed_lines(before: str, after: str) -> set[int]:
    """1-based numbers of the lines of `before` that differ in `after`."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    lines = set()
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag != "equal":
            lines.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return lines


def quote_lines(text: str) -> list[tuple[int, int]]:
    """(first, last) line of every quote: its `quote:` line and any continuation lines."""
    lines = text.splitlines()
    spans = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("quote:"):
            indent = _indent(line)
            end = i
            while end + 1 < len(lines) and _indent(lines[end + 1]) > indent:
                end += 1
            spans.append((i + 1, end + 1))
    return spans


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# --- round trip ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    (REPO / "content" / "brief.yaml").read_text(encoding="utf-8"), OUTLINE, COMMENTED,
], ids=["content/brief.yaml", "OUTLINE", "OUTLINE with comments"])
def test_unchanged_round_trip_is_byte_identical(text):
    assert round_trip(text) == text


# --- the command -----------------------------------------------------------------------------

def test_accept_all_rewrites_only_the_changed_quotes(tmp_path):
    project = make(tmp_path)
    before = outline_text(project)
    assert statuses(project) == [("history", "changed"), ("energy", "changed")]

    result = run("accept", "--all", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "content/brief.yaml:22:18: accepted history #1 (lavrov)",
        "content/brief.yaml:31:18: accepted energy #1 (energy)",  # the quote above lost a line
        "accepted 2 excerpts in content/brief.yaml",
    ]
    after = outline_text(project)
    # Only the quotes' own lines changed; every comment is still there.
    old_quotes = quote_lines(before)
    assert changed_lines(before, after) <= {n for a, b in old_quotes for n in range(a, b + 1)}
    for line in before.splitlines():
        if line.lstrip().startswith("#") or "  # " in line:
            assert line in after.splitlines()
    assert "            The US does continue to partner closely with Iraq against ISIS.\n" in after
    assert ("          quote: >-\n            Three key projects are the most important \u2013 "
            "Lukoil's investment in West\n            Qurna-2.\n") in after
    outline = read_outline(project / "content" / "brief.yaml", Diagnostics())
    assert [e.quote for _, e in outline.excerpts] == [HISTORY_NEW, ENERGY_NEW]

    assert statuses(project) == [("history", "verified"), ("energy", "verified")]
    check = run("check", cwd=project)
    assert check.returncode == 0 and check.stderr == ""
    # A second run has nothing to do and leaves the file alone.
    again = run("accept", "--all", cwd=project)
    assert again.returncode == 0
    assert again.stdout == "nothing to accept in content/brief.yaml; 2 already verified\n"
    assert outline_text(project) == after


def test_accept_one_excerpt(tmp_path):
    project = make(tmp_path)
    before = outline_text(project)
    result = run("accept", "--excerpt", "energy:1", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "content/brief.yaml:32:18: accepted energy #1 (energy)",
        "accepted 1 excerpt in content/brief.yaml",
    ]
    assert changed_lines(before, outline_text(project)) == {32}
    assert statuses(project) == [("history", "changed"), ("energy", "verified")]


def test_accept_by_source(tmp_path):
    project = make(tmp_path)
    before = outline_text(project)
    result = run("accept", "--source", "lavrov", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "content/brief.yaml:22:18: accepted history #1 (lavrov)",
        "accepted 1 excerpt in content/brief.yaml",
    ]
    assert changed_lines(before, outline_text(project)) == {23, 24}
    assert statuses(project) == [("history", "verified"), ("energy", "changed")]


def test_dry_run_writes_nothing(tmp_path):
    project = make(tmp_path)
    path = project / "content" / "brief.yaml"
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    result = run("accept", "--all", "--dry-run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "content/brief.yaml:22:18: would accept history #1 (lavrov): The US does continue to "
        "partner {+closely+} with Iraq against ISIS.",
        "content/brief.yaml:32:18: would accept energy #1 (energy): Three key projects are "
        "{+the+} most important \u2013 Lukoil's investment in West Qurna-2.",  # the source's dash
        "would accept 2 excerpts in content/brief.yaml (dry run: nothing written)",
    ]
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in path.parent.iterdir()) == ["brief.yaml", "sources"]


def test_missing_excerpt_is_an_error_but_the_others_are_accepted(tmp_path):
    gone = SOURCE_A.replace("The US does continue to partner with Iraq against ISIS.",
                            "Washington stays on.")
    project = make(tmp_path, lavrov=gone)
    result = run("accept", "--all", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "content/brief.yaml:32:18: accepted energy #1 (energy)",
        "accepted 1 excerpt in content/brief.yaml; 1 missing (cannot be accepted)",
    ]
    [error] = result.stderr.splitlines()
    assert error.startswith("content/brief.yaml:22:18: error: cannot accept history #1 (lavrov): "
                            "the quote is not in the source")
    assert statuses(project) == [("history", "missing"), ("energy", "verified")]
    # Selecting only the missing one writes nothing and still fails.
    before = outline_text(project)
    only = run("accept", "--excerpt", "history:1", cwd=project)
    assert only.returncode == 1
    assert only.stdout == (
        "nothing to accept in content/brief.yaml; 1 missing (cannot be accepted)\n")
    assert outline_text(project) == before


def test_ambiguous_excerpt_is_left_with_a_warning(tmp_path):
    twice = SOURCE_A + "The US does continue to partner with Iraq against ISIS.\n"
    project = make(tmp_path, lavrov=twice)
    before = outline_text(project)
    result = run("accept", "--source", "lavrov", cwd=project)
    assert result.returncode == 0
    assert result.stdout == (
        "nothing to accept in content/brief.yaml; 1 ambiguous (left as is)\n")
    assert result.stderr == (
        "content/brief.yaml:22:18: warning: left history #1 (lavrov) as it is: its passage "
        "occurs 2 times in source 'lavrov', so there is no one wording to accept; "
        "quote a longer passage\n")
    assert outline_text(project) == before


@pytest.mark.parametrize("args, message", [
    ((), "give exactly one of --all, --excerpt SECTION:INDEX, --source ID"),
    (("--all", "--source", "lavrov"), "give exactly one of"),
    (("--excerpt", "energy"), "--excerpt wants SECTION:INDEX"),
    (("--excerpt", "energy:0"), "--excerpt wants SECTION:INDEX"),
    (("--excerpt", "enrgy:1"), "no section 'enrgy' in the outline (did you mean 'energy'?)"),
    (("--excerpt", "energy:2"), "section 'energy' has 1 excerpt, so there is no excerpt energy:2"),
    (("--source", "lavrof"), "no excerpt quotes source 'lavrof' (did you mean 'lavrov'?)"),
    (("--bogus",), "No such option '--bogus'"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    project = make(tmp_path)
    before = outline_text(project)
    result = run("accept", *args, cwd=project)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert outline_text(project) == before


def test_no_project_is_a_usage_error(tmp_path):
    result = run("accept", "--all", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "no outline at" in result.stderr


def test_broken_outline_is_reported_not_rewritten(tmp_path):
    project = make(tmp_path, outline="title: [unclosed\nsections: []\n")
    result = run("accept", "--all", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("content/brief.yaml:2:9: error: YAML:")
    assert outline_text(project) == "title: [unclosed\nsections: []\n"


# --- the library: styles and formatting kept --------------------------------------------------

def places(text: str, tmp_path: Path) -> list[tuple[int, int]]:
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    outline = read_outline(path, Diagnostics())
    return [(e.quote_place.line, e.quote_place.col) for _, e in outline.excerpts]


def test_library_call_and_selection(tmp_path):
    project = make(tmp_path)
    result = accept(project, Selection(source="energy"), dry_run=True)
    assert [(o.label, o.action) for o in result.outcomes] == [("energy #1 (energy)", "accepted")]
    assert result.accepted[0].new_quote == ENERGY_NEW
    assert not result.written and result.after != result.before
    assert outline_text(project) == result.before
    with pytest.raises(UsageError):
        Selection.excerpt("energy:x")
    assert Selection.excerpt("regional-dynamics:12") == Selection("regional-dynamics", 12)


ODD = (
    "title:   'Spaced out'    # aligned comment\n"
    "sections:\n"
    "- id: one\n"
    "  title: One\n"
    "  content:\n"
    "  - excerpt:\n"
    "        source: a\n"
    "        quote: \"double quoted\"   # keep me\n"
    "  - excerpt: {source: a, quote: flow style}\n"
    "  - excerpt:\n"
    "        source: a\n"
    "        quote: >-   # header comment\n"
    "          folded\n"
    "          quote\n"
    "\n"
    "        # between\n"
    "        note: x\n"
    "  - excerpt:\n"
    "        source: a\n"
    "        quote: 'single'\n"
    "  - excerpt:\n"
    "        source: a\n"
    "        quote: plain\n"
    "keywords: [a,   b]\n"
)


def test_rewrite_keeps_unusual_formatting_byte_for_byte(tmp_path):
    assert round_trip(ODD) != ODD  # ruamel alone would normalise this file
    at = places(ODD, tmp_path)
    new = ["now: with a colon", "flow, \"quoted\"", "a folded one", "it's", "# not a comment"]
    after, moved = rewrite(ODD, dict(zip(at, new, strict=True)))
    assert after == (
        ODD.replace('"double quoted"', '"now: with a colon"')
        .replace("{source: a, quote: flow style}", "{source: a, quote: 'flow, \"quoted\"'}")
        .replace(">-   # header comment\n          folded\n          quote\n",
                 ">-   # header comment\n          a folded one\n")
        .replace("'single'", "'it''s'")
        .replace("quote: plain", "quote: '# not a comment'")
    )
    assert moved[at[2]] == at[2] and moved[at[3]] == (at[3][0] - 1, at[3][1])
    (tmp_path / "brief.yaml").write_text(after, encoding="utf-8")
    got = read_outline(tmp_path / "brief.yaml", Diagnostics())
    assert [e.quote for _, e in got.excerpts] == new


def test_rewrite_keeps_crlf_and_bom(tmp_path):
    project = make(tmp_path)
    path = project / "content" / "brief.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + COMMENTED.replace("\n", "\r\n").encode("utf-8"))
    result = run("accept", "--all", cwd=project)
    assert result.returncode == 0, result.stderr
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\n") == data.count(b"\r\n")
    expected = accept_text(COMMENTED, tmp_path)
    assert data == b"\xef\xbb\xbf" + expected.replace("\n", "\r\n").encode("utf-8")
    assert statuses(project) == [("history", "verified"), ("energy", "verified")]


def accept_text(outline: str, tmp_path: Path) -> str:
    """What `accept --all` makes of `outline` (LF, no BOM) in the reworded project."""
    project = make(tmp_path / "plain", outline=outline)
    accept(project)
    return outline_text(project)


def test_one_line_quote_stays_one_line_when_it_fits(tmp_path):
    short = COMMENTED.replace(
        "quote: Three key projects are most important - Lukoil's investment in West Qurna-2.",
        "quote: \"Three key projects are most important\"")
    energy = SOURCE_B.replace("key projects", "main projects")
    project = make(tmp_path, outline=short, energy=energy)
    accept(project, Selection(source="energy"))
    assert '          quote: "Three main projects are most important"\n' in outline_text(project)
    assert statuses(project)[1] == ("energy", "verified")


def test_every_quote_of_the_example_can_be_rewritten(tmp_path):
    """Rewrite all 24 quotes of content/brief.yaml at once: only their lines change."""
    text = (REPO / "content" / "brief.yaml").read_text(encoding="utf-8")
    at = places(text, tmp_path)
    assert len(at) > 10
    new = {p: f"Reworded quote number {i}, " + "with many more words " * (i % 5) + "to wrap."
           for i, p in enumerate(at)}
    after, _ = rewrite(text, new)
    (tmp_path / "brief.yaml").write_text(after, encoding="utf-8")
    outline = read_outline(tmp_path / "brief.yaml", Diagnostics())
    assert [e.quote for _, e in outline.excerpts] == list(new.values())
    spans = {n for a, b in quote_lines(text) for n in range(a, b + 1)}
    assert changed_lines(text, after) <= spans
    new_lines = [line for line in after.splitlines() if "Reworded" in line or "to wrap" in line]
    assert max(len(line) for line in new_lines) <= 90


def test_accept_in_the_example_brief(example_copy):
    source = next((example_copy / "content" / "sources").glob("primakov*"))
    text = source.read_text(encoding="utf-8")
    assert "Three key projects are most important" in text
    source.write_text(text.replace("Three key projects are most important",
                                   "Three key projects are the most important"), encoding="utf-8")
    before = outline_text(example_copy)
    result = run("accept", "--all", cwd=example_copy)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    after = outline_text(example_copy)
    spans = {n for a, b in quote_lines(before) for n in range(a, b + 1)}
    assert changed_lines(before, after) and changed_lines(before, after) <= spans
    assert set(s for _, s in statuses(example_copy)) == {"verified"}


@pytest.mark.parametrize("width", [30, 60, 78])
def test_fold_positions_fit_the_width(width):
    text = "word " * 40 + "a-very-long-unbreakable-token-" * 3 + " end"
    breaks = _fold_positions(text, width)
    bounds = [0, *(b + 1 for b in breaks), len(text) + 1]
    pieces = [text[a:b - 1] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert all(text[b] == " " for b in breaks)
    assert all(len(p) <= width or " " not in p for p in pieces)


def test_excerpt_with_an_unknown_source_cannot_be_accepted(tmp_path):
    outline = COMMENTED.replace("      - key: Ties matter [@energy].\n",
                                "      - excerpt:\n          source: nosuch\n"
                                "          quote: Not checked.\n"
                                "      - key: Ties matter [@energy].\n")
    project = make(tmp_path, outline=outline)
    result = run("accept", "--all", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "accepted 2 excerpts in content/brief.yaml; "
        "1 not checked (source unknown or unreadable)")
    assert result.stderr.splitlines() == [
        "content/brief.yaml:26:18: error: cannot accept history #2 (nosuch): source 'nosuch' is "
        "unknown or could not be read (briefgen check says why)"]
    assert "          quote: Not checked.\n" in outline_text(project)
