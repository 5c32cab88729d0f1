"""Reading many sources fast: the cache of their reader's text and folded form (sourcecache),
and `check` on a generated corpus of many sources (slow: `-m slow`)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from conftest import write_project

from briefgen import sourcecache, sources, textnorm
from briefgen.build import check
from briefgen.errors import Diagnostics
from briefgen.project import open_project
from briefgen.sourcecache import CACHE_NAME, SourceCache
from briefgen.sources import read_sources
from briefgen.textnorm import normalize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import corpus  # noqa: E402

MD = "---\ntitle: M\n---\n# Head\n\nSome *emphasis*, a [link](http://e.org/), \u201cquotes\u201d.\n"
HTML = "---\ntitle: H\n---\n<p>One <b>bo</b>ld</p><script>x()</script><p>Two \u2013 three</p>\n"


@pytest.fixture
def proj(tmp_path) -> Path:
    root = write_project(tmp_path / "brief")
    (root / "content" / "sources" / "m.md").write_text(MD, encoding="utf-8")
    (root / "content" / "sources" / "h.html").write_text(HTML, encoding="utf-8")
    (root / "output").mkdir()
    return root


def read(root: Path, cache: SourceCache | None = None):
    diags = Diagnostics()
    found = read_sources(open_project(root), diags, cache)
    assert not diags.errors, diags
    return found


def saved(root: Path) -> SourceCache:
    """Read the sources with the project's cache, and save it (as a successful run does)."""
    cache = SourceCache(open_project(root))
    read(root, cache)
    cache.save()
    return cache


def fresh(text: str):
    """`normalize(text)` worked out again, not taken from what `textnorm.remember` was told."""
    known = textnorm._known
    textnorm.remember({})
    try:
        return normalize(text)
    finally:
        textnorm.remember(known)


def same_normalized(a, b) -> bool:
    fields = ("text", "seg_folded", "seg_original", "seg_original_end", "original_length")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def cache_file(root: Path) -> Path:
    return root / "output" / ".briefgen" / CACHE_NAME


def test_a_warm_read_gives_what_a_cold_read_gives(proj, monkeypatch):
    cold = read(proj)
    expected = {sid: fresh(source.text) for sid, source in cold.items()}
    saved(proj)
    assert cache_file(proj).is_file()

    def no_reading(*args):
        raise AssertionError("worked out again, not taken from the cache")

    monkeypatch.setattr(sources, "markdown_html", no_reading)
    monkeypatch.setattr(sources, "html_text", no_reading)
    monkeypatch.setattr(textnorm, "_fold_cluster", no_reading)
    warm = read(proj)
    assert warm == cold
    for sid, source in warm.items():
        assert same_normalized(normalize(source.text), expected[sid])  # from the cache


def test_reading_never_writes_the_cache(proj):
    before = sorted(p.name for p in (proj / "output").rglob("*"))
    read(proj)
    read(proj, SourceCache(open_project(proj)))
    assert sorted(p.name for p in (proj / "output").rglob("*")) == before


def test_a_changed_source_is_read_again_and_the_cache_follows(proj):
    saved(proj)
    path = proj / "content" / "sources" / "m.md"
    path.write_text(MD.replace("emphasis", "stress"), encoding="utf-8")
    (proj / "content" / "sources" / "h.html").unlink()
    again = read(proj)
    assert "Some stress, a link" in again["m"].text
    assert same_normalized(normalize(again["m"].text), fresh(again["m"].text))
    cache = saved(proj)
    keys = json.loads(cache_file(proj).read_bytes().partition(b"\n")[2])
    assert sorted(k.rsplit(".", 1)[1] for k in keys) == ["md", "txt", "txt"]  # h.html dropped
    assert cache.pending() == {}  # written: nothing left to write


@pytest.mark.parametrize(
    "damage",
    ["truncated", "flipped", "not json", "empty", "other version", "wrong shapes", "a folder"],
)
def test_a_damaged_cache_is_ignored(proj, damage):
    cold = read(proj)
    saved(proj)
    path = cache_file(proj)
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":  # a changed letter in a cached text: the checksum sees it
        path.write_bytes(data.replace(b"Some emphasis", b"Some emphasiz"))
    elif damage == "not json":
        path.write_bytes(b"\x00\xff garbage")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "other version":
        head = json.loads(header)
        head["briefgen"] = "0.0.0-other"
        path.write_bytes(json.dumps(head).encode() + b"\n" + payload)
    elif damage == "wrong shapes":  # checksummed, but not what an entry holds
        entries = {k: [1, None, "x", [], {}, "y"] for k in json.loads(payload)}
        payload = json.dumps(entries).encode()
        head = json.loads(header)
        head["sha256"] = sourcecache._digest(payload)
        path.write_bytes(json.dumps(head).encode() + b"\n" + payload)
    else:
        path.unlink()
        path.mkdir()
    warm = read(proj)
    assert warm == cold
    for source in warm.values():
        assert same_normalized(normalize(source.text), fresh(source.text))


def test_a_pipe_in_the_caches_place_is_not_read(proj):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    cache_file(proj).parent.mkdir()
    os.mkfifo(cache_file(proj))
    begun = time.monotonic()
    assert read(proj)  # does not wait for a writer
    assert time.monotonic() - begun < 10


@pytest.mark.parametrize("where", ["no output", "output is a link", ".briefgen is a link"])
def test_the_cache_is_written_only_where_a_build_writes(proj, tmp_path, where):
    out = proj / "output"
    out.rmdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if where == "output is a link":
        out.symlink_to(elsewhere)
    elif where == ".briefgen is a link":
        out.mkdir()
        (out / ".briefgen").symlink_to(elsewhere)
    cache = saved(proj)
    assert cache.pending() == {}
    assert list(elsewhere.iterdir()) == []
    assert (where == "no output") == (not out.exists())


def test_a_check_with_the_cache_reports_what_one_without_it_does(proj):
    cold = check(proj)
    saved(proj)
    warm = check(proj)
    assert [(e.source, e.anchor) for e in warm.excerpts] == [
        (e.source, e.anchor) for e in cold.excerpts
    ]
    assert warm.counts() == cold.counts()


# -- at scale -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    corpus.make_corpus(root, sources=400, excerpts=2000, seed=5)
    (root / "output").mkdir()
    return root


def _cpu(fn, *args):
    begun = time.process_time()
    value = fn(*args)
    return time.process_time() - begun, value


@pytest.mark.slow
def test_check_of_many_sources_is_the_same_warm_and_fast(big):
    """400 sources and 2,000 excerpts: every excerpt verified, the same with the cache; a warm
    check well within the 3 s that 1,000 sources and 5,000 excerpts may take."""
    cold_seconds, cold = _cpu(check, big)
    assert cold.counts() == {"verified": 2000}
    saved(big)
    check(big)
    warm_seconds, warm = min((_cpu(check, big) for _ in range(3)), key=lambda r: r[0])
    assert warm.counts() == cold.counts()
    assert [(e.source, e.anchor) for e in warm.excerpts] == [
        (e.source, e.anchor) for e in cold.excerpts
    ]
    assert warm_seconds < 2.0, (cold_seconds, warm_seconds)
