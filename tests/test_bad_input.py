"""Bad input, case by case: each ends in a clear `path:line:col: error:` and exit 1 (or in output
where the bad text is escaped or dropped), never a traceback, a hang or a partial output.

Every failed build is checked the same way (`fails`): exit 1, no traceback, every stderr line a
compiler-style error, `output/` byte for byte as it was (absent if it was), no temp file left
anywhere in the project. References to the outside are checked with a canary: a file outside the
project holding a unique token, which must never reach stderr, the HTML or the PDF's text.

Tests run as root here, where chmod does not stop a write: the unwritable-output case uses a
monkeypatched write (and a real chmod only when not root).
"""

from __future__ import annotations

import errno
import http.server
import os
import re
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import OUTLINE, SOURCE_A, write_project

from briefgen import atomic
from briefgen import project as project_module
from briefgen.cli import main

CANARY = "CANARY-5d1e0b7c"
ERROR_LINE = re.compile(r"^(\S.*?:\d+:\d+: (error|warning): |briefgen: error: ).+")


# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project with canary files of every kind a reference could want."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "canary.txt").write_text(f"---\ntitle: {CANARY}\n---\n{CANARY}\n")
    (folder / "canary.css").write_text(f'body::before {{ content: "{CANARY}"; }}\n')
    (folder / "canary.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
        f'<text id="t" x="0" y="20">{CANARY}</text></svg>'
    )
    (folder / "canary.png").write_bytes(png(4, 4))
    (folder / "refs.json").write_text(f'[{{"id": "x", "title": "{CANARY}"}}]')
    return folder


@pytest.fixture
def proj(tmp_path: Path, monkeypatch) -> Path:
    """The small test project (conftest's), as the working folder."""
    root = write_project(tmp_path / "brief")
    monkeypatch.chdir(root)
    return root


def cli(root: Path, *args: str):
    """Run the command line in this process; the result has exit_code, stdout, stderr."""
    result = CliRunner().invoke(main, [*args, str(root)], catch_exceptions=True)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), "".join(
        __import__("traceback").format_exception(exc)
    )
    assert "Traceback" not in result.stderr
    return result


def snapshot(root: Path) -> dict[str, bytes] | None:
    out = root / "output"
    if not out.exists():
        return None
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


def fails(root: Path, *args: str, command: str = "build") -> list[str]:
    """Run a command that must fail cleanly; its stderr lines."""
    before = snapshot(root)
    result = cli(root, command, *args)
    lines = result.stderr.splitlines()
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert lines, "no message"
    for line in lines:
        assert ERROR_LINE.match(line), line
    assert CANARY not in result.stderr + result.stdout
    assert snapshot(root) == before, "a failed build changed output/"
    assert temp_files(root) == []
    return lines


def errors(root: Path, outline: str | None = None, command: str = "check") -> list[str]:
    if outline is not None:
        (root / "content" / "brief.yaml").write_text(outline, encoding="utf-8")
    return fails(root, command=command)


