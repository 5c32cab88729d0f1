"""Where a brief project keeps its files, and the rule that content never reaches outside it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import BriefgenError, Diagnostic, UsageError

SOURCE_SUFFIXES = (".txt", ".md", ".html", ".htm")

# Size limits on content (README, "Safety"). Both are far above real content (the example's
# outline is 24 KB, its largest source 22 KB) and bound a build's time and memory: PyYAML reads
# about 0.1-0.2 MB of outline a second, and a 10 MB source takes a few seconds to search. A file
# over its limit is refused before it is read.
MAX_OUTLINE_BYTES = 8_000_000  # 5,000 excerpts take about 1.4 MB
MAX_SOURCE_BYTES = 10_000_000


class UnreadableFile(Exception):
    """A content file that cannot be read; the message completes "the outline ...", say."""


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size < 10_000_000 else f"{size / 1_000_000:.0f} MB"


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file `path` if it holds at most `limit` bytes.

    Raises `UnreadableFile` for a folder, a device or a named pipe (reading `/dev/urandom` never
    ends, nor does a pipe without a writer), a file over the limit, or a read error. The file is
    opened without blocking and checked on the open descriptor, so it cannot be swapped in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a device or a pipe"
            raise UnreadableFile(f"is {kind}, not a file; {what} must be a plain file")
        if info.st_size > limit:
            raise UnreadableFile(_too_large(info.st_size, limit, what))
        chunks, size = [], 0
        while size <= limit:  # to the end, or one byte past the limit if it grew meanwhile
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile(_too_large(size, limit, what))
    return b"".join(chunks)


def _too_large(size: int, limit: int, what: str) -> str:
    return f"is {megabytes(size)}; {what} may be at most {megabytes(limit)}"


@dataclass(frozen=True)
class Project:
    """The folders of one brief project (see the content contract in the README)."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def outline_path(self) -> Path:
        return self.content / "brief.yaml"

    @property
    def sources_dir(self) -> Path:
        return self.content / "sources"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def contains(self, path: Path) -> bool:
        """True if `path`, with symlinks resolved, lies inside the project."""
        try:
            path.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True


def open_project(path: str | Path = ".") -> Project:
    """The project at `path`; a usage error if there is no `content/brief.yaml` there."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise UsageError(f"'{path}' is not a folder; give the folder that holds content/brief.yaml")
    project = Project(root)
    outline = project.outline_path
    if outline.exists() and not outline.is_file():
        raise BriefgenError(
            Diagnostic(outline, 1, 1, "the outline is a folder, a device or a pipe, not a file")
        )
    if not outline.is_file():
        raise UsageError(
            f"no outline at '{project.outline_path}': a brief project keeps its outline in "
            "content/brief.yaml (run briefgen in the project folder or pass its path)"
        )
    return project


def builtin_templates() -> Path:
    """The folder of built-in templates and stylesheets shipped with briefgen."""
    return Path(str(resources.files("briefgen.templates")))
