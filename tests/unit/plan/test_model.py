"""The plan as data: immutable, summarized, saved as JSON and read back — or refused clearly."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployer.errors import PlanError
from deployer.plan import FORMAT_VERSION, Action, Change, FieldChange, Plan, PlanTarget
from deployer.stack.model import Address, Kind, Target

TARGET = PlanTarget("azure", "00000000-0000-0000-0000-000000000000", "rg-media", "westeurope")


def sample_plan() -> Plan:
    return Plan("media", TARGET, (
        Change(Address.parse("storageAccounts.data"), Kind.STORAGE_ACCOUNT, Action.CREATE,
               "storage account stmedia does not exist yet", None,
               {"location": "westeurope", "sku": "Standard_LRS", "tags": {"env": "dev"}}, name="stmedia"),
        Change(Address.parse("batchAccounts.main.pools.transcode"), Kind.POOL, Action.UPDATE,
               "metadata differs from the stack", {"metadata": {"team": "a"}}, {"metadata": {"team": "b"}},
               (FieldChange("metadata.team", "a", "b"),), etag='W/"0x8D4EDFEBFADF4AB"', name="transcode"),
        Change(Address.parse("batchAccounts.main.pools.gpu"), Kind.POOL, Action.REPLACE,
               "vmSize can change only while the pool has zero nodes", {"vmSize": "STANDARD_NC6"},
               {"vmSize": "Standard_NC12"},
               (FieldChange("vmSize", "STANDARD_NC6", "Standard_NC12", forces_replacement=True,
                            requires_empty_pool=True),
                FieldChange("userAccounts.alice.password", "(sensitive)", "(sensitive)", sensitive=True,
                            requires_empty_pool=True, forces_replacement=True)),
               ("vmSize", "userAccounts.alice.password"), ("4 nodes and 7 running tasks affected",),
               'W/"0x1"', "gpu"),
        Change(Address.parse("batchAccounts.main.pools.cpu"), Kind.POOL, Action.DRAIN, "drained", {}, {},
               (FieldChange("taskSlotsPerNode", 1, 2, requires_empty_pool=True),), ("taskSlotsPerNode",),
               ("2 nodes affected (running tasks not read)",), None, "cpu"),
        Change(Address.parse("storageAccounts.data.containers.old"), Kind.CONTAINER, Action.DELETE,
               "container old is no longer in the stack", {"publicAccess": "None"}, None,
               warnings=("all blobs in container old are lost",), etag='"0x2"', name="old"),
        Change(Address.parse("networks.hpc"), Kind.NETWORK, Action.NO_OP, "matches", {"location": "westeurope"},
               {"location": "westeurope"}, name="vnet-hpc"),
        Change(Address.parse("batchAccounts.main.jobs.j"), Kind.JOB, Action.UPDATE, "émigré ✓",
               {"metadata": {"note": "naïve"}}, {"metadata": {"note": "日本"}},
               (FieldChange("metadata.note", "naïve", "日本"), FieldChange('metadata["a.b"]', None, "x")), name="j"),
    ))


def test_summary_line() -> None:
    plan = sample_plan()
    assert plan.summary() == "Plan: 1 to add, 3 to change, 1 to replace, 1 to destroy."
    assert plan.counts() == {"add": 1, "change": 3, "replace": 1, "destroy": 1, "unchanged": 1}
    assert Plan("s", TARGET, ()).summary() == "No changes. Live state matches the stack."
    only_no_ops = Plan("s", TARGET, (sample_plan().changes[5],))
    assert only_no_ops.is_empty and only_no_ops.summary() == "No changes. Live state matches the stack."


def test_plans_are_immutable() -> None:
    plan = sample_plan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.stack = "other"  # type: ignore[misc]
    change = plan.changes[1]
    with pytest.raises(TypeError):
        change.before["metadata"]["team"] = "c"
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.action = Action.DELETE  # type: ignore[misc]
    assert isinstance(plan.changes, tuple) and isinstance(change.fields, tuple)
    assert len(set(plan.changes)) == len(plan.changes) and hash(plan) == hash(sample_plan())


def test_json_round_trip() -> None:
    plan = sample_plan()
    text = plan.to_json()
    again = Plan.from_json(text)
    assert again == plan
    assert again.to_json() == text
    assert Plan.from_json(text.encode("utf-8")) == plan


def test_json_shape_is_the_documented_one() -> None:
    data = json.loads(sample_plan().to_json())
    assert list(data) == ["formatVersion", "stack", "target", "changes", "summary", "validationWarnings", "notes"]
    assert data["formatVersion"] == FORMAT_VERSION == 1
    assert data["target"] == {"kind": "azure", "subscription": "00000000-0000-0000-0000-000000000000",
                              "resourceGroup": "rg-media", "location": "westeurope"}
    replace = data["changes"][2]
    assert list(replace) == ["address", "kind", "name", "action", "reason", "before", "after", "fields",
                             "replacePaths", "warnings", "etag", "managed"]
    assert replace["kind"] == "pool" and replace["action"] == "replace" and replace["etag"] == 'W/"0x1"'
    assert replace["fields"][0] == {"path": "vmSize", "before": "STANDARD_NC6", "after": "Standard_NC12",
                                    "forcesReplacement": True, "requiresEmptyPool": True, "sensitive": False}
    assert replace["fields"][1]["sensitive"] is True and replace["fields"][1]["after"] == "(sensitive)"
    assert replace["replacePaths"] == ["vmSize", "userAccounts.alice.password"]
    assert data["changes"][0]["before"] is None and data["changes"][4]["after"] is None
    assert data["summary"] == {"add": 1, "change": 3, "replace": 1, "destroy": 1, "unchanged": 1}


def test_a_plan_target_from_the_stack_target() -> None:
    target = Target("azure", "sub", "rg", "westeurope", endpoint="https://x", ca_file="ca.pem")
    assert PlanTarget.from_target(target) == PlanTarget("azure", "sub", "rg", "westeurope")


def test_extra_keys_are_accepted() -> None:
    data = json.loads(sample_plan().to_json())
    data["generator"] = "deploy 1.0"
    data["changes"][0]["future"] = {"x": 1}
    assert Plan.from_dict(data) == sample_plan()


def _mutate(path: tuple[Any, ...], value: Any) -> str:
    data = json.loads(sample_plan().to_json())
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    if value is _DELETE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return json.dumps(data)


_DELETE = object()

MALFORMED = {
    "not JSON": ("{not json", "not a plan file: invalid JSON"),
    "empty file": ("", "not a plan file: invalid JSON"),
    "not UTF-8": (b"\xff\xfe{", "not a plan file: invalid JSON"),
    "a list": ("[]", "expected an object, found a list"),
    "no version": (_mutate(("formatVersion",), _DELETE), "formatVersion is missing"),
    "version 2": (_mutate(("formatVersion",), 2), "plan format version 2 is not supported"),
    "version as text": (_mutate(("formatVersion",), "1"), "plan format version '1' is not supported"),
    "version true": (_mutate(("formatVersion",), True), "plan format version True is not supported"),
    "no stack": (_mutate(("stack",), _DELETE), "stack is missing"),
    "stack not text": (_mutate(("stack",), 3), "expected a string, found a number (at stack)"),
    "no target": (_mutate(("target",), _DELETE), "target is missing"),
    "target kind": (_mutate(("target", "kind"), None), "expected a string, found null (at target.kind)"),
    "no changes": (_mutate(("changes",), _DELETE), "changes is missing"),
    "changes not a list": (_mutate(("changes",), {}), "expected a list, found an object (at changes)"),
    "change not an object": (_mutate(("changes", 1), "x"), "expected an object, found a string (at changes[1])"),
    "bad action": (_mutate(("changes", 1, "action"), "explode"), "'explode' is not one of create, update, drain"),
    "bad kind": (_mutate(("changes", 1, "kind"), "vm"), "'vm' is not one of network"),
    "no address": (_mutate(("changes", 0, "address"), _DELETE), "address is missing (at changes[0])"),
    "bad address": (_mutate(("changes", 0, "address"), "a..b"), "'a..b' is not a resource address"),
    "field path": (_mutate(("changes", 1, "fields", 0, "path"), _DELETE), "path is missing (at changes[1].fields[0])"),
    "forcesReplacement": (_mutate(("changes", 2, "fields", 0, "forcesReplacement"), "yes"),
                          "expected true or false, found a string (at changes[2].fields[0].forcesReplacement)"),
    "warnings": (_mutate(("changes", 2, "warnings"), "lost"), "expected a list, found a string"),
    "warning": (_mutate(("changes", 2, "warnings", 0), 7), "(at changes[2].warnings[0])"),
    "etag": (_mutate(("changes", 1, "etag"), 12), "expected a string, found a number (at changes[1].etag)"),
    "replacePaths": (_mutate(("changes", 2, "replacePaths"), None), "expected a list, found null"),
}


@pytest.mark.parametrize(("text", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_saved_plan_is_refused_clearly(text: str | bytes, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        Plan.from_json(text, source="plan.json")
    assert str(caught.value).startswith("plan.json: ")
    assert message in str(caught.value)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["formatVersion", "stack", "target", "changes", "kind", "action", "address", "fields",
                         "path", "x"]), children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_is_a_plan_or_a_plan_error(data: Any) -> None:
    try:
        Plan.from_json(json.dumps(data))
    except PlanError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=6), st.sampled_from(["address", "kind", "action", "reason", "fields",
                                                               "warnings", "etag", "name", "replacePaths"]),
       _json)
def test_corrupting_any_change_key_is_a_plan_error_or_still_a_plan(index: int, key: str, value: Any) -> None:
    try:
        Plan.from_json(_mutate(("changes", index, key), value))
    except PlanError:
        pass


def test_deeply_nested_json_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="nested too deeply"):
        Plan.from_json("[" * 100_000 + "]" * 100_000)
    data = json.loads(sample_plan().to_json())
    data["changes"][0]["after"] = "DEEP"
    text = json.dumps(data).replace('"DEEP"', "[" * 5_000 + "]" * 5_000)
    with pytest.raises(PlanError, match="nested too deeply"):
        Plan.from_json(text)
