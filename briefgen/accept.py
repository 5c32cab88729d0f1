"""Accept the sources' current wording: write it back into `content/brief.yaml` as the quote.

`accept` verifies the brief (`build.check`), then for every selected excerpt whose status is
`changed` replaces its `quote:` with the source's current wording (the anchored passage, its
white space collapsed to single spaces, its characters the source's own). After that, `check`
finds the quote verbatim. `verified` excerpts need nothing; `ambiguous` ones are left as they are
(with a warning saying why); `missing` ones cannot be accepted (there is no passage to take) and
are errors. What can be accepted is accepted even when other selected excerpts are missing; the
command then exits 1, so a script notices.

The file is edited, not regenerated. ruamel.yaml's round-trip mode loads it, the new quotes are
set, and the whole document is dumped; then only the text of each replaced quote is taken from
that dump and spliced into the original file at the quote's place. Everything else (comments, key
order, blank lines, other scalars' styles, indentation, even spacing ruamel would normalise) stays
byte-for-byte as it was. Before anything is written the result is parsed again with briefgen's own
loader and compared with the original: the data must be identical except for the accepted quotes,
which must read exactly as the new wording. The write is atomic.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BriefgenError, Diagnostics, UsageError, display_path

#: Folded quotes are wrapped so that no line passes this column (a longer word stands alone).
WRAP = 90
#: The indentation briefgen's outlines use (content/brief.yaml): mappings by 2, sequences by 4
#: with the dash at 2. ruamel dumps with these, so an unchanged round trip is byte-identical.
MAPPING_INDENT, SEQUENCE_INDENT, SEQUENCE_DASH_OFFSET = 2, 4, 2

ACCEPTED, VERIFIED, AMBIGUOUS, MISSING, UNCHECKED = (
    "accepted",
    "verified",
    "ambiguous",
    "missing",
    "unchecked",
)


@dataclass(frozen=True)
class Selection:
    """Which excerpts to accept: all (no field set), one by section and index, or by source."""

    section: str | None = None
    index: int | None = None  # 1-based among the section's excerpts, as in `check --json`
    source: str | None = None

    @classmethod
    def excerpt(cls, spec: str) -> Selection:
        """`SECTION:INDEX` (e.g. `history:2`) as a selection; a usage error if malformed."""
        section, sep, index = spec.rpartition(":")
        if not sep or not section or not index.isdigit() or int(index) < 1:
            raise UsageError(
                f"--excerpt wants SECTION:INDEX, e.g. 'history:2' (INDEX counts the section's "
                f"excerpts from 1), not '{spec}'"
            )
        return cls(section=section, index=int(index))

    def describe(self) -> str:
        if self.section is not None:
            return f"excerpt {self.section}:{self.index}"
        if self.source is not None:
            return f"the excerpts from source '{self.source}'"
        return "all excerpts"


@dataclass
class Outcome:
    """What `accept` did (or would do) with one selected excerpt."""

    section: str
    index: int
    source: str
    line: int  # of the quote, in the file as it is after accepting (as it was, in a dry run)
    col: int
    action: str  # accepted, verified, ambiguous, missing or unchecked
    quote: str  # the outline's quote before accepting
    new_quote: str | None = None  # the source's wording, for `accepted`
    diff: str = ""  # word diff from the quote to the new wording ('[-old-] {+new+}')
    closest: str = ""  # for `missing`: the nearest passage, and its similarity
    score: float = 0.0
    occurrences: int = 0  # for `ambiguous`

    @property
    def label(self) -> str:
        return f"{self.section} #{self.index} ({self.source})"


@dataclass
class AcceptResult:
    path: Path  # the outline
    selection: Selection
    dry_run: bool
    outcomes: list[Outcome]
    diagnostics: Diagnostics  # errors for missing/unchecked excerpts, warnings for ambiguous ones
    report: object  # build.Report
    before: str = ""
    after: str = ""
    written: bool = False

    def of(self, action: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.action == action]

    @property
    def accepted(self) -> list[Outcome]:
        return self.of(ACCEPTED)

    def lines(self, base: Path | None = None) -> list[str]:
        """One line per accepted excerpt (with its word diff in a dry run)."""
        path = display_path(self.path, base)
        verb = "would accept" if self.dry_run else "accepted"
        out = []
        for o in self.accepted:
            line = f"{path}:{o.line}:{o.col}: {verb} {o.label}"
            out.append(f"{line}: {o.diff}" if self.dry_run else line)
        return out

    def summary(self, base: Path | None = None) -> str:
        path = display_path(self.path, base)
        n = len(self.accepted)
        others = [
            f"{len(self.of(action))} {words}"
            for action, words in (
                (VERIFIED, "already verified"),
                (AMBIGUOUS, "ambiguous (left as is)"),
                (MISSING, "missing (cannot be accepted)"),
                (UNCHECKED, "not checked (source unknown or unreadable)"),
            )
            if self.of(action)
        ]
        rest = f"; {', '.join(others)}" if others else ""
        if not n:
            return f"nothing to accept in {path}{rest}"
        noun = "excerpt" if n == 1 else "excerpts"
        if self.dry_run:
            return f"would accept {n} {noun} in {path} (dry run: nothing written){rest}"
        return f"accepted {n} {noun} in {path}{rest}"


def accept(
    path: str | Path = ".", selection: Selection | None = None, *, dry_run: bool = False
) -> AcceptResult:
    """Accept the current wording of the selected `changed` excerpts (all by default).

    Raises UsageError if the selection names no excerpt, BriefgenError if the outline cannot be
    read; missing excerpts are errors in the result's diagnostics (the others are still accepted).
    """
    from .build import check
    from .changes import ExcerptChange, word_diff
    from .outline import read_outline
    from .project import open_project

    selection = selection or Selection()
    outline_path = open_project(path).outline_path
    raw = outline_path.read_bytes()  # first: a file changed after this is never overwritten
    report = check(path)
    outline = read_outline(outline_path, Diagnostics())
    if outline is None:
        report.diagnostics.raise_if_errors()
        raise BriefgenError(f"cannot read the outline '{display_path(outline_path)}'")
    chosen = _select(outline, selection)

    checked = {(e.line, e.col): e for e in report.excerpts}
    diags = Diagnostics()
    outcomes: list[Outcome] = []
    new_quotes: dict[tuple[int, int], str] = {}
    for section, excerpt in chosen:
        at = excerpt.quote_place
        outcome = Outcome(
            section.id, excerpt.index, excerpt.source, at.line, at.col, "", excerpt.quote
        )
        outcomes.append(outcome)
        e = checked.get((at.line, at.col))
        if e is None:
            outcome.action = UNCHECKED
            continue
        outcome.action = {"changed": ACCEPTED}.get(e.anchor.status, e.anchor.status)
        if outcome.action == ACCEPTED:
            outcome.new_quote = " ".join(e.anchor.text.split())
            outcome.diff = ExcerptChange(
                "", 0, "", 0, "changed", None, "", word_diff(e.quote, outcome.new_quote)
            ).diff_text()
            new_quotes[(at.line, at.col)] = outcome.new_quote
        elif outcome.action == MISSING:
            outcome.closest, outcome.score = _clip(e.anchor.text), e.anchor.score
        elif outcome.action == AMBIGUOUS:
            outcome.occurrences = e.anchor.occurrences

    before = _decode(raw, outline_path)
    after = before
    moved: dict[tuple[int, int], tuple[int, int]] = {}
    if new_quotes:
        after, moved = rewrite(before, new_quotes)
    if not dry_run:
        for o in outcomes:
            o.line, o.col = moved.get((o.line, o.col), (o.line, o.col))
    _diagnose(outcomes, outline_path, diags)

    written = False
    if new_quotes and not dry_run:
        from .atomic import write_atomic

        if outline_path.read_bytes() != raw:
            raise BriefgenError(
                f"{display_path(outline_path)} changed while briefgen was accepting quotes; "
                "nothing was written: run briefgen accept again"
            )
        write_atomic(outline_path, _encode(after, raw))
        written = True
    return AcceptResult(
        outline_path, selection, dry_run, outcomes, diags, report, before, after, written
    )


def _select(outline, selection: Selection) -> list:
    everything = outline.excerpts
    if selection.section is not None:
        ids = [s.id for s in outline.sections]
        if selection.section not in ids:
            close = difflib.get_close_matches(selection.section, ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; sections: {', '.join(ids)}"
            raise UsageError(f"no section '{selection.section}' in the outline{hint}")
        section = next(s for s in outline.sections if s.id == selection.section)
        found = [(section, e) for e in section.excerpts if e.index == selection.index]
        if not found:
            n = len(section.excerpts)
            raise UsageError(
                f"section '{section.id}' has {n} excerpt{'' if n == 1 else 's'}, "
                f"so there is no excerpt {selection.section}:{selection.index}"
            )
        return found
    if selection.source is not None:
        found = [(s, e) for s, e in everything if e.source == selection.source]
        if not found:
            ids = sorted({e.source for _, e in everything})
            close = difflib.get_close_matches(selection.source, ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageError(f"no excerpt quotes source '{selection.source}'{hint}")
        return found
    return everything


def _diagnose(outcomes: list[Outcome], path: Path, diags: Diagnostics) -> None:
    for o in outcomes:
        if o.action == MISSING:
            closest = (
                f'; the closest passage ({o.score:.0%} match) is: "{o.closest}"'
                if o.closest
                else ""
            )
            diags.error(
                path,
                o.line,
                o.col,
                f"cannot accept {o.label}: the quote is not in the source, and no passage is "
                f"close enough to take its place{closest}",
            )
        elif o.action == UNCHECKED:
            diags.error(
                path,
                o.line,
                o.col,
                f"cannot accept {o.label}: source '{o.source}' is unknown or could not be read "
                "(briefgen check says why)",
            )
        elif o.action == AMBIGUOUS:
            diags.warning(
                path,
                o.line,
                o.col,
                f"left {o.label} as it is: its passage occurs {o.occurrences} times in source "
                f"'{o.source}', so there is no one wording to accept; quote a longer passage",
            )


def _clip(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- the round-trip edit -------------------------------------------------------------------------


def round_trip_yaml():
    """ruamel.yaml in round-trip mode, set up to reproduce briefgen outlines byte for byte."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap a line
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_DASH_OFFSET)
    return yaml


