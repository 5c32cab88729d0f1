"""A cache of what reading a source costs most: its reader's text and that text folded.

`output/.briefgen/sources.cache` keeps, for each source file's content, the text a reader sees
(for `.md` and `.html`: Python-Markdown and the HTML reading are the slow part) and its
`textnorm.normalize` form (the folded text and its map back to the text), so that a `check` or
`build` after one with the same sources reads each file, hashes it and takes the rest from here.

It is a cache, safe to delete, never trusted over the sources:
- an entry is found by the sha256 of the file's bytes (read and hashed on every run) and its
  file type: a file that changed, by even a byte, is read again;
- the whole file is dropped if it was written by another version of briefgen, another Python
  (whose HTML tokenizer reads `.html`), another Unicode database (folding), or, for `.md`
  entries, another Python-Markdown;
- its first line holds the sha256 of the rest: a truncated, damaged or hand-edited file is
  ignored (and written again), as is any entry that does not have the shape written here.

Reading never writes it: `read_sources` looks entries up and adds the ones it made, and the
caller writes the cache once its run has succeeded (`save`, or `pending` to write it with a
build's outputs), so a failed run leaves `output/` as it was. It is written only into an
`output/` that exists and is a real folder, with no link at `output/.briefgen` (the rules a
build writes by), atomically and under the output folder's lock, and only when its entries
differ from those of the sources read; it holds those entries only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import unicodedata
from pathlib import Path

from . import __version__
from .project import Project, UnreadableFile, read_limited
from .textnorm import NormalizedText

CACHE_NAME = "sources.cache"
#: Bump when what an entry holds, or how it is read, changes.
FORMAT = 1
MAX_CACHE_BYTES = 1 << 31


def _environment() -> dict:
    """What the cached texts depend on besides the files' bytes (and Python-Markdown's version,
    for `.md` files: see `_markdown_version`)."""
    return {
        "format": FORMAT,
        "briefgen": __version__,
        "python": sys.version,
        "unicode": unicodedata.unidata_version,
    }


def _markdown_version() -> str:
    import markdown

    return markdown.__version__


class SourceCache:
    """The entries of `output/.briefgen/sources.cache`, and those to write back.

    `read_sources` looks entries up and puts new ones; once the run that read the sources has
    succeeded, its caller writes the cache: `save()` (a `check`), or with its other files
    `pending()` (a build, in the same atomic write as its outputs and state).
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self.path = project.output / ".briefgen" / CACHE_NAME
        self.env = _environment()
        self.entries: dict[str, list] = {}  # as read from the file
        self.used: dict[str, list] = {}  # the entries of the sources read: what to write
        self.changed = False
        self.writable = self._writable()
        if self.writable:
            self.entries = self._load()

    def _writable(self) -> bool:
        """True if output/ exists and output/ and output/.briefgen are real folders (or the
        latter is missing): where a build writes."""
        out = self.project.output
        state = out / ".briefgen"
        return (
            not out.is_symlink()
            and out.is_dir()
            and not state.is_symlink()
            and (state.is_dir() or not state.exists())
        )

    def _load(self) -> dict[str, list]:
        try:  # a regular file only (a pipe put there could never be read to its end)
            data = read_limited(self.path, MAX_CACHE_BYTES, "the cache")
            header, _, payload = data.partition(b"\n")
            header = json.loads(header)
            if not isinstance(header, dict) or header.get("sha256") != _digest(payload):
                return {}
            if {k: header.get(k) for k in self.env} != self.env:
                return {}
            entries = json.loads(payload)
        except (UnreadableFile, ValueError):
            return {}
        if not isinstance(entries, dict):
            return {}
        has_markdown = any(key.endswith(".md") for key in entries)
        if has_markdown and header.get("markdown") != _markdown_version():
            entries = {k: v for k, v in entries.items() if not k.endswith(".md")}
        return entries

    @staticmethod
    def key(digest: str, suffix: str) -> str:
        """An entry's key: the sha256 of the file's bytes, and its file type."""
        return f"{digest}{suffix}"

    def _entry(self, key: str) -> list | None:
        entry = self.entries.get(key)
        if not (
            isinstance(entry, list)
            and len(entry) == 6
            and (entry[0] is None or isinstance(entry[0], str))
            and isinstance(entry[1], str)
            and all(isinstance(seg, list) for seg in entry[2:5])
            and len(entry[2]) == len(entry[3]) == len(entry[4])
            and isinstance(entry[5], int)
        ):
            return None
        self.used[key] = entry
        return entry

    def text(self, key: str) -> str | None:
        """The reader's text cached for a `.md` or `.html` file, or None."""
        entry = self._entry(key)
        return entry[0] if entry else None

    def normalized(self, key: str) -> NormalizedText | None:
        """`textnorm.normalize` of the file's reader's text, cached, or None."""
        entry = self._entry(key)
        if entry is None:
            return None
        try:
            return NormalizedText(
                entry[1], tuple(entry[2]), tuple(entry[3]), tuple(entry[4]), entry[5]
            )
        except (TypeError, ValueError):
            return None

    def put(self, key: str, text: str | None, normalized: NormalizedText) -> None:
        """Cache a file's reader's text (None for a `.txt`: its body) and its normalized form."""
        self.used[key] = [
            text,
            normalized.text,
            list(normalized.seg_folded),
            list(normalized.seg_original),
            list(normalized.seg_original_end),
            normalized.original_length,
        ]
        self.changed = True

    def pending(self, creating_output: bool = False) -> dict[Path, bytes]:
        """{path: bytes} of the cache file if it is to be written (else {}): for a writer that
        writes it with other files (`atomic.write_all`). `creating_output`: the writer makes
        `output/` if it is missing (a build, which has checked the folder first); `save` never
        does."""
        writable = self.writable or (creating_output and not self.project.output.exists())
        if not writable or not (self.changed or self.used.keys() != self.entries.keys()):
            return {}
        payload = json.dumps(self.used, ensure_ascii=False, separators=(",", ":")).encode()
        header = {**self.env, "sha256": _digest(payload)}
        if any(key.endswith(".md") for key in self.used):
            header["markdown"] = _markdown_version()
        return {self.path: json.dumps(header).encode() + b"\n" + payload}

    def save(self) -> None:
        """Write the cache if it is not what the file holds: atomically, under the output
        folder's lock; best effort (a cache that cannot be written is no error)."""
        pending = self.pending()
        if not pending:
            return
        from .atomic import clean_temps, output_lock, write_atomic

        with contextlib.suppress(OSError):
            folder = self.path.parent
            folder.mkdir(exist_ok=True)
            with output_lock(folder):
                clean_temps(folder, [CACHE_NAME])  # a killed run's temp file
                write_atomic(self.path, pending[self.path])
            self.entries, self.changed = dict(self.used), False


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
