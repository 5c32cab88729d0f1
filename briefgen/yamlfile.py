"""Safe YAML that remembers where every value came from.

The loader is a `yaml.SafeLoader` with three changes that make content errors precise:
- every scalar stays a string (no implicit booleans, dates or numbers: `no`, `2024-05-01` and
  `3.10` mean what the editor typed; the schema converts what it needs);
- strings, mappings and lists carry their 1-based line and column;
- duplicate keys and aliases (the "billion laughs" bomb) are rejected;
- nesting deeper than `MAX_DEPTH` levels is an error, not a `RecursionError` (the composer and the
  constructor recurse once per level).

Where PyYAML has libyaml (`yaml.__with_libyaml__`), libyaml scans, parses and composes, and a
small builder here turns its nodes into the same marked values (six to ten times faster than
PyYAML's pure-Python scanner on a large outline). The builder accepts only what the pure loader
accepts with certainty: plain text, lists and mappings, each node used once (an alias reuses a
node), no key twice, within `MAX_DEPTH`. Anything else, and any error of libyaml's, sends the text
to the pure loader, which gives the value or the one error message (errors are rare, and their
messages and positions stay those of the pure loader). So does text where the two are known to
differ (`_PURE_ONLY`: control characters, tabs, NEL, U+2028, U+2029, a byte order mark, a comment
right after a block scalar's `|`), and an empty value in a flow collection or at the end of a text
with no final line break (placed differently). The tests load the same texts both ways, random
ones included, and compare values, positions and errors.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import Diagnostic

#: How deep lists and mappings may nest. An outline needs 6 levels; the limit only stops a file
#: that would otherwise exhaust Python's recursion limit (10,000 nested '[' or '- ').
MAX_DEPTH = 100


class MStr(str):
    """A string with the position of its YAML node."""

    line: int = 1
    col: int = 1


class MDict(dict):
    """A mapping with its position and the position of each key."""

    line: int = 1
    col: int = 1
    key_marks: dict

    def mark_of(self, key: str) -> tuple[int, int]:
        return self.key_marks.get(key, (self.line, self.col))


class MList(list):
    """A list with the position of its YAML node."""

    line: int = 1
    col: int = 1


class YAMLContentError(Exception):
    """A YAML file that cannot be read as data; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _mark(obj, node, line_offset: int):
    obj.line = node.start_mark.line + 1 + line_offset
    obj.col = node.start_mark.column + 1
    return obj


_SURROGATE = re.compile("[\ud800-\udfff]")


class MarkedLoader(yaml.SafeLoader):
    """SafeLoader that keeps positions, keeps scalars as text, refuses duplicates and aliases."""

    yaml_implicit_resolvers: dict = {}
    line_offset = 0
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed here; write the value out",
                event.start_mark,
            )
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"lists and mappings nest more than {MAX_DEPTH} levels deep here",
                self.peek_event().start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_marked_str(self, node):
        value = self.construct_scalar(node)
        if _SURROGATE.search(value):  # only an escape can make one: "\ud83d"
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "an escape such as \\ud83d names half of a UTF-16 pair, which no file can hold; "
                "write the character itself (or \\U0001F600 for one beyond \\uFFFF)",
                node.start_mark,
            )
        return _mark(MStr(value), node, self.line_offset)

    def construct_marked_seq(self, node):
        result = _mark(MList(), node, self.line_offset)
        yield result
        result.extend(self.construct_sequence(node, deep=True))

    def construct_marked_map(self, node):
        if not isinstance(node, yaml.MappingNode):  # `!!map text`
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, but found {node.id}", node.start_mark
            )
        result = _mark(MDict(), node, self.line_offset)
        result.key_marks = {}
        yield result
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, "keys must be plain text", key_node.start_mark
                )
            if key in result:
                first = result.key_marks[key][0]
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key '{key}' (first given on line {first})",
                    key_node.start_mark,
                )
            result.key_marks[key] = (
                key_node.start_mark.line + 1 + self.line_offset,
                key_node.start_mark.column + 1,
            )
            result[key] = self.construct_object(value_node, deep=True)


# Only text, lists and mappings: an explicit tag (`!!int x`, `!!timestamp`, `!!binary`, `!!set`)
# is refused as any unknown tag is, not constructed (PyYAML's own constructors crash on bad values).
MarkedLoader.yaml_constructors = {None: yaml.SafeLoader.yaml_constructors[None]}
MarkedLoader.add_constructor("tag:yaml.org,2002:str", MarkedLoader.construct_marked_str)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", MarkedLoader.construct_marked_seq)
MarkedLoader.add_constructor("tag:yaml.org,2002:map", MarkedLoader.construct_marked_map)


_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
#: Text the libyaml path leaves to the pure loader: what its reader refuses (control characters,
#: lone surrogates), line breaks or a byte order mark that the two might count differently, and
#: what libyaml accepts but PyYAML refuses: tabs (libyaml takes a tab for a space in places), and
#: a comment right after a block scalar's indicator (`|#`, `>-#`).
_PURE_ONLY = re.compile(
    f"{yaml.reader.Reader.NON_PRINTABLE.pattern}|[\t\x85\u2028\u2029\ufeff]|[|>][-+0-9]*#"
)


