"""The command line as an editor meets it: exit codes, stdout and the exact error lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run
from conftest import OUTLINE, write_project


def errors_for(project: Path, outline: str) -> tuple[int, list[str]]:
    (project / "content" / "brief.yaml").write_text(outline, encoding="utf-8")
    result = run("check", cwd=project)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr.splitlines()


def test_check_reports_counts(project):
    result = run("check", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 excerpts checked: 2 verified"
    assert result.stderr == ""


def test_check_json_lists_every_excerpt(project):
    result = run("check", "--json", cwd=project)
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert [(e["section"], e["source"], e["status"], e["line"]) for e in data["excerpts"]] == [
        ("history", "lavrov", "verified", 20),
        ("energy", "energy", "verified", 30),
    ]
    assert data["excerpts"][1]["text"].startswith("Three key projects are most important \u2013")
    assert data["excerpts"][0]["score"] == 1.0


def test_yaml_syntax_error(project):
    code, lines = errors_for(project, "title: [unclosed\nsections: []\n")
    assert code == 1
    assert lines == [
        "content/brief.yaml:2:9: error: YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence)"
    ]


def test_misspelt_keys_suggest_the_right_one(project):
    code, lines = errors_for(
        project,
        OUTLINE.replace("subtitle:", "subtitel:").replace("    title: Energy", "    titel: Energy"),
    )
    assert code == 1
    assert lines == [
        "content/brief.yaml:2:1: error: unknown key 'subtitel' in the outline "
        "(did you mean 'subtitle' or 'title'?)",
        "content/brief.yaml:24:5: error: section 2 is missing the required key 'title'",
        "content/brief.yaml:25:5: error: unknown key 'titel' in section 2 (did you mean 'title'?)",
    ]


def test_missing_required_fields(project):
    code, lines = errors_for(project, "subtitle: x\n")
    assert code == 1
    assert lines == [
        "content/brief.yaml:1:1: error: the outline is missing the required key 'sections'",
        "content/brief.yaml:1:1: error: the outline is missing the required key 'title'",
    ]


def test_unknown_source_lists_close_ids(project):
    code, lines = errors_for(
        project,
        OUTLINE.replace("source: energy", "source: enrgy").replace(
            "[@lavrov, p. 2]", "[@lavorv, p. 2]"
        ),
    )
    assert code == 1
    assert lines == [
        "content/brief.yaml:17:35: error: unknown source 'lavorv' in citation "
        "(did you mean 'lavrov'?)",
        "content/brief.yaml:29:19: error: unknown source 'enrgy' (did you mean 'energy'?)",
    ]


def test_quote_not_found_shows_closest_passage(project):
    code, lines = errors_for(
        project,
        OUTLINE.replace(
            "Three key projects are most important - Lukoil's investment in West Qurna-2.",
            "The moon is made of green cheese, say the officials.",
        ),
    )
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(
        "content/brief.yaml:30:18: error: quote not found in source "
        "'energy' (energy.txt); the closest passage ("
    )
    assert '% match) is: "' in lines[0]


def test_duplicate_section_ids(project):
    code, lines = errors_for(project, OUTLINE.replace("id: energy", "id: history"))
    assert code == 1
    assert lines == [
        "content/brief.yaml:24:9: error: duplicate section id 'history' "
        "(first used on line 13); section ids must be unique"
    ]


def test_all_errors_reported_in_one_run(project):
    code, lines = errors_for(
        project,
        OUTLINE.replace("subtitle:", "subtitel:")
        .replace("id: energy", "id: history")
        .replace("source: energy", "source: enrgy"),
    )
    assert code == 1
    assert [line.split(": error:")[0] for line in lines] == [
        "content/brief.yaml:2:1",
        "content/brief.yaml:24:9",
        "content/brief.yaml:29:19",
    ]


def test_template_error_names_template_and_line(project):
    (project / "templates").mkdir()
    (project / "templates" / "brief.html.j2").write_text("<html>\n<p>{{ brief.titel }}</p>\n")
    result = run("build", "--no-pdf", cwd=project)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "templates/brief.html.j2:2:1: error: template: 'dict object' has no attribute 'titel'"
    ]


def test_template_syntax_error(project):
    (project / "templates").mkdir()
    (project / "templates" / "brief.html.j2").write_text("<html>\n{% if x %}\n</html>\n")
    result = run("build", "--no-pdf", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "templates/brief.html.j2:3:1: error: template syntax: Unexpected end of template."
    )


@pytest.mark.parametrize(
    "args", [["build", "no-such-folder"], ["check", "no-such-folder"], ["bild"], ["check", "--jsn"]]
)
def test_usage_errors_exit_2(project, args):
    result = run(*args, cwd=project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "error" in result.stderr.lower()


def test_folder_without_outline_is_a_usage_error(tmp_path):
    result = run("check", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "content/brief.yaml" in result.stderr


def test_warning_for_ambiguous_quote_and_strict(project):
    outline = OUTLINE.replace(
        "The US does continue to partner with Iraq\n            against ISIS.", "Iraq"
    )
    (project / "content" / "brief.yaml").write_text(outline)
    result = run("check", cwd=project)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "content/brief.yaml:20:18: warning: quote occurs 2 times in source 'lavrov'; "
        "quote a longer passage so it is found once"
    ]
    strict = run("check", "--strict", cwd=project)
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [
        "content/brief.yaml:20:18: error: quote occurs 2 times in source 'lavrov'; "
        "quote a longer passage so it is found once"
    ]


def test_build_writes_both_outputs(project):
    result = run("build", cwd=project)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 excerpts checked: 2 verified"
    assert lines[1].startswith("wrote output/brief.html, output/brief.pdf, output/report.html in ")
    assert (project / "output" / "brief.pdf").read_bytes().startswith(b"%PDF-")


def test_failed_build_keeps_previous_outputs_byte_for_byte(project):
    assert run("build", cwd=project).returncode == 0
    before = {p.name: p.read_bytes() for p in (project / "output").glob("brief.*")}
    write_project(project, OUTLINE.replace("against ISIS.", "against everyone, always."))
    (project / "content" / "sources" / "energy.txt").write_text("no front matter\n")
    result = run("build", cwd=project)
    assert result.returncode == 1
    after = {p.name: p.read_bytes() for p in (project / "output").glob("brief.*")}
    assert after == before
    assert not list((project / "output").glob(".*.tmp"))
