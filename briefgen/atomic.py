"""Write files so that a reader only ever sees the old file or the new one, whole.

- `write_atomic(path, data)`: one file, through a temp file in the same folder (flush, fsync,
  `os.replace`).
- `write_all(files)`: several files as one step, as near as a file system allows: every temp file
  is written and fsynced first, and only then are they renamed over the old files, one after the
  other. A failure while writing (a full disk, say) removes the temp files and leaves every old
  file as it was; what can still interrupt the renames is the process dying (SIGKILL, power cut)
  between two of them, which the build's state covers (it is written last, and an output is only
  trusted when its hash matches the state).
- A process killed while writing leaves its temp file behind: `.NAME.XXXXXXXX.tmp`, beside NAME.
  `clean_temps(folder, names)` removes such files, and `output_lock(folder)` makes that safe: a
  build holds it while it writes, so a temp file found under the lock belongs to no live build.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

#: What `tempfile.mkstemp` puts between prefix and suffix: 8 of [a-z0-9_].
_RANDOM = r"[a-z0-9_]{8}"
LOCK_NAME = "write.lock"


def _temp_for(path: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def _write_temp(path: Path, data: bytes) -> str:
    """A synced temp file beside `path` holding `data`; its name. Removed again on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = _temp_for(path)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, flush + fsync, then `os.replace` over `path`."""
    temp = _write_temp(path, data)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)


def write_all(files: dict[Path, bytes]) -> None:
    """Write every file atomically: all temp files first, then all the renames, in order.

    If writing any temp file fails, every temp file is removed and no file has changed.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_write_temp(path, data), path))
        while staged:
            temp, path = staged[0]
            os.replace(temp, path)
            staged.pop(0)
    except BaseException:
        for temp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise
    for folder in dict.fromkeys(path.parent for path in files):
        _fsync_folder(folder)


def temp_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """Matches the temp files `write_atomic` makes for any of `names` (file names, no folder)."""
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(rf"^\.(?:{alternatives})\.{_RANDOM}\.tmp$")


def clean_temps(folder: Path, names: Iterable[str]) -> list[Path]:
    """Remove the temp files left in `folder` by a write of one of `names` that never finished.

    Call it only while holding `output_lock`, so that no live writer's temp file is taken.
    Only files of this module's own naming are touched; the removed paths are returned.
    """
    pattern = temp_pattern(names)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if pattern.match(entry.name) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder/write.lock` (waiting for it), released on exit.

    The lock is an advisory `flock`: the kernel drops it when its holder dies, even by SIGKILL,
    so a killed build never leaves it taken. Where `fcntl` is missing (Windows) this is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _fsync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable (best effort: not every system can open a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    """The process's umask; read from /proc where possible, since setting it to read it (the
    fallback) is not safe while other threads create files."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask
