"""briefgen watch: a Watcher in a thread on a tmp project, edited the way editors save files."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_run import running
from conftest import OUTLINE, REPO, SOURCE_A, SOURCE_B, write_project

from briefgen.watch import Watcher, WatchResult, is_relevant

TIMEOUT = 10.0  # generous for a loaded machine; a rebuild takes well under a second here


def save_atomically(path: Path, text: str) -> None:
    """What most editors do: write a temp file beside the original, then rename it over it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)


def wait_for(predicate: Callable[[], object], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)


class Running:
    """A Watcher running in a thread, with every result it reported."""

    def __init__(self, root: Path, **options):
        self.root = root
        self.results: list[WatchResult] = []
        self.watcher = Watcher(root, on_result=self.results.append, **options)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        wait_for(lambda: self.results, what="the first build")
        assert self.results[0].ok, self.results[0].errors
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive(), "the watcher did not stop"

    def next_result(self, after: int) -> WatchResult:
        """The first result after the first `after` ones."""
        wait_for(lambda: len(self.results) > after, what=f"build #{after + 1}")
        return self.results[after]

    def quiet(self, seconds: float = 0.6) -> int:
        """The number of builds once nothing happened for `seconds`."""
        count = len(self.results)
        time.sleep(seconds)
        assert len(self.results) == count, [r.changes for r in self.results[count:]]
        return count

    def settle(self, seconds: float = 0.5) -> int:
        """The number of builds once none came for `seconds` (for saves whose count varies)."""
        while True:
            count = len(self.results)
            time.sleep(seconds)
            if len(self.results) == count:
                return count

    def output(self, name: str = "brief.html") -> bytes:
        return (self.root / "output" / name).read_bytes()


@pytest.fixture
def watched(project):
    with Running(project, pdf=False, poll=0.3) as running:
        yield running


def test_an_atomic_save_rebuilds_with_the_new_wording(watched):
    source = watched.root / "content" / "sources" / "lavrov.txt"
    before = watched.output()
    assert b"against ISIS" in before

    n = len(watched.results)
    save_atomically(source, SOURCE_A.replace("against ISIS", "against Daesh"))
    result = watched.next_result(n)

    assert result.ok and not result.skipped
    assert result.changes == ["content/sources/lavrov.txt"]  # not the editor's temp file
    assert watched.root / "output" / "brief.html" in result.written
    html = watched.output().decode()
    assert "against Daesh" in html and "against ISIS" not in html  # the source's new wording
    assert any("quote differs from source 'lavrov'" in w for w in result.warnings)
    line = result.summary(watched.root)
    assert line.split(" ", 1)[1].startswith("rebuilt in ")
    assert "output/brief.html" in line and "output/report.html" in line
    assert watched.quiet() == n + 1  # one save, one build


def test_a_bad_save_reports_errors_keeps_the_output_and_the_next_good_save_recovers(watched):
    outline = watched.root / "content" / "brief.yaml"
    names = ("brief.html", "report.html", ".briefgen/state.json")
    before = {name: watched.output(name) for name in names}

    n = len(watched.results)
    save_atomically(outline, OUTLINE.replace("sections:\n", "sections: [\n", 1))
    bad = watched.next_result(n)
    assert not bad.ok
    assert bad.errors and all(": error: " in e or ": warning: " in e for e in bad.errors)
    assert any(e.split(":", 1)[0].endswith("brief.yaml") for e in bad.errors)
    assert "build failed" in bad.summary() and "last good brief" in bad.summary()
    assert {name: watched.output(name) for name in names} == before  # untouched

    save_atomically(outline, OUTLINE.replace('title: "Russia and Iraq"', 'title: "Iraq, again"'))
    good = watched.next_result(n + 1)
    assert good.ok and not good.skipped, good.errors
    assert "Iraq, again" in watched.output().decode()


def test_reverting_a_bad_save_to_the_last_good_text_recovers_without_rebuilding(watched):
    outline = watched.root / "content" / "brief.yaml"
    before = watched.output()
    n = len(watched.results)
    save_atomically(outline, "title: [unclosed\n")
    assert not watched.next_result(n).ok
    save_atomically(outline, OUTLINE)
    again = watched.next_result(n + 1)
    assert again.ok and again.skipped  # the output on disk already is this text's brief
    assert "nothing changed" in again.summary()
    assert watched.output() == before


def test_a_deleted_source_is_an_error_until_it_is_created_again(watched):
    source = watched.root / "content" / "sources" / "energy.txt"
    n = len(watched.results)
    source.unlink()
    gone = watched.next_result(n)
    assert not gone.ok
    assert any("'energy'" in e for e in gone.errors)
    assert "Lukoil" in watched.output().decode()  # the last good brief stays

    source.write_text(SOURCE_B.replace("most important", "most important by far"), "utf-8")
    back = watched.next_result(n + 1)
    assert back.ok, back.errors
    assert "most important by far" in watched.output().decode()


def test_outputs_and_editor_temp_files_do_not_trigger_builds(watched):
    root = watched.root
    time.sleep(0.3)  # the first build's own writes to output/ have had time to be seen
    n = watched.quiet(0.3)
    assert n == 1

    # What briefgen writes, and what people and tools leave around the content.
    (root / "output" / "brief.html").write_text("edited by hand", "utf-8")
    (root / "output" / "scratch.txt").write_text("x", "utf-8")
    sources = root / "content" / "sources"
    for name in (
        ".lavrov.txt.swp",
        "lavrov.txt~",
        "#lavrov.txt#",
        ".#lavrov.txt",
        "4913",
        "lavrov.txt.tmp",
        "lavrov.txt___jb_tmp___",
    ):
        (sources / name).write_text("junk", "utf-8")
        (sources / name).unlink()
    assert watched.quiet(0.8) == n

    # A real save now: exactly one build, and it repairs the hand-edited output.
    save_atomically(root / "content" / "brief.yaml", OUTLINE.replace("A test brief", "Loops?"))
    result = watched.next_result(n)
    assert result.ok and "Loops?" in watched.output().decode()
    assert watched.quiet(0.8) == n + 1


