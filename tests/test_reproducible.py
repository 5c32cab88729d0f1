"""Reproducible output: the same inputs give byte-identical brief.pdf and brief.html.

Built in two copies of a project, in different folders, by two processes with different hash
seeds, and again with --force; the plain PDF and both variants. The PDF's dates come from the
brief's `date`, or from SOURCE_DATE_EPOCH when it is set, never from the clock; its /ID is a
digest of its content.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import OUTLINE, write_project
from pypdf import PdfReader
from test_scripts import OUTLINE as SCRIPTS_OUTLINE
from test_scripts import SOURCES as SCRIPTS_SOURCES

from briefgen.build import build
from briefgen.errors import BriefgenError
from briefgen.pdf import pdf_date

pytestmark = pytest.mark.pdf

REPO = Path(__file__).resolve().parent.parent


def outputs(root: Path) -> dict[str, bytes]:
    return {name: (root / "output" / name).read_bytes() for name in ("brief.pdf", "brief.html")}


def cli_build(root: Path, seed: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONHASHSEED"] = seed
    subprocess.run(
        [sys.executable, "-m", "briefgen", "build", str(root), *args],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_two_copies_in_two_folders_and_processes_give_the_same_bytes(tmp_path, monkeypatch):
    """The multi-script brief (many fonts, links, notes): two processes, two folders, --force."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = write_project(tmp_path / "a", SCRIPTS_OUTLINE, SCRIPTS_SOURCES)
    second = tmp_path / "elsewhere" / "a much longer folder name" / "copy"
    shutil.copytree(first / "content", second / "content")
    cli_build(first, "1")
    cli_build(second, "4242")
    built = outputs(first)
    assert outputs(second) == built
    build(first, force=True)  # in this process, a third hash seed
    assert outputs(first) == built
    # Nothing of the place of building is in the output either.
    assert str(tmp_path).encode() not in built["brief.html"]


@pytest.mark.parametrize("variant", ["pdf/a-3b", "pdf/ua-1"])
def test_pdf_variants_are_reproducible(tmp_path, variant, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = write_project(tmp_path / "one")
    second = write_project(tmp_path / "two" / "deeper")
    build(first, pdf_variant=variant)
    cli_build(second, "7", "--pdf-variant", variant)
    assert outputs(first) == outputs(second)


def _dates(path: Path) -> tuple[str | None, str | None]:
    meta = PdfReader(path).metadata or {}
    return meta.get("/CreationDate"), meta.get("/ModDate")


def test_pdf_dates_come_from_the_brief_or_source_date_epoch(project, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    pdf = project / "output" / "brief.pdf"
    build(project)
    assert _dates(pdf) == ("D:20261122000000Z", "D:20261122000000Z")  # the outline's date
    reader = PdfReader(pdf)
    first_id, second_id = reader.trailer["/ID"]
    assert first_id == second_id and re.fullmatch("[0-9a-f]{32}", first_id)  # an MD5 of the PDF

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    result = build(project)
    assert [p.name for p in result.written if p.name.startswith("brief")] == ["brief.pdf"]
    assert _dates(pdf) == ("D:20231114221320Z", "D:20231114221320Z")
    with_epoch = pdf.read_bytes()
    assert build(project).skipped  # same epoch, nothing to do
    build(project, force=True)
    assert pdf.read_bytes() == with_epoch

    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert not build(project).skipped  # the PDF depends on the epoch: rebuilt without it
    assert _dates(pdf) == ("D:20261122000000Z", "D:20261122000000Z")


def test_a_brief_without_a_date_has_no_pdf_dates(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = write_project(tmp_path / "brief", OUTLINE.replace("date: 2026-11-22\n", ""))
    build(root)
    assert _dates(root / "output" / "brief.pdf") == (None, None)


def test_a_malformed_source_date_epoch_is_an_error_and_output_is_untouched(project, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    build(project)
    before = outputs(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(BriefgenError, match="SOURCE_DATE_EPOCH"):
        build(project)
    assert outputs(project) == before


def test_pdf_date_rules():
    assert pdf_date("2026-11-22", {}) == "2026-11-22T00:00:00Z"
    assert pdf_date("2026-11-22", {"SOURCE_DATE_EPOCH": "0"}) == "1970-01-01T00:00:00Z"
    assert pdf_date(None, {"SOURCE_DATE_EPOCH": " 86400 "}) == "1970-01-02T00:00:00Z"
    assert pdf_date("2026-11-22", {"SOURCE_DATE_EPOCH": ""}) == "2026-11-22T00:00:00Z"
    assert pdf_date(None, {}) is None
    with pytest.raises(BriefgenError):
        pdf_date(None, {"SOURCE_DATE_EPOCH": "1.5"})