def png(width: int, height: int) -> bytes:
    """A valid PNG of one grey row repeated (its header may claim any size)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(min(height, 4))))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def outline_with(*, top: str = "", prose: str = "") -> str:
    """The test outline with extra top-level lines and an extra prose block in 'history'."""
    text = OUTLINE
    if top:
        text = text.replace('subtitle: "A test brief"\n', f'subtitle: "A test brief"\n{top}')
    if prose:
        block = "\n".join("        " + line for line in prose.splitlines())
        text = text.replace(
            "      - key: Ties matter [@energy].\n",
            f"      - key: Ties matter [@energy].\n      - |\n{block}\n",
        )
    return text


# -- the outline: YAML -------------------------------------------------------------------------


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "title: [unclosed\nsections: []\n",
            "content/brief.yaml:2:9: error: YAML: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence)",
            id="syntax-error",
        ),
        pytest.param(
            "title: x\nsections:\n  - id: a\n   title: b\n",
            "content/brief.yaml:4:4: error: YAML: expected <block end>, but found "
            "'<block mapping start>' (while parsing a block collection)",
            id="bad-indentation",
        ),
        pytest.param(
            "title: !!python/object/apply:os.system ['touch pwned']\nsections: []\n",
            "content/brief.yaml:1:8: error: YAML: the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system' is not allowed: "
            "content is loaded as plain data only",
            id="python-object-tag",
        ),
        pytest.param(
            "title: !!python/name:os.system\nsections: []\n",
            "content/brief.yaml:1:8: error: YAML: the tag "
            "'tag:yaml.org,2002:python/name:os.system' is not allowed: "
            "content is loaded as plain data only",
            id="python-name-tag",
        ),
        pytest.param(
            "title: !!int 3\nsections: []\n",
            "content/brief.yaml:1:8: error: YAML: the tag 'tag:yaml.org,2002:int' is not "
            "allowed: content is loaded as plain data only",
            id="int-tag",
        ),
        pytest.param(
            "title: x\ndate: !!timestamp 2024-05-01\nsections: []\n",
            "content/brief.yaml:2:7: error: YAML: the tag 'tag:yaml.org,2002:timestamp' is not "
            "allowed: content is loaded as plain data only",
            id="timestamp-tag",
        ),
        pytest.param(
            BILLION_LAUGHS,
            "content/brief.yaml:2:8: error: YAML: aliases (*name) are not allowed here; "
            "write the value out",
            id="billion-laughs",
        ),
        pytest.param(
            "title: x\nbase: &b {title: y}\n<<: *b\nsections: []\n",
            "content/brief.yaml:3:5: error: YAML: aliases (*name) are not allowed here; "
            "write the value out",
            id="merge-key-alias",
        ),
        pytest.param(
            "title: x\nsections: " + "[" * 10_000 + "]" * 10_000 + "\n",
            "content/brief.yaml:2:110: error: YAML: lists and mappings nest more than 100 "
            "levels deep here",
            id="10000-nested-lists",
        ),
        pytest.param(
            "title: x\nsections:\n" + "".join("  " * i + "- \n" for i in range(1, 500)),
            "content/brief.yaml:102:201: error: YAML: lists and mappings nest more than 100 "
            "levels deep here",
            id="500-nested-block-lists",
        ),
        pytest.param(
            "title: x\nsections: " + "{a: " * 10_000 + "}" * 10_000 + "\n",
            "content/brief.yaml:2:404: error: YAML: lists and mappings nest more than 100 "
            "levels deep here",
            id="10000-nested-mappings",
        ),
        pytest.param(
            "title: x\nsections: []\ntitle: y\n",
            "content/brief.yaml:3:1: error: YAML: duplicate key 'title' (first given on line 1)",
            id="duplicate-top-key",
        ),
        pytest.param(
            "title: x\nsections:\n  - id: a\n    title: A\n    id: b\n",
            "content/brief.yaml:5:5: error: YAML: duplicate key 'id' (first given on line 3)",
            id="duplicate-section-key",
        ),
        pytest.param(
            "title: x\n---\ntitle: y\n",
            "content/brief.yaml:2:1: error: YAML: but found another document "
            "(expected a single document in the stream)",
            id="two-documents",
        ),
        pytest.param(
            "title: x\x1b[31m\nsections: []\n",
            "content/brief.yaml:1:9: error: YAML: the character U+001B is not allowed here "
            "(YAML refuses control characters; in double quotes, write one as an escape such "
            'as "\\x1b")',
            id="control-character",
        ),
    ],
)
def test_broken_or_unsafe_yaml_is_one_clear_error(proj, text, expected):
    assert errors(proj, text) == [expected]
    assert not (proj / "pwned").exists()


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "---\n...\n"])
def test_an_empty_outline(proj, text):
    assert errors(proj, text) == [
        "content/brief.yaml:1:1: error: the outline is empty: it needs at least 'title:' and "
        "'sections:'"
    ]


@pytest.mark.parametrize(
    "data, expected",
    [
        (
            b"title: caf\xe9\n",
            "content/brief.yaml:1:11: error: not UTF-8 text: save the outline as UTF-8",
        ),
        (
            "title: x\n".encode("utf-16"),
            "content/brief.yaml:1:1: error: not UTF-8 text: save the outline as UTF-8",
        ),
        (
            b"title: x\nsections: [a\x00]\n",
            "content/brief.yaml:2:13: error: YAML: the character U+0000 is not allowed here "
            "(YAML refuses control characters; in double quotes, write one as an escape such "
            'as "\\x1b")',
        ),
    ],
    ids=["latin-1", "utf-16", "nul"],
)
def test_an_outline_that_is_not_utf8_text(proj, data, expected):
    (proj / "content" / "brief.yaml").write_bytes(data)
    assert errors(proj) == [expected]


def test_a_bom_and_crlf_outline_is_fine(proj):
    data = b"\xef\xbb\xbf" + OUTLINE.replace("\n", "\r\n").encode()
    (proj / "content" / "brief.yaml").write_bytes(data)
    result = cli(proj, "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "2 excerpts checked: 2 verified"


def test_values_yaml_would_retype_stay_text_as_typed(proj):
    """`no`, dates, numbers, `~`, octal-looking ids: printed as the editor typed them."""
    outline = (
        OUTLINE.replace('title: "Russia and Iraq"', "title: no")
        .replace('subtitle: "A test brief"', "subtitle: 3.10")
        .replace("series: Policy brief No. 9", "series: 2024-05-01")
        .replace("organization: Example Forum", "organization: yes")
        .replace("distribution: Public", "distribution: ~")
        .replace("id: history\n    title: History", "id: 010\n    title: 1e3")
        .replace("name: Ann Editor", "name: off")
        .replace("    affiliation: Example Forum", "    affiliation: 0x1F")
    )
    (proj / "content" / "brief.yaml").write_text(outline)
    result = cli(proj, "build", "--no-pdf")
    assert result.exit_code == 0, result.stderr
    html = (proj / "output" / "brief.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one("h1.cover-title").get_text() == "no"
    assert soup.select_one(".cover-subtitle").get_text() == "3.10"
    assert soup.select_one(".cover-series").get_text() == "2024-05-01"
    assert soup.select_one(".author-name").get_text() == "off"
    assert soup.select_one(".author-affiliation").get_text() == "0x1F"
    assert "yes" in soup.select_one(".cover-org").get_text()
    assert soup.select_one(".marking").get_text() == "~"
    assert soup.find("section", id="010").h2.get_text(" ", strip=True) == "1. 1e3"


WRONG_TYPES = """\
title: [a, list]
subtitle: {a: mapping}
date: 22 November 2026
authors: {name: Ann}
keywords: [[nested], '']
summary: {a: b}
theme: [brief]
style: [logo]
sections:
  - just text
  - id: Not A Slug
    title: {x: y}
    content: text
  - id: 3.10
    title: Numbers
    content:
      - [a, list]
      - key: [a]
      - heading: {}
      - excerpt: text
      - excerpt: {source: [a], quote: {b: c}}
      - {key: a, excerpt: b}
  - id: ok
    title: OK
    content: {a: b}
  - id: ok
    title: Again
    content: [fine]
