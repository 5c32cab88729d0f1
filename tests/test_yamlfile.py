"""The safe, position-keeping YAML loader."""

from pathlib import Path

import pytest

from briefgen.yamlfile import MDict, YAMLContentError, load_yaml

P = Path("x.yaml")


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
