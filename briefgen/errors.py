"""Diagnostics in the compiler format editors jump to, and the one exception the CLI prints.

Every stage appends `Diagnostic`s to a list instead of raising at the first problem, so an
editor sees every broken quote in one run; the build raises `BriefgenError` once at the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    """One message about one place in one file (`line` and `col` are 1-based)."""

    path: Path
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def format(self, base: Path | None = None) -> str:
        place = f"{display_path(self.path, base)}:{self.line}:{self.col}"
        return f"{place}: {self.severity}: {self.message}"

    def as_error(self) -> Diagnostic:
        return Diagnostic(self.path, self.line, self.col, self.message, "error")


def display_path(path: Path, base: Path | None = None) -> str:
    """The path relative to `base` (default: the working directory) when it lies below it."""
    base = base or Path.cwd()
    try:
        return os.path.relpath(path, base) if path.is_absolute() else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


class BriefgenError(Exception):
    """A content or usage problem for the user, carrying every diagnostic found."""

    exit_code = 1

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str):
        if isinstance(diagnostics, str):
            self.diagnostics: list[Diagnostic] = []
            self.text = diagnostics
        else:
            self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
            self.text = ""
        super().__init__(self.text or "\n".join(d.format() for d in self.diagnostics))

    def lines(self, base: Path | None = None) -> list[str]:
        if self.text:
            return [f"briefgen: error: {self.text}"]
        return [d.format(base) for d in self.diagnostics]


class UsageError(BriefgenError):
    """Wrong command-line use: a path that is not a project, an unknown excerpt, ..."""

    exit_code = 2


class Diagnostics(list):
    """A list of diagnostics with helpers to add to it and to fail once at the end."""

    def error(self, path: Path, line: int, col: int, message: str) -> None:
        self.append(Diagnostic(path, line, col, message, "error"))

    def warning(self, path: Path, line: int, col: int, message: str) -> None:
        self.append(Diagnostic(path, line, col, message, "warning"))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        """Fail with every message (warnings too, in file order) if any is an error."""
        if self.errors:
            raise BriefgenError(sorted(dict.fromkeys(self), key=_place))


def _place(d: Diagnostic) -> tuple[str, int, int]:
    return (str(d.path), d.line, d.col)
