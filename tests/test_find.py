"""Full-text search (briefgen.search, `briefgen find`): passages, offsets, excerpts that verify,
the incremental index, hostile queries, Unicode, and the command line."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from cli_run import run
from conftest import OUTLINE, SOURCE_A, SOURCE_B, write_project

from briefgen.build import check
from briefgen.errors import Diagnostics, UsageError
from briefgen.project import open_project
from briefgen.search import (
    INDEX_NAME,
    SearchIndex,
    cut_passages,
    excerpt_yaml,
    find,
    parse_query,
)
from briefgen.sources import read_sources


def sources_of(root: Path) -> dict:
    return read_sources(open_project(root), Diagnostics())


def index_path(root: Path) -> Path:
    return root / "output" / ".briefgen" / INDEX_NAME


def with_excerpt(outline: str, block: str) -> str:
    """The outline with `block` appended to the last section's content."""
    return outline.rstrip("\n") + "\n" + block


# --- finding passages --------------------------------------------------------------------------


def test_finds_the_passage_with_its_offsets(project):
    hits = find(project, "partner").hits
    assert [h.source for h in hits] == ["lavrov"]
    hit = hits[0]
    text = sources_of(project)["lavrov"].text
    assert text[hit.start : hit.end] == hit.text
    assert "The US does continue to partner with Iraq against ISIS." in hit.text
    assert hit.title == "Lavrov in Baghdad"
    assert hit.score > 0 and hit.unique


def test_every_hit_is_the_sources_own_text(example_copy):
    sources = sources_of(example_copy)
    for query in ("Iraq", "West Qurna", "invest*", '"Foreign Minister"', "sanctions OPEC"):
        hits = find(example_copy, query, limit=20).hits
        assert hits, query
        for hit in hits:
            assert sources[hit.source].text[hit.start : hit.end] == hit.text
            assert hit.title == sources[hit.source].meta.title


def test_best_passage_first(example_copy):
    hits = find(example_copy, "Lukoil West Qurna Gazprom Badr").hits
    assert hits[0].source == "primakov-2024-russia-iraq"
    assert "Three key projects are most important" in hits[0].text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_phrase_queries(project):
    hits = find(project, '"continue to partner"').hits
    assert [h.source for h in hits] == ["lavrov"]
    assert find(project, '"partner to continue"').hits == []  # the words, not in that order
    # an unclosed phrase is still a phrase
    assert [h.source for h in find(project, '"heart of the relationship').hits] == ["lavrov"]


def test_prefix_and_case_and_punctuation(project):
    assert [h.source for h in find(project, "Luk*").hits] == ["energy"]
    assert [h.source for h in find(project, "LUKOIL").hits] == ["energy"]
    assert find(project, "Luk").hits == []  # a word is a whole word unless it ends in *
    assert [h.source for h in find(project, "Qurna-2").hits] == ["energy"]


def test_all_words_first_then_some(project):
    result = find(project, "energy ISIS")  # no single passage has both
    assert result.hits and not result.all_terms
    assert find(project, "partner ISIS").all_terms


def test_limit(example_copy):
    assert len(find(example_copy, "Iraq", limit=3).hits) == 3


# --- the excerpt block -------------------------------------------------------------------------


def test_excerpt_block_verifies_as_pasted(project):
    hit = find(project, "Energy heart").hits[0]
    block = hit.excerpt_yaml
    assert block.startswith("      - excerpt:\n          source: lavrov\n          quote: >-\n")
    assert all(len(line) <= 90 for line in block.splitlines())
    (project / "content" / "brief.yaml").write_text(with_excerpt(OUTLINE, block), encoding="utf-8")
    report = check(project)
    assert not report.diagnostics, [d.format() for d in report.diagnostics]
    last = report.excerpts[-1]
    assert last.anchor.status == "verified"
    assert (last.anchor.start, last.anchor.end) == (hit.start, hit.end)
    assert last.anchor.text == hit.text


def test_every_passage_of_the_example_verifies(example_copy):
    """Cut every example source into passages; an outline quoting all of them checks clean."""
    blocks = []
    for sid, source in sources_of(example_copy).items():
        passages = cut_passages(source.text)
        assert passages and all(p.unique for p in passages)
        blocks += [excerpt_yaml(sid, source.text[p.start : p.end]) for p in passages]
    outline = "title: All\nsections:\n  - id: all\n    title: All\n    content:\n" + "".join(blocks)
    (example_copy / "content" / "brief.yaml").write_text(outline, encoding="utf-8")
    report = check(example_copy)
    assert report.counts() == {"verified": len(blocks)}
    assert not report.diagnostics


