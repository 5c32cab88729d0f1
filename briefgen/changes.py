"""Compare this verification with the last good build: which sources and excerpts changed, how.

Every excerpt gets one `change`:
- `unchanged`: the same words in the same place (or the same context, if text before it moved);
- `moved`: the same words, somewhere else in the source;
- `changed`: the source now words it differently (a close match; a word diff says how);
- `missing`: no close match any more;
- `new`: not in the last good build (no earlier record to compare with).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .anchor import CHANGED, MISSING, Anchor, Hint, make_hint
from .textnorm import fold

UNCHANGED, MOVED, NEW = "unchanged", "moved", "new"


@dataclass(frozen=True)
class ExcerptChange:
    section: str
    index: int
    source: str
    line: int
    change: str
    old_text: str | None  # the passage at the last good build
    new_text: str  # the source's current wording (closest passage when missing)
    diff: tuple[tuple[str, str], ...] = ()  # ("=", "-" or "+", words)

    def diff_text(self) -> str:
        """'kept [-removed-] {+added+}', as `git diff --word-diff` shows it."""
        marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
        return " ".join(marks[op].format(words) for op, words in self.diff)


@dataclass(frozen=True)
class SourceChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


def source_changes(old: dict[str, str], new: dict[str, str]) -> SourceChanges:
    """Compare {file name: sha256} maps of two builds."""
    return SourceChanges(
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        changed=tuple(sorted(n for n in set(old) & set(new) if old[n] != new[n])),
    )


class PreviousExcerpts:
    """The last good build's excerpt records, found by quote first, then by place."""

    def __init__(self, records: list[dict]):
        self.by_quote = {(r["source"], fold(r["quote"])): r for r in records}
        self.by_place = {(r["section"], r["index"]): r for r in records}

    def find(self, section: str, index: int, source: str, quote: str) -> dict | None:
        record = self.by_quote.get((source, fold(quote)))
        if record is None:
            record = self.by_place.get((section, index))
            if record is not None and record["source"] != source:
                record = None
        return record

    @staticmethod
    def hint(record: dict | None) -> Hint | None:
        if record is None:
            return None
        return Hint(record["prefix"], record["suffix"], record["start"])


def classify(
    section: str,
    index: int,
    source: str,
    line: int,
    anchor: Anchor,
    previous: dict | None,
    quote: str,
    source_text: str,
) -> ExcerptChange:
    """The change of one excerpt since the last good build."""
    old = previous["text"] if previous else None
    if anchor.status == MISSING:
        change = MISSING
    elif anchor.status == CHANGED:
        change = CHANGED
    elif previous is None:
        change = NEW
    elif fold(old) != fold(anchor.text):
        change = CHANGED
    elif anchor.start == previous["start"] or _same_context(anchor, previous, source_text):
        change = UNCHANGED
    else:
        change = MOVED
    diff = word_diff(old if old is not None else quote, anchor.text) if change == CHANGED else ()
    return ExcerptChange(section, index, source, line, change, old, anchor.text, diff)


def _same_context(anchor: Anchor, previous: dict, source_text: str) -> bool:
    """Same neighbours as before: text elsewhere in the source shifted it, it did not move."""
    now = make_hint(source_text, anchor.start, anchor.end)
    return fold(now.prefix) == fold(previous["prefix"]) and fold(now.suffix) == fold(
        previous["suffix"]
    )


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Word-level differences from `old` to `new` (white space ignored)."""
    a, b = old.split(), new.split()
    ops: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(
        a=[fold(w) for w in a], b=[fold(w) for w in b], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("=", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            ops.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("+", " ".join(b[j1:j2])))
    return tuple(ops)


def excerpt_record(
    section: str, index: int, source: str, quote: str, anchor: Anchor, source_text: str
) -> dict:
    """What the state keeps of one excerpt, to re-anchor and compare it next time."""
    hint = make_hint(source_text, anchor.start, anchor.end)
    return {
        "section": section,
        "index": index,
        "source": source,
        "quote": quote,
        "start": anchor.start,
        "end": anchor.end,
        "prefix": hint.prefix,
        "suffix": hint.suffix,
        "text": anchor.text,
    }
