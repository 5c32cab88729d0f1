"""Incremental builds: no work when nothing changed, stale outputs rebuilt, hand edits repaired."""

import json
import subprocess
import sys

import pytest
from conftest import OUTLINE, SOURCE_A, write_project

from briefgen.build import build
from briefgen.errors import BriefgenError

NOOP_IMPORTS = """
import sys
from briefgen.build import build
result = build(sys.argv[1])
heavy = [m for m in ("weasyprint", "jinja2", "markdown", "rapidfuzz", "yaml") if m in sys.modules]
print(result.skipped, heavy)
"""


def outputs(project):
    return {p.name: p.read_bytes() for p in (project / "output").iterdir() if p.is_file()}


def test_noop_build_does_nothing_and_imports_nothing_heavy(project):
    build(project)
    before = outputs(project)
    result = subprocess.run(
        [sys.executable, "-c", NOOP_IMPORTS, str(project)], capture_output=True, text=True
    )
    assert result.stdout.strip() == "True []", result.stderr
    assert outputs(project) == before


def test_cli_says_nothing_changed(project):
    build(project, pdf=False)
    result = subprocess.run(
        [sys.executable, "-m", "briefgen", "build", "--no-pdf", str(project)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("nothing changed since the last build")


def test_touching_a_file_without_changing_it_is_not_a_change(project):
    build(project, pdf=False)
    source = project / "content" / "sources" / "lavrov.txt"
    source.write_text(source.read_text())
    assert build(project, pdf=False).skipped


def test_edited_source_rebuilds(project):
    build(project, pdf=False)
    write_project(project, sources={"lavrov.txt": SOURCE_A + "\nA new paragraph.\n"})
    result = build(project, pdf=False)
    assert not result.skipped
    assert [p.name for p in result.written] == ["brief.html", "report.html"]
    assert result.report.sources.changed == ("lavrov.txt",)


def test_only_outputs_whose_inputs_changed_are_rebuilt(project):
    build(project)
    (project / "templates").mkdir()
    (project / "templates" / "print.css").write_text(_builtin("print.css") + "\n/* mine */\n")
    result = build(project)
    assert sorted(p.name for p in result.written) == ["brief.pdf", "print.html", "report.html"]


def _builtin(name):
    from briefgen.project import builtin_templates

    return (builtin_templates() / name).read_text()


def test_output_deleted_or_edited_by_hand_is_repaired(project):
    build(project, pdf=False)
    html = project / "output" / "brief.html"
    good = html.read_bytes()
    html.write_text("edited by hand")
    assert not build(project, pdf=False).skipped
    assert html.read_bytes() == good
    html.unlink()
    assert [p.name for p in build(project, pdf=False).written][0] == "brief.html"
    assert html.read_bytes() == good


def test_force_rebuilds_everything(project):
    build(project, pdf=False)
    result = build(project, pdf=False, force=True)
    assert [p.name for p in result.written] == ["brief.html", "report.html"]


def test_state_records_hashes_and_anchors(project):
    build(project, pdf=False)
    state = json.loads((project / "output" / ".briefgen" / "state.json").read_text())
    assert set(state["fingerprint"]["sources"]) == {"lavrov.txt", "energy.txt"}
    assert len(state["fingerprint"]["outline"]) == 64
    assert "brief.html.j2" in state["fingerprint"]["templates"]
    record = state["excerpts"][0]
    assert record["text"] == "The US does continue to partner with Iraq against ISIS."
    assert record["prefix"].endswith("important trip.\n")
    assert record["suffix"].startswith("\n\nEnergy is the heart")
    assert set(state["outputs"]) == {"brief.html"}


def test_warnings_are_replayed_on_a_noop_and_strict_fails(project):
    write_project(project, OUTLINE.replace("against ISIS.", "against ISIS, officials said."))
    first = build(project, pdf=False)
    assert [w.severity for w in first.warnings] == ["warning"]
    again = build(project, pdf=False)
    assert again.skipped
    assert [w.message for w in again.warnings] == [w.message for w in first.warnings]
    with pytest.raises(BriefgenError):
        build(project, pdf=False, strict=True)


def test_other_files_under_content_count_as_inputs(project):
    logo = project / "content" / "logo.svg"
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    build(project, pdf=False)
    assert build(project, pdf=False).skipped
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='2'/>")
    assert not build(project, pdf=False).skipped