def test_long_quote_is_wrapped_and_verifies(example_copy):
    hit = find(example_copy, "sovereignty foreign affairs neighboring", limit=1).hits[0]
    block = hit.excerpt_yaml
    assert len(block.splitlines()) > 4  # wrapped over several lines
    assert all(len(line) <= 90 for line in block.splitlines())
    outline = (example_copy / "content" / "brief.yaml").read_text(encoding="utf-8")
    (example_copy / "content" / "brief.yaml").write_text(with_excerpt(outline, block), "utf-8")
    report = check(example_copy)
    assert report.excerpts[-1].anchor.status == "verified"
    assert report.excerpts[-1].anchor.text == hit.text


REPEATED = "This sentence is said twice in the source, word for word, " * 3
REPEATING_SOURCE = f"""\
---
title: Repeats
---
{REPEATED.strip()}. It is the first time.

{REPEATED.strip()}. It is the second time.
"""


def test_repeated_text_is_extended_until_unique(tmp_path):
    root = write_project(tmp_path / "b", sources={"rep.txt": REPEATING_SOURCE, **_ab()})
    text = sources_of(root)["rep"].text
    passages = cut_passages(text)
    assert all(p.unique for p in passages)
    assert all(text.count(text[p.start : p.end]) == 1 for p in passages)
    hits = find(root, "twice second").hits
    assert hits and hits[0].text.endswith("It is the second time.")
    (root / "content" / "brief.yaml").write_text(
        with_excerpt(OUTLINE, hits[0].excerpt_yaml), encoding="utf-8"
    )
    assert check(root).excerpts[-1].anchor.status == "verified"


def test_characters_yaml_cannot_hold_are_escaped(tmp_path):
    body = "The bell \x07 rang twice in the old tower at noon."
    root = write_project(
        tmp_path / "b", sources={"bell.txt": f"---\ntitle: Bell\n---\n{body}\n", **_ab()}
    )
    hit = find(root, "bell").hits[0]
    assert '"The bell \\x07 rang' in hit.excerpt_yaml
    (root / "content" / "brief.yaml").write_text(
        with_excerpt(OUTLINE, hit.excerpt_yaml), encoding="utf-8"
    )
    assert check(root).excerpts[-1].anchor.status == "verified"


# --- Unicode -----------------------------------------------------------------------------------

UNICODE_SOURCE = """\
---
title: "Россия и Ирак"
---
Россия и Ирак подписали соглашение о ёмкости нефтепровода в Басре.

وقّع العراق وروسيا اتفاقية جديدة في بغداد. قال مُحَمَّد إن الاتفاق مهم.

The café in Baghdad served naïve visitors a crème brûlée.
"""


def _ab() -> dict[str, str]:
    return {"lavrov.txt": SOURCE_A, "energy.txt": SOURCE_B}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Россия", "Россия и Ирак"),
        ("россия ирак", "Россия и Ирак"),
        ("емкости", "ёмкости"),  # е for ё, as Russian is often typed
        ("нефтепров*", "нефтепровода"),
        ('"подписали соглашение"', "подписали"),
        ("بغداد", "بغداد"),
        ("محمد", "مُحَمَّد"),  # without the harakat
        ("cafe creme brulee", "café"),
        ("NAIVE", "naïve"),
    ],
)
def test_unicode_queries(tmp_path, query, expected):
    root = write_project(tmp_path / "b", sources={"ru.txt": UNICODE_SOURCE, **_ab()})
    hits = find(root, query).hits
    assert hits and hits[0].source == "ru"
    assert expected in hits[0].text
    text = sources_of(root)["ru"].text
    assert text[hits[0].start : hits[0].end] == hits[0].text


def test_unicode_excerpts_verify(tmp_path):
    root = write_project(tmp_path / "b", sources={"ru.txt": UNICODE_SOURCE, **_ab()})
    blocks = "".join(h.excerpt_yaml for h in find(root, "ирак OR بغداد OR café").hits)
    # "OR" is a word here, so the fallback (some of the words) finds the three passages
    assert blocks.count("- excerpt:") == 3
    (root / "content" / "brief.yaml").write_text(with_excerpt(OUTLINE, blocks), "utf-8")
    report = check(root)
    assert [e.anchor.status for e in report.excerpts[-3:]] == ["verified"] * 3


def test_highlighted_snippet(tmp_path):
    root = write_project(tmp_path / "b", sources={"ru.txt": UNICODE_SOURCE, **_ab()})
    hit = find(root, "cafe brul*").hits[0]
    assert hit.snippet("<", ">") == "The <café> in Baghdad served naïve visitors a crème <brûlée>."
    hit = find(root, "محمد").hits[0]
    assert "<مُحَمَّد>" in hit.snippet("<", ">")


