"""kill -9 of the background agent mid-task: the task is requeued, runs again, nothing is left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from deployer.emulator.agent import control
from deployer.emulator.batch_data import models
from deployer.emulator.core import Store

from .conftest import POOL, AgentBatch
from .test_lifecycle import _alive, sh


def test_kill_9_mid_task_requeues_and_recovers(process_agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = process_agent_batch
    data_dir = Path(b.emulator.data_dir)
    mark = tmp_path / "mark"
    b.pool(nodes=1, slots=1)
    b.data.create_job({"id": "j", "poolInfo": {"poolId": POOL}})
    b.data.create_task("j", {"id": "t", "commandLine": sh(
        f"if [ -f {mark} ]; then echo second; else touch {mark}; sleep 60; fi")})
    b.wait_task("j", "t", "running")
    b.wait(mark.exists, "the first run to start")
    store = Store(data_dir)
    task = next(d for d in store.by_state(models.KIND_TASK, ("running",)) if d.body["id"] == "t")
    first_group = task.body["meta"]["pids"][0][0]
    pid = control.agent_pid(data_dir)
    assert pid is not None and pid != os.getpid()  # a background process, not this one
    os.kill(pid, signal.SIGKILL)
    b.wait(lambda: not control.agent_running(data_dir), "the agent to die")

    # Any read of the tasks brings an agent back (as any deploy command would); it kills what
    # the dead agent left running and requeues the task.
    done = b.wait_task("j", "t")
    assert done.execution_info.exit_code == 0
    assert done.execution_info.requeue_count == 1
    assert b.file("j", "t", "stdout.txt") == "second\n"
    b.wait(lambda: not _alive(first_group), "the orphaned first run to be killed", timeout=5)


def test_sigterm_stops_the_agent_and_its_tasks(process_agent_batch: AgentBatch, tmp_path: Path) -> None:
    b = process_agent_batch
    data_dir = Path(b.emulator.data_dir)
    mark = tmp_path / "mark"
    b.pool(nodes=1, slots=1)
    b.data.create_job({"id": "j", "poolInfo": {"poolId": POOL}})
    b.data.create_task("j", {"id": "t", "commandLine": sh(
        f"if [ -f {mark} ]; then echo again; else touch {mark}; sleep 60; fi")})
    b.wait_task("j", "t", "running")
    b.wait(mark.exists, "the first run to start")
    task = next(d for d in Store(data_dir).by_state(models.KIND_TASK, ("running",)) if d.body["id"] == "t")
    group = task.body["meta"]["pids"][0][0]
    pid = control.agent_pid(data_dir)
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    b.wait(lambda: not _alive(group), "the agent to kill its task's processes as it stops", timeout=10)
    assert b.wait_task("j", "t").execution_info.exit_code == 0  # requeued by the next agent, run again


def test_queued_work_no_node_can_run_does_not_keep_the_agent(process_agent_batch: AgentBatch,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A task waiting on a pool with no nodes: the background agent leaves once nothing could start
    for DEPLOY_AGENT_STUCK_SECONDS (it does not wait forever on a laptop); reads start one again."""
    monkeypatch.setenv("DEPLOY_AGENT_STUCK_SECONDS", "1")
    b = process_agent_batch
    data_dir = Path(b.emulator.data_dir)
    b.pool(nodes=0, slots=1)
    b.data.create_job({"id": "j", "poolInfo": {"poolId": POOL}})
    b.data.create_task("j", {"id": "t", "commandLine": sh("true")})
    b.wait(lambda: control.agent_running(data_dir), "the agent to start for the queued task", timeout=10)
    b.wait(lambda: not control.agent_running(data_dir), "the agent to leave: nothing can run", timeout=20)
    assert b.data.get_task("j", "t").state == "active"  # still queued, as on Azure


def test_an_agent_whose_data_directory_is_deleted_stops(process_agent_batch: AgentBatch) -> None:
    b = process_agent_batch
    data_dir = Path(b.emulator.data_dir)
    b.pool(nodes=0, slots=1)
    b.data.create_job({"id": "j", "poolInfo": {"poolId": POOL}})
    b.data.create_task("j", {"id": "t", "commandLine": sh("true")})
    b.wait(lambda: control.agent_running(data_dir), "the agent to start for the queued task", timeout=10)
    pid = control.agent_pid(data_dir)
    assert pid is not None
    import shutil

    shutil.rmtree(data_dir)
    b.wait(lambda: not _alive_pid(pid), "the agent to stop once its data directory is gone", timeout=20)


def _alive_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours (the agent was started from this process) has ended too
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False
