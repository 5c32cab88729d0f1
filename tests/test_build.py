"""The build stage: what it imports, what it writes, and the fetcher that guards the PDF."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OUTLINE, write_project

from briefgen.build import build, check
from briefgen.errors import BriefgenError

NO_WEASYPRINT = """
import sys
from briefgen.build import build, check
check(sys.argv[1])
rendering = {"jinja2", "markdown", "briefgen.render", "briefgen.evidence"} & set(sys.modules)
assert not rendering, f"check imported {sorted(rendering)}"
build(sys.argv[1], pdf=False)
assert "weasyprint" not in sys.modules, "WeasyPrint was imported"
print("ok")
"""


def test_check_and_html_only_builds_never_import_weasyprint(project):
    result = subprocess.run(
        [sys.executable, "-c", NO_WEASYPRINT, str(project)], capture_output=True, text=True
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_build_without_pdf_writes_only_html(project):
    result = build(project, pdf=False)
    assert [p.name for p in result.written] == ["brief.html", "report.html"]
    assert not (project / "output" / "brief.pdf").exists()


def test_changed_quote_prints_current_source_wording(project):
    write_project(project, OUTLINE.replace("against ISIS.", "against ISIS, officials said."))
    report = check(project)
    excerpt = report.excerpts[0]
    assert excerpt.anchor.status == "changed"
    assert [d.severity for d in report.diagnostics] == ["warning"]
    build(project, pdf=False)
    html = (project / "output" / "brief.html").read_text()
    quotes = re.findall(r"<blockquote.*?</blockquote>", html, re.S)
    assert "against ISIS." in quotes[0] and "officials said" not in quotes[0]
    with pytest.raises(BriefgenError):
        build(project, strict=True, pdf=False)


def test_output_folder_must_be_a_folder(project):
    (project / "output").write_text("not a folder")
    with pytest.raises(BriefgenError, match="must be a folder"):
        build(project, pdf=False)


@pytest.mark.pdf
def test_fetcher_allows_only_project_files(tmp_path):
    from briefgen.pdf import ProjectFetcher, RefusedResource

    root = tmp_path / "p"
    root.mkdir()
    (root / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = ProjectFetcher(root)
    assert fetcher.fetch((root / "logo.svg").as_uri()).read().startswith(b"<svg")
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"
    for url in [
        (tmp_path / "secret.txt").as_uri(),
        (root / "link.txt").as_uri(),
        "https://example.org/x.png",
        "http://127.0.0.1:9/x.css",
        "file:///dev/urandom",
        "ftp://example.org/x",
    ]:
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)


@pytest.mark.pdf
def test_pdf_with_outside_reference_fails_cleanly(project):
    (project / "templates").mkdir()
    builtin = Path(__file__).resolve().parent.parent / "templates" / "print.css"
    (project / "templates" / "print.css").write_text(
        builtin.read_text() + "\nbody { background: url('file:///etc/hostname'); }\n"
    )
    with pytest.raises(BriefgenError, match="only files inside the project"):
        build(project)
    assert not (project / "output" / "brief.pdf").exists()
    assert not (project / "output" / "brief.html").exists()


def test_a_build_and_a_clean_check_keep_the_sources_cache(project):
    """The sources' cache is written with a build's outputs and after a check without errors,
    and a later check reads the sources from it; a failed check leaves output/ as it was."""
    from briefgen.sourcecache import CACHE_NAME

    cache = project / "output" / ".briefgen" / CACHE_NAME
    build(project, pdf=False)
    assert cache.is_file()
    first = check(project)
    assert first.source_cache.entries.keys() == first.source_cache.used.keys() != set()
    cache.unlink()
    check(project)
    written = cache.read_bytes()
    assert check(project).source_cache.entries  # found again
    (project / "content" / "sources" / "lavrov.txt").write_text("", encoding="utf-8")
    before = {p: p.read_bytes() for p in (project / "output").rglob("*") if p.is_file()}
    assert check(project).diagnostics.errors
    after = {p: p.read_bytes() for p in (project / "output").rglob("*") if p.is_file()}
    assert after == before and cache.read_bytes() == written
