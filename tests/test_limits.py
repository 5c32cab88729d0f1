"""Resource limits: a build (reading, checking, rendering) or a check past its time or memory
bound stops with a clear error (exit 1) and leaves every output as it was; see briefgen/limits.py
for how."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import OUTLINE, write_project

from briefgen import limits as limits_module
from briefgen.build import build
from briefgen.errors import BriefgenError
from briefgen.limits import Guard, Limits, resident_bytes
from briefgen.watch import Watcher

MB = 1024 * 1024


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def outputs(root: Path) -> dict[str, bytes]:
    out = root / "output"
    if not out.exists():
        return {}
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def edit_title(root: Path, title: str = "Edited") -> None:
    outline = root / "content" / "brief.yaml"
    text = outline.read_text("utf-8")
    outline.write_text(re.sub(r"(?m)^title: .*$", f'title: "{title}"', text, count=1), "utf-8")


def time_error(
    seconds: str, phase: str = "rendering the PDF", subject: str = "build"
) -> re.Pattern:
    """The message of a build (or check) stopped at its time bound; `phase` is a regex."""
    written = "; nothing was written" if subject == "build" else ""
    return re.compile(
        rf"^briefgen: error: the {subject} exceeded the time limit of {re.escape(seconds)} s "
        rf"\(--max-seconds\) while {phase}; stopped{written}\. A longer limit: --max-seconds N "
        r"or BRIEFGEN_MAX_SECONDS=N \(0: no limit\)$"
    )


# -- settings -------------------------------------------------------------------------------------


def test_limits_come_from_the_options_then_the_environment_then_the_defaults():
    assert Limits.resolve(environ={}) == Limits(120.0, 2048.0)
    env = {"BRIEFGEN_MAX_SECONDS": " 30 ", "BRIEFGEN_MAX_MEMORY_MB": "512"}
    assert Limits.resolve(environ=env) == Limits(30.0, 512.0)
    assert Limits.resolve(5, 100, environ=env) == Limits(5.0, 100.0)
    assert Limits.resolve(0, 0, environ=env) == Limits(None, None)  # 0: no limit
    assert Limits.resolve(environ={"BRIEFGEN_MAX_SECONDS": "0"}).seconds is None
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(BriefgenError, match="BRIEFGEN_MAX_SECONDS must be a number"):
            Limits.resolve(environ={"BRIEFGEN_MAX_SECONDS": bad})


def test_cli_rejects_a_negative_limit_and_a_bad_variable(project):
    result = run_cli("build", str(project), "--no-pdf", "--max-seconds", "-1")
    assert result.returncode == 2 and "--max-seconds" in result.stderr
    result = run_cli("build", str(project), "--no-pdf", env={"BRIEFGEN_MAX_MEMORY_MB": "lots"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "briefgen: error: BRIEFGEN_MAX_MEMORY_MB must be a number (0: no limit), not 'lots'"
    )
    assert outputs(project) == {}


# -- time -----------------------------------------------------------------------------------------


@pytest.mark.pdf
def test_cli_the_example_pdf_past_its_time_bound_stops_cleanly(example_copy):
    build(example_copy, pdf=False)
    before = outputs(example_copy)
    edit_title(example_copy)
    begun = time.perf_counter()
    result = run_cli("build", str(example_copy), "--max-seconds", "0.2")
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    # The bound covers the whole build: any phase is a fair stop after 0.2 s.
    assert time_error("0.2", ".+").match(result.stderr.strip()), result.stderr
    assert time.perf_counter() - begun < 30
    assert outputs(example_copy) == before


@pytest.mark.pdf
def test_weasyprint_stopped_mid_layout_leaves_a_process_that_builds_again(example_copy, project):
    import briefgen.pdf  # noqa: F401  (WeasyPrint imported: the second counts for the layout)

    build(example_copy, pdf=False)
    before = outputs(example_copy)
    with pytest.raises(BriefgenError) as caught:
        build(example_copy, limits=Limits(seconds=1.0, memory_mb=None))
    assert time_error("1", "rendering the (brief|PDF)").match(caught.value.lines()[0])
    assert outputs(example_copy) == before
    build(project)  # WeasyPrint, interrupted in this process, still works
    assert (project / "output" / "brief.pdf").read_bytes().startswith(b"%PDF-")


def test_the_bound_can_come_from_the_environment(built_project, monkeypatch):
    import briefgen.pdf

    monkeypatch.setenv("BRIEFGEN_MAX_SECONDS", "0.25")
    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", slow_pdf("busy"))
    with pytest.raises(BriefgenError) as caught:
        build(built_project)
    assert time_error("0.25").match(caught.value.lines()[0])


def slow_pdf(how: str):
    """A stand-in for WeasyPrint that never finishes: busy in Python, or blocked in C."""

    def render(*args, **kwargs):
        if how == "sleep":
            time.sleep(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pass
        raise AssertionError("not stopped")

    return render


def spin(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def careless_pdf(*args, **kwargs):
    """Half of its time in code that swallows every exception, as a careless library might."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(BaseException):
            spin(0.002)
        spin(0.002)
    raise AssertionError("not stopped")


