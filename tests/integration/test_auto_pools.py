"""Auto pools on the deployer side: a job's `autoPool` (a stack pool as template, or inline) is
sent as `poolInfo.autoPoolSpecification` in the Batch service API's names through azure-batch
against the local emulator; a second plan is empty; a changed auto pool replaces the job.
(Batch — here the emulator — creates the pool with the job and deletes it with the job: see the last test.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main

STACK = """\
stack: autopools
target: {kind: local, resourceGroup: rg-autopools, location: westeurope}
batchAccounts:
  main:
    name: baautopools01
    pools:
      template:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts, version: latest}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings: {fixedScale: {targetDedicatedNodes: 0}}
        taskSlotsPerNode: 2
        metadata: {team: genomics}
    jobs:
      nightly:
        autoPool: {template: template, keepAlive: KEEP, autoPoolIdPrefix: nightly}
      inline:
        autoPool:
          poolLifetimeOption: job
          pool:
            vmSize: Standard_D4s_v3
            deploymentConfiguration:
              virtualMachineConfiguration:
                imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
                nodeAgentSkuId: batch.node.ubuntu 22.04
            scaleSettings: {autoScale: {formula: "$TargetDedicatedNodes = 2;", evaluationInterval: PT5M}}
"""


def test_auto_pool_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("KEEP", "false"))
    assert main(["validate", str(stack)]) == 0
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    clients = Clients.for_emulator_embedded(tmp_path / "state")
    try:
        account = clients.batch_mgmt.batch_account.get("rg-autopools", "baautopools01")
        data = clients.batch_data(account.account_endpoint)
        nightly = data.get_job("nightly").pool_info.auto_pool_specification
        inline = data.get_job("inline").pool_info.auto_pool_specification
    finally:
        clients.close()
    assert (nightly.auto_pool_id_prefix, nightly.keep_alive, nightly.pool_lifetime_option) == (
        "nightly", False, "job")
    assert nightly.pool.vm_size == "Standard_D2s_v3" and nightly.pool.task_slots_per_node == 2
    assert nightly.pool.virtual_machine_configuration.node_agent_sku_id == "batch.node.ubuntu 22.04"
    assert [(m.name, m.value) for m in nightly.pool.metadata] == [("team", "genomics")]
    assert inline.pool.enable_auto_scale is True and inline.pool.auto_scale_formula == "$TargetDedicatedNodes = 2;"
    capsys.readouterr()
    stack.write_text(STACK.replace("KEEP", "true"))
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert "batchAccounts.main.jobs.nightly must be replaced" in out and "1 to replace" in out


def test_auto_pool_and_pool_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("KEEP", "false").replace(
        "        autoPool: {template", "        pool: template\n        autoPool: {template"))
    assert main(["validate", str(stack)]) == 1
    assert "a job runs on a `pool` or an `autoPool`, not both" in capsys.readouterr().err


def test_number_of_instances_pool_on_an_auto_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An auto pool does not exist when its job's tasks are added: `pool` is its declared size."""
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("KEEP", "false").replace(
        'scaleSettings: {autoScale: {formula: "$TargetDedicatedNodes = 2;", evaluationInterval: PT5M}}',
        "scaleSettings: {fixedScale: {targetDedicatedNodes: 3}}\n            interNodeCommunication: Enabled\n"
        "        tasks:\n          - id: wide\n            commandLine: /bin/bash -c true\n"
        "            multiInstanceSettings: {numberOfInstances: pool, coordinationCommandLine: /bin/bash -c true}"))
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    clients = Clients.for_emulator_embedded(tmp_path / "state")
    try:
        account = clients.batch_mgmt.batch_account.get("rg-autopools", "baautopools01")
        task = clients.batch_data(account.account_endpoint).get_task("inline", "wide")
    finally:
        clients.close()
    assert task.multi_instance_settings.number_of_instances == 3


def _pools(state: Path) -> list[str]:
    clients = Clients.for_emulator_embedded(state)
    try:
        return sorted(p.name for p in clients.batch_mgmt.pool.list_by_batch_account("rg-autopools", "baautopools01"))
    finally:
        clients.close()


def test_the_emulator_creates_and_deletes_the_auto_pools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Apply: Batch creates each job's pool (not the stack's: a plan stays empty and leaves it);
    a job removed from the stack takes its pool (keepAlive false); destroy takes the rest."""
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("KEEP", "false"))
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    pools = _pools(tmp_path / "state")
    assert len(pools) == 3 and "template" in pools
    auto = [p for p in pools if p != "template"]
    assert sum(p.startswith("nightly_") for p in auto) == 1
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0

    stack.write_text(STACK.replace("KEEP", "false").split("      inline:")[0])  # the job `inline` goes
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert [p for p in _pools(tmp_path / "state") if p != "template"] == [p for p in auto if p.startswith("nightly_")]
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0

    capsys.readouterr()
    assert main(["destroy", str(stack), "--target", "local", "--auto-approve"]) == 0, capsys.readouterr().err
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert "batchAccounts.main will be created" in out and "pools.template will be created" in out