def round_trip(text: str, edit=None) -> str:
    """Load `text` with ruamel.yaml, apply `edit(data)` if given, dump it again."""
    yaml = round_trip_yaml()
    data = yaml.load(text)
    if edit is not None:
        edit(data)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def rewrite(
    text: str, quotes: dict[tuple[int, int], str]
) -> tuple[str, dict[tuple[int, int], tuple[int, int]]]:
    """`text` with the quote scalars at the given 1-based (line, col) set to new wordings.

    Returns the new text and where every quote in the file now starts ({old place: new place}).
    Raises BriefgenError (nothing is to be written) if the result does not read back as the
    original data with just those quotes changed.
    """
    from ruamel.yaml.error import YAMLError

    from .yamlfile import load_yaml

    try:
        old_nodes = _quote_nodes(text)
    except YAMLError as exc:  # briefgen's loader read it, ruamel.yaml cannot
        raise _unsafe(f"ruamel.yaml cannot read it ({exc})") from None
    places = {
        (v.start_mark.line + 1, v.start_mark.column + 1): i for i, (_, v, _) in enumerate(old_nodes)
    }
    unknown = [p for p in quotes if p not in places]
    if unknown:
        raise BriefgenError(
            f"no quote at line {unknown[0][0]}, column {unknown[0][1]} of the outline"
        )

    def edit(data) -> None:
        for mapping in _quote_mappings(data):
            line, col = mapping.lc.value("quote")
            place = (line + 1, col + 1)
            if place in quotes:
                mapping["quote"] = _styled(quotes[place], old_nodes[places[place]], text)

    try:
        dumped = round_trip(text, edit)
    except YAMLError as exc:
        raise _unsafe(f"ruamel.yaml cannot round-trip it ({exc})") from None
    new_nodes = _quote_nodes(dumped)
    if len(new_nodes) != len(old_nodes):
        raise _unsafe("the rewritten file has a different structure")
    result = text
    for place in sorted(quotes, reverse=True):  # from the end, so earlier offsets stay valid
        i = places[place]
        start, end = _extent(old_nodes[i][1], text)
        new_start, new_end = _extent(new_nodes[i][1], dumped)
        shift = old_nodes[i][0].start_mark.column - new_nodes[i][0].start_mark.column
        piece = _reindent(dumped[new_start:new_end], shift)
        if "\r\n" in text[: text.find("\n") + 1]:
            piece = piece.replace("\n", "\r\n")
        result = result[:start] + piece + result[end:]

    try:
        old_data, new_data = (
            load_yaml(text, Path("brief.yaml")),
            load_yaml(result, Path("brief.yaml")),
        )
    except Exception as exc:  # any failure to read it back means: do not write
        raise _unsafe(f"it would not read back ({exc})") from None
    if not _same_but_quotes(old_data, new_data, quotes):
        raise _unsafe("it would change more than the accepted quotes")
    final = _quote_nodes(result)
    moved = {
        place: (final[i][1].start_mark.line + 1, final[i][1].start_mark.column + 1)
        for place, i in places.items()
    }
    return result, moved