class _NotPlain(Exception):
    """The libyaml path met something only the pure loader may judge (or refuse, with its words)."""


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _CComposer(CParser):
        """libyaml's scanner, parser and composer; every tag left unresolved is plain text."""

        _DEFAULT_TAGS = {ScalarNode: _STR_TAG, SequenceNode: _SEQ_TAG, MappingNode: _MAP_TAG}

        def resolve(self, kind, value, implicit):  # what MarkedLoader's resolver does
            return self._DEFAULT_TAGS[kind]

        def descend_resolver(self, current_node, current_index):
            pass

        def ascend_resolver(self):
            pass

else:  # pragma: no cover - PyYAML built without libyaml
    _CComposer = None


class _Builder:
    """Marked values from libyaml's nodes, as MarkedLoader constructs them; or `_NotPlain`.

    Where the two loaders are known to place a node differently, the builder gives up: an empty
    value (`key:` with nothing after it) in a flow collection (`{a: }`), or at the very end of a
    text without a final line break, is placed at the next token by libyaml, not by PyYAML.
    """

    def __init__(self, text: str, line_offset: int) -> None:
        self.line_offset = line_offset
        self.seen: set[int] = set()
        self.open_end = not text.endswith("\n")

    def build(self, node, depth: int, flow: bool):
        if depth >= MAX_DEPTH or id(node) in self.seen:  # too deep, or an alias (seen before)
            raise _NotPlain
        self.seen.add(id(node))
        tag = node.tag
        kind = type(node)
        if tag == _STR_TAG and kind is ScalarNode:
            value = node.value
            if _SURROGATE.search(value) or (
                not value and node.style == "" and (flow or self.open_end)
            ):
                raise _NotPlain
            obj = MStr(value)
        elif tag == _MAP_TAG and kind is MappingNode:
            obj = MDict()
            key_marks = obj.key_marks = {}
            flow = bool(node.flow_style)
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag != _STR_TAG:
                    raise _NotPlain
                key = self.build(key_node, depth + 1, flow)
                if key in obj:
                    raise _NotPlain
                key_marks[key] = (key.line, key.col)
                obj[key] = self.build(value_node, depth + 1, flow)
        elif tag == _SEQ_TAG and kind is SequenceNode:
            flow = bool(node.flow_style)
            obj = MList(self.build(item, depth + 1, flow) for item in node.value)
        else:
            raise _NotPlain
        mark = node.start_mark
        obj.line = mark.line + 1 + self.line_offset
        obj.col = mark.column + 1
        return obj


def _load_libyaml(text: str, line_offset: int):
    """The marked values of `text` through libyaml; `_NotPlain` if the pure loader must decide."""
    if _CComposer is None or _PURE_ONLY.search(text):
        raise _NotPlain
    # Every node stays alive until it is built: the cyclic collector, run again and again as
    # they are made, would only walk them (it doubles the time of a large outline).
    collecting = gc.isenabled()
    gc.disable()
    parser = _CComposer(text)
    try:
        node = parser.get_single_node()
        return None if node is None else _Builder(text, line_offset).build(node, 0, False)
    except (yaml.YAMLError, ValueError):
        raise _NotPlain from None
    finally:
        parser.dispose()
        if collecting:
            gc.enable()


def load_yaml(text: str, path: Path, line_offset: int = 0, *, libyaml: bool = True):
    """Parse `text` (from `path`, starting `line_offset` lines into it) into marked values.

    `libyaml=False` uses the pure-Python loader only (the libyaml path gives the same values,
    positions and errors; the tests compare the two).
    """
    if libyaml:
        try:
            return _load_libyaml(text, line_offset)
        except _NotPlain:
            pass
    return _load_pure(text, path, line_offset)


def _load_pure(text: str, path: Path, line_offset: int):
    try:
        loader = MarkedLoader(text)  # refuses control characters here, before parsing
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 + line_offset
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        problem = (
            f"the character U+{exc.character:04X} is not allowed here (YAML refuses control "
            'characters; in double quotes, write one as an escape such as "\\x1b")'
        )
        raise YAMLContentError(Diagnostic(path, line, col, f"YAML: {problem}")) from None
    loader.line_offset = line_offset
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else 1
        col = mark.column + 1 if mark else 1
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.problem and "constructor" not in type(exc).__name__.lower():
            problem = f"{exc.problem} ({exc.context})"
        if "could not determine a constructor" in problem:
            tag = problem.split("tag ", 1)[-1]
            problem = f"the tag {tag} is not allowed: content is loaded as plain data only"
        raise YAMLContentError(Diagnostic(path, line, col, f"YAML: {problem}")) from None
    except yaml.YAMLError as exc:  # any other (unmarked) YAML error
        raise YAMLContentError(Diagnostic(path, 1 + line_offset, 1, f"YAML: {exc}")) from None
    except ValueError:  # PyYAML's scanner: an escape beyond U+10FFFF ("\U00110000")
        mark = loader.get_mark()
        raise YAMLContentError(
            Diagnostic(
                path,
                mark.line + 1 + line_offset,
                mark.column + 1,
                "YAML: this escape names a code point beyond U+10FFFF, which is no character",
            )
        ) from None
    except RecursionError:  # a backstop: MAX_DEPTH keeps the recursion far below the limit
        raise YAMLContentError(
            Diagnostic(path, 1 + line_offset, 1, "YAML: lists and mappings nest too deeply")
        ) from None
    finally:
        loader.dispose()