def test_folded_slices_are_folded_text():
    """The passage folding used for uniqueness equals textnorm.fold on every span of words."""
    import re

    from briefgen.search import folded_slice
    from briefgen.textnorm import fold, normalize

    text = (
        "Cafe\u0301 au lait\u00a0est bon. \u00a8Odd start here. The \ufb01nal word\u200b is "
        "\u201cquoted\u201d \u2014 yes! E\u0301tude\u0301 of \u0401\u043b\u043a\u0430. "
        "\u0645\u064f\u062d\u064e\u0645\u0651\u064e\u062f said so.\n\nNext  para\u2009with "
        "thin space. Mr. Smith went. A b\u0308\u0301c done."
    )
    normalized = normalize(text)
    words = list(re.finditer(r"\S+", text))
    for a in words:
        for b in words:
            if b.end() > a.start():
                span = (a.start(), b.end())
                assert folded_slice(normalized, *span) == fold(text[slice(*span)]), span


# --- hostile queries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ['"', "*", "-", ")", "(", '""', "  ", "^", ":", "{}", "+", "''", "* * *", "…"],
)
def test_queries_without_words_are_usage_errors(project, query):
    with pytest.raises(UsageError, match="nothing to search for"):
        find(project, query)


@pytest.mark.parametrize(
    "query",
    [
        "OR",
        "AND",
        "NOT",
        "partner OR",
        "NEAR(partner ISIS)",
        "NEAR(partner, 2)",
        "-partner",
        "partner)",
        "(partner",
        'partner"',
        '"partner',
        "body:partner",
        "^partner",
        "{body}: partner",
        "partner*)",
        "par*tner",
        "partner + ISIS",
        "a" * 2000,
        "'; DROP TABLE passage; --",
        "\x00partner",
    ],
)
def test_hostile_queries_never_break_the_search(project, query):
    result = find(project, query)
    assert isinstance(result.hits, list)
    if "partner" in query and "*" not in query[:-2] and "body:" not in query:
        assert result.hits, query
    assert find(project, "partner").hits  # the index survived


def test_terms_are_quoted_fts_strings():
    assert [t.fts() for t in parse_query('West "Qurna-2 project" Luk* OR NEAR(')] == [
        '"west"',
        '"qurna 2 project"',
        '"luk"*',
        '"or"',
        '"near"',
    ]


# --- the incremental index ---------------------------------------------------------------------


def test_incremental_updates(project):
    sources = project / "content" / "sources"
    with SearchIndex(project) as index:
        first = index.update()
        assert first.rebuilt
        assert sorted(first.added) == ["energy", "lavrov"]
        assert first.passages == first.total_passages > 0

        again = index.update()  # nothing changed: nothing read, nothing written
        assert (again.added, again.changed, again.removed) == ((), (), ())
        assert again.passages == 0 and again.unchanged == 2 and again.summary() is None

        (sources / "lavrov.txt").touch()  # same bytes: still nothing to do
        assert index.update().indexed == ()

        edited = SOURCE_A.replace("important trip", "important journey")
        (sources / "lavrov.txt").write_text(edited, encoding="utf-8")
        update = index.update()
        assert update.changed == ("lavrov",) and update.added == () and update.unchanged == 1
        assert "lavrov" in update.summary()
        assert index.search("journey")[0].source == "lavrov"
        assert index.search("trip") == []

        (sources / "energy.txt").unlink()
        update = index.update()
        assert update.removed == ("energy",) and update.indexed == ()
        assert index.search("Lukoil") == []
        assert update.sources == 1

        (sources / "more.md").write_text(
            "---\ntitle: More\n---\n# Heading\n\nA *new* source about Lukoil and Basra.\n",
            encoding="utf-8",
        )
        update = index.update()
        assert update.added == ("more",) and update.unchanged == 1
        hit = index.search("Lukoil")[0]
        assert hit.text == "A new source about Lukoil and Basra."
        assert sources_of(project)["more"].text[hit.start : hit.end] == hit.text

        # after all that, the index holds what one made from nothing would
        rows = index.db.execute("SELECT count(*) FROM passage_fts").fetchone()[0]
        assert rows == update.total_passages
        index.db.execute("INSERT INTO passage_fts(passage_fts) VALUES ('integrity-check')")
        with SearchIndex(project, path=project / "fresh.sqlite") as fresh:
            fresh.update()
            for word in ("Russia", "journey", "Lukoil", "ISIS", "officials", "Basra", "trip"):
                assert [(h.source, h.start, h.end) for h in index.search(word)] == [
                    (h.source, h.start, h.end) for h in fresh.search(word)
                ]