"""


def test_wrong_types_everywhere_are_all_reported_in_one_run(proj):
    assert errors(proj, WRONG_TYPES) == [
        "content/brief.yaml:1:8: error: 'title' of the outline must be text, not a list",
        "content/brief.yaml:2:11: error: 'subtitle' of the outline must be text, not a mapping",
        "content/brief.yaml:3:7: error: 'date' of the outline must be a date written "
        "YYYY-MM-DD, not '22 November 2026'",
        "content/brief.yaml:4:10: error: 'authors' must be a list of entries with 'name:' "
        "(and optionally 'affiliation:')",
        "content/brief.yaml:5:12: error: each entry of 'keywords' in the outline must be text, "
        "not a list",
        "content/brief.yaml:5:22: error: an entry of 'keywords' in the outline is empty",
        "content/brief.yaml:6:10: error: 'summary' of the outline must be a list of text, "
        "not a mapping",
        "content/brief.yaml:7:8: error: 'theme' of the outline must be text, not a list",
        "content/brief.yaml:8:8: error: 'style' must be a mapping of 'key: value' lines, "
        "not a list",
        "content/brief.yaml:10:5: error: a section must be a mapping of 'key: value' lines, "
        "not text",
        "content/brief.yaml:11:9: error: section id 'Not A Slug' must be a slug: lower-case "
        "letters, digits and '-' (e.g. 'regional-dynamics')",
        "content/brief.yaml:12:12: error: 'title' of section 2 must be text, not a mapping",
        "content/brief.yaml:13:14: error: 'content' of section 'Not A Slug' must be a list of "
        "blocks, not text",
        "content/brief.yaml:14:9: error: section id '3.10' must be a slug: lower-case letters, "
        "digits and '-' (e.g. 'regional-dynamics')",
        "content/brief.yaml:17:9: error: each block of section '3.10' must be Markdown text, "
        "'excerpt:', 'key:' or 'heading:'",
        "content/brief.yaml:18:14: error: 'key' in section '3.10' must be Markdown text",
        "content/brief.yaml:19:18: error: 'heading' in section '3.10' must be Markdown text",
        "content/brief.yaml:20:18: error: an excerpt in section '3.10' must be a mapping of "
        "'key: value' lines, not text",
        "content/brief.yaml:21:27: error: 'source' of excerpt 1 of section '3.10' must be text, "
        "not a list",
        "content/brief.yaml:21:39: error: 'quote' of excerpt 1 of section '3.10' must be text, "
        "not a mapping",
        "content/brief.yaml:22:9: error: each block of section '3.10' must be Markdown text, "
        "'excerpt:', 'key:' or 'heading:'",
        "content/brief.yaml:25:14: error: 'content' of section 'ok' must be a list of blocks, "
        "not a mapping",
        "content/brief.yaml:26:9: error: duplicate section id 'ok' (first used on line 23); "
        "section ids must be unique",
    ]


@pytest.mark.parametrize(
    "sections, expected",
    [
        ("sections: {a: b}", "'sections' must be a non-empty list of sections, not a mapping"),
        ("sections: []", "'sections' must be a non-empty list of sections, not an empty list"),
        ("sections: energy", "'sections' must be a non-empty list of sections, not text"),
    ],
)
def test_sections_of_the_wrong_shape(proj, sections, expected):
    assert errors(proj, f"title: T\n{sections}\n") == [
        f"content/brief.yaml:2:11: error: {expected}"
    ]


def test_a_very_long_unknown_key_is_clipped_in_the_message(proj):
    (line,) = errors(proj, OUTLINE + "x" * 1000 + ": 1\n")  # YAML's longest plain key
    assert line.startswith("content/brief.yaml:32:1: error: unknown key 'xxxxxxxx")
    assert len(line) < 400


def test_a_50_mb_outline_is_refused_at_once(proj):
    path = proj / "content" / "brief.yaml"
    chunk = ("  - id: s\n    title: A section\n    content: [Some prose.]\n" * 20_000).encode()
    with path.open("wb") as handle:
        handle.write(b"title: Huge\nsections:\n")
        while handle.tell() < 50_000_000:
            handle.write(chunk)
    began = time.monotonic()
    lines = errors(proj, command="build")
    assert time.monotonic() - began < 20
    limit = project_module.megabytes(project_module.MAX_OUTLINE_BYTES)
    assert lines == [
        f"content/brief.yaml:1:1: error: the outline is 51 MB; an outline may be at most {limit}"
    ]
    assert snapshot(proj) is None


def test_the_outline_limit_is_on_bytes_read(proj, monkeypatch):
    from briefgen import outline

    size = (proj / "content" / "brief.yaml").stat().st_size
    monkeypatch.setattr(outline, "MAX_OUTLINE_BYTES", size)
    assert cli(proj, "check").exit_code == 0
    monkeypatch.setattr(outline, "MAX_OUTLINE_BYTES", size - 1)
    assert errors(proj)[0].endswith(f"may be at most {size / 1e6:.1f} MB")


def test_an_outline_linked_from_outside_the_project(proj, outside):
    target = outside / "brief.yaml"
    target.write_text(OUTLINE.replace('"Russia and Iraq"', CANARY))
    (proj / "content" / "brief.yaml").unlink()
    (proj / "content" / "brief.yaml").symlink_to(target)
    assert errors(proj, command="build") == [
        "content/brief.yaml:1:1: error: the outline is a link to a file outside the project; "
        "copy the file into content/ instead"
    ]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_an_outline_that_is_not_a_file(proj, kind):
    path = proj / "content" / "brief.yaml"
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    assert errors(proj) == [
        "content/brief.yaml:1:1: error: the outline is a folder, a device or a pipe, not a file"
    ]


# -- sources -----------------------------------------------------------------------------------


def source_errors(root: Path, name: str, data: bytes | str) -> list[str]:
    path = root / "content" / "sources" / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return [line for line in errors(root) if "brief.yaml" not in line]


@pytest.mark.parametrize(
    "data, expected",
    [
        pytest.param(
            b"",
            "content/sources/energy.txt:1:1: error: missing front matter: start the file with a "
            "'---' line, 'title: ...' and a closing '---' line",
            id="empty",
        ),
        pytest.param(
            png(8, 8),
            "content/sources/energy.txt:1:1: error: not UTF-8 text: save the source as UTF-8",
            id="binary-png",
        ),
        pytest.param(
            b"---\ntitle: T\n---\nok\nna\xefve\n",
            "content/sources/energy.txt:5:3: error: not UTF-8 text: save the source as UTF-8",
            id="invalid-utf8",
        ),
        pytest.param(
            b"---\ntitle: T\n---\nThree\x00key\n",
            "content/sources/energy.txt:4:6: error: the file holds NUL bytes: it is binary, not "
            "text; save the source as plain text, Markdown or HTML",
            id="nul-bytes",
        ),
        pytest.param(
            "Three key projects are most important.\n",
            "content/sources/energy.txt:1:1: error: missing front matter: start the file with a "
            "'---' line, 'title: ...' and a closing '---' line",
            id="no-front-matter",
        ),
        pytest.param(
            "---\ntitle: Energy ties\nThree key projects.\n",
            "content/sources/energy.txt:1:1: error: missing front matter: start the file with a "
            "'---' line, 'title: ...' and a closing '---' line",
            id="front-matter-not-closed",
        ),
        pytest.param(
            "---\ntitle: [Energy\n---\nThree.\n",
            "content/sources/energy.txt:3:1: error: YAML: expected ',' or ']', but got "
            "'<stream end>' (while parsing a flow sequence)",
            id="front-matter-broken-yaml",
        ),
        pytest.param(
            "---\n- a list\n---\nThree.\n",
            "content/sources/energy.txt:2:1: error: the front matter must be a mapping of "
            "'key: value' lines, not a list",
            id="front-matter-a-list",
        ),
        pytest.param(
            "---\ntitle: {a: b}\ndate: yesterday\nurl: javascript:alert(1)\n---\nThree.\n",
            "content/sources/energy.txt:2:8: error: 'title' of the source's front matter must "
            "be text, not a mapping",
            id="front-matter-wrong-types",
        ),
    ],
)
def test_bad_source_files(proj, data, expected):
    lines = source_errors(proj, "energy.txt", data)
    assert lines[0].startswith(expected), lines


def test_a_bom_and_crlf_source_is_read_as_text(proj):
    data = "\ufeff" + SOURCE_A.replace("\n", "\r\n")
    (proj / "content" / "sources" / "lavrov.txt").write_bytes(data.encode())
    result = cli(proj, "check")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "2 excerpts checked: 2 verified"


def test_a_100_mb_source_is_refused_at_once(proj):
    path = proj / "content" / "sources" / "huge.txt"
    with path.open("wb") as handle:
        handle.write(b"---\ntitle: Huge\n---\n")
        handle.truncate(100 * 1024 * 1024)  # sparse: quick to make, 100 MB to read
    began = time.monotonic()
    assert errors(proj) == [
        "content/sources/huge.txt:1:1: error: this source is 105 MB; a source may be at most 10 MB"
    ]
    assert time.monotonic() - began < 20


@pytest.mark.parametrize("kind", ["fifo", "folder", "dev-urandom", "outside"])
def test_a_source_that_is_not_a_plain_file_inside_the_project(proj, outside, kind):
    path = proj / "content" / "sources" / "odd.txt"
    if kind == "fifo":
        os.mkfifo(path)  # reading it would wait forever for a writer
        message = "this source is a device or a pipe, not a file; a source must be a plain file"
    elif kind == "folder":
        path.mkdir()
        message = "this source is a folder, not a file; a source must be a plain file"
    else:
        path.symlink_to("/dev/urandom" if kind == "dev-urandom" else outside / "canary.txt")
        message = (
            "this source is a link to a file outside the project; copy the file into "
            "content/sources/ instead"
        )
    assert errors(proj) == [f"content/sources/odd.txt:1:1: error: {message}"]


@pytest.mark.parametrize("kind", ["fifo", "dev-urandom"])
def test_build_with_a_source_that_never_ends(proj, kind):
    path = proj / "content" / "sources" / "odd.txt"
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/urandom")

    def limit_memory():  # the child may read /dev/urandom: 1 GB, then MemoryError
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    try:
        result = subprocess.run(
            [sys.executable, "-m", "briefgen", "build", "--no-pdf"],
            cwd=proj,
            capture_output=True,
            text=True,
            timeout=8,
            preexec_fn=limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("build hung")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_markdown_nested_too_deeply_in_a_source(proj):
    nested = "".join("    " * i + "- x\n" for i in range(300))  # Markdown fails at 248
    lines = source_errors(proj, "deep.md", f"---\ntitle: Deep\n---\n{nested}")
    assert lines == [
        "content/sources/deep.md:4:1: error: the Markdown nests lists or quotes too deeply to be "
        "read; save the source as plain text (.txt)"
    ]


def test_deeply_nested_html_source_is_read_in_linear_time(proj):
    path = proj / "content" / "sources" / "deep.html"
    path.write_text("---\ntitle: Deep\n---\n" + "<div>" * 20_000 + "Deep words" + "</div>" * 9)
    began = time.monotonic()
    assert cli(proj, "check").exit_code == 0
    assert time.monotonic() - began < 20  # was quadratic: 5,000 levels took 13 s


XSS = '<script>alert(1)</script> <img src=x onerror=alert(2)> <a href="javascript:alert(3)">j</a>'


def test_script_and_event_handlers_in_a_source_are_printed_as_text(proj):
    """In a .txt source (and its front matter) markup is text: escaped in HTML, printed in PDF."""
    (proj / "content" / "sources" / "xss.txt").write_text(
        f"---\ntitle: 'T {XSS}'\npublisher: '<b onmouseover=alert(4)>P</b>'\n---\n"
        f"The payload is {XSS} and more.\n"
    )
    (proj / "content" / "sources" / "page.html").write_text(
        f"---\ntitle: Page\n---\n<p>Visible words {XSS} end.</p><script>alert(5)</script>"
        '<svg onload="alert(6)"><text>svg words</text></svg>\n'
    )
    outline = OUTLINE.replace(
        "      - key: Ties matter [@energy].\n",
        "      - key: Ties matter [@energy].\n"
        "      - excerpt:\n"
        "          source: xss\n"
        f"          quote: 'The payload is {XSS} and more.'\n"
        "      - excerpt:\n"
        "          source: page\n"
        "          quote: Visible words j end.\n",
    )
    (proj / "content" / "brief.yaml").write_text(outline)
    result = cli(proj, "build")
    assert result.exit_code == 0, result.stderr
    for name in ("brief.html", ".briefgen/print.html"):
        html = (proj / "output" / name).read_text()
        soup = BeautifulSoup(html, "html.parser")
        assert soup.find_all("script") == []
        assert not [
            (tag.name, attr)
            for tag in soup.find_all(True)
            for attr in tag.attrs
            if attr.startswith("on")
        ]
        assert not soup.select('[href^="javascript"], [src^="javascript"]')
        assert [img["src"] for img in soup.find_all("img")] == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;" in html
        assert "alert(5)" not in html and "svg words" not in html  # the page's script and svg
    text = " ".join(pdf_text(proj / "output" / "brief.pdf").split())
    assert "The payload is <script>alert(1)</script> <img src=x onerror=alert(2)>" in text


# -- references to the outside -----------------------------------------------------------------


class CountingServer:
    """A loopback HTTP server that counts requests and redirects each to a file outside."""

    def __init__(self, target: str):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(outside):
    srv = CountingServer((outside / "canary.css").as_uri())
    yield srv
    srv.close()


def test_markdown_and_raw_html_references_are_dropped_and_never_fetched(proj, outside, server):
    canary = outside / "canary.txt"
    prose = "\n".join(
        [
            f"Image ![pic]({canary.as_uri()}) and ![net]({server.url}/img.png).",
            f"Links [abs]({canary.as_uri()}), [rel](../../outside/canary.txt), [js](javascript:x),",
            f"[home](//evil.example/x), [data](data:text/html,{CANARY}) and [ok](https://example.org/).",
            "",
            f'<img src="{canary.as_uri()}"> <img src="{server.url}/i.png">',
            f'<link rel="stylesheet" href="{outside / "canary.css"}">',
            f"<style>@import url({(outside / 'canary.css').as_uri()});</style>",
            f'<object data="{canary.as_uri()}"></object> <iframe src="{canary.as_uri()}"></iframe>',
            f'<svg><image href="{(outside / "canary.png").as_uri()}"/></svg>',
            f'<a rel="attachment" href="{canary.as_uri()}">attach</a>',
            '<a rel="attachment" href="content/brief.yaml">attach2</a>',
            f'<span style="background: url({canary.as_uri()})">styled</span>',
            f'<embed src="{canary.as_uri()}"> <video src="{server.url}/v.mp4"></video>',
        ]
    )
    (proj / "content" / "brief.yaml").write_text(outline_with(prose=prose))
    result = cli(proj, "build")
    assert result.exit_code == 0, result.stderr
    assert server.hits == []
    for name in ("brief.html", ".briefgen/print.html"):
        html = (proj / "output" / name).read_text()
        assert CANARY not in html
        soup = BeautifulSoup(html, "html.parser")
        assert soup.find_all(["img", "link", "object", "iframe", "embed", "video", "image"]) == []
        assert not soup.find_all(style=True)
        hrefs = {a.get("href") for a in soup.find_all("a")}
        assert {h for h in hrefs if h and not h.startswith(("#", "https://"))} == set()
        assert all(a.get("rel") in (None, ["noopener", "noreferrer"]) for a in soup.find_all("a"))
    pdf = proj / "output" / "brief.pdf"
    assert CANARY not in pdf_text(pdf)
    raw = pdf.read_bytes()
    assert CANARY.encode() not in raw
    assert b"/EmbeddedFiles" not in raw and b"file:" not in raw


def css_cases(outside: Path, server: CountingServer | None):
    return {
        "import-file-url": f'@import url("{(outside / "canary.css").as_uri()}");',
        "import-relative-out": '@import url("../outside/canary.css");',
        "font-dev-urandom": "@font-face { font-family: X; src: url(/dev/urandom); }"
        " body { font-family: X; }",
        "background-http-redirect": f"body {{ background: url({server.url}/bg.png); }}"
        if server
        else "",
        "font-https": "@font-face { font-family: Y; src: url(https://example.org/y.woff2); }"
        " body { font-family: Y; }",
        "fifo-in-project": "body { background: url(content/pipe.png); }",
        "link-in-project-leading-out": "body { background: url(content/link.png); }",
    }


@pytest.mark.parametrize(
    "case, refused",
    [
        ("import-file-url", "refused to read '{outside}/canary.css'"),
        ("import-relative-out", "refused to read '{outside}/canary.css'"),
        ("font-dev-urandom", "refused to read '/dev/urandom'"),
        ("background-http-redirect", "refused to fetch 'http://127.0.0.1:"),
        ("font-https", "refused to fetch 'https://example.org/y.woff2'"),
        ("fifo-in-project", "refused to read '{root}/content/pipe.png': not a regular file"),
        ("link-in-project-leading-out", "refused to read '{root}/content/link.png'"),
    ],
)
def test_a_project_stylesheet_cannot_reach_outside(proj, outside, server, case, refused):
    os.mkfifo(proj / "content" / "pipe.png")
    (proj / "content" / "link.png").symlink_to(outside / "canary.png")
    (proj / "templates").mkdir()
    base = (Path(project_module.builtin_templates()) / "base.css").read_text()
    css = css_cases(outside, server)[case] + "\n" + base  # first: where an @import counts
    (proj / "templates" / "base.css").write_text(css)
    (line,) = fails(proj)
    assert line.startswith("briefgen: error: PDF: " + refused.format(outside=outside, root=proj))
    assert server.hits == []


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="{canary_png}">',
        '<link rel="attachment" href="{canary_txt}">',
        '<link rel="stylesheet" href="../outside/canary.css">',
    ],
    ids=["img", "attachment", "stylesheet"],
)
def test_a_project_template_cannot_reach_outside(proj, outside, markup):
    builtin = (Path(project_module.builtin_templates()) / "brief.html.j2").read_text()
    markup = markup.format(
        canary_png=(outside / "canary.png").as_uri(), canary_txt=(outside / "canary.txt").as_uri()
    )
    (proj / "templates").mkdir()
    (proj / "templates" / "brief.html.j2").write_text(
        builtin.replace("</head>", markup + "</head>")
    )
    (line,) = fails(proj)
    assert line.startswith("briefgen: error: PDF: refused to read"), line


def test_an_import_that_css_ignores_fetches_nothing(proj, outside):
    """An @import after other rules is invalid CSS: dropped by the parser, never fetched."""
    (proj / "templates").mkdir()
    (proj / "templates" / "print.css").write_text(
        f'@import url("{(outside / "canary.css").as_uri()}");\n'
    )
    result = cli(proj, "build")
    assert result.exit_code == 0, result.stderr
    assert CANARY not in pdf_text(proj / "output" / "brief.pdf")


def svg(body: str, head: str = "") -> str:
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="40">{body}</svg>'
    )


@pytest.mark.parametrize(
    "content, problem",
    [
        pytest.param(
            svg('<image href="{png}" width="10" height="10"/>'),
            "refers to '{png}' (in <image>)",
            id="image-file-url",
        ),
        pytest.param(
            svg('<image xlink:href="../outside/canary.png"/>'),
            "refers to '../outside/canary.png' (in <image>)",
            id="image-relative",
        ),
        pytest.param(
            svg('<use href="{svg}#t"/>'), "refers to '{svg}#t' (in <use>)", id="use-external"
        ),
        pytest.param(
            svg('<image href="https://example.org/a.png"/>'),
            "refers to 'https://example.org/a.png' (in <image>)",
            id="image-https",
        ),
        pytest.param(
            svg("<style>@import url({css});</style>"),
            "refers to '{css}' (in <style>)",
            id="style-import",
        ),
        pytest.param(
            svg('<rect width="9" height="9" style="fill: url(/dev/urandom)"/>'),
            "refers to '/dev/urandom' (in <rect>)",
            id="style-url",
        ),
        pytest.param(
            svg('<rect width="9" height="9" filter="url({svg}#f)"/>'),
            "refers to '{svg}#f' (in <rect>)",
            id="presentation-url",
        ),
        pytest.param(
            svg("<text>&xxe;</text>", '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "{txt}">]>'),
            "declares XML entities or a stylesheet",
            id="xxe",
        ),
        pytest.param(
            '<?xml-stylesheet href="{css}"?>' + svg(""),
            "declares XML entities or a stylesheet",
            id="xml-stylesheet",
        ),
        pytest.param(svg("<script>alert(1)</script>"), "holds a <script> element", id="script"),
        pytest.param(svg("<text>unclosed"), "is not well-formed SVG", id="malformed"),
    ],
)
def test_an_svg_logo_that_refers_to_anything_is_refused(proj, outside, content, problem):
    urls = {
        "png": (outside / "canary.png").as_uri(),
        "svg": (outside / "canary.svg").as_uri(),
        "css": (outside / "canary.css").as_uri(),
        "txt": (outside / "canary.txt").as_uri(),
    }
    (proj / "content" / "logo.svg").write_text(content.format(**urls))
    outline = outline_with(top="style:\n  logo: content/logo.svg\n")
    (line,) = errors(proj, outline, command="build")
    assert line.startswith(
        "content/brief.yaml:4:9: error: logo 'content/logo.svg' " + problem.format(**urls)
    ), line


def test_a_self_contained_svg_logo_is_fine(proj):
    inline_png = "data:image/png;base64,iVBORw0KGgo="
    (proj / "content" / "logo.svg").write_text(
        svg(
            '<defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>'
            '<rect width="9" height="9" fill="url(#g)" style="stroke: url(\'#g\')"/>'
            f'<use href="#g"/><image href="{inline_png}"/>'
        )
    )
    outline = outline_with(top="style:\n  logo: content/logo.svg\n")
    (proj / "content" / "brief.yaml").write_text(outline)
    result = cli(proj, "check")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    "logo, message",
    [
        ("file:///etc/passwd", "logo 'file:///etc/passwd' is an address; a build fetches nothing"),
        ("https://example.org/logo.png", "logo 'https://example.org/logo.png' is an address"),
        ("../outside/canary.png", "logo '../outside/canary.png' is outside the project"),
        ("/dev/urandom", "logo '/dev/urandom' is outside the project"),
        ("content/link.png", "logo 'content/link.png' is outside the project"),
        ("content/pipe.png", "logo 'content/pipe.png' is not a file"),
        ("content/big.png", "logo 'content/big.png' is 21 MB; a logo may be at most 10 MB"),
        ("content/many.png", "logo 'content/many.png' is 6000 x 6000 pixels; a logo may have at "),
        ("content/bomb.png", "logo 'content/bomb.png' has far too many pixels"),
    ],
)
def test_a_logo_that_is_not_an_image_file_in_the_project(proj, outside, logo, message):
    content = proj / "content"
    (content / "link.png").symlink_to(outside / "canary.png")
    os.mkfifo(content / "pipe.png")
    with (content / "big.png").open("wb") as handle:
        handle.write(png(4, 4))
        handle.truncate(21_000_000)
    (content / "many.png").write_bytes(png(6000, 6000))
    (content / "bomb.png").write_bytes(png(100_000, 100_000))
    outline = outline_with(top=f"style:\n  logo: {logo}\n")
    (line,) = errors(proj, outline)
    assert line.startswith(f"content/brief.yaml:4:9: error: {message}"), line


@pytest.mark.parametrize(
    "style, message",
    [
        (
            "fonts:\n    body: 'Noto; } body { background: url(file:///etc/passwd) } x {'",
            "content/brief.yaml:5:11: error: font 'body' must be a plain family name",
        ),
        (
            'colors:\n    accent: "red; background: url(file:///etc/passwd)"',
            "content/brief.yaml:5:13: error: colour 'accent' must be a CSS hex colour",
        ),
        (
            "colors:\n    ink: '#fff\" onload=\"alert(1)'",
            "content/brief.yaml:5:10: error: colour 'ink' must be a CSS hex colour",
        ),
        (
            'fonts:\n    headings: ["Noto Sans", "x\\"; @import url(http://e.example)"]',
            "content/brief.yaml:5:29: error: font 'headings' must be a plain family name",
        ),
    ],
    ids=["font-css", "colour-css", "colour-attribute", "font-import"],
)
def test_style_injection_is_refused(proj, style, message):
    (line,) = errors(proj, outline_with(top=f"style:\n  {style}\n"))
    assert line.startswith(message), line


@pytest.mark.parametrize(
    "setting, message",
    [
        (
            "bibliography: ../../outside/refs.json",
            "content/brief.yaml:3:15: error: bibliography '../../outside/refs.json' is outside "
            "the project; copy it into content/",
        ),
        (
            "bibliography: /etc/passwd",
            "content/brief.yaml:3:15: error: bibliography '/etc/passwd' is outside the project",
        ),
        (
            "citation_style: ../../outside/x.csl",
            "content/brief.yaml:3:17: error: citation style '../../outside/x.csl' is outside",
        ),
    ],
)
def test_bibliography_and_styles_stay_in_the_project(proj, outside, setting, message):
    (outside / "x.csl").write_text("<style/>")
    (line,) = errors(proj, outline_with(top=setting + "\n"))
    assert line.startswith(message), line


# -- templates ---------------------------------------------------------------------------------


def template(root: Path, name: str, text: str) -> None:
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / name).write_text(text)


def test_a_misspelt_variable_names_the_template_and_line(proj):
    template(proj, "brief.html.j2", '{% include "part.html.j2" %}\n')
    template(proj, "part.html.j2", "<html>\n<p>{{ brief.title }}</p>\n<p>{{ breif.title }}</p>\n")
    assert fails(proj) == [
        "templates/part.html.j2:3:1: error: template: 'breif' is undefined",
    ]


def test_a_misspelt_macro_argument_in_an_override_names_its_line(proj):
    builtin = (Path(project_module.builtin_templates()) / "macros.html.j2").read_text()
    lines = builtin.splitlines(keepends=True)
    line_no = next(i for i, line in enumerate(lines, 1) if "s.publisher" in line)
    template(proj, "macros.html.j2", builtin.replace("s.publisher", "s.publsher", 1))
    assert fails(proj, "--no-pdf") == [
        f"templates/macros.html.j2:{line_no}:1: error: template: 'dict object' has no attribute "
        "'publsher'"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "<html>\n{% if x %}\n",
            "templates/brief.html.j2:2:1: error: template syntax: Unexpected end of template.",
        ),
        (
            "{{ brief.title }\n",
            "templates/brief.html.j2:1:1: error: template syntax: unexpected '}'",
        ),
        ("{% include %}\n", "templates/brief.html.j2:1:1: error: template syntax: "),
    ],
)
def test_template_syntax_errors(proj, text, expected):
    template(proj, "brief.html.j2", text)
    (line,) = fails(proj, "--no-pdf")
    assert line.startswith(expected), line


@pytest.mark.parametrize(
    "name",
    ["../../outside/canary.txt", "{outside}/canary.txt", "/etc/passwd", "../../../../etc/passwd"],
)
def test_an_include_cannot_leave_the_template_folders(proj, outside, name):
    name = name.format(outside=outside)
    template(proj, "brief.html.j2", f'<html>\n{{% include "{name}" %}}\n')
    assert fails(proj, "--no-pdf") == [
        f"templates/brief.html.j2:2:1: error: template not found: '{name}' (templates come from "
        "the project's templates/ folder or the built-in ones, by plain file name)"
    ]


def test_a_template_cannot_reach_python_or_files_outside(proj, outside):
    template(
        proj,
        "brief.html.j2",
        "<html>{{ cycler.__init__.__globals__.os.path.exists('/') }}"
        "{{ lipsum.__globals__['__builtins__'].open('%s').read() }}</html>\n"
        % (outside / "canary.txt"),
    )
    fails(proj, "--no-pdf")


def test_links_in_templates_that_lead_outside_are_refused(proj, outside):
    (proj / "templates" / "sub").mkdir(parents=True)
    (proj / "templates" / "print.css").symlink_to(outside / "canary.css")
    (proj / "templates" / "out").symlink_to(outside)
    (proj / "templates" / "sub" / "content").symlink_to(proj / "content")  # inside: fine
    (proj / "content" / "x.txt").symlink_to(outside / "canary.txt")  # ...but it leads out
    message = (
        "outside the project: templates may only use files inside the project; copy the file "
        "into templates/ instead"
    )
    assert fails(proj) == [
        f"templates/out:1:1: error: this is a link to '{outside}', {message}",
        f"templates/print.css:1:1: error: this is a link to '{outside}/canary.css', {message}",
        f"templates/sub/content/x.txt:1:1: error: this is a link to '{outside}/canary.txt', "
        f"{message}",
    ]


# -- output ------------------------------------------------------------------------------------


@pytest.fixture
def built(proj) -> Path:
    """The project built once (HTML only: quicker), so that a later failure has outputs to keep."""
    result = cli(proj, "build", "--no-pdf")
    assert result.exit_code == 0, result.stderr
    return proj


def listing(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    "target, lands",
    [
        (".", " (the project folder itself)"),
        ("content", " (inside content/)"),
        ("..", " (a folder above the project)"),
        ("../elsewhere", ""),
    ],
)
def test_output_linked_to_the_project_content_or_a_parent_is_refused(proj, target, lands):
    (proj.parent / "elsewhere").mkdir()
    before = {name: listing(proj.parent) for name in ("all",)}
    (proj / "output").symlink_to(target)
    assert fails(proj) == [
        f"output:1:1: error: output/ is a link to '{target}'{lands}; briefgen writes only into a "
        "real folder output/ in the project: remove the link (a build makes the folder)"
    ]
    assert {name: listing(proj.parent) for name in ("all",)} == before


def test_output_state_folder_linked_elsewhere_is_refused(built):
    (built / "output" / ".briefgen" / "state.json").unlink()
    state = built / "output" / ".briefgen"
    for path in state.iterdir():
        path.unlink()
    state.rmdir()
    state.symlink_to("../content")
    content_before = listing(built / "content")
    (built / "content" / "brief.yaml").write_text(OUTLINE.replace("A test brief", "Changed"))
    content_before = listing(built / "content")
    assert fails(built) == [
        "output/.briefgen:1:1: error: output/.briefgen/ is a link to '../content' (inside "
        "content/); briefgen writes only into a real folder output/.briefgen/ in the project: "
        "remove the link (a build makes the folder)"
    ]
    assert listing(built / "content") == content_before


def test_output_that_is_a_file_is_refused(proj):
    (proj / "output").write_text("not a folder")
    assert fails(proj) == [
        "output:1:1: error: output is a file; it must be a folder for briefgen's outputs"
    ]


def test_an_output_name_taken_by_a_folder_is_refused_before_writing(built):
    (built / "output" / "brief.pdf").mkdir()
    (built / "content" / "brief.yaml").write_text(OUTLINE.replace("A test brief", "Changed"))
    assert fails(built) == [
        "output/brief.pdf:1:1: error: this is a folder; briefgen writes a file here: move the "
        "folder away"
    ]


@pytest.mark.parametrize("failing_call", [1, 2, 3])
def test_a_full_disk_keeps_the_previous_outputs(built, monkeypatch, failing_call):
    """ENOSPC on the first, second or third file's fsync: nothing changes, no temp file stays."""
    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == failing_call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    (built / "content" / "brief.yaml").write_text(OUTLINE.replace("A test brief", "Changed"))
    (line,) = fails(built, "--no-pdf")
    assert line.startswith("briefgen: error: cannot write '"), line
    assert line.endswith(": No space left on device"), line


