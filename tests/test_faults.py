"""Faults: a build killed at any moment, a crash or an error after rendering, a full disk, stale
temp files, and a watcher hammered with saves, good and bad.

The promise under test: every output is at all times either the old file or the new one, whole;
the state (written last) never vouches for an output it did not see written; a following build
repairs whatever a killed one left, its temp files included; and nothing is written unless
everything succeeded.

- `test_builds_killed_at_random_moments`: `python -m briefgen build` in a subprocess, SIGKILLed
  after a random delay spread over its run time (seeded), 10 times in the default run and 50 with
  `-m slow`; most runs `--no-pdf`, every fifth with the PDF. Where the kills landed is printed
  (`-s` shows it): most land before the writes, since imports and rendering take most of the time.
- `test_a_build_killed_at_every_step_of_its_writes`: so the short window of the writes is covered
  deterministically too, a forked build kills itself after each fsync and each rename in turn.
- `test_a_build_killed_while_pandoc_runs_leaves_no_temp_files`: the citations' pandoc run (a
  stand-in that never ends) is where a kill used to leave temp folders in the system's temp folder.

Every killed build gets a temp folder of its own (TMPDIR), which must stay empty.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import OUTLINE, SOURCE_A, SOURCE_B, write_project

from briefgen import atomic
from briefgen.build import build
from briefgen.errors import BriefgenError
from briefgen.state import load_state
from briefgen.watch import Watcher, WatchResult

OLD = {"brief.yaml": OUTLINE, "lavrov.txt": SOURCE_A}
NEW = {
    "brief.yaml": OUTLINE.replace('title: "Russia and Iraq"', 'title: "Russia and Iraq, revised"'),
    "lavrov.txt": SOURCE_A.replace("after an important trip", "after a long trip"),
}
#: Every file a build writes, relative to output/.
FILES = (
    "brief.html",
    "brief.pdf",
    "report.html",
    ".briefgen/print.html",
    ".briefgen/sources.cache",
    ".briefgen/state.json",
)
STATE = ".briefgen/state.json"


def set_content(root: Path, content: dict[str, str]) -> None:
    (root / "content" / "brief.yaml").write_text(content["brief.yaml"], "utf-8")
    (root / "content" / "sources" / "lavrov.txt").write_text(content["lavrov.txt"], "utf-8")


def temp_files(root: Path) -> list[Path]:
    out = root / "output"
    return sorted([*out.glob(".*.tmp"), *out.glob(".briefgen/.*.tmp")])


class Scenario:
    """A project whose output/ holds the old content's build while content/ holds the new one.

    `old` maps each file of `FILES` to its bytes in that output; `new[pdf]` to its bytes after a
    good build of the new content from there, with (`True`) or without (`False`) the PDF.
    """

    def __init__(self, base: Path):
        self.root = write_project(base / "brief")
        build(self.root)
        self.snapshot = base / "old-output"
        shutil.copytree(self.root / "output", self.snapshot)
        self.old = self.files()
        set_content(self.root, NEW)
        self.new = {}
        for pdf in (False, True):
            self.reset()
            build(self.root, pdf=pdf)
            self.new[pdf] = self.files()
        assert self.new[False]["brief.html"] != self.old["brief.html"]
        assert self.new[True]["brief.pdf"] != self.old["brief.pdf"]
        self.reset()

    def reset(self) -> None:
        """output/ back to the old build (content/ keeps the new content)."""
        shutil.rmtree(self.root / "output")
        shutil.copytree(self.snapshot, self.root / "output")

    def files(self) -> dict[str, bytes | None]:
        out = self.root / "output"
        return {n: (out / n).read_bytes() if (out / n).is_file() else None for n in FILES}

    def changed(self, pdf: bool) -> list[str]:
        return [name for name in FILES if self.new[pdf][name] != self.old[name]]

    def check_whole(self, pdf: bool) -> dict[str, bytes | None]:
        """Each file is the old one or the new one, whole; the state loads."""
        now = self.files()
        for name in FILES:
            assert now[name] in (self.old[name], self.new[pdf][name]), f"{name} is neither"
        json.loads(now[STATE])
        assert load_state(_Project(self.root)).fingerprint
        return now

    def phase(self, pdf: bool, exited: bool) -> str:
        """Where a kill landed, judged by what it left."""
        if exited:
            return "after the build had exited"
        now, changed = self.files(), self.changed(pdf)
        written = [name for name in changed if now[name] == self.new[pdf][name]]
        if STATE in written:
            return "after the state was written"
        if not written:
            return "while writing temp files" if temp_files(self.root) else "before any write"
        if len(written) == len(changed) - 1:
            return "after the outputs, before the state"
        return "between two renames"

    def recover(self, pdf: bool) -> None:
        """A normal build now gives exactly the new outputs, and leaves no temp file."""
        build(self.root, pdf=pdf)
        assert self.files() == self.new[pdf]
        assert temp_files(self.root) == []


class _Project:
    """Just what `load_state` needs."""

    def __init__(self, root: Path):
        self.output = root / "output"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Scenario:
    return Scenario(tmp_path_factory.mktemp("faults"))


# -- killed at random moments -------------------------------------------------------------------


def command(root: Path, pdf: bool) -> list[str]:
    return [sys.executable, "-m", "briefgen", "build", str(root), *([] if pdf else ["--no-pdf"])]


def kill_at_random(scenario: Scenario, runs: int, seed: int) -> collections.Counter:
    rng = random.Random(seed)
    # The builds' own temp folder, to count what kills leave there (outside output/).
    scratch = scenario.root.parent / f"tmp-{seed}"
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch)}
    took = {}
    for pdf in (False, True):  # how long a whole run takes here, now
        scenario.reset()
        begun = time.perf_counter()
        subprocess.run(command(scenario.root, pdf), check=True, capture_output=True, env=env)
        took[pdf] = time.perf_counter() - begun
        scenario.check_whole(pdf)
        assert scenario.files() == scenario.new[pdf]
    phases: collections.Counter = collections.Counter()
    for run in range(runs):
        pdf = run % 5 == 4
        scenario.reset()
        delay = rng.uniform(0, 1.1 * took[pdf])
        proc = subprocess.Popen(
            command(scenario.root, pdf),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(delay)
        exited = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        scenario.check_whole(pdf)
        phases[("pdf " if pdf else "html ") + scenario.phase(pdf, exited)] += 1
        scenario.recover(pdf)
    print(f"\n{runs} kills (run time {took[False]:.2f} s html, {took[True]:.2f} s pdf):")
    for phase, count in sorted(phases.items()):
        print(f"  {count:3d}  {phase}")
    # Nothing outside output/ either: pandoc runs on pipes (briefgen/cite/processor.py).
    time.sleep(0.5)  # an orphaned pandoc finishing
    left = sorted(p.name for p in scratch.iterdir())
    print(f"  left in TMPDIR: {len(left)} {left}")
    assert left == []
    return phases


def test_builds_killed_at_random_moments(scenario):
    assert sum(kill_at_random(scenario, 10, seed=20261128).values()) == 10


@pytest.mark.slow
def test_builds_killed_at_random_moments_50_times(scenario):
    assert sum(kill_at_random(scenario, 50, seed=1128).values()) == 50


# -- killed while pandoc runs --------------------------------------------------------------------

#: A stand-in for pandoc that says it has started (its process id, in a file) and never ends.
FAKE_PANDOC = """#!/bin/sh
echo $$ > "$BRIEFGEN_TEST_MARK.part" && mv "$BRIEFGEN_TEST_MARK.part" "$BRIEFGEN_TEST_MARK"
exec sleep 120
"""
#: `python -m briefgen`, with the stand-in as its pandoc.
WITH_FAKE_PANDOC = (
    "import os, sys\n"
    "import briefgen.cite.processor as processor\n"
    "processor.pandoc_path = lambda: os.environ['BRIEFGEN_TEST_PANDOC']\n"
    "from briefgen.cli import main\n"
    "sys.argv[0] = 'briefgen'\n"
    "main()\n"
)


@pytest.mark.parametrize("pdf", [False, True], ids=["html", "pdf"])
def test_a_build_killed_while_pandoc_runs_leaves_no_temp_files(scenario, tmp_path, pdf):
    """Killed while pandoc formats the citations (in the background, after the checks): nothing
    is left in the build's temp folder (nor in output/), and the next build is whole."""
    fake = tmp_path / "pandoc"
    fake.write_text(FAKE_PANDOC)
    fake.chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    mark = tmp_path / "pandoc.pid"
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "BRIEFGEN_TEST_PANDOC": str(fake),
        "BRIEFGEN_TEST_MARK": str(mark),
    }
    scenario.reset()
    args = [str(scenario.root), *([] if pdf else ["--no-pdf"])]
    proc = subprocess.Popen(
        [sys.executable, "-c", WITH_FAKE_PANDOC, "build", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not mark.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "pandoc never started"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        if mark.exists():  # the stand-in outlives the build it was started by
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(mark.read_text()), signal.SIGKILL)
    assert sorted(p.name for p in scratch.iterdir()) == []
    assert scenario.files() == scenario.old  # killed before any write
    assert temp_files(scenario.root) == []
    scenario.recover(pdf)


# -- killed at every step of the writes ---------------------------------------------------------


def _die_after(step: int) -> None:
    """In a forked child: SIGKILL this process right after its `step`-th fsync or rename."""
    count = 0
    real = {"fsync": os.fsync, "replace": os.replace}

    def counted(name):
        def call(*args):
            nonlocal count
            result = real[name](*args)
            count += 1
            if count == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call

    os.fsync = counted("fsync")
    os.replace = counted("replace")


def run_forked(child, timeout: float = 60.0) -> int:
    """Run `child()` in a fork of this process; its wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            child()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("the forked build hung")
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("pdf", [False, True], ids=["html", "pdf"])
def test_a_build_killed_at_every_step_of_its_writes(scenario, pdf, monkeypatch):
    import briefgen.pdf

    # The PDF's bytes are known: the child skips WeasyPrint, the writes are what is tested here.
    new_pdf = scenario.new[True]["brief.pdf"]
    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", lambda *args, **kwargs: new_pdf)
    phases = []
    step = 0
    while True:
        step += 1
        scenario.reset()

        def child(step=step):
            _die_after(step)
            build(scenario.root, pdf=pdf)

        status = run_forked(child)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert killed or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0), status
        scenario.check_whole(pdf)
        phases.append(scenario.phase(pdf, exited=not killed))
        scenario.recover(pdf)
        if not killed:
            break
    print(f"\n{step - 1} kill points: " + "; ".join(f"{n}: {p}" for n, p in enumerate(phases, 1)))
    # Each file (the state last) written to a synced temp file; then each renamed; then the two
    # folders synced.
    files = len(scenario.changed(pdf))
    assert step - 1 == 2 * files + 2
    assert phases[-1] == "after the build had exited"
    assert phases[:-1] == (
        ["while writing temp files"] * files
        + ["between two renames"] * (files - 2)
        + ["after the outputs, before the state"]
        + ["after the state was written"] * 3
    )


# -- failures after rendering, while writing ----------------------------------------------------


def outputs_now(root: Path) -> dict[str, bytes]:
    out = root / "output"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture
def built(project) -> Path:
    """Built from the old content (HTML only: quicker), with the new content in place."""
    build(project, pdf=False)
    set_content(project, NEW)
    return project


@pytest.mark.pdf
@pytest.mark.parametrize(
    "error", [RuntimeError("WeasyPrint fell over"), MemoryError()], ids=["crash", "memory"]
)
def test_a_pdf_crash_leaves_every_output_as_it_was(built, monkeypatch, error):
    import briefgen.pdf

    def crash(*args, **kwargs):
        raise error

    before = outputs_now(built)
    monkeypatch.setattr(briefgen.pdf, "html_to_pdf", crash)
    with pytest.raises((RuntimeError, BriefgenError)) as caught:
        build(built)
    if isinstance(error, MemoryError):
        assert "the build ran out of memory while rendering the PDF" in str(caught.value)
    assert outputs_now(built) == before  # brief.html too, though it was rendered


@pytest.mark.pdf
def test_an_error_inside_weasyprint_is_a_message_and_writes_nothing(built, monkeypatch):
    import weasyprint

    def broken(self, *args, **kwargs):
        raise ValueError("no layout today")

    before = outputs_now(built)
    monkeypatch.setattr(weasyprint.HTML, "render", broken)
    with pytest.raises(BriefgenError, match="PDF: WeasyPrint failed: ValueError: no layout today"):
        build(built)
    assert outputs_now(built) == before


def test_a_template_error_after_the_brief_was_rendered_writes_nothing(built):
    (built / "templates").mkdir()
    (built / "templates" / "report.html.j2").write_text("{{ no_such_variable.attribute }}\n")
    before = outputs_now(built)
    with pytest.raises(BriefgenError, match="report.html.j2"):
        build(built, pdf=False)
    assert outputs_now(built) == before


@pytest.mark.parametrize("fail_at", [1, 2, 3], ids=["brief", "report", "state"])
def test_a_full_disk_while_writing_leaves_every_output_as_it_was(built, monkeypatch, fail_at):
    """One of the temp files cannot be written (the state's too): no file has changed yet."""
    calls = 0
    real = os.fsync

    def fsync(fd):
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    before = outputs_now(built)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with pytest.raises(BriefgenError, match="No space left on device"):
        build(built, pdf=False)
    assert outputs_now(built) == before
    assert temp_files(built) == []
    monkeypatch.undo()
    build(built, pdf=False)
    assert b"revised" in (built / "output" / "brief.html").read_bytes()


DAMAGED = {
    "empty": lambda state: b"",
    "cut short": lambda state: state[: len(state) // 2],
    "zeros": lambda state: b"\x00" * len(state),  # what some file systems leave after a crash
    "a list": lambda state: b"[]",
    "wrong types": lambda state: json.dumps(
        json.loads(state) | {"outputs": {"brief.html": "x"}, "excerpts": [{"quote": 1}]}
    ).encode(),
    "no fingerprint": lambda state: json.dumps(
        {k: v for k, v in json.loads(state).items() if k != "fingerprint"}
    ).encode(),
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_state_means_a_full_rebuild_not_a_wrong_one(built, damage):
    build(built, pdf=False)
    good = outputs_now(built)
    state = built / "output" / STATE
    (built / "output" / "brief.html").write_text("stale")  # a state can no longer vouch for it
    state.write_bytes(damage(state.read_bytes()))
    result = build(built, pdf=False)
    assert not result.skipped
    assert (built / "output" / "brief.html").read_bytes() == good["brief.html"]
    assert load_state(_Project(built)).fingerprint


LEFTOVERS = [
    ".brief.html.a1b2c3d4.tmp",
    ".brief.pdf.zz_99xyq.tmp",
    ".report.html.00000000.tmp",
    ".briefgen/.state.json.k3j4h5g6.tmp",
    ".briefgen/.print.html.abcdefgh.tmp",
]
NOT_OURS = [
    ".notes.txt.a1b2c3d4.tmp",  # another name
    ".brief.html.tmp",  # no random part
    "brief.html.a1b2c3d4.tmp",  # not hidden
    ".brief.html.A1B2C3D4.tmp",  # mkstemp never uses capitals
    ".briefgen/.search.sqlite.a1b2c3d4.tmp",
]


@pytest.mark.parametrize("noop", [False, True], ids=["rebuild", "no-op"])
def test_the_next_build_removes_a_killed_builds_temp_files_and_only_those(built, noop):
    build(built, pdf=False)
    if not noop:
        set_content(built, OLD)
    out = built / "output"
    for name in LEFTOVERS + NOT_OURS:
        (out / name).write_bytes(b"half a file")
    result = build(built, pdf=False)
    assert result.skipped is noop
    assert [name for name in LEFTOVERS + NOT_OURS if (out / name).exists()] == NOT_OURS


def test_builds_in_two_processes_at_once_serialise_their_writes(built):
    """Two builds at once: the lock keeps each one's writes together, so the last one to write
    wins whole, and the state matches the files."""
    procs = [
        subprocess.Popen(command(built, pdf=False), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        proc.wait(timeout=120)
        assert proc.returncode == 0, proc.stderr.read()
    assert temp_files(built) == []
    assert build(built, pdf=False).skipped  # the state vouches for what is on disk


# -- watch under a storm of saves ---------------------------------------------------------------

GOOD = "good"
FINAL_OUTLINE = OUTLINE.replace('title: "Russia and Iraq"', 'title: "The final brief"')
FINAL_SOURCE = SOURCE_A.replace("after an important trip", "after the final trip")


def storm_contents(n: int) -> tuple[str, str, str]:
    """(kind, file, text) for save number `n`: a mix of good and bad saves."""
    kinds = [
        ("good outline", "brief.yaml", OUTLINE.replace("A test brief", f"Save {n}")),
        ("good source", "sources/lavrov.txt", SOURCE_A.replace("important", f"important ({n})")),
        ("broken YAML", "brief.yaml", OUTLINE.replace("sections:\n", "sections: [\n", 1)),
        ("missing quote mark", "brief.yaml", OUTLINE.replace('"Russia and Iraq"', '"Russia', 1)),
        (
            "quote not in source",
            "brief.yaml",
            OUTLINE.replace("West Qurna-2.", "a place no source has ever named."),
        ),
        ("empty outline", "brief.yaml", ""),
        ("source without front matter", "sources/energy.txt", "just text\n"),
        ("good source", "sources/energy.txt", SOURCE_B),
    ]
    return kinds[n % len(kinds)]


def test_watch_survives_200_rapid_saves_and_ends_as_a_clean_build(project, tmp_path):
    rng = random.Random(200)
    results: list[WatchResult] = []
    watcher = Watcher(project, on_result=results.append, pdf=False, debounce_ms=40, step_ms=10)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not results:
            assert time.monotonic() < deadline, "no first build"
            time.sleep(0.02)
        begun = time.perf_counter()
        kinds = collections.Counter()
        for n in range(200):
            kind, name, text = storm_contents(rng.randrange(1000))
            kinds[kind] += 1
            path = project / "content" / name
            if rng.random() < 0.5:  # an editor's atomic save
                temp = path.with_name(f".{path.name}.{n}.tmp")
                temp.write_text(text, "utf-8")
                os.replace(temp, path)
            else:  # in place: a build may read it half-written
                path.write_text(text, "utf-8")
            time.sleep(rng.uniform(0.001, 0.008))
        (project / "content" / "sources" / "energy.txt").write_text(SOURCE_B, "utf-8")
        (project / "content" / "sources" / "lavrov.txt").write_text(FINAL_SOURCE, "utf-8")
        (project / "content" / "brief.yaml").write_text(FINAL_OUTLINE, "utf-8")
        saved = time.time()
        storm = time.perf_counter() - begun
        # Settled: a build finished after the last save, then none for a second.
        deadline = time.monotonic() + 60
        while True:
            count = len(results)
            time.sleep(1.0)
            if len(results) == count and results[-1].finished > saved:
                break
            assert time.monotonic() < deadline, "the watcher never settled"
        assert thread.is_alive(), "the watcher died"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    last = results[-1]
    assert last.ok, last.errors
    ok = sum(r.ok for r in results)
    print(
        f"\n200 saves in {storm:.2f} s ({dict(kinds)}): {len(results)} builds, {ok} good, "
        f"{len(results) - ok} failed"
    )
    assert len(results) - ok > 0  # some bad content was seen...
    assert all(r.errors for r in results if not r.ok)  # ...and reported as errors, not crashes
    crash = re.compile(r"Traceback|^briefgen: error: \w*(Error|Exception|Interrupt)\w*: ")
    assert not [e for r in results for e in r.errors if crash.search(e)]

    fresh = write_project(
        tmp_path / "fresh",
        FINAL_OUTLINE,
        {"lavrov.txt": FINAL_SOURCE, "energy.txt": SOURCE_B},
    )
    build(fresh, pdf=False)
    name = "brief.html"
    assert (project / "output" / name).read_bytes() == (fresh / "output" / name).read_bytes()
    assert temp_files(project) == []