def test_saves_during_a_build_are_not_lost(watched):
    source = watched.root / "content" / "sources" / "lavrov.txt"
    for word in ("first", "second", "third"):
        save_atomically(source, SOURCE_A.replace("against ISIS", f"against the {word}"))
        time.sleep(0.07)  # about a build's length apart: some land while one is running
    wait_for(lambda: b"against the third" in watched.output(), what="the last save's text")
    builds = watched.settle()
    assert watched.results[-1].ok
    assert 2 <= builds <= 4  # the first build, then one to three for the three saves


def test_a_save_before_the_watch_began_is_not_lost(project):
    """A save between the first build and the start of the watch (made here from the callback
    that reports the first build, so it surely lands in that gap) still leads to a build."""
    source = project / "content" / "sources" / "lavrov.txt"
    results: list[WatchResult] = []

    def on_result(result: WatchResult) -> None:
        results.append(result)
        if len(results) == 1:
            save_atomically(source, SOURCE_A.replace("against ISIS", "against the gap"))

    stop = threading.Event()
    watcher = Watcher(project, on_result=on_result, pdf=False, poll=0.2)
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(results) >= 2, what="the second build")
        assert results[1].ok and not results[1].skipped
        assert b"against the gap" in (project / "output" / "brief.html").read_bytes()
    finally:
        stop.set()
        thread.join(TIMEOUT)


def test_a_templates_folder_created_later_is_watched(watched):
    templates = watched.root / "templates"
    n = len(watched.results)
    templates.mkdir()
    css = (REPO / "templates" / "screen.css").read_text("utf-8")
    (templates / "screen.css").write_text(css + "\n/* project override */\n", "utf-8")
    wait_for(lambda: b"project override" in watched.output(), what="the override in the brief")
    m = watched.settle()
    assert m > n
    (templates / "screen.css").write_text(css + "\n/* second edit */\n", "utf-8")
    assert watched.next_result(m).ok
    assert b"second edit" in watched.output()


def test_the_content_folder_replaced_whole_is_watched_again(watched):
    """As a `git checkout` or a sync tool may do: content/ moved away, a new one moved in."""
    root = watched.root
    fresh = root / "content.new"
    write_project(fresh)  # fresh/content/...
    (fresh / "content" / "brief.yaml").write_text(
        OUTLINE.replace("A test brief", "Replaced"), "utf-8"
    )
    os.rename(root / "content", root / "content.old")
    os.rename(fresh / "content", root / "content")
    wait_for(lambda: b"Replaced" in watched.output(), what="the new content's brief")

    n = watched.settle()
    save_atomically(root / "content" / "brief.yaml", OUTLINE.replace("A test brief", "Watched"))
    assert watched.next_result(n).ok
    assert b"Watched" in watched.output()


@pytest.mark.pdf
def test_pdf_rebuild_in_a_warm_process(project):
    pypdf = pytest.importorskip("pypdf")
    with Running(project, pdf=True) as running:
        assert "weasyprint" in sys.modules  # imported at start, before the first build
        pdf = project / "output" / "brief.pdf"
        before = pdf.stat().st_mtime_ns
        n = len(running.results)
        started = time.perf_counter()
        save_atomically(
            project / "content" / "sources" / "lavrov.txt",
            SOURCE_A.replace("against ISIS", "against Daesh"),
        )
        wait_for(lambda: pdf.stat().st_mtime_ns != before, what="a new brief.pdf")
        latency = time.perf_counter() - started
        result = running.next_result(n)
        assert result.ok and pdf in result.written
        text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
        assert "Daesh" in text
        print(f"save -> new brief.pdf on disk: {latency:.2f} s (build {result.seconds:.2f} s)")


@pytest.mark.parametrize(
    ("path", "relevant"),
    [
        ("content/brief.yaml", True),
        ("content/sources/lavrov.txt", True),
        ("content/sources", True),  # a folder removed or created
        ("templates/print.css", True),
        ("output/brief.html", False),
        ("output/.briefgen/state.json", False),
        ("content/sources/.lavrov.txt.swp", False),
        ("content/sources/lavrov.txt~", False),
        ("content/#brief.yaml#", False),
        ("content/.#brief.yaml", False),
        ("content/4913", False),
        ("content/.brief.yaml.abc123.tmp", False),
        ("content/.git/index", False),
        ("templates/print.css___jb_tmp___", False),
        ("elsewhere/brief.yaml", False),
    ],
)
def test_what_counts_as_a_change(tmp_path, path, relevant):
    assert is_relevant(tmp_path, tmp_path / path) is relevant
    assert is_relevant(tmp_path, "/not/the/project/content/brief.yaml") is False


def test_cli_watch_builds_prints_one_line_per_build_and_stops_on_ctrl_c(project):
    with running("watch", str(project), "--no-pdf", cwd=project, timeout=TIMEOUT) as lines:
        wait_for(lambda: any("built in" in line for line in lines), what="the first build")
        assert lines[0].startswith("watching content/ and templates/")
        assert (project / "output" / "brief.html").is_file()
        save_atomically(project / "content" / "brief.yaml", "title: [oops\n")
        wait_for(lambda: any("build failed" in line for line in lines), what="the error")
        assert any(line.startswith("content/brief.yaml:") for line in lines)
