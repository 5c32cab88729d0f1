"""The safe, position-keeping YAML loader."""

from pathlib import Path

import conftest
import pytest
import test_fuzz
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from briefgen import yamlfile
from briefgen.yamlfile import MDict, MList, MStr, YAMLContentError, load_yaml

P = Path("x.yaml")
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_scalars_stay_text_and_keep_positions():
    data = load_yaml("a: no\nb: 2024-05-01\nc:\n  - 3.10\n", P)
    assert data == {"a": "no", "b": "2024-05-01", "c": ["3.10"]}
    assert isinstance(data, MDict)
    assert (data["b"].line, data["b"].col) == (2, 4)
    assert (data["c"][0].line, data["c"][0].col) == (4, 5)
    assert data.mark_of("c") == (3, 1)


def test_line_offset_shifts_positions():
    data = load_yaml("title: x\n", P, line_offset=1)
    assert data["title"].line == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: 1\na: 2\n", "x.yaml:2:1: error: YAML: duplicate key 'a' (first given on line 1)"),
        (
            "a: &x [1]\nb: *x\n",
            "x.yaml:2:4: error: YAML: aliases (*name) are not allowed here; write the value out",
        ),
        (
            "a: !!python/object/apply:os.system ['true']\n",
            "x.yaml:1:4: error: YAML: the tag 'tag:yaml.org,2002:python/object/apply:os.system' "
            "is not allowed: content is loaded as plain data only",
        ),
        ("a: b: c\n", "x.yaml:1:5: error: YAML: mapping values are not allowed here"),
        ("? [a, b]\n: c\n", "x.yaml:1:3: error: YAML: keys must be plain text"),
    ],
)
def test_unsafe_or_broken_yaml_is_one_clear_error(text, expected):
    with pytest.raises(YAMLContentError) as info:
        load_yaml(text, P)
    assert info.value.diagnostic.format(Path.cwd()) == expected


# -- the libyaml path gives what the pure loader gives ----------------------------------------
#
# load_yaml lets libyaml scan, parse and compose when PyYAML has it, and sends anything else (and
# every error) to the pure-Python loader. The values, their positions and the errors must be the
# pure loader's exactly: these tests load the same text both ways and compare.

REPO = Path(__file__).resolve().parent.parent
needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


def _shape(value):
    """A value with its type and every position: what two loaders must agree on."""
    if isinstance(value, dict):
        assert type(value) is MDict
        return (
            "map",
            value.line,
            value.col,
            [(_shape(k), value.key_marks[k], _shape(v)) for k, v in value.items()],
        )
    if isinstance(value, list):
        assert type(value) is MList
        return ("seq", value.line, value.col, [_shape(v) for v in value])
    if value is None:
        return None
    assert type(value) is MStr
    return ("str", str(value), value.line, value.col)


def _outcome(text: str, libyaml: bool, line_offset: int = 0):
    try:
        return _shape(load_yaml(text, P, line_offset, libyaml=libyaml))
    except YAMLContentError as exc:
        return exc.diagnostic.format(Path.cwd())


def assert_same_both_ways(text: str, line_offset: int = 0) -> None:
    pure = _outcome(text, False, line_offset)
    assert _outcome(text, True, line_offset) == pure