def garbage_pdf(*args, **kwargs):
    """Makes garbage all the time: cycles for the collector (which calls its callbacks), and
    objects whose `__del__` does some work."""

    class Finalised:
        def __del__(self):
            spin(0.00005)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for _ in range(50):
            cycle = [Finalised()]
            cycle.append(cycle)
            del cycle
        spin(0.001)
    raise AssertionError("not stopped")


def run_caught(work, thread: bool) -> tuple[list[BaseException], float]:
    """Run `work()` on this thread or on another; (the exceptions it raised, seconds taken)."""
    found: list[BaseException] = []

    def run():
        try:
            work()
        except BaseException as exc:
            found.append(exc)

    begun = time.perf_counter()
    if thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the work was not stopped"
    else:
        run()
    return found, time.perf_counter() - begun


def stopped_build(root: Path, seconds: float = 2, thread: bool = False):
    """Build `root` (on this thread or another) under a time bound; (error, seconds taken)."""
    found, took = run_caught(
        lambda: build(root, limits=Limits(seconds=seconds, memory_mb=None)), thread
    )
    assert len(found) == 1 and isinstance(found[0], BriefgenError), found
    return found[0], took


@pytest.mark.parametrize(
    ("how", "thread"),
    [
        ("busy", False),
        ("sleep", False),
        ("busy", True),
        ("careless", False),
        ("careless", True),
        ("garbage", False),
        ("garbage", True),
    ],
    ids=[
        "busy-main-thread",
        "blocked-main-thread",
        "busy-other-thread",
        "swallowing-main-thread",
        "swallowing-other-thread",
        "in-gc-callbacks-main-thread",
        "in-gc-callbacks-other-thread",
    ],
)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_pdf_that_never_finishes_is_stopped(built_project, monkeypatch, how, thread):
    """Also when the first interruption lands where Python swallows it (Hypothesis, say, runs a
    callback at every garbage collection): it is delivered again until the rendering stops."""
    import gc

    import briefgen.pdf

    def callback(phase, info):
        spin(0.00005)

    if how == "garbage":
        monkeypatch.setattr(gc, "callbacks", [*gc.callbacks, callback])
    pdf = {"careless": careless_pdf, "garbage": garbage_pdf}.get(how) or slow_pdf(how)
    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", pdf)
    before = outputs(built_project)
    handler = signal.getsignal(signal.SIGALRM)
    error, took = stopped_build(built_project, thread=thread)
    # 2 s: the bound covers the whole build, which must reach the PDF before it, even on a
    # loaded machine
    assert time_error("2").match(error.lines()[0])
    assert took < 12  # the bound is 2 s
    assert outputs(built_project) == before
    assert signal.getsignal(signal.SIGALRM) == handler  # restored


@pytest.fixture
def built_project(project) -> Path:
    """The small project built (HTML only: quicker), then edited: the next build has work."""
    build(project, pdf=False)
    edit_title(project)
    return project


def test_the_watcher_reports_a_stopped_build_and_goes_on(built_project, monkeypatch):
    import briefgen.pdf

    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", slow_pdf("busy"))
    results = []
    watcher = Watcher(built_project, on_result=results.append, pdf=True, limits=Limits(2, None))
    worker = threading.Thread(target=watcher.build_once)  # off the main thread, as in serve
    worker.start()
    worker.join(30)
    assert not results[0].ok
    assert len(results[0].errors) == 1 and time_error("2").match(results[0].errors[0])
    monkeypatch.undo()
    watcher.limits = None  # the defaults
    worker = threading.Thread(target=watcher.build_once)
    worker.start()
    worker.join(120)
    assert results[1].ok, results[1].errors
    assert b"Edited" in (built_project / "output" / "brief.html").read_bytes()


