"""kill -9 of the background agent mid-task: the task is requeued, runs again, nothing is left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

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
