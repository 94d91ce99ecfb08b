"""The fast yes/no schema check must agree with jsonschema on every document."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from deployer.stack.fastcheck import UnsupportedSchema, compile_schema
from deployer.stack.loader import load_stack_file
from deployer.stack.schema import schema
from tests.unit.stacks import BASE
from tests.unit.test_validate_broken import CASES
from tests.unit.test_validate_fuzz import _paths, values

FAST = compile_schema(schema())
SLOW = Draft202012Validator(schema())
STACKS = ["stacks/quickstart.yaml", "stacks/media-transcode.yaml.j2", "stacks/hpc.yaml"]


@pytest.mark.parametrize("name", STACKS)
def test_agrees_on_example_stacks(name):
    document = load_stack_file(Path(name)).data  # rendered first: media-transcode is a template
    assert FAST(document) is True
    assert SLOW.is_valid(document)


def _parses(text: str) -> bool:
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return False  # never reaches the schema: the loader tests cover these
    return True


SCHEMA_CASES = [c for c in CASES if _parses(c[1])]


@pytest.mark.parametrize("case", SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_agrees_on_broken_stacks(case):
    document = yaml.safe_load(case[1])
    assert FAST(document) == SLOW.is_valid(document)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_agrees_on_mutated_documents(data):
    document = yaml.safe_load(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(document) if p]
        target = data.draw(st.sampled_from(paths))
        parent = document
        for part in target[:-1]:
            parent = parent[part]
        parent[target[-1]] = data.draw(values)
    assert FAST(copy.deepcopy(document)) == SLOW.is_valid(document)


def test_unknown_keyword_is_refused():
    with pytest.raises(UnsupportedSchema):
        compile_schema({"type": "object", "unevaluatedProperties": False})
