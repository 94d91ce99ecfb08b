"""Property-based: whatever a user (or a fuzzer) feeds `validate`, it answers with diagnostics.

Mutations work on the text of a valid stack (characters inserted, deleted, lines swapped or
re-indented) and on its data (values replaced by values of other types), so they reach the
YAML reader, the schema mapper and the semantic checks alike.
"""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployer.errors import Diagnostic
from deployer.stack.loader import load_yaml_text
from deployer.stack.validate import validate_document
from tests.unit.stacks import BASE

ALPHABET = string.printable + "\u00e9\u2028\ufeff\x00\x85"
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(ALPHABET, max_size=12)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(string.ascii_letters, min_size=1, max_size=8), inner, max_size=3), max_leaves=6)


def run(text: str) -> list[Diagnostic]:
    from pathlib import Path

    from deployer.errors import StackError

    try:
        doc = load_yaml_text(text, "fuzz.yaml")
    except StackError as exc:
        return list(exc.diagnostics)
    return validate_document(doc, Path(".")).diagnostics


def _check(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert d.file == "fuzz.yaml"
        assert d.message
        assert d.line >= 0 and d.column >= 0
        d.format()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0, max_value=len(BASE)),
    insert=st.text(ALPHABET, max_size=4),
    delete=st.integers(min_value=0, max_value=6),
)
def test_text_mutations_never_crash(position, insert, delete):
    text = BASE[:position] + insert + BASE[position + delete :]
    _check(run(text))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_line_mutations_never_crash(data):
    lines = BASE.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    j = data.draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    k = data.draw(st.integers(0, len(lines) - 1))
    lines[k] = " " * data.draw(st.integers(0, 3)) + lines[k]
    _check(run("\n".join(lines)))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_data_mutations_never_crash(data):
    document = yaml.safe_load(BASE)
    paths = [p for p in _paths(document) if p]
    target = data.draw(st.sampled_from(paths))
    replacement = data.draw(values)
    parent = document
    for part in target[:-1]:
        parent = parent[part]
    parent[target[-1]] = replacement
    _check(run(yaml.safe_dump(document, allow_unicode=True)))
