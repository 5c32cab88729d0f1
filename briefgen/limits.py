"""Bounds on a build or a check (time, memory): pathological content stops with a clear error.

A brief of thousands of pages, a template that loops, or a source that is slow to read could
otherwise keep briefgen busy for hours, or take all the memory of the editor's machine.
`Guard(limits).run(work)` runs a whole build (reading the project, checking the outline and the
sources, formatting the citations, rendering the HTML, the change report and the PDF; not the
writes at its end, which must not be cut short) or a whole check under two bounds, and raises
`BriefgenError` (exit 1, nothing written) when one is passed, naming what it was doing:

- **time** (`--max-seconds`, `BRIEFGEN_MAX_SECONDS`, default 120): wall-clock seconds from the
  start of the build;
- **memory** (`--max-memory`, `BRIEFGEN_MAX_MEMORY_MB`, default 2048): the process's resident
  memory (RSS) in MB during the build.

0 turns a bound off. How it works:

- A watchdog thread samples the clock and the RSS (`/proc/self/statm`) every 20 ms. When a bound
  is passed it interrupts the guarded thread with `Interrupted`, a `BaseException`, so that no
  `except Exception` in a template, in WeasyPrint or in our own code can swallow it. Python
  swallows exceptions in some places all the same (a `__del__`, a gc or cffi callback, a bare
  `except:`), so while the work goes on the interruption is delivered again, every 0.1 s (0.25 s
  off the main thread).
- The interruption waits while the thread is inside an import (WeasyPrint's takes about half a
  second): a module cut off halfway through its import could break the next build of a `watch`
  or `serve` process. It lands as soon as the import is done.
- On the main thread (`briefgen build` and `check`, and `watch` and `serve`, whose builds run on
  the main thread) the interruption is a SIGALRM sent to that thread, whose handler raises if the
  thread is inside the guarded work (it looks for the work's frame on the stack), so nothing after
  it can be hit; a signal also breaks a blocking system call. While a guard runs, SIGALRM is its
  own: another user's alarm in that time is dropped. Off the main thread (a `Watcher` run in a
  thread by a program or a test), Python cannot receive signals, and the watchdog uses CPython's
  `PyThreadState_SetAsyncExc` instead, which raises in the thread at its next bytecode; the
  watchdog looks at the thread's stack (`sys._current_frames`) just before, but the thread moves
  on meanwhile: an interruption swallowed in a `__del__` (with an "Exception ignored" message) is
  delivered again. Either way an exception is only seen when control comes back to Python: a
  single C call (one Pango layout of one paragraph) finishes first, and a pandoc run in the
  background goes on to its end (it writes no file). A watchdog that kills the process
  (`os._exit`, faulthandler) was rejected: it would take `watch` and `serve` down with one bad
  build.
- Memory is measured, not enforced by `setrlimit(RLIMIT_AS)`: under a tight address-space limit
  GLib aborts (`GLib-ERROR: creating thread '[pango] FcFontSetSort'`) or WeasyPrint's C libraries
  crash with SIGSEGV instead of failing cleanly (measured on WeasyPrint 70). `RLIMIT_AS` is kept
  only as a far backstop around the PDF rendering, against one huge allocation that no sampling
  can catch in time: the address space may grow by twice the memory bound (1 GB at least), after
  which an allocation fails with a `MemoryError` (reported cleanly) or, inside a C library, may
  end the process. The previous limit is restored afterwards.
- Where neither `/proc` nor `getrusage` exists the memory bound is not enforced.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .errors import BriefgenError

DEFAULT_SECONDS = 120.0
DEFAULT_MEMORY_MB = 2048.0
ENV_SECONDS = "BRIEFGEN_MAX_SECONDS"
ENV_MEMORY = "BRIEFGEN_MAX_MEMORY_MB"
SAMPLE_SECONDS = 0.02
#: After a delivery, how long the work may go on before the interruption is delivered
#: again (it can be swallowed: see `Guard._watch`). A repeat on another thread could land while
#: the first one unwinds the stack, hence the longer wait there.
SIGNAL_AGAIN_SECONDS = 0.1
THREAD_AGAIN_SECONDS = 0.25
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The bounds on one build or check; None (or 0) means unbounded."""

    seconds: float | None = DEFAULT_SECONDS
    memory_mb: float | None = DEFAULT_MEMORY_MB

    @classmethod
    def resolve(
        cls,
        seconds: float | None = None,
        memory_mb: float | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> Limits:
        """Given values win, then BRIEFGEN_MAX_SECONDS / BRIEFGEN_MAX_MEMORY_MB, then defaults."""
        return cls(
            _pick(seconds, environ, ENV_SECONDS, DEFAULT_SECONDS),
            _pick(memory_mb, environ, ENV_MEMORY, DEFAULT_MEMORY_MB),
        )

    @classmethod
    def none(cls) -> Limits:
        return cls(None, None)


def _pick(given: float | None, environ: Mapping[str, str], name: str, default: float):
    if given is None:
        text = environ.get(name, "").strip()
        if not text:
            return default
        try:
            given = float(text)
        except ValueError:
            raise BriefgenError(f"{name} must be a number (0: no limit), not {text!r}") from None
    if given != given or given < 0:  # NaN or negative
        raise BriefgenError(f"{name} must be a number of 0 or more (0: no limit), not {given}")
    return float(given) or None


class Interrupted(BaseException):
    """Raised in the guarded thread when a bound is passed (see the module's docstring)."""


def resident_bytes() -> int | None:
    """The process's resident memory now (Linux), its peak elsewhere, or None if unknown."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def address_space_bytes() -> int | None:
    """The process's virtual size now (Linux only), or None."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _seconds(value: float) -> str:
    return f"{value:g}"


class Guard:
    """Run one build (or check: `subject`) under `limits`.

    `phase` says what the work is doing now ("reading the sources"), for the message; the work
    updates it as it goes. `writes`: the work's caller writes files afterwards, and the message
    says that none was.
    """

    def __init__(
        self,
        limits: Limits,
        phase: str = "rendering the brief",
        subject: str = "the build",
        writes: bool = True,
    ):
        self.limits = limits
        self.phase = phase
        self.subject = subject
        self.writes = writes
        self.reason: str | None = None  # "time" or "memory", once a bound was passed
        self.peak_mb = 0.0
        self._lock = threading.Lock()
        self._armed = False
        self._done = threading.Event()
        self._thread_id = 0
        self._use_signal = False
        self._previous_handler = None
        self._watchdog: threading.Thread | None = None
        self._frame = None  # the frame of `_inside` while the work runs

    # -- the one entry point --------------------------------------------------------------------

    def run(self, work: Callable[..., object], *args, **kwargs):
        """`work(*args, **kwargs)`, or BriefgenError if a bound is passed (or memory runs out)."""
        try:
            return self._run(work, *args, **kwargs)
        except Interrupted:  # also one that arrived while the watchdog was being stopped
            raise self.error() from None
        except MemoryError:  # an allocation failed: the backstop, or the machine is full
            raise self.error(ran_out=True) from None

    def _run(self, work, *args, **kwargs):
        if not (self.limits.seconds or self.limits.memory_mb):
            return work(*args, **kwargs)
        self._start()
        try:
            return _inside(self, work, args, kwargs)
        finally:
            self._stop()

    def error(self, ran_out: bool = False) -> BriefgenError:
        """The message: what passed which bound, while doing what, and how to allow more."""
        stopped = "stopped; nothing was written" if self.writes else "stopped"
        if self.reason == "memory" or ran_out:
            bound = self.limits.memory_mb
            what = (
                "ran out of memory"
                if ran_out or not bound
                else f"exceeded the memory limit of {_seconds(bound)} MB (--max-memory)"
            )
            return BriefgenError(
                f"{self.subject} {what} while {self.phase}; {stopped}. A higher limit: "
                f"--max-memory MB or {ENV_MEMORY}=MB (0: no limit)"
            )
        return BriefgenError(
            f"{self.subject} exceeded the time limit of {_seconds(self.limits.seconds or 0)} s "
            f"(--max-seconds) while {self.phase}; {stopped}. A longer limit: --max-seconds N or "
            f"{ENV_SECONDS}=N (0: no limit)"
        )

    # -- watchdog -------------------------------------------------------------------------------

    def _start(self) -> None:
        self.reason = None
        self._done = threading.Event()
        self._thread_id = threading.get_ident()
        self._use_signal = (
            threading.current_thread() is threading.main_thread()
            and hasattr(signal, "pthread_kill")
            and hasattr(signal, "SIGALRM")
        )
        if self._use_signal:
            self._previous_handler = signal.signal(signal.SIGALRM, self._on_signal)
        self._armed = True
        self._watchdog = threading.Thread(
            target=self._watch, args=(time.monotonic(),), name="briefgen-limits", daemon=True
        )
        self._watchdog.start()

    def _stop(self) -> None:
        """Disarm, and make sure that no interruption is left to arrive later.

        On the main thread nothing here can be interrupted: the handler raises only inside the
        work (`_inside`). On another thread an exception set by the watchdog just before
        the disarm may arrive here: it is caught (the work has ended anyway), and one not
        yet delivered is cancelled; after the disarm the watchdog sets no other.
        """
        for _ in range(3):
            try:
                with self._lock:
                    self._armed = False
                self._done.set()
                if not self._use_signal and self.reason:
                    _set_async_exc(self._thread_id, None)
                break
            except Interrupted:
                continue
        if self._watchdog is not None:
            self._watchdog.join()
        if self._use_signal:
            while signal.SIGALRM in signal.sigpending():  # pragma: no cover - a signal in flight
                time.sleep(0.001)
            signal.signal(signal.SIGALRM, self._previous_handler)

    def _on_signal(self, signum, frame) -> None:
        # SIGALRM is ours while the guard runs: an alarm of someone else's is not passed on.
        if self._armed and self.reason and self._interruptible(frame):
            raise Interrupted

    def _interruptible(self, frame) -> bool:
        """True if `frame` runs inside this guard's work, and neither inside code where an
        exception would be swallowed (a `__del__`, a gc callback) nor inside an import (a module
        left half imported): the next delivery will do."""
        inside = self._frame
        if inside is None:
            return False
        callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
        while frame is not None:
            if frame is inside:
                return True
            code = frame.f_code
            if (
                code.co_name == "__del__"
                or code in callbacks
                or code.co_filename.startswith("<frozen importlib")
            ):
                return False
            frame = frame.f_back
        return False

    def _watch(self, began: float) -> None:
        seconds = self.limits.seconds
        memory = self.limits.memory_mb * MB if self.limits.memory_mb else None
        again = SIGNAL_AGAIN_SECONDS if self._use_signal else THREAD_AGAIN_SECONDS
        fired = None
        while self._armed:
            now = time.monotonic()
            if self.reason is None:
                if seconds and now - began > seconds:
                    self.reason = "time"
                elif memory:
                    rss = resident_bytes()
                    if rss is not None:
                        self.peak_mb = max(self.peak_mb, rss / MB)
                        if rss > memory:
                            self.reason = "memory"
            # Delivered, yet the work goes on: the exception was swallowed (raised in a
            # `__del__`, a gc or cffi callback, a bare `except:`); deliver it again. One held
            # back (the thread was inside an import) is tried again at the next sample.
            due = fired is None or now - fired >= again
            if self.reason is not None and due and self._fire():
                fired = now
            if self._done.wait(SAMPLE_SECONDS):
                return

    def _fire(self) -> bool:
        """Interrupt the guarded thread; False if it was not done (try again later)."""
        with self._lock:
            if not self._armed:
                return False
            if self._use_signal:  # the handler itself looks where the thread is
                signal.pthread_kill(self._thread_id, signal.SIGALRM)
                return True
            frame = sys._current_frames().get(self._thread_id)
            if frame is None or not self._interruptible(frame):
                return False
            del frame
            _set_async_exc(self._thread_id, Interrupted)
            return True


def _inside(guard: Guard, work, args, kwargs):
    """The work, called through a frame of its own that the interruption looks for."""
    guard._frame = sys._getframe()
    try:
        return work(*args, **kwargs)
    finally:
        guard._frame = None


def _set_async_exc(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Raise `exc_type` in the thread `thread_id` at its next bytecode (None: cancel that)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc_type) if exc_type else None
    )


# -- the address-space backstop --------------------------------------------------------------------

_backstop_lock = threading.Lock()
_backstop_users = 0
_backstop_saved: tuple[int, int] | None = None


@contextlib.contextmanager
def address_space_backstop(limits: Limits) -> Iterator[None]:
    """Cap the address space's growth (see the module's docstring) while the block runs.

    Process-wide (every thread); nested or concurrent uses share one cap, set by the first and
    restored by the last.
    """
    global _backstop_users, _backstop_saved
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        resource = None
    size = address_space_bytes()
    if resource is None or not limits.memory_mb or size is None:
        yield
        return
    with _backstop_lock:
        if _backstop_users == 0:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = size + max(2 * int(limits.memory_mb * MB), 1024 * MB)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            if soft == resource.RLIM_INFINITY or cap < soft:
                try:
                    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
                    _backstop_saved = (soft, hard)
                except (ValueError, OSError):
                    _backstop_saved = None
        _backstop_users += 1
    try:
        yield
    finally:
        with _backstop_lock:
            _backstop_users -= 1
            if _backstop_users == 0 and _backstop_saved is not None:
                resource.setrlimit(resource.RLIMIT_AS, _backstop_saved)
                _backstop_saved = None
