"""The local target with execution on: a stack job with an inline auto pool is applied, Batch (the
emulator) creates the pool, the background agent runs the task on its node, the job completes and
its pool is deleted (keepAlive false); destroy then leaves nothing, and the agent leaves by itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main

from .conftest import wait_agent_gone

STACK = """\
stack: autolocal
target: {kind: local, resourceGroup: rg-autolocal, location: westeurope}
batchAccounts:
  main:
    name: baautolocal01
    jobs:
      once:
        onAllTasksComplete: terminateJob
        autoPool:
          autoPoolIdPrefix: once
          pool:
            vmSize: Standard_D2s_v3
            deploymentConfiguration:
              virtualMachineConfiguration:
                imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
                nodeAgentSkuId: batch.node.ubuntu 22.04
            scaleSettings: {fixedScale: {targetDedicatedNodes: 1}}
        tasks:
          - id: hello
            commandLine: /bin/bash -c "echo hello from $AZ_BATCH_POOL_ID"
"""


def test_a_task_on_an_auto_pool_runs_and_the_pool_goes_with_the_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data_dir))
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "1")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK)
    try:
        assert main(["apply", str(stack), "--auto-approve"]) == 0
        clients = Clients.for_emulator_embedded(data_dir)
        try:
            account = clients.batch_mgmt.batch_account.get("rg-autolocal", "baautolocal01")
            data = clients.batch_data(account.account_endpoint)
            pool_id = data.get_job("once").execution_info.pool_id
            assert pool_id.startswith("once_")
            deadline = time.monotonic() + 60
            while data.get_job("once").state != "completed" and time.monotonic() < deadline:
                time.sleep(0.1)
            task = data.get_task("once", "hello")
            assert (task.state, task.execution_info.exit_code, task.node_info.pool_id) == ("completed", 0, pool_id)
            out = b"".join(data.download_task_file("once", "hello", "stdout.txt")).decode()
            assert out == f"hello from {pool_id}\n"
            assert data.get_job("once").execution_info.termination_reason == "AllTasksComplete"
            assert [p.id for p in data.list_pools()] == []  # keepAlive false: deleted with the job's end
        finally:
            clients.close()
        capsys.readouterr()
        assert main(["destroy", str(stack), "--auto-approve"]) == 0, capsys.readouterr().err
    finally:
        assert wait_agent_gone(data_dir), "the agent did not stop by itself once no job was active"
