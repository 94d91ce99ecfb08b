"""`deploy plan` against live state written by the plain Azure SDK clients, as another tool would.

The resources are created the way the portal or a script would create them — same meaning as
the stack, different form: vmSize in another case, durations in ISO form where the stack says
hh:mm:ss, a formula with CRLF line endings and extra blank space, metadata in another order —
carrying the stack's ownership markers.
The plan must be empty; a real change made the same way must show up as an update whose "before"
is the live value.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from deployer.cli import main
from deployer.plan.model import Action
from deployer.plan.run import plan_stack_file
from deployer.resources import job as job_kind
from deployer.resources.ownership import STACK_KEY, fingerprint_key
from tests.unit.stacks import UBUNTU_VM

STACK = """\
stack: drift
target: {kind: local, resourceGroup: rg-drift, location: westeurope}
storageAccounts:
  data:
    name: stdrift01
    sku: Standard_LRS
    kind: StorageV2
    containers: [input]
batchAccounts:
  main:
    name: badrift01
    autoStorage: data
    pools:
      render:
""" + UBUNTU_VM + """\
        scaleSettings:
          autoScale:
            evaluationInterval: 00:05:00
            formula: |
              $TargetDedicatedNodes = min(4, 2);
              $NodeDeallocationOption = taskcompletion;
        startTask:
          commandLine: /bin/bash -c "echo ready"
          waitForSuccess: true
        metadata: {team: media, tier: gold}
    jobs:
      frames:
        pool: render
        priority: 10
        constraints: {maxWallClockTime: 02:00:00}
        tasks:
          - {id: f1, commandLine: echo 1}