def _unsafe(why: str) -> BriefgenError:
    return BriefgenError(
        f"cannot rewrite the outline safely: {why}; nothing was written "
        "(please report this with the outline)"
    )


def _quote_nodes(text: str) -> list:
    """(key node, value node, mapping node) of every `quote:` in document order."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    found = []

    def walk(node) -> None:
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if getattr(key, "value", None) == "quote" and not isinstance(
                    value, MappingNode | SequenceNode
                ):
                    found.append((key, value, node))
                walk(value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                walk(item)

    walk(YAML(typ="rt").compose(text))
    return found


def _quote_mappings(data):
    """Every ruamel mapping that has a `quote:` key, in document order."""
    if isinstance(data, dict):
        if "quote" in data and isinstance(data["quote"], str):
            yield data
        for value in data.values():
            yield from _quote_mappings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _quote_mappings(item)


_TRAILING_BREAKS = re.compile(r"(?:\r?\n[ \t]*)+$")


def _extent(node, text: str) -> tuple[int, int]:
    """Character offsets of a scalar's own text (a block scalar's trailing line breaks excluded)."""
    start, end = node.start_mark.index, node.end_mark.index
    trailing = _TRAILING_BREAKS.search(text, start, end)
    if trailing and node.style in ("|", ">"):
        end = trailing.start()
    return start, end


def _reindent(piece: str, shift: int) -> str:
    """Move every line of `piece` but the first by `shift` columns (the key moved that much)."""
    if not shift:
        return piece
    first, *rest = piece.split("\n")
    if shift > 0:
        rest = [" " * shift + line if line.strip() else line for line in rest]
    else:
        rest = [line[-shift:] if line[:-shift].isspace() else line.lstrip(" ") for line in rest]
    return "\n".join([first, *rest])


def _styled(new: str, nodes, text: str):
    """The new quote as a ruamel scalar in a style that fits where the old one was.

    A block quote (`>-`, `>`, `|`) or one spread over several lines becomes a folded `>-` block
    wrapped at WRAP columns. A one-line quote keeps its style (plain, 'single' or "double"; ruamel
    quotes a plain one if it must) while the line stays within WRAP columns (or the old line's
    length); longer, it becomes a folded block. Inside a flow mapping, or with a comment after
    it on its line, it stays a one-line scalar.
    """
    from ruamel.yaml.scalarstring import (
        DoubleQuotedScalarString,
        FoldedScalarString,
        SingleQuotedScalarString,
    )

    key, value, mapping = nodes
    lines = text.replace("\r\n", "\n").split("\n")
    end_line = lines[value.end_mark.line] if value.end_mark.line < len(lines) else ""
    comment_after = value.style not in ("|", ">") and end_line[value.end_mark.column :].strip()
    flow = bool(mapping.flow_style) or comment_after
    multiline = value.style in ("|", ">") or value.start_mark.line != value.end_mark.line
    quoted = value.style in ("'", '"')
    width = value.start_mark.column + len(new) + (2 if quoted else 0)
    long = width > max(WRAP, len(lines[value.start_mark.line]))
    if not flow and (multiline or long):
        folded = FoldedScalarString(new)
        folded.fold_pos = _fold_positions(new, WRAP - key.start_mark.column - MAPPING_INDENT)
        return folded
    if value.style == '"':
        return DoubleQuotedScalarString(new)
    if value.style == "'":
        return SingleQuotedScalarString(new)
    return new


def _fold_positions(text: str, width: int) -> list[int]:
    """Offsets of the spaces at which to break `text` into lines of at most `width` characters."""
    width = max(width, 30)
    breaks, line_start, last_space = [], 0, -1
    for i, char in enumerate(text):
        if char == " ":
            if i - line_start > width and last_space > line_start:
                breaks.append(last_space)
                line_start = last_space + 1
            last_space = i
    if len(text) - line_start > width and last_space > line_start:
        breaks.append(last_space)
    return breaks


def _same_but_quotes(old, new, quotes: dict[tuple[int, int], str]) -> bool:
    """True if `new` (briefgen's loader) is `old` with exactly the given quotes replaced."""
    if isinstance(old, dict):
        if not isinstance(new, dict) or list(old) != list(new):
            return False
        for key, value in old.items():
            if key == "quote" and isinstance(value, str):
                place = (value.line, value.col)
                if place in quotes:
                    if new[key] != quotes[place]:
                        return False
                    continue
            if not _same_but_quotes(value, new[key], quotes):
                return False
        return True
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) == len(new)
            and all(_same_but_quotes(a, b, quotes) for a, b in zip(old, new, strict=True))
        )
    return type(old) is type(new) and old == new


def _decode(raw: bytes, path: Path) -> str:
    """The outline's text, without a byte-order mark (line ends kept as they are)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BriefgenError(
            f"{display_path(path)} is not valid UTF-8 (byte {exc.start}); briefgen accept only "
            "rewrites a file it can give back byte for byte"
        ) from None
    return text.removeprefix("\ufeff")


def _encode(text: str, raw: bytes) -> bytes:
    """`text` as bytes, with the original file's byte-order mark if it had one."""
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if raw.startswith(b"\xef\xbb\xbf") else data


__all__ = ["Selection", "Outcome", "AcceptResult", "accept", "rewrite", "round_trip"]
