"""Bibliographic data from a CSL-JSON or BibTeX file (as Zotero and other managers export it).

Every entry becomes CSL-JSON (BibTeX through pandoc's converter, which knows LaTeX accents,
name parts and biblatex dates), keyed by its citation key, with the line and column of the entry
and, where they can be found, of its fields, so that messages point into the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostics
from .processor import run_pandoc

SUFFIXES = {".json": "CSL-JSON", ".bib": "BibTeX", ".bibtex": "BibTeX"}


@dataclass(frozen=True)
class Entry:
    key: str
    data: dict = field(compare=False, hash=False)  # CSL-JSON
    line: int = 1
    col: int = 1
    fields: dict = field(default_factory=dict, compare=False, hash=False)  # CSL name -> (l, c)

    def place(self, name: str) -> tuple[int, int]:
        return self.fields.get(name, (self.line, self.col))


@dataclass(frozen=True)
class Bibliography:
    path: Path
    entries: dict = field(compare=False, hash=False)  # key -> Entry


def load_bibliography(path: Path, diags: Diagnostics) -> Bibliography | None:
    """The entries of `path` (None, with errors in `diags`, if it cannot be read)."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if path.suffix.lower() == ".json":
        entries = _read_json(path, text, diags)
    else:
        entries = _read_bibtex(path, text, diags)
    return None if entries is None else Bibliography(path, entries)


# --- CSL-JSON --------------------------------------------------------------------------------


def _read_json(path: Path, text: str, diags: Diagnostics) -> dict[str, Entry] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        diags.error(path, exc.lineno, exc.colno, f"not valid JSON: {exc.msg}")
        return None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        diags.error(path, 1, 1, "a CSL-JSON bibliography must be a list of entries ([{...}, ...])")
        return None
    starts = _top_level_objects(text)
    entries: dict[str, Entry] = {}
    for index, item in enumerate(data):
        start, end = starts[index] if index < len(starts) else (0, len(text))
        line, col = _line_col(text, start)
        if not isinstance(item, dict):
            diags.error(path, line, col, "each entry of a CSL-JSON bibliography must be an object")
            continue
        key = item.get("id")
        if not isinstance(key, str | int) or str(key) == "":
            diags.error(path, line, col, 'this CSL-JSON entry has no "id" (its citation key)')
            continue
        key = str(key)
        fields = {}
        for name in item:
            found = re.compile(rf'"{re.escape(name)}"\s*:').search(text, start, end)
            if found:
                fields[name] = _line_col(text, found.start())
        if key in entries:
            first = entries[key]
            diags.error(
                path,
                *fields.get("id", (line, col)),
                f"duplicate entry id '{key}' (first on line {first.line}); ids must be unique",
            )
            continue
        entries[key] = Entry(key, item, line, col, fields)
    return entries


def _top_level_objects(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the objects directly inside the top-level JSON array."""
    spans, depth, start, in_string, escape = [], 0, 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth == 2 and ch == "{":
                start = i
        elif ch in "]}":
            if depth == 2 and ch == "}":
                spans.append((start, i + 1))
            depth -= 1
    return spans


# --- BibTeX ----------------------------------------------------------------------------------

_ENTRY = re.compile(r"@([A-Za-z]+)\s*[{(]\s*([^,\s{}()]+)\s*,", re.M)
_FIELD = re.compile(r"(?:^|,)\s*([A-Za-z][A-Za-z0-9_-]*)\s*=", re.M)
#: BibTeX/biblatex field -> the CSL variable pandoc makes of it (for positions in messages).
_BIB_FIELDS = {
    "title": "title",
    "author": "author",
    "editor": "editor",
    "date": "issued",
    "year": "issued",
    "month": "issued",
    "publisher": "publisher",
    "institution": "publisher",
    "organization": "publisher",
    "journal": "container-title",
    "journaltitle": "container-title",
    "booktitle": "container-title",
    "url": "URL",
    "urldate": "accessed",
    "doi": "DOI",
}
_PANDOC_ERROR = re.compile(r'Error at (?:".*?" )?\(line (\d+), column (\d+)\):\s*(.*)', re.S)


def _read_bibtex(path: Path, text: str, diags: Diagnostics) -> dict[str, Entry] | None:
    found = [m for m in _ENTRY.finditer(text) if m.group(1).lower() not in ("comment", "preamble")]
    spans = {}
    for i, match in enumerate(found):
        if match.group(1).lower() == "string":
            continue
        key = match.group(2)
        line, col = _line_col(text, match.start())
        if key in spans:
            diags.error(
                path,
                line,
                col,
                f"duplicate entry key '{key}' (first on line {spans[key][0]}); keys must be unique",
            )
            continue
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        fields = {}
        for f in _FIELD.finditer(text, match.end() - 1, end):
            name = _BIB_FIELDS.get(f.group(1).lower())
            if name and name not in fields:
                fields[name] = _line_col(text, f.start(1))
        spans[key] = (line, col, fields)
    result = run_pandoc(["-f", "bibtex", "-t", "csljson"], text)
    if result.returncode != 0:
        message = result.stderr.strip()
        error = _PANDOC_ERROR.search(message)
        if error:
            reason = error.group(3).strip().splitlines()[0]
            line, col = int(error.group(1)), int(error.group(2))
            last = text.count("\n") + 1  # pandoc may count a line past the end of the file
            if line > last:
                line, col = last, len(text) - (text.rfind("\n") + 1) + 1
            diags.error(path, line, col, f"BibTeX: {reason}")
        else:
            diags.error(path, 1, 1, f"BibTeX could not be read: {message or 'pandoc failed'}")
        return None
    entries = {}
    for item in json.loads(result.stdout or "[]"):
        key = str(item.get("id", ""))
        line, col, fields = spans.get(key, (1, 1, {}))
        entries[key] = Entry(key, item, line, col, fields)
    return entries


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
