"""The local target end to end: `deploy apply` returns, the background agent runs the tasks."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main
from deployer.emulator.agent import control
from tests.integration.copies import copy_stacks

from .conftest import wait_agent_gone


def test_quickstart_apply_then_tasks_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    stacks = copy_stacks(tmp_path)
    data_dir = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data_dir))
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "1")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    try:
        assert main(["apply", str(stacks / "quickstart.yaml"), "--auto-approve"]) == 0
        capsys.readouterr()
        clients = Clients.for_emulator_embedded(data_dir)
        try:
            account = clients.batch_mgmt.batch_account.get("rg-quickstart", "baquickstart01")
            data = clients.batch_data(account.account_endpoint)
            deadline = time.monotonic() + 60
            while data.get_job("hello").state != "completed" and time.monotonic() < deadline:
                time.sleep(0.1)
            hello = data.get_task("hello", "hello")
            assert (hello.state, hello.execution_info.exit_code) == ("completed", 0)
            out = b"".join(data.download_task_file("hello", "hello", "stdout.txt")).decode()
            assert out == f"hello from {socket.gethostname()}\n"
            env_task = data.get_task("hello", "environment")
            assert env_task.execution_info.exit_code == 0
            lines = b"".join(data.download_task_file("hello", "environment", "stdout.txt")).decode().splitlines()
            env = dict(line.split("=", 1) for line in lines)
            assert env["AZ_BATCH_ACCOUNT_NAME"] == "baquickstart01"
            assert env["AZ_BATCH_POOL_ID"] == "small"
            assert env["AZ_BATCH_ACCOUNT_URL"] == f"https://{account.account_endpoint}"
            assert (env["AZ_BATCH_JOB_ID"], env["AZ_BATCH_TASK_ID"]) == ("hello", "environment")
            assert env["AZ_BATCH_NODE_ID"] == env_task.node_info.node_id
            assert env["AZ_BATCH_TASK_WORKING_DIR"].endswith("/workitems/hello/job-1/environment/wd")
            assert Path(env["AZ_BATCH_NODE_ROOT_DIR"]).is_relative_to(data_dir)
            assert data.get_job("hello").execution_info.termination_reason == "AllTasksComplete"
        finally:
            clients.close()
    finally:
        assert wait_agent_gone(data_dir), "the agent did not stop by itself once no job was active"


def test_execute_false_keeps_the_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    stacks = copy_stacks(tmp_path)
    path = stacks / "quickstart.yaml"
    path.write_text(path.read_text().replace("  kind: local\n", "  kind: local\n  execute: false\n"))
    data_dir = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data_dir))
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "1")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.1")
    assert main(["apply", str(path), "--auto-approve"]) == 0
    capsys.readouterr()
    assert not control.agent_running(data_dir)
    assert not (data_dir / "nodes").exists()  # nothing ran
