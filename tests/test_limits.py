"""Resource limits: a rendering past its time or memory bound stops with a clear error (exit 1)
and leaves every output as it was; see briefgen/limits.py for how."""

from __future__ import annotations

import contextlib
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


def time_error(seconds: str, phase: str = "PDF") -> re.Pattern:
    return re.compile(
        rf"^briefgen: error: rendering the {phase} took longer than {re.escape(seconds)} s "
        r"\(--max-seconds\); stopped; nothing was written\. A longer limit: --max-seconds N or "
        r"BRIEFGEN_MAX_SECONDS=N \(0: no limit\)$"
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
    # The example's HTML may already take 0.2 s in a fresh process: either phase is a fair stop.
    assert time_error("0.2", "(brief|PDF)").match(result.stderr.strip()), result.stderr
    assert time.perf_counter() - begun < 30
    assert outputs(example_copy) == before


@pytest.mark.pdf
def test_weasyprint_stopped_mid_layout_leaves_a_process_that_builds_again(example_copy, project):
    build(example_copy, pdf=False)
    before = outputs(example_copy)
    with pytest.raises(BriefgenError) as caught:
        build(example_copy, limits=Limits(seconds=1.0, memory_mb=None))
    assert time_error("1").match(caught.value.lines()[0])
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


def stopped_build(root: Path, seconds: float = 0.3, thread: bool = False):
    """Build `root` (on this thread or another) under a time bound; (error, seconds taken)."""
    found: list[BaseException] = []

    def run():
        try:
            build(root, limits=Limits(seconds=seconds, memory_mb=None))
        except BaseException as exc:
            found.append(exc)

    begun = time.perf_counter()
    if thread:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the build was not stopped"
    else:
        run()
    assert len(found) == 1 and isinstance(found[0], BriefgenError), found
    return found[0], time.perf_counter() - begun


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
    assert time_error("0.3").match(error.lines()[0])
    assert took < 10  # the bound is 0.3 s; the build's checking before it is not bounded
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
    watcher = Watcher(built_project, on_result=results.append, pdf=True, limits=Limits(0.3, None))
    worker = threading.Thread(target=watcher.build_once)  # off the main thread, as in serve
    worker.start()
    worker.join(30)
    assert not results[0].ok
    assert len(results[0].errors) == 1 and time_error("0.3").match(results[0].errors[0])
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


# -- memory ---------------------------------------------------------------------------------------


def memory_error(mb: float, phase: str = "PDF") -> re.Pattern:
    return re.compile(
        rf"^briefgen: error: rendering the {phase} needed more than {mb:g} MB of memory "
        r"\(--max-memory\); stopped; nothing was written\. A higher limit: --max-memory MB or "
        r"BRIEFGEN_MAX_MEMORY_MB=MB \(0: no limit\)$"
    )


def test_a_pdf_that_eats_memory_is_stopped_at_the_bound(built_project, monkeypatch):
    import briefgen.pdf

    def greedy(*args, **kwargs):
        hoard = []
        for _ in range(2000):  # up to 4 GB, 2 MB at a time, every page touched
            hoard.append(b"x" * (2 * MB))
        raise AssertionError("not stopped")

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
    assert memory_error(1, "brief").match(result.stderr.strip()), result.stderr
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
    assert memory_error(bound, "(brief|PDF)").match(result.stderr.strip()), result.stderr
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