def test_an_unwritable_output_folder_keeps_the_previous_outputs(built, monkeypatch):
    """As root, chmod stops no write: the refusal is simulated where the temp file is made."""

    def mkstemp(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs.get("dir"))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    (built / "content" / "brief.yaml").write_text(OUTLINE.replace("A test brief", "Changed"))
    (line,) = fails(built, "--no-pdf")
    assert re.fullmatch(r"briefgen: error: cannot write '.*output.*': Permission denied", line), (
        line
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a 0o500 folder anyway")
def test_a_read_only_output_folder_really(built):
    (built / "content" / "brief.yaml").write_text(OUTLINE.replace("A test brief", "Changed"))
    (built / "output").chmod(0o500)
    try:
        (line,) = fails(built, "--no-pdf")
    finally:
        (built / "output").chmod(0o755)
    assert "Permission denied" in line


# -- the real command line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "outline, expected",
    [
        (
            "title: x\nsections: " + "[" * 10_000 + "]" * 10_000 + "\n",
            "content/brief.yaml:2:110: error: YAML: lists and mappings nest more than 100 "
            "levels deep here",
        ),
        (
            "title: x\x07\nsections: []\n",
            "content/brief.yaml:1:9: error: YAML: the character U+0007 is not allowed here",
        ),
    ],
    ids=["deep", "control"],
)
def test_the_briefgen_command_exits_1_without_a_traceback(proj, outline, expected):
    (proj / "content" / "brief.yaml").write_text(outline)
    result = subprocess.run(
        [sys.executable, "-m", "briefgen", "build"],
        cwd=proj,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(expected), result.stderr
    assert "Traceback" not in result.stderr
    assert not (proj / "output").exists()
