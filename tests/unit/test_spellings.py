"""Batch's other spellings: enum values in another case, the Batch service API's property names,
ARM's identity map — accepted, rewritten to the stack's spelling in the desired model; and a
mistake repeated by a template loop reported once, with the count."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.stack.model import Kind, load_stack
from tests.unit.stacks import mutate, validate_text

T1 = "          - id: t1\n            commandLine: echo one\n"
VMC = "          virtualMachineConfiguration:\n"
IDENTITY = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader"
OUTPUT = ("            outputFiles:\n              - filePattern: '*.log'\n"
          "                destination: {container: {storage: data, container: output, sas: {expiry: P7D}}}\n"
          "                uploadOptions: {uploadCondition: %s}\n")


def _pool(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    stack = load_stack(path, "stack.yaml")
    return next(r.spec for r in stack.of_kind(Kind.POOL))


def _job(tmp_path: Path, text: str) -> dict:
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    stack = load_stack(path, "stack.yaml")
    return next(r.spec for r in stack.of_kind(Kind.JOB))


@pytest.mark.parametrize(("written", "canonical"), [
    ("TaskSuccess", "taskSuccess"),  # the az CLI samples' spelling
    ("TASKCOMPLETION", "taskCompletion"),
    ("taskFailure", "taskFailure"),
])
def test_enum_values_in_another_case_are_accepted_and_normalised(tmp_path, written, canonical):
    text = mutate(T1, T1 + OUTPUT % written)
    assert validate_text(tmp_path, text) == []
    job = _job(tmp_path, text)
    assert job["tasks"][0]["outputFiles"][0]["uploadOptions"]["uploadCondition"] == canonical


def test_enum_case_is_fixed_at_every_depth_and_a_real_typo_still_fails(tmp_path):
    text = mutate("  kind: local\n", "  kind: Local\n")
    agent = "nodeAgentSkuId: batch.node.ubuntu 22.04\n"
    text = mutate(agent, agent + "            containerConfiguration: {type: dockerCompatible}\n", text)
    assert validate_text(tmp_path, text) == []
    pool = _pool(tmp_path, text)
    assert pool["deploymentConfiguration"]["virtualMachineConfiguration"]["containerConfiguration"] == {
        "type": "DockerCompatible"}
    typo = text.replace("{type: dockerCompatible}", "{type: dockerCompatibel}")
    [found] = validate_text(tmp_path, typo)
    assert "did you mean 'DockerCompatible'?" in found.message


def test_batch_service_api_names_are_accepted_with_a_warning_and_normalised(tmp_path):
    text = mutate("nodeAgentSkuId: batch.node.ubuntu 22.04", "nodeAgentSKUId: batch.node.ubuntu 22.04")
    slots = "        taskSlotsPerNode: 2\n"
    text = mutate(slots, slots + "        enableInterNodeCommunication: true\n", text)
    found = validate_text(tmp_path, text)
    lines = text.splitlines()
    assert [(d.severity, lines[d.line - 1].strip().split(":")[0]) for d in found] == [
        ("warning", "nodeAgentSKUId"), ("warning", "enableInterNodeCommunication")]
    assert "the stack spells it 'nodeAgentSkuId'" in found[0].message
    pool = _pool(tmp_path, text)
    assert pool["deploymentConfiguration"]["virtualMachineConfiguration"]["nodeAgentSkuId"] == "batch.node.ubuntu 22.04"
    assert "nodeAgentSKUId" not in pool["deploymentConfiguration"]["virtualMachineConfiguration"]
    assert pool["interNodeCommunication"] == "Enabled" and "enableInterNodeCommunication" not in pool


def test_an_alias_next_to_the_stack_name_is_an_error(tmp_path):
    text = mutate("nodeAgentSkuId: batch.node.ubuntu 22.04\n",
                  "nodeAgentSkuId: batch.node.ubuntu 22.04\n            nodeAgentSKUId: batch.node.ubuntu 22.04\n")
    errors = [d for d in validate_text(tmp_path, text) if d.severity == "error"]
    assert [d.message for d in errors][:1] == [
        "'nodeAgentSKUId' (the Batch service API's name) and 'nodeAgentSkuId' both given; keep only 'nodeAgentSkuId'"]


def test_an_arm_identity_map_is_accepted_as_the_list(tmp_path):
    arm = ("        identity:\n          type: UserAssigned\n          userAssignedIdentities:\n"
           f"            {IDENTITY}: {{}}\n")
    text = mutate("        taskSlotsPerNode: 2\n", "        taskSlotsPerNode: 2\n" + arm)
    text = mutate(T1, T1 + "            resourceFiles:\n              - httpUrl: https://example.com/a.sh\n"
                  "                filePath: a.sh\n"
                  f"                identityReference: {{resourceId: {IDENTITY}}}\n", text)
    assert validate_text(tmp_path, text) == []
    assert _pool(tmp_path, text)["identity"]["userAssignedIdentities"] == [IDENTITY]


def test_the_same_error_from_a_template_loop_is_reported_once_with_the_count(tmp_path):
    loop = "{% for i in range(100) %}\n      q{{ i }}:\n        vmsize: Standard_D2s_v3\n{% endfor %}\n"
    text = mutate("    pools:\n", "    pools:\n" + loop)
    found = validate_text(tmp_path, text, "stack.yaml.j2")
    unknown = [d for d in found if "unknown key 'vmsize'" in d.message]
    assert len(unknown) == 1, [d.format() for d in found]
    assert unknown[0].line == text.splitlines().index("        vmsize: Standard_D2s_v3") + 1
    assert "(and 99 more times from this template line" in unknown[0].message
    assert len(found) <= 3  # vmsize, and the required keys the loop's pools lack: each once
