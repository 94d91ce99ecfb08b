"""deployer.contracts: the vendored API definitions, compiled and applied to bodies."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from deployer import contracts
from deployer.contracts import Finding, check, conform, document

DOCUMENTS = [contracts.BATCH_MANAGEMENT, contracts.BATCH_SERVICE, contracts.STORAGE_MANAGEMENT,
             contracts.NETWORK_MANAGEMENT, contracts.RESOURCES_MANAGEMENT]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_reference_resolves_and_every_document_says_where_it_comes_from(name: str) -> None:
    raw = json.loads((resources.files("deployer") / "data" / "contracts" / name).read_text(encoding="utf-8"))
    assert "MIT" in raw["x-provenance"] and "Azure/azure-rest-api-specs" in raw["x-provenance"]
    text = json.dumps(raw)
    for ref in {part.split('"', 1)[0] for part in text.split('"$ref": "')[1:]}:
        assert ref.rsplit("/", 1)[1] in raw["definitions"], ref
    doc = document(name)
    assert doc.operations and name.rsplit(".json", 1)[0].endswith(doc.version)


def pool_properties() -> contracts.Node:
    return document(contracts.BATCH_MANAGEMENT).definition("Pool")


def test_a_request_keeps_what_the_api_defines_in_its_spelling() -> None:
    found: list[Finding] = []
    body = {"id": "x", "tags": {"a": "b"}, "properties": {
        "vmSize": "S", "resourceTags": {"c": "d"}, "allocationState": "Steady",
        "interNodeCommunication": "enabled", "taskSchedulingPolicy": {"nodeFillType": "Diagonal"}}}
    kept = check(body, pool_properties(), request=True, findings=found)
    assert kept == {"tags": {"a": "b"}, "properties": {
        "vmSize": "S", "interNodeCommunication": "Enabled", "taskSchedulingPolicy": {"nodeFillType": "Diagonal"}}}
    assert [(f.kind, f.path) for f in found] == [
        ("readonly", "id"), ("unknown", "properties.resourceTags"), ("readonly", "properties.allocationState"),
        ("enum-case", "properties.interNodeCommunication"), ("enum", "properties.taskSchedulingPolicy.nodeFillType")]


def test_a_response_may_carry_read_only_values_and_odata_annotations_not_unknown_ones() -> None:
    batch = document(contracts.BATCH_SERVICE)
    found: list[Finding] = []
    check({"odata.metadata": "m", "id": "j", "state": "active", "executionInfo": {"startTime": "t"},
           "colour": "red"}, batch.definition("BatchJob"), request=False, findings=found)
    assert [(f.kind, f.path) for f in found] == [("unknown", "colour")]


def test_conform_writes_the_service_apis_spelling() -> None:
    task = {"id": "t", "commandLine": "c", "userIdentity": {"userName": "runner"},
            "exitConditions": {"default": {"jobAction": "Terminate", "dependencyAction": "Block"}},
            "outputFiles": [{"filePattern": "*", "destination": {"container": {"containerUrl": "u"}},
                             "uploadOptions": {"uploadCondition": "taskSuccess"}}]}
    sent = conform(task, document(contracts.BATCH_SERVICE).definition("BatchTaskCreateOptions"))
    assert sent["userIdentity"] == {"username": "runner"}
    assert sent["exitConditions"]["default"] == {"jobAction": "terminate", "dependencyAction": "block"}
    assert sent["outputFiles"][0]["uploadOptions"] == {"uploadCondition": "tasksuccess"}
    job = conform({"onAllTasksComplete": "terminateJob", "onTaskFailure": "performExitOptionsJobAction"},
                  document(contracts.BATCH_SERVICE).definition("BatchJobCreateOptions"))
    assert job == {"onAllTasksComplete": "terminatejob", "onTaskFailure": "performexitoptionsjobaction"}


def test_the_management_api_keeps_user_name_for_a_start_task() -> None:
    pool = {"properties": {"startTask": {"commandLine": "c", "userIdentity": {"userName": "admin"}}}}
    assert conform(pool, pool_properties()) == pool
