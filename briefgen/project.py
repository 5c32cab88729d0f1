"""Where a brief project keeps its files, and the rule that content never reaches outside it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import UsageError

SOURCE_SUFFIXES = (".txt", ".md", ".html", ".htm")


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
    if not project.outline_path.is_file():
        raise UsageError(
            f"no outline at '{project.outline_path}': a brief project keeps its outline in "
            "content/brief.yaml (run briefgen in the project folder or pass its path)"
        )
    return project


def builtin_templates() -> Path:
    """The folder of built-in templates and stylesheets shipped with briefgen."""
    return Path(str(resources.files("briefgen.templates")))
