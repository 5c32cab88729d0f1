"""Running the `briefgen` command as an editor does: a child process, output captured as text."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m briefgen ARGS` in `cwd`; stdout and stderr captured, never raising on exit 1/2."""
    return subprocess.run(
        [sys.executable, "-m", "briefgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def running(*args: str, cwd: Path, timeout: float = 60) -> Iterator[list[str]]:
    """A long-running `briefgen ARGS` (watch, serve): yields its output lines as they come.

    On leaving, Ctrl-C (SIGINT) stops it; it must exit 0 with "stopped" as its last line and no
    traceback. The process is killed if anything in the block fails.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "briefgen", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=cwd,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        yield lines
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=timeout)
        reader.join(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, lines
    assert lines[-1].strip() == "stopped"
    assert "Traceback" not in "".join(lines)