def age(root: Path, seconds: int = 3600) -> None:
    """Date every source file `seconds` back (as files saved a while ago are)."""
    for path in (root / "content" / "sources").iterdir():
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 10**9))


def test_nothing_changed_writes_nothing(project):
    age(project)
    find(project, "partner")
    path = index_path(project)
    before = path.read_bytes(), path.stat().st_mtime_ns
    result = find(project, "ISIS")
    assert result.update.indexed == () and result.hits
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_change_that_keeps_size_and_time_is_seen(project):
    age(project)
    path = project / "content" / "sources" / "lavrov.txt"
    find(project, "partner")
    info = path.stat()
    path.write_text(SOURCE_A.replace("partner", "PARTNER"), encoding="utf-8")  # same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # and the old time
    assert path.stat().st_size == info.st_size
    result = find(project, "partner")
    assert result.update.changed == ("lavrov",)
    assert "PARTNER" in result.hits[0].text


def test_an_edit_right_after_indexing_is_seen(project):
    path = project / "content" / "sources" / "lavrov.txt"
    with SearchIndex(project) as index:
        index.update()
        path.write_text(SOURCE_A.replace("partner", "PARTNER"), encoding="utf-8")
        assert index.update().changed == ("lavrov",)
        assert index.update().indexed == ()


def test_the_index_persists_between_processes(project):
    assert run("find", "partner", cwd=project).returncode == 0
    with SearchIndex(project) as index:
        assert index.update().indexed == ()


def test_broken_source_is_left_out_with_a_warning(project):
    bad = project / "content" / "sources" / "bad.txt"
    bad.write_text("no front matter here, about Lukoil\n", encoding="utf-8")
    result = find(project, "Lukoil")
    assert [h.source for h in result.hits] == ["energy"]
    assert [d.severity for d in result.update.problems] == ["warning"]
    assert "bad.txt" in result.update.problems[0].format()
    assert "left out of the search" in result.update.problems[0].message
    again = find(project, "Lukoil")
    assert again.update.indexed == () and len(again.update.problems) == 1  # not read again
    bad.write_text("---\ntitle: Fixed\n---\nLukoil again, in a fixed source.\n", "utf-8")
    fixed = find(project, "Lukoil")
    assert fixed.update.added == ("bad",) and not fixed.update.problems
    assert {h.source for h in fixed.hits} == {"energy", "bad"}


def test_damaged_or_outdated_index_is_rebuilt(project):
    find(project, "partner")
    path = index_path(project)
    path.write_bytes(b"this is not a database" * 100)
    result = find(project, "partner")
    assert result.update.rebuilt and result.hits
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    db.close()
    result = find(project, "partner")
    assert result.update.rebuilt and sorted(result.update.added) == ["energy", "lavrov"]


def test_sources_outside_the_project_are_not_indexed(project, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("---\ntitle: Secret\n---\nThe secret password is swordfish.\n", "utf-8")
    (project / "content" / "sources" / "secret.txt").symlink_to(outside)
    assert find(project, "swordfish").hits == []


# --- the command line --------------------------------------------------------------------------


def test_cli_prints_passages_and_excerpt_blocks(project):
    result = run("find", "partner", cwd=project)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("1. lavrov: Lavrov in Baghdad\n")
    assert "      - excerpt:\n          source: lavrov\n          quote: >-\n" in out
    assert "\x1b[" not in out  # no colours when not on a terminal
    assert "search index: 2 added" in result.stderr
    again = run("find", "partner", cwd=project)
    assert again.stderr == ""  # nothing re-indexed, nothing to say


def test_cli_json(project):
    result = run("find", "Iraq", ".", "--json", "--limit", "1", cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data) == 1
    item = data[0]
    assert set(item) >= {"source", "title", "start", "end", "score", "text", "excerpt_yaml"}
    text = sources_of(project)[item["source"]].text
    assert text[item["start"] : item["end"]] == item["text"]


def test_cli_project_argument_and_no_hits(project, tmp_path):
    result = run("find", "zebra", str(project), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == "" and "no passage matches 'zebra'" in result.stderr
    result = run("find", "zebra", str(project), "--json", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


@pytest.mark.parametrize(
    "args, message",
    [
        (["find", '"'], "nothing to search for"),
        (["find", "--", "-"], "nothing to search for"),
        (["find", "partner", "no-such-folder"], "no-such-folder"),
        (["find", "partner", "--limit", "0"], "--limit"),
        (["find"], "QUERY"),
    ],
)
def test_cli_usage_errors(project, args, message):
    result = run(*args, cwd=project)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
