"""Scaffold a new brief project: a commented outline, one sample source, templates/, .gitignore.

The files come from the package folder `briefgen/scaffold/`. `init` never overwrites: it first
looks at every path it would write, and if any of them exists (or a folder it needs is a file)
it reports every conflict and writes nothing. Files are created exclusively ("x" mode), so a
file that appears in the meantime is not overwritten either; what was written is then removed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import BriefgenError, Diagnostic

# (file in briefgen/scaffold/, path in the new project, what it is), in the order printed.
SCAFFOLD: tuple[tuple[str, str, str], ...] = (
    ("brief.yaml", "content/brief.yaml", "the outline, every field explained"),
    (
        "sample-press-release.txt",
        "content/sources/sample-press-release.txt",
        "a sample source (fictional)",
    ),
    ("templates-README.txt", "templates/README.txt", "how to override the built-in templates"),
    ("gitignore", ".gitignore", "keeps output/ out of git"),
)

NEVER_OVERWRITES = "briefgen init never overwrites"


@dataclass(frozen=True)
class InitResult:
    """What `init` made: the project folder and the files written (relative to it)."""

    root: Path
    created: tuple[str, ...]
    created_root: bool  # the folder itself did not exist before

    def described(self) -> list[tuple[str, str]]:
        about = {target: what for _, target, what in SCAFFOLD}
        return [(path, about[path]) for path in self.created]


def scaffold_files() -> list[tuple[str, bytes]]:
    """(path in the new project, contents) of every file `init` writes."""
    base = resources.files("briefgen.scaffold")
    return [(target, (base / name).read_bytes()) for name, target, _ in SCAFFOLD]


def conflicts(root: Path, targets: list[str]) -> list[Diagnostic]:
    """One error for every path `init` would have to overwrite, in the order written."""
    found: dict[Path, str] = {}
    if _occupied(root) and not root.is_dir():
        found[root] = f"this file exists where briefgen init needs a folder; {NEVER_OVERWRITES}"
    for target in targets:
        path = root / target
        for parent in reversed(Path(target).parents[:-1]):  # content, then content/sources
            folder = root / parent
            if _occupied(folder) and not folder.is_dir() and folder not in found:
                found[folder] = (
                    f"this file exists where briefgen init needs a folder; {NEVER_OVERWRITES}"
                )
        if _occupied(path) and not any(p in found for p in path.parents):
            kind = "a folder" if path.is_dir() else "this file"
            found[path] = f"{kind} exists; {NEVER_OVERWRITES}"
    return [Diagnostic(path, 1, 1, message) for path, message in found.items()]


def _occupied(path: Path) -> bool:
    """True if anything is at `path`, a dangling symbolic link included."""
    return os.path.lexists(path)


def init(path: str | Path = ".") -> InitResult:
    """Write a new brief project into `path` (made if missing); raise if anything would be
    overwritten, having written nothing."""
    root = Path(path)
    files = scaffold_files()
    problems = conflicts(root, [target for target, _ in files])
    if problems:
        raise BriefgenError(problems)
    created_root = not _occupied(root)
    made_dirs: list[Path] = []
    written: list[Path] = []
    try:
        _make_folder(root, made_dirs)
        for target, data in files:
            dest = root / target
            for parent in reversed(Path(target).parents[:-1]):  # content, then content/sources
                _make_folder(root / parent, made_dirs)
            with open(dest, "xb") as out:  # exclusive: never replaces a file
                written.append(dest)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
    except OSError as exc:
        _undo(written, made_dirs)
        if isinstance(exc, FileExistsError):  # appeared since the check
            raise BriefgenError(
                conflicts(root, [target for target, _ in files])
                or [Diagnostic(Path(exc.filename), 1, 1, f"this file exists; {NEVER_OVERWRITES}")]
            ) from None
        failed = Path(exc.filename) if exc.filename else root
        raise BriefgenError(
            Diagnostic(failed, 1, 1, f"cannot write here: {exc.strerror or exc}; nothing written")
        ) from None
    return InitResult(root, tuple(target for target, _ in files), created_root)


def _make_folder(folder: Path, made: list[Path]) -> None:
    """Make `folder` and any missing parents, noting each one made (outermost first)."""
    if folder.is_dir():
        return
    missing = [folder, *(p for p in folder.parents if not _occupied(p))]
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if path.is_dir():
                continue
            raise
        made.append(path)


def _undo(written: list[Path], made_dirs: list[Path]) -> None:
    """Remove what a failed `init` wrote, newest first."""
    for path in reversed(written):
        with contextlib.suppress(OSError):
            path.unlink()
    for folder in reversed(made_dirs):
        with contextlib.suppress(OSError):
            folder.rmdir()
