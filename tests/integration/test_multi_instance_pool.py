"""`numberOfInstances: pool`: resolved when the job's tasks are added, from the pool's target,
through the real SDK clients against the local emulator; the plan after apply is empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main

STACK = """\
stack: mpi
target: {kind: local, resourceGroup: rg-mpi, location: westeurope}
batchAccounts:
  main:
    name: bampi01
    pools:
      hpc:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts, version: latest}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        interNodeCommunication: Enabled
        scaleSettings: {fixedScale: {targetDedicatedNodes: 3, targetLowPriorityNodes: 1}}
    jobs:
      solve:
        pool: hpc
        tasks:
          - id: wide
            commandLine: /bin/bash -c "echo primary"
            multiInstanceSettings:
              numberOfInstances: pool
              coordinationCommandLine: /bin/bash -c "echo ready"
          - id: narrow
            commandLine: /bin/bash -c "echo primary"
            multiInstanceSettings: {numberOfInstances: 2, coordinationCommandLine: /bin/bash -c true}
"""


def test_number_of_instances_follows_the_pool_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK)
    assert main(["validate", str(stack)]) == 0
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out
    clients = Clients.for_emulator_embedded(tmp_path / "state")
    try:
        data = clients.batch_data(clients.batch_mgmt.batch_account.get("rg-mpi", "bampi01").account_endpoint)
        widths = {t.id: t.multi_instance_settings.number_of_instances for t in data.list_tasks("solve")}
    finally:
        clients.close()
    assert widths == {"wide": 4, "narrow": 2}


def test_a_word_other_than_pool_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("numberOfInstances: pool", "numberOfInstances: all"))
    assert main(["validate", str(stack)]) == 1
    assert "numberOfInstances is a number of nodes (at least 1) or `pool`" in capsys.readouterr().err
