"""Rebuild the brief whenever its content or templates change, in one warm process.

`Watcher(project, on_result=callback).run(stop_event)` builds once, then watches `content/` and
`templates/` with watchfiles and calls `build()` after every batch of changes. Each build's outcome
goes to `on_result` as a `WatchResult`; a failed build is reported and leaves `output/` as it was
(that is `build()`'s contract), so the last good brief stays and the next good save recovers.

- Editors' atomic saves (write a temp file, rename it over the original), deletes and re-creates
  are all just changes in a watched folder: the folders are watched, not the files.
- Editor temp and swap files, hidden files and anything under `output/` are filtered out, so
  saving in Vim or Emacs causes one build, and the build's own writes cause none.
- If `content/` or `templates/` is itself removed, replaced or created, the watch is restarted on
  the folders as they now are (checked every `poll` seconds).
- The rendering stack (and WeasyPrint, when PDFs are wanted) is imported once, before the first
  build, so a rebuild pays only for the work itself.
- Each build (reading, checking, rendering) is bounded in time and memory (`limits`, see
  `limits.py`): a build past a bound fails like any other, and the watch goes on. On the main
  thread (`briefgen watch`, `briefgen serve`) the bound is enforced with a signal; in a thread,
  with an asynchronous exception, which cannot break a blocking system call.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BriefgenError, display_path

if TYPE_CHECKING:
    from .limits import Limits

#: Names editors and tools write next to a file while saving it: never a reason to rebuild.
EDITOR_TEMP = re.compile(
    r"""
    ^\.                      # hidden: .#lock (Emacs), .name.swp (Vim), .goutputstream-* (GNOME)
    | ~$                     # backups: name~
    | ^\#.*\#$               # Emacs auto-save: #name#
    | \.sw[a-px]$ | \.swpx$  # Vim swap files
    | ^4913$                 # Vim's "can I write here" probe
    | ^sed[A-Za-z0-9]{6}$    # sed -i
    | \.(tmp|temp|bak|orig|rej|part|crswap|kate-swp)$
    | ___jb_(tmp|old|bak)___$  # JetBrains safe write
    | ^flycheck_
    """,
    re.VERBOSE | re.IGNORECASE,
)


def is_relevant(root: Path, path: str | Path) -> bool:
    """True if a change at `path` may change the brief: under content/ or templates/, not
    under output/, and not an editor's temp, swap or backup file."""
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        return False
    if not parts or parts[0] not in ("content", "templates"):
        return False
    return not any(EDITOR_TEMP.search(part) for part in parts[1:])


@dataclass
class WatchResult:
    """The outcome of one build started by the watcher."""

    number: int  # 1 for the build at start, then one more per rebuild
    ok: bool
    skipped: bool = False  # inputs unchanged since the last good build: nothing written
    seconds: float = 0.0
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # formatted diagnostics
    errors: list[str] = field(default_factory=list)  # BriefgenError.lines()
    changes: list[str] = field(default_factory=list)  # paths (relative) that triggered it
    finished: float = field(default_factory=time.time)  # wall clock, for the printed time

    def summary(self, base: Path | None = None) -> str:
        """One line: '12:03:04 rebuilt in 1.93 s: output/brief.html, output/brief.pdf'."""
        clock = time.strftime("%H:%M:%S", time.localtime(self.finished))
        verb = "built" if self.number == 1 else "rebuilt"
        if not self.ok:
            count = sum(": error: " in line or "briefgen: error" in line for line in self.errors)
            errors = f"{count} error{'s' if count != 1 else ''}" if count else "errors"
            return f"{clock} build failed ({errors}); output/ keeps the last good brief"
        if self.skipped:
            return f"{clock} nothing changed; output/ is up to date"
        names = ", ".join(display_path(p, base) for p in self.written if ".briefgen" not in p.parts)
        return f"{clock} {verb} in {self.seconds:.2f} s: {names}"

    def lines(self, base: Path | None = None) -> list[tuple[str, bool]]:
        """(line, to_stderr) pairs to print: warnings or errors, then the summary."""
        detail = self.errors if not self.ok else self.warnings
        return [(line, True) for line in detail] + [(self.summary(base), not self.ok)]


def warm_up(pdf: bool = True) -> float:
    """Import what a build needs (WeasyPrint too, if `pdf`), once; the seconds it took."""
    begun = time.perf_counter()
    from . import anchor, changes, citations, outline, render, sources  # noqa: F401

    if pdf:
        from . import pdf as _pdf  # noqa: F401  (imports WeasyPrint: most of a second)
    return time.perf_counter() - begun


