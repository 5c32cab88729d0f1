"""`briefgen init [DIR]`: the scaffold builds at once, explains itself, and never overwrites."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_run import run

from briefgen import init as init_module
from briefgen.errors import BriefgenError, Diagnostics
from briefgen.init import SCAFFOLD, init
from briefgen.outline import TOP_KEYS, read_outline
from briefgen.project import open_project
from briefgen.sources import META_KEYS, read_sources

TITLE = "Tidal Power in Harbourtown: What a Small Pilot Can Show"
FILES = [
    "content/brief.yaml",
    "content/sources/sample-press-release.txt",
    "templates/README.txt",
    ".gitignore",
]


def listing(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` (folders as None, files with their bytes)."""
    return {
        str(p.relative_to(root)): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def refusal(path: str) -> str:
    return f"{path}:1:1: error: this file exists; briefgen init never overwrites"


@pytest.fixture
def scaffolded(tmp_path) -> Path:
    result = run("init", "brief", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "brief"


def test_init_writes_the_scaffold_and_prints_next_steps(tmp_path):
    result = run("init", "brief", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    root = tmp_path / "brief"
    assert sorted(p for p, data in listing(root).items() if data is not None) == sorted(FILES)
    assert [p.name for p in (root / "templates").iterdir()] == ["README.txt"]
    assert (root / ".gitignore").read_text().splitlines()[-1] == "output/"
    lines = result.stdout.splitlines()
    assert lines[0] == "created a brief project in brief (a new folder):"
    assert [line.split()[0] for line in lines[1:5]] == [f"brief/{f}" for f in FILES]
    assert lines[5] == "next:"
    assert [line.split("  ")[1] for line in lines[6:9]] == [
        "briefgen check brief",
        "briefgen build brief",
        "briefgen serve brief",
    ]


def test_scaffold_package_data_matches_what_init_writes():
    assert [target for _, target, _ in SCAFFOLD] == FILES


def test_outline_and_source_load_with_no_diagnostics(scaffolded):
    diags = Diagnostics()
    outline = read_outline(scaffolded / "content" / "brief.yaml", diags)
    sources = read_sources(open_project(scaffolded), diags)
    assert list(diags) == []
    assert outline.title == TITLE
    assert [s.id for s in outline.sections] == ["the-pilot", "costs-and-review"]
    kinds = {type(b).__name__ + getattr(b, "kind", "") for s in outline.sections for b in s.blocks}
    assert kinds == {"Proseprose", "Excerpt", "Prosekey"}
    assert any(e.note for _, e in outline.excerpts)
    assert list(sources) == ["sample-press-release"]
    meta = sources["sample-press-release"].meta
    assert all([meta.title, meta.publisher, meta.authors, meta.date, meta.url, meta.accessed])
    assert "SAMPLE" in sources["sample-press-release"].text


def test_outline_explains_every_field_in_comments(scaffolded):
    text = (scaffolded / "content" / "brief.yaml").read_text(encoding="utf-8")
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    lines = text.splitlines()
    used = set()
    for i, line in enumerate(lines):
        if key := re.match(r"^([a-z]+):", line):
            used.add(key.group(1))
            assert lines[i - 1].startswith("#"), f"no comment above '{line}'"
    for key in sorted(TOP_KEYS):
        shown = key in used or re.search(rf"^# {key}:", text, re.M)  # live, or to uncomment
        assert shown or f"'{key}'" in comments, (
            f"briefgen/scaffold/brief.yaml does not show or explain the outline key '{key}'"
        )
    for words in ("prose", "excerpt", "key point", "Required", "Optional", "[@"):
        assert words.lower() in comments.lower()


def test_sample_source_explains_every_metadata_field(scaffolded):
    text = (scaffolded / "content" / "sources" / "sample-press-release.txt").read_text("utf-8")
    front = text.split("\n---\n", 1)[0].splitlines()
    for key in sorted(META_KEYS):
        at = next(i for i, line in enumerate(front) if line.startswith((f"{key}:", f"# {key}:")))
        assert front[at - 1].startswith("#"), f"no comment above '{key}:' in the sample source"


def test_check_finds_every_excerpt_verified(scaffolded):
    result = run("check", "--strict", cwd=scaffolded)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4 excerpts checked: 4 verified"
    assert result.stderr == ""
    data = json.loads(run("check", "--json", cwd=scaffolded).stdout)
    assert data["ok"] and data["diagnostics"] == []
    assert {e["status"] for e in data["excerpts"]} == {"verified"}


def test_build_without_pdf(scaffolded):
    result = run("build", "--strict", "--no-pdf", "brief", cwd=scaffolded.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    html = (scaffolded / "output" / "brief.html").read_text(encoding="utf-8")
    assert TITLE in html
    assert "sample-press-release" in html or "Harbourtown switches on" in html
    assert not (scaffolded / "output" / "brief.pdf").exists()


@pytest.mark.pdf
def test_build_with_pdf(scaffolded):
    from pypdf import PdfReader

    result = run("build", "--strict", cwd=scaffolded)
    assert result.returncode == 0, result.stderr
    pdf = PdfReader(scaffolded / "output" / "brief.pdf")
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in pdf.pages))
    assert re.sub(r"\s+", "", TITLE) in text
    assert "Thetidecomesintwiceaday" in text


def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    mine = tmp_path / "content" / "brief.yaml"
    mine.parent.mkdir()
    mine.write_text("title: mine\n", encoding="utf-8")
    before = listing(tmp_path)
    result = run("init", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [refusal("content/brief.yaml")]
    assert listing(tmp_path) == before
    assert mine.read_text(encoding="utf-8") == "title: mine\n"


def test_every_conflict_is_listed(tmp_path):
    project = tmp_path / "brief"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "README.txt").write_text("my notes\n")
    (project / ".gitignore").write_text("*.pyc\n")
    before = listing(tmp_path)
    result = run("init", "brief", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        refusal("brief/templates/README.txt"),
        refusal("brief/.gitignore"),
    ]
    assert listing(tmp_path) == before


def test_a_file_where_a_folder_is_needed_is_a_conflict(tmp_path):
    (tmp_path / "content").write_text("not a folder\n")
    (tmp_path / "taken").write_text("a file\n")
    before = listing(tmp_path)
    here = run("init", cwd=tmp_path)
    there = run("init", "taken", cwd=tmp_path)
    assert (here.returncode, there.returncode) == (1, 1)
    need = "this file exists where briefgen init needs a folder; briefgen init never overwrites"
    assert here.stderr.splitlines() == [f"content:1:1: error: {need}"]
    assert there.stderr.splitlines() == [f"taken:1:1: error: {need}"]
    assert listing(tmp_path) == before


def test_init_beside_unrelated_files(tmp_path):
    (tmp_path / "README.md").write_text("# My notes\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "figures.csv").write_text("year,value\n2026,1\n")
    (tmp_path / "content").mkdir()  # an existing, empty content/ folder is no conflict
    before = listing(tmp_path)
    result = run("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "created a brief project in the current folder:"
    assert "  briefgen build  " in result.stdout
    after = listing(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before
    assert all((tmp_path / f).is_file() for f in FILES)
    check = run("check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "4 excerpts checked: 4 verified"


def test_init_makes_missing_parent_folders(tmp_path):
    result = init(tmp_path / "a" / "b" / "brief")
    assert result.created_root
    assert all((tmp_path / "a" / "b" / "brief" / f).is_file() for f in FILES)


def test_a_file_appearing_during_init_undoes_what_was_written(tmp_path, monkeypatch):
    """Files are created exclusively: a file made after the check is kept, the rest removed."""
    project = tmp_path / "brief"
    real = init_module.conflicts
    calls = []

    def racy(root, targets):
        calls.append(root)
        if len(calls) == 1:  # the check passes; then another program writes .gitignore
            project.mkdir()
            (project / ".gitignore").write_text("theirs\n")
            return []
        return real(root, targets)

    monkeypatch.setattr(init_module, "conflicts", racy)
    with pytest.raises(BriefgenError) as caught:
        init(project)
    assert [d.message for d in caught.value.diagnostics] == [
        "this file exists; briefgen init never overwrites"
    ]
    assert listing(project) == {".gitignore": b"theirs\n"}


def test_help_lists_init(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert re.search(r"^\s+init\s", result.stdout, re.M)