def _front_matter(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("---\n", 2)[1]


def _yaml_texts() -> list[tuple[str, str]]:
    """Every YAML text the project and its tests ship: outlines and sources' front matter."""
    texts = [
        ("content/brief.yaml", (REPO / "content" / "brief.yaml").read_text(encoding="utf-8")),
        ("scaffold/brief.yaml", (REPO / "briefgen/scaffold/brief.yaml").read_text("utf-8")),
        ("conftest OUTLINE", conftest.OUTLINE),
        ("conftest SOURCE_A", conftest.SOURCE_A.split("---\n", 2)[1]),
        ("conftest SOURCE_B", conftest.SOURCE_B.split("---\n", 2)[1]),
    ]
    sources = [*sorted((REPO / "content" / "sources").iterdir())]
    sources.append(REPO / "briefgen" / "scaffold" / "sample-press-release.txt")
    texts += [(p.name, _front_matter(p)) for p in sources]
    return texts


@needs_libyaml
@pytest.mark.parametrize("name, text", _yaml_texts(), ids=[n for n, _ in _yaml_texts()])
def test_libyaml_gives_the_pure_loaders_values_and_positions(name, text):
    pure = _outcome(text, False)
    assert isinstance(pure, tuple), pure  # these all load
    assert _outcome(text, True) == pure
    assert _outcome(text, True, line_offset=1) == _outcome(text, False, line_offset=1)


def test_the_libyaml_path_is_taken_for_plain_text(monkeypatch):
    """The example outline goes through libyaml without falling back (else no time is saved)."""
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    text = (REPO / "content" / "brief.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(yamlfile, "_load_pure", None)  # a fall-back would fail
    assert load_yaml(text, P)["title"]


#: YAML the tests of this file, of the bad-input suite and of the fuzz suite single out.
TRICKY_YAML = [
    "a: 1\na: 2\n",
    "a: &x [1]\nb: *x\n",
    "a: &x 1\nb: &x 2\n",
    "a: &x [1, *x]\n",
    "a: &x text\n",
    "a: *nowhere\n",
    "a: !!python/object/apply:os.system ['true']\n",
    "a: !!int 3\n",
    "a: !!str 3\n",
    "a: ! x\n",
    "a: !local x\n",
    "!!map accent: ''\n",
    "a: b: c\n",
    "? [a, b]\n: c\n",
    "? a\n",
    "a:\n",
    "- \n- x",
    "",
    "---\n",
    "---\n...\n",
    "a: 1\n---\nb: 2\n",
    "# only a comment\n",
    "title: x\nsubtitle: a\x1bb\n",
    'title: "\\U00110000"\n',
    'title: x\nsubtitle: "\\ud800"\n',
    'title: "\\x00 \\t \\u00e9 \\U0001F600"\n',
    "title: caf\u00e9 \U0001f600 \u0645\u0631\u062d\u0628\u0627\n",
    "title: a\u2028b\n",
    "title: a\x85b\n",
    "\ufefftitle: x\n",
    "title: x\r\nsub: y\r\n",
    "title: x\rsub: y\r",
    "a:\n\t- x\n",
    "a: [1, 2\n",
    "a: {b: 1, b: 2}\n",
    "a: {b, c}\n",
    "a: 'it''s'\nb: \"q\\\"q\"\n",
    "a: |\n  one\n   two\n\n  three\n",
    "a: >-\n  one\n  two\n\n\n",
    "a: |+\n  x\n\n",
    "a: |2-\n   x\n",
    "- - - x\n  - y\n- z\n",
    "a:\n- b\n- c: d\n  e: f\n",
    "[a, {b: c}, [d]]\n",
    "<<: {a: b}\n",
    "%YAML 1.1\n---\na: b\n",
    "%TAG ! tag:example.org,2024:\n---\na: !x b\n",
    "a: b #c\n#d\n",
    "  a: b\n  c: d\n",
    "a:   \n  b\n",
    "[" * 99 + "x" + "]" * 99,
    "[" * 100 + "x" + "]" * 100,
    "- " * 99 + "x\n",
    "- " * 100 + "x\n",
    "[" * 2000 + "]" * 2000,
]


@needs_libyaml
@pytest.mark.parametrize("text", TRICKY_YAML)
def test_libyaml_gives_the_pure_loaders_values_and_errors(text):
    assert_same_both_ways(text)
    assert_same_both_ways(text, line_offset=1)


def _fragments():
    pieces = [
        "a", "b", "key", "x y", "é", "\U0001f600", "1", "no", "~", ": ", ":", "- ", "-", "? ",
        "?", "\n", "\n", "\n  ", "\n    ", "\r\n", "\t", " ", "  ", "#c", "'", "''", '"', '\\"',
        "\\", "[", "]", "{", "}", ", ", ",", "&a ", "*a", "!!str ", "!x ", "! ", "|", "|-",
        ">", ">+", "|2", "---", "...", "%YAML 1.1", "<<", "@", "`", "%", "\u00a0", "\u3000",
        "!<tag:x,2024:y> ", "%TAG !e! tag:e,2024:\n", "&", "*", "a:b", "-1", "'a\nb'",
        '"a\\\nb"', "\n- ", "\n  - ", "\n? ", "\n: ", "x:\n", "[a: b]", "{? a}", " #",
        "\u2026", "\\u00e9", '"\\x41"', "\n\n", "-\n", "  \n",
    ]  # fmt: skip
    return st.lists(st.sampled_from(pieces), max_size=40).map("".join)


@needs_libyaml
@FUZZ
@given(text=_fragments())
def test_libyaml_agrees_with_the_pure_loader_on_yaml_fragments(text):
    note(f"text: {text!r}")
    assert_same_both_ways(text)


@needs_libyaml
@FUZZ
@given(raw=test_fuzz.outline_files())
def test_libyaml_agrees_with_the_pure_loader_on_random_outlines(raw):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    note(f"text: {text!r}")
    assert_same_both_ways(text)