"""

FORMULA_CRLF = "  $TargetDedicatedNodes   =  min(4,2) ;\r\n\r\n$NodeDeallocationOption = taskcompletion;\r\n"


@pytest.fixture
def stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    path = tmp_path / "drift.yaml"
    path.write_text(STACK, encoding="utf-8")
    return path


def write_like_another_tool(stack_file: Path) -> object:
    """Create the stack's resources through the SDK clients, in other forms, with the markers."""
    from azure.batch import models as batch_models

    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(stack_file.parent / "state")
    rg = "rg-drift"
    tags = {STACK_KEY: "drift"}
    clients.resource.resource_groups.create_or_update(rg, {"location": "West Europe"})
    account = clients.storage.storage_accounts.begin_create(
        rg, "stdrift01", {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
                          "tags": tags}).result()
    clients.storage.blob_containers.create(rg, "stdrift01", "input", {})
    batch = clients.batch_mgmt.batch_account.begin_create(
        rg, "badrift01", {"location": "westeurope", "tags": tags,
                          "properties": {"autoStorage": {"storageAccountId": account.id}}}).result()
    clients.batch_mgmt.pool.create(rg, "badrift01", "render", {"properties": {
        "vmSize": "STANDARD_D2S_V3",
        "deploymentConfiguration": {"virtualMachineConfiguration": {
            "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
                               "version": "latest"},
            "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
        "scaleSettings": {"autoScale": {"formula": FORMULA_CRLF, "evaluationInterval": "PT5M"}},
        "startTask": {"commandLine": '/bin/bash -c "echo ready"', "waitForSuccess": True},
        "metadata": [{"name": "tier", "value": "gold"}, {"name": STACK_KEY, "value": "drift"},
                     {"name": "team", "value": "media"}],
    }})
    data = clients.batch_data(batch.account_endpoint)
    spec = {"tasks": [{"id": "f1", "commandLine": "echo 1"}]}
    data.create_job(batch_models.BatchJobCreateOptions(
        id="frames", priority=10, pool_info=batch_models.BatchPoolInfo(pool_id="render"),
        constraints=batch_models.BatchJobConstraints(max_wall_clock_time=timedelta(hours=2)),
        metadata=[batch_models.BatchMetadataItem(name=STACK_KEY, value="drift"),
                  batch_models.BatchMetadataItem(name=fingerprint_key("tasks"),
                                                 value=job_kind.tasks_fingerprint(spec))]))
    data.create_tasks("frames", [batch_models.BatchTaskCreateOptions(id="f1", command_line="echo 1")])
    return clients


def test_differences_of_form_plan_as_no_op(stack_file: Path) -> None:
    write_like_another_tool(stack_file)
    run = plan_stack_file(stack_file)
    noisy = [(str(c.address), c.action.value, [f.path for f in c.fields]) for c in run.plan.actionable]
    assert noisy == []
    assert {str(c.address) for c in run.plan.changes} == {
        "storageAccounts.data", "storageAccounts.data.containers.input", "batchAccounts.main",
        "batchAccounts.main.pools.render", "batchAccounts.main.jobs.frames"}


def test_a_real_change_plans_an_update_with_the_live_value_before(stack_file: Path, capsys) -> None:
    clients = write_like_another_tool(stack_file)
    clients.batch_mgmt.pool.update("rg-drift", "badrift01", "render",
                                   {"properties": {"startTask": {"commandLine": "/bin/bash -c 'echo changed'",
                                                                 "waitForSuccess": True}}})
    run = plan_stack_file(stack_file)
    (change,) = run.plan.actionable
    assert (str(change.address), change.action) == ("batchAccounts.main.pools.render", Action.UPDATE)
    (field,) = change.fields
    assert (field.path, field.before, field.after) == (
        "startTask.commandLine", "/bin/bash -c 'echo changed'", '/bin/bash -c "echo ready"')

    # The same through the command line: --detailed-exitcode says "changes" with 2, JSON says what.
    assert main(["plan", str(stack_file), "--format", "json", "--detailed-exitcode"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["summary"]["change"] == 1
    (pool,) = [c for c in document["changes"] if c["action"] == "update"]
    assert pool["address"] == "batchAccounts.main.pools.render"
    assert pool["fields"][0]["before"] == "/bin/bash -c 'echo changed'"

    # --out saves the plan with the stack's hash and the ETags it was made from.
    saved = stack_file.parent / "plan.json"
    assert main(["plan", str(stack_file), "--out", str(saved)]) == 0
    capsys.readouterr()
    document = json.loads(saved.read_text())
    assert document["stackSha256"] and document["formatVersion"] == 1
    (pool,) = [c for c in document["changes"] if c["action"] == "update"]
    assert pool["etag"]


def test_a_resource_the_stack_does_not_own_is_left_alone(stack_file: Path) -> None:
    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(stack_file.parent / "state")
    clients.resource.resource_groups.create_or_update("rg-drift", {"location": "westeurope"})
    clients.storage.storage_accounts.begin_create(
        "rg-drift", "stdrift01", {"location": "westeurope", "sku": {"name": "Standard_LRS"},
                                  "kind": "StorageV2"}).result()  # no deployer.stack tag
    run = plan_stack_file(stack_file)
    by_address = {str(c.address): c for c in run.plan.changes}
    untouched = by_address["storageAccounts.data"]
    assert untouched.action is Action.NO_OP
    assert "not managed" in untouched.reason


def test_replacing_a_busy_pool_says_what_it_destroys(stack_file: Path, frozen_clock) -> None:
    clients = write_like_another_tool(stack_file)
    frozen_clock.advance(4)  # the pool has its 2 nodes (2 s resize) and the 5 s task is running
    endpoint = clients.batch_mgmt.batch_account.get("rg-drift", "badrift01").account_endpoint
    assert clients.batch_data(endpoint).get_job_task_counts("frames").task_counts.running == 1
    stack_file.write_text(STACK.replace("vmSize: Standard_D2s_v3", "vmSize: Standard_D4s_v3"), encoding="utf-8")
    run = plan_stack_file(stack_file)
    (change,) = run.plan.actionable
    assert change.action is Action.REPLACE and change.replace_paths == ("vmSize",)
    assert "2 nodes and 1 running task affected" in change.warnings