class Watcher:
    """Build `project`, then rebuild it after every change; see the module's docstring."""

    def __init__(
        self,
        project: str | Path = ".",
        *,
        on_result: Callable[[WatchResult], None] | None = None,
        strict: bool = False,
        pdf: bool = True,
        debounce_ms: int = 1600,
        step_ms: int = 50,
        poll: float = 0.5,
        limits: Limits | None = None,
    ):
        self.root = Path(project).resolve()
        self.limits = limits  # None: BRIEFGEN_MAX_SECONDS / _MEMORY_MB, else the defaults
        self.on_result = on_result or (lambda result: None)
        self.strict = strict
        self.pdf = pdf
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.poll = poll
        self.builds = 0  # builds reported to on_result
        self.warm_seconds = 0.0
        self._last_ok = False

    # -- what to watch --------------------------------------------------------------------------

    def roots(self) -> list[Path]:
        """The folders to watch, as they are now (templates/ is optional)."""
        return [p for p in (self.root / "content", self.root / "templates") if p.is_dir()]

    def _identity(self) -> tuple:
        """Changes when a watched folder appears, disappears or is replaced."""
        found = []
        for path in (self.root / "content", self.root / "templates"):
            try:
                st = os.stat(path)
                found.append((path.name, st.st_dev, st.st_ino))
            except OSError:
                found.append((path.name, None, None))
        return tuple(found)

    def watch_filter(self, change, path: str) -> bool:
        return is_relevant(self.root, path)

    # -- building -------------------------------------------------------------------------------

    def build_once(self, changes: Iterable[str] = (), *, quiet_if_unchanged: bool = False):
        """Build now and report the outcome to `on_result`; never raises for content errors.

        With `quiet_if_unchanged`, a build that found nothing to do after a good one is not
        reported (and None is returned): the check made when a watch starts.
        """
        from .build import build

        begun = time.perf_counter()
        result = WatchResult(self.builds + 1, ok=False, changes=sorted(changes))
        try:
            built = build(self.root, strict=self.strict, pdf=self.pdf, limits=self.limits)
        except BriefgenError as exc:
            result.errors = exc.lines()
        except Exception as exc:  # a watcher outlives one bad build, whatever went wrong
            result.errors = [f"briefgen: error: {type(exc).__name__}: {exc}"]
        else:
            result.ok = True
            result.skipped = built.skipped
            result.written = list(built.written)
            result.warnings = [d.format() for d in built.warnings]
        if quiet_if_unchanged and result.ok and result.skipped and self._last_ok:
            return None
        result.seconds = time.perf_counter() - begun
        result.finished = time.time()
        self.builds += 1
        self._last_ok = result.ok
        self.on_result(result)
        return result

    # -- the loop -------------------------------------------------------------------------------

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Warm up, build, then rebuild on changes until `stop_event` is set (or Ctrl-C)."""
        import watchfiles

        stop = stop_event or threading.Event()
        self.warm_seconds = warm_up(self.pdf)
        self.build_once()
        pending: set[str] = set()
        polling = None  # let watchfiles choose; poll instead if native watching fails
        while not stop.is_set():
            identity = self._identity()
            roots = self.roots()
            if not roots:  # content/ is gone (a checkout in progress?): say so, wait for it
                if pending:
                    self.build_once(pending)
                    pending = set()
                stop.wait(self.poll)
                if self._identity() != identity:
                    pending.add("content")
                continue
            # watchfiles starts watching inside the generator's first step, after the build above
            # (or the last one): a save in between is caught by a build at the first report,
            # which costs a hash of the inputs and is not reported if it finds nothing to do.
            catch_up = True
            try:
                for changes in watchfiles.watch(
                    *roots,
                    watch_filter=self.watch_filter,
                    debounce=self.debounce_ms,
                    step=self.step_ms,
                    stop_event=stop,
                    rust_timeout=max(1, int(self.poll * 1000)),
                    yield_on_timeout=True,
                    force_polling=polling,
                ):
                    pending.update(self._relative(path) for _, path in changes)
                    if self._identity() != identity:
                        # a watched folder was replaced, removed or created: watch the folders
                        # as they now are; the build follows at the new watch's first report
                        pending.update(p.name for p in roots)
                        break
                    if pending or catch_up:
                        self.build_once(pending, quiet_if_unchanged=not pending)
                        pending, catch_up = set(), False
            except OSError:  # a folder vanished as the watch began, or no inotify here
                pending.add("content")
                if self.roots() == roots:
                    polling = True
                stop.wait(0.2)

    def _relative(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path
