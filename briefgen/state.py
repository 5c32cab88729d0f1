"""What the last good build was made from: content hashes of every input, and each excerpt's anchor.

A build whose inputs hash the same as last time does nothing, and an output whose bytes no longer
match what was written (edited or deleted by hand) is rebuilt. Hashes, not modification times:
a touched file with the same bytes costs nothing, and a restored backup with an old time is seen.
This module imports nothing heavy, so the no-op check stays cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .atomic import write_atomic
from .project import SOURCE_SUFFIXES, Project

STATE_NAME = "state.json"
#: Built-in template files each output depends on; other template files count for both.
OTHER_MEDIUM_ONLY = {"screen": {"print.css"}, "print": {"screen.css"}}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_dir(project: Project) -> Path:
    return project.output / ".briefgen"


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of every input of a build, by role."""

    outline: str
    sources: dict[str, str]  # source id -> sha256 of the file
    templates: dict[str, str]  # template file name -> sha256 (the file that wins the lookup)
    assets: dict[str, str] = field(default_factory=dict)  # other files under content/: logo...
    version: str = __version__

    def key(self, medium: str) -> str:
        """One hash of everything an output for `medium` depends on."""
        skip = OTHER_MEDIUM_ONLY.get(medium, set())
        parts = {
            "outline": self.outline,
            "sources": self.sources,
            "version": self.version,
            "templates": {k: v for k, v in self.templates.items() if k not in skip},
            "assets": self.assets,
        }
        return sha256(json.dumps(parts, sort_keys=True).encode())


def fingerprint(project: Project, builtin_templates: Path) -> Fingerprint:
    """Hash the outline, every source file and every template file that a lookup would find."""
    sources = {}
    if project.sources_dir.is_dir():
        for path in sorted(project.sources_dir.iterdir()):
            # is_file(): a FIFO or a link to a device is never read (reading could never end)
            if (path.suffix.lower() in SOURCE_SUFFIXES and not path.name.startswith(".")
                    and path.is_file()):
                with contextlib.suppress(OSError):
                    sources[path.name] = sha256(path.read_bytes())
    templates = {}
    for folder in (builtin_templates, project.templates):  # the project's files win
        for path in _files(folder):
            if path.suffix in (".j2", ".css") or folder == project.templates:
                templates[path.relative_to(folder).as_posix()] = sha256(path.read_bytes())
    skip = {project.outline_path, *(project.sources_dir / name for name in sources)}
    assets = {
        path.relative_to(project.root).as_posix(): sha256(path.read_bytes())
        for path in _files(project.content)
        if path not in skip
    }
    return Fingerprint(sha256(project.outline_path.read_bytes()), sources, templates, assets)


def _files(folder: Path) -> list[Path]:
    """Regular, non-hidden files below `folder` (the logo, a bibliography, a .csl file...)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.suffix not in (".pyc",)
        and "__pycache__" not in p.parts
    )


@dataclass
class BuildState:
    """The record of the last good build (empty when there was none)."""

    fingerprint: dict = field(default_factory=dict)  # Fingerprint fields
    outputs: dict = field(default_factory=dict)  # file name -> {"sha256", "key"}
    excerpts: list = field(default_factory=list)  # one record per excerpt, see changes.py
    warnings: list = field(default_factory=list)  # formatted warning lines, replayed on no-op

    def output_current(self, project: Project, name: str, key: str) -> bool:
        """True if `name` was built from inputs with `key` and is on disk as it was written."""
        record = self.outputs.get(name)
        path = project.output / name
        if not record or record.get("key") != key or not path.is_file():
            return False
        try:
            return sha256(path.read_bytes()) == record.get("sha256")
        except OSError:
            return False

    def source_digests(self) -> dict[str, str]:
        return dict(self.fingerprint.get("sources", {}))


def load_state(project: Project) -> BuildState:
    """The last good build's state, or an empty one if there is none or it is unreadable."""
    path = state_dir(project) / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BuildState()
    if not _well_formed(data) or data["version"] != __version__:
        return BuildState()  # damaged, or by another version: as if there were none
    return BuildState(
        data["fingerprint"], data["outputs"], data["excerpts"], data.get("warnings", [])
    )


#: The fields of the records in a state file, and their types.
_EXCERPT = {
    "section": str,
    "index": int,
    "source": str,
    "quote": str,
    "start": int,
    "end": int,
    "prefix": str,
    "suffix": str,
    "text": str,
}
_WARNING = {"path": str, "line": int, "col": int, "message": str}
_OUTPUT = {"key": str, "sha256": str}


def _well_formed(data) -> bool:
    """True if `data` has the shape `save_state` writes (a damaged file must not crash a build)."""

    def record(item, fields) -> bool:
        return isinstance(item, dict) and all(
            isinstance(item.get(name), kind) for name, kind in fields.items()
        )

    if not isinstance(data, dict):
        return False
    fingerprint, outputs = data.get("fingerprint"), data.get("outputs")
    excerpts, warnings = data.get("excerpts"), data.get("warnings", [])
    return (
        isinstance(data.get("version"), str)
        and isinstance(fingerprint, dict)
        and all(isinstance(fingerprint.get(k, {}), dict) for k in ("sources", "templates"))
        and all(isinstance(v, str) for v in fingerprint.get("sources", {}).values())
        and isinstance(outputs, dict)
        and all(record(v, _OUTPUT) for v in outputs.values())
        and isinstance(excerpts, list)
        and all(record(e, _EXCERPT) for e in excerpts)
        and isinstance(warnings, list)
        and all(record(w, _WARNING) for w in warnings)
    )


def state_bytes(state: BuildState) -> bytes:
    """The state file's content for `state`."""
    data = {
        "version": __version__,
        "fingerprint": state.fingerprint,
        "outputs": state.outputs,
        "excerpts": state.excerpts,
        "warnings": state.warnings,
    }
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True).encode("utf-8")


def save_state(project: Project, state: BuildState) -> None:
    write_atomic(state_dir(project) / STATE_NAME, state_bytes(state))
