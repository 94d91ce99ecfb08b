"""The loader: plain data out, positions kept, and every malformed input refused cleanly."""

from __future__ import annotations

import pytest

from deployer.errors import StackError
from deployer.stack.loader import load_yaml_text


def load(text: str):
    return load_yaml_text(text, "s.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: yes", "yes"),  # YAML 1.1 would say True
        ("a: on", "on"),
        ("a: 00:15:00", "00:15:00"),  # YAML 1.1 would say 900
        ("a: 1_000", "1_000"),
        ("a: true", True),
        ("a: False", False),
        ("a: 12", 12),
        ("a: -3", -3),
        ("a: 0x1f", 31),
        ("a: 1.5", 1.5),
        ("a: 1e3", 1000.0),  # YAML 1.2 core: a float (PyYAML, by YAML 1.1, keeps it as text)
        ("a: ~", None),
        ("a:", None),
        ('a: "12"', "12"),
        ("a: 2024-01-01", "2024-01-01"),
        ("a: PT5M", "PT5M"),
    ],
)
def test_scalars_follow_yaml_1_2_core_rules(text, expected):
    assert load(text).data == {"a": expected}


def test_keys_are_strings_as_written():
    assert load('6.1: x\n"6.2": y\n7: z').data == {"6.1": "x", "6.2": "y", "7": "z"}


def test_positions_of_keys_and_values():
    doc = load("a:\n  b:\n    - x\n    - {c: 1}\n")
    assert (doc.source.key(("a", "b")).line, doc.source.key(("a", "b")).column) == (2, 3)
    assert (doc.source.value(("a", "b", 1, "c")).line, doc.source.value(("a", "b", 1, "c")).column) == (4, 11)
    assert doc.source.value(("a", "b", 0)).line == 3


def test_aliases_expand_within_bound():
    assert load("a: &x [1, 2]\nb: *x").data == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first defined at line 1)"),
        ("a: !!python/object:os.system x\n", 1, 4, "tag 'tag:yaml.org,2002:python/object:os.system' is not allowed"),
        ("a: !custom x\n", 1, 4, "tag '!custom' is not allowed"),
        ("a:\n\tb: 1\n", 2, 1, "tab character in indentation"),
        ("a: [1, 2\n", 2, 1, "did not find expected ',' or ']'"),
        ("a: &x\n  b: *x\n", 1, 4, "recursive alias"),
        ("a: *nope\n", 1, 4, "found undefined alias"),
        ("a: {b: 1\n", 2, 1, "did not find expected ',' or '}'"),
        ("<<: {a: 1}\n", 1, 1, "merge keys"),
        ("[a, b]: 1\n", 1, 1, "mapping key must be a plain string"),
        ("# only a comment\n", 1, 1, "the file is empty"),
        ("", 1, 1, "the file is empty"),
        ("a: !!int x\n", 1, 4, "'x' is not a valid int"),
    ],
)
def test_malformed_yaml(text, line, column, message):
    with pytest.raises(StackError) as info:
        load(text)
    first = info.value.diagnostics[0]
    assert message in first.message
    assert (first.line, first.column) == (line, column)


def test_alias_bomb_refused_quickly():
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghi"
    for prev, name in zip(names, names[1:], strict=False):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(StackError) as info:
        load("\n".join(levels))
    assert "alias bomb" in info.value.diagnostics[0].message
    assert info.value.diagnostics[0].line > 1


# Text without an alias skips the measure: the builder counts values and levels itself and, past a
# limit, hands over to the measure for the message. Both ways must draw the line at the same place.
_WITH_ALIAS = "anchor: &a 1\nalias: *a\n"


def _nested(levels: int) -> str:
    return "x: " + "[" * levels + "1" + "]" * levels + "\n"


@pytest.mark.parametrize("prefix", ["", _WITH_ALIAS], ids=["builder-counts", "measured-first"])
@pytest.mark.parametrize(("levels", "refused"), [(62, False), (63, True), (64, True)])
def test_depth_limit_is_the_same_with_or_without_aliases(prefix, levels, refused):
    text = prefix + _nested(levels)  # the root mapping and `x` add one level each
    if not refused:
        assert load(text).data["x"]
        return
    with pytest.raises(StackError) as info:
        load(text)
    first = info.value.diagnostics[0]
    assert "levels deep, over the limit of 64" in first.message and first.line == text.count("\n")


@pytest.mark.parametrize("prefix", ["", _WITH_ALIAS], ids=["builder-counts", "measured-first"])
@pytest.mark.parametrize(("values", "refused"), [(90, False), (120, True)])
def test_value_limit_is_the_same_with_or_without_aliases(monkeypatch, prefix, values, refused):
    from deployer.stack import loader

    monkeypatch.setattr(loader, "MAX_EXPANDED_NODES", 100)
    text = prefix + "x: [" + ", ".join("1" * values) + "]\n"
    if not refused:
        assert len(load(text).data["x"]) == values
        return
    with pytest.raises(StackError) as info:
        load(text)
    assert "over the limit of 100" in info.value.diagnostics[0].message


@pytest.mark.parametrize(("text", "may"), [
    ("a: 1\n", False),
    ("f: $x * 2\n", False),  # multiplication in a formula
    ("c: /*comment\n", False),  # after a character of the scalar
    ("p: '**/*.mp4'\n", False),  # inside a quoted glob: never the start of a node
    ("a: &x 1\nb: *x\n", True),
    ("l: [*x]\n", True),
    ("l: {k: 1,*x: 2}\n", True),
    ("*x\n", True),
    ("c: ls *.txt\n", True),  # a false positive: costs the measure, nothing else
])
def test_what_may_hold_an_alias(text, may):
    from deployer.stack.loader import _may_hold_alias

    assert _may_hold_alias(text) is may


def test_position_inside_block_scalar():
    doc = load("f: |\n  $a = 1;\n  $b = ;\n")
    pos = doc.position_inside(("f",), 2, 6)
    assert (pos.line, pos.column) == (3, 8)


def test_position_inside_quoted_scalar():
    doc = load('f: "$a = ;"\n')
    pos = doc.position_inside(("f",), 1, 6)
    assert (pos.line, pos.column) == (1, 10)