def test_no_bound_means_no_watchdog(project, monkeypatch):
    started = []
    monkeypatch.setattr(Guard, "_start", lambda self: started.append(self))
    build(project, pdf=False, limits=Limits.none())
    assert started == []
    build(project, pdf=False, force=True)
    assert len(started) == 1


# -- the whole build, and check ---------------------------------------------------------------


def slow_reader(how: str = "busy"):
    """A stand-in for `sources.read_sources` that never finishes (busy, or blocked in a call)."""

    def read(*args, **kwargs):
        if how == "sleep":
            time.sleep(60)
        spin(60)
        raise AssertionError("not stopped")

    return read


@pytest.mark.parametrize("how", ["busy", "sleep"])
def test_the_bound_covers_reading_the_sources(built_project, monkeypatch, how):
    import briefgen.sources

    monkeypatch.setattr(briefgen.sources, "read_sources", slow_reader(how))
    before = outputs(built_project)
    begun = time.perf_counter()
    with pytest.raises(BriefgenError) as caught:
        build(built_project, limits=Limits(seconds=0.5, memory_mb=None))
    assert time_error("0.5", "reading the sources").match(caught.value.lines()[0])
    assert time.perf_counter() - begun < 10
    assert outputs(built_project) == before


def test_the_bound_covers_a_check(project, monkeypatch):
    import briefgen.sources
    from briefgen.build import check

    monkeypatch.setattr(briefgen.sources, "read_sources", slow_reader())
    with pytest.raises(BriefgenError) as caught:
        check(project, limits=Limits(seconds=0.3, memory_mb=None))
    assert time_error("0.3", "reading the sources", "check").match(caught.value.lines()[0])
    monkeypatch.undo()
    report = check(project, limits=Limits(seconds=30, memory_mb=None))  # the same, quick reader
    assert report.verified is not None and not report.diagnostics.errors


def greedy(*args, **kwargs):
    """Takes memory until stopped: up to 4 GB, 2 MB at a time, every page touched."""
    hoard = []
    for _ in range(2000):
        hoard.append(b"x" * (2 * MB))
    raise AssertionError("not stopped")


def test_the_memory_bound_covers_checking_too(built_project, monkeypatch):
    import briefgen.anchor

    monkeypatch.setattr(briefgen.anchor, "locate", greedy)
    before = outputs(built_project)
    bound = round(resident_bytes() / MB) + 100
    with pytest.raises(BriefgenError) as caught:
        build(built_project, limits=Limits(seconds=None, memory_mb=bound))
    assert memory_error(bound, "checking the excerpts").match(caught.value.lines()[0])
    assert outputs(built_project) == before


#: Run the CLI with a reader of sources that takes 30 s (as a quadratic parser could, on a large
#: and odd source).
SLOW_CLI = (
    "import sys, time, briefgen.sources as s\n"
    "real = s.read_sources\n"
    "s.read_sources = lambda *a, **k: (time.sleep(30), real(*a, **k))[1]\n"
    "from briefgen.cli import main\n"
    "sys.argv[0] = 'briefgen'\n"
    "main()\n"
)


@pytest.mark.parametrize("command", ["build", "check"])
def test_cli_a_source_slow_to_read_stops_at_the_bound(built_project, command):
    before = outputs(built_project)
    begun = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", SLOW_CLI, command, str(built_project), "--max-seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    pattern = time_error("1", "reading the sources", command)
    assert pattern.match(result.stderr.strip()), result.stderr
    assert time.perf_counter() - begun < 20  # not the reader's 30 s
    assert outputs(built_project) == before


def test_cli_check_takes_the_limits_too(project):
    result = run_cli("check", str(project), "--max-seconds", "-1")
    assert result.returncode == 2 and "--max-seconds" in result.stderr
    result = run_cli("check", str(project), "--max-seconds", "60", "--max-memory", "4096")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("thread", [False, True], ids=["main-thread", "other-thread"])
