"""Small typed readers for marked YAML values, each reporting problems where they are.

Shared by the outline and the sources' front matter so both speak with one voice: unknown keys
get a "did you mean" suggestion, wrong types and malformed dates name the field and the fix.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path

from .errors import Diagnostics
from .yamlfile import MDict, MList, MStr

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https?://[^\s<>\"]+$")


def suggest(word: str, choices, what: str = "") -> str:
    """' (did you mean 'x'?)' or, failing that, the list of what is allowed."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if close:
        return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
    listed = ", ".join(sorted(choices))
    return f"; {what or 'allowed'}: {listed}" if listed else ""


def where(value, parent: MDict | None = None, key: str | None = None) -> tuple[int, int]:
    """Best position for a value: its own mark, else its key's, else its parent's."""
    if hasattr(value, "line"):
        return value.line, value.col
    if parent is not None and key is not None:
        return parent.mark_of(key)
    return 1, 1


class Reader:
    """Reads fields of one YAML file's mappings, collecting diagnostics on `diags`."""

    def __init__(self, path: Path, diags: Diagnostics):
        self.path = path
        self.diags = diags

    def error(self, at: tuple[int, int], message: str) -> None:
        self.diags.error(self.path, at[0], at[1], message)

    def mapping(self, value, what: str, at=(1, 1)) -> MDict | None:
        if isinstance(value, MDict):
            return value
        self.error(
            where(value) if hasattr(value, "line") else at,
            f"{what} must be a mapping of 'key: value' lines, not {kind(value)}",
        )
        return None

    def keys(self, mapping: MDict, allowed: set[str], required: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(
                    mapping.mark_of(key),
                    f"unknown key '{clip(key)}' in {what}{suggest(key, allowed, 'known keys')}",
                )
        for key in sorted(required - set(mapping)):
            self.error((mapping.line, mapping.col), f"{what} is missing the required key '{key}'")

    def text(self, mapping: MDict, key: str, what: str, required: bool = False) -> str | None:
        if key not in mapping or mapping[key] in (None, ""):
            if required and key in mapping:
                self.error(mapping.mark_of(key), f"'{key}' of {what} must not be empty")
            return None
        value = mapping[key]
        if not isinstance(value, str):
            self.error(
                where(value, mapping, key), f"'{key}' of {what} must be text, not {kind(value)}"
            )
            return None
        return str(value)

    def date(self, mapping: MDict, key: str, what: str) -> str | None:
        value = self.text(mapping, key, what)
        if value is None:
            return None
        at = where(mapping[key], mapping, key)
        if not _DATE.match(value):
            self.error(
                at, f"'{key}' of {what} must be a date written YYYY-MM-DD, not '{clip(value)}'"
            )
            return None
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            self.error(at, f"'{key}' of {what} is not a real date: '{value}'")
            return None
        return value

    def url(self, mapping: MDict, key: str, what: str) -> str | None:
        value = self.text(mapping, key, what)
        if value is not None and not _URL.match(value):
            self.error(
                where(mapping[key], mapping, key),
                f"'{key}' of {what} must be an http(s) address, not '{clip(value)}'",
            )
            return None
        return value

    def text_list(self, mapping: MDict, key: str, what: str) -> list[MStr]:
        value = mapping.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, MList):
            self.error(
                where(value, mapping, key),
                f"'{key}' of {what} must be a list of text, not {kind(value)}",
            )
            return []
        items = []
        for item in value:
            if isinstance(item, str) and item:
                items.append(item)
            else:
                self.error(
                    where(item, mapping, key) if hasattr(item, "line") else (value.line, value.col),
                    f"an entry of '{key}' in {what} is empty"
                    if item in (None, "")
                    else f"each entry of '{key}' in {what} must be text, not {kind(item)}",
                )
        return items


def clip(text: str, limit: int = 60) -> str:
    """`text` for a message: one line, cut to `limit` characters (a key can be a whole file)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def kind(value) -> str:
    """How a value reads to an editor: 'a list', 'a mapping', 'nothing', 'text'."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"