def test_an_import_is_never_cut_off_halfway(tmp_path, monkeypatch, thread):
    """Past the bound inside an import, the interruption waits for the import to finish: a
    module left half imported could break the next build of a `watch` process."""
    name = f"briefgen_slow_import_{'thread' if thread else 'main'}"
    (tmp_path / f"{name}.py").write_text(
        "import time\n"
        "deadline = time.perf_counter() + 0.8\n"
        "while time.perf_counter() < deadline:\n"
        "    pass\n"
        "COMPLETE = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)

    def work():
        importlib.import_module(name)
        spin(30)

    found, took = run_caught(lambda: Guard(Limits(0.1, None), "importing").run(work), thread)
    assert len(found) == 1 and isinstance(found[0], BriefgenError), found
    assert "exceeded the time limit of 0.1 s" in str(found[0])
    assert sys.modules[name].COMPLETE
    assert 0.8 <= took < 10


# -- memory ---------------------------------------------------------------------------------------


def memory_error(mb: float, phase: str = "rendering the PDF", subject: str = "build") -> re.Pattern:
    """The message of a build (or check) stopped at its memory bound; `phase` is a regex."""
    written = "; nothing was written" if subject == "build" else ""
    return re.compile(
        rf"^briefgen: error: the {subject} exceeded the memory limit of {mb:g} MB "
        rf"\(--max-memory\) while {phase}; stopped{written}\. A higher limit: --max-memory MB "
        r"or BRIEFGEN_MAX_MEMORY_MB=MB \(0: no limit\)$"
    )


def test_a_pdf_that_eats_memory_is_stopped_at_the_bound(built_project, monkeypatch):
    import briefgen.pdf

    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", greedy)
    before = outputs(built_project)
    bound = round(resident_bytes() / MB) + 100
    with pytest.raises(BriefgenError) as caught:
        build(built_project, limits=Limits(seconds=None, memory_mb=bound))
    assert memory_error(bound).match(caught.value.lines()[0])
    assert outputs(built_project) == before
    assert resident_bytes() / MB < bound + 300  # stopped near the bound, not at 4 GB


def test_cli_memory_bound_below_what_the_process_already_uses(project):
    build(project, pdf=False)
    before = outputs(project)
    edit_title(project)
    result = run_cli("build", str(project), "--no-pdf", "--max-memory", "1")
    assert result.returncode == 1
    # Past the bound from the start: stopped at once, at whatever it was doing.
    assert memory_error(1, ".+").match(result.stderr.strip()), result.stderr
    assert outputs(project) == before


PARAGRAPH = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua. "
) * 3


@pytest.mark.pdf
def test_cli_a_pathological_brief_past_its_memory_bound_stops_cleanly(project):
    """1,000 long paragraphs, and a bound 30 MB above what a fresh briefgen process takes once
    it has imported everything: WeasyPrint's layout passes it, and is stopped."""
    build(project, pdf=False)
    before = outputs(project)
    block = "      - |\n" + "".join(f"        {PARAGRAPH}{n}\n\n" for n in range(1000))
    write_project(project, OUTLINE.replace("      - key: Ties matter [@energy].\n", block))
    code = (
        "import briefgen.build, briefgen.render, briefgen.pdf, briefgen.limits as limits; "
        "print(round(limits.resident_bytes() / 2**20))"
    )
    baseline = int(subprocess.check_output([sys.executable, "-c", code], text=True))
    bound = baseline + 30
    begun = time.perf_counter()
    result = run_cli("build", str(project), "--max-memory", str(bound), "--max-seconds", "0")
    assert result.returncode == 1, result.stderr
    assert memory_error(bound, "rendering the (brief|PDF)").match(result.stderr.strip()), (
        result.stderr
    )
    assert outputs(project) == before
    print(f"\nstopped at {bound} MB after {time.perf_counter() - begun:.1f} s")


def test_the_address_space_backstop_is_set_only_around_the_pdf_and_restored(
    built_project, monkeypatch
):
    import briefgen.pdf

    seen = []
    monkeypatch.setattr(
        briefgen.pdf,
        "html_to_pdf",
        lambda *a, **k: seen.append(resource.getrlimit(resource.RLIMIT_AS)) or b"%PDF-1.7 fake",
    )
    before = resource.getrlimit(resource.RLIMIT_AS)
    size = limits_module.address_space_bytes()
    bound = round(resident_bytes() / MB) + 1000
    build(built_project, limits=Limits(seconds=None, memory_mb=bound))
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    if before[0] == resource.RLIM_INFINITY and size is not None:
        cap = seen[0][0]  # the address space may grow by twice the bound
        assert 2 * bound * MB < cap <= size + 2 * bound * MB + 512 * MB  # size then, plus
