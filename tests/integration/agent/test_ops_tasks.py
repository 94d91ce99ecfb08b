"""`deploy wait`, `status` and `logs` over tasks that really run (the node agent), through the command
line and the real SDK clients, on the local target (embedded emulator, background agent process)
and on a served emulator (the agent in its process, as `deploy emulator serve` runs it).

After each test no process is left whose command line or working directory is under the test's
directory (the agent process, the tasks' shells)."""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.cli import main
from deployer.emulator.agent import control
from deployer.ops import EXIT_FAILED, EXIT_OK
from tests.integration.conftest import Emulator
from tests.integration.copies import copy_stacks
from tests.integration.test_ops import FAILING

from .conftest import wait_agent_gone

FOLLOW = """\
stack: follow
target:
  kind: local
  resourceGroup: rg-follow
  location: westeurope
storageAccounts:
  data: {{name: stfollow01, sku: Standard_LRS, kind: StorageV2}}
batchAccounts:
  main:
    name: bafollow01
    pools:
      small:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {{publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          fixedScale: {{targetDedicatedNodes: 1}}
    jobs:
      tail:
        pool: small
        onAllTasksComplete: terminatejob
        tasks:
          - id: slow
            commandLine: /bin/bash -c "echo one; while [ ! -e {barrier} ]; do sleep 0.1; done; echo two"
"""


def _leftovers(root: Path) -> list[str]:
    """Processes (other than this one) whose command line or working directory is under `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:  # gone, or not ours
            continue
        if str(root) in cmdline or cwd.startswith(str(root)):
            found.append(f"{entry.name}: {cmdline.strip()} (in {cwd})")
    return found


def _no_leftovers(root: Path, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := _leftovers(root)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture(params=("local", "served"))
def where(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          start_emulator: Any) -> Iterator[dict[str, Any]]:
    """Stack files whose tasks run: on the local target, or on a served emulator with its agent."""
    stacks = copy_stacks(tmp_path)
    (stacks / "failing.yaml").write_text(FAILING, encoding="utf-8")
    (stacks / "follow.yaml").write_text(FOLLOW.format(barrier=tmp_path / "BARRIER"), encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    agent: control.AgentThread | None = None
    if request.param == "local":
        monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "1")
        data_dir = tmp_path / "state"
    else:
        emulator: Emulator = start_emulator("served", tmp_path / "served")
        assert emulator.server is not None
        data_dir = emulator.data_dir
        agent = control.start_thread(data_dir)  # what `deploy emulator serve` does
        for path in stacks.glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            text = text.replace("  kind: local\n", f"  kind: emulator\n  endpoint: {emulator.server.endpoint}\n"
                                f"  caFile: {emulator.server.ca_file}\n", 1)
            path.write_text(text, encoding="utf-8")
    try:
        yield {"mode": request.param, "stacks": stacks, "data_dir": data_dir}
    finally:
        if agent is not None:
            agent.stop()
        else:
            assert wait_agent_gone(data_dir), "the background agent did not stop by itself"
        left = _no_leftovers(tmp_path)
        assert not left, f"processes left behind: {left}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quickstart_apply_wait_then_logs(where: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    stack = str(where["stacks"] / "quickstart.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve", "--wait")
    assert code == EXIT_OK, out + err
    assert "Wait complete" in out and "tasks 3/3 completed" in out and "0 failed" in out
    code, out, err = run(capsys, "wait", stack, "--timeout", "30s")
    assert code == EXIT_OK, out + err
    code, out, err = run(capsys, "logs", stack, "hello", "hello")
    assert code == 0, err
    assert out == f"hello from {socket.gethostname()}\n"
    code, out, err = run(capsys, "logs", stack, "hello", "hello", "--stderr")
    assert (code, out) == (0, ""), err
    code, out, err = run(capsys, "logs", stack, "hello", "environment", "--file", "stdout.txt")
    assert code == 0 and "AZ_BATCH_TASK_ID=environment" in out, err
    for follow in ([], ["--follow"]):
        code, out, err = run(capsys, "logs", stack, "hello", "hello", "--file", "nope.txt", *follow)
        assert code == 1 and "task hello of job hello has no file nope.txt" in err and "Traceback" not in err


def test_a_failing_task_fails_wait_and_status_shows_its_stderr(where: dict[str, Any],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    stack = str(where["stacks"] / "failing.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve")
    assert code == 0, out + err
    code, out, err = run(capsys, "wait", stack, "--timeout", "60s")
    assert code == EXIT_FAILED == 3, out + err
    assert "Wait failed" in out and "failed task broken of batchAccounts.main.jobs.crunch" in out
    assert "oops" in out

    code, out, err = run(capsys, "status", stack, "--format", "json")
    assert code == 0, err
    job = json.loads(out)["jobs"][0]
    assert job["address"] == "batchAccounts.main.jobs.crunch"
    assert job["taskCounts"] == {"active": 0, "running": 0, "completed": 2, "succeeded": 1, "failed": 1}
    (failed,) = job["failedTasks"]
    assert failed["id"] == "broken" and failed["exitCode"] == 3
    assert failed["failureInfo"]["code"] == "FailureExitCode"
    assert failed["failureInfo"]["category"] == "usererror"
    assert failed["stderrTail"] == ["oops"]

    code, out, err = run(capsys, "logs", stack, "crunch", "--failed", "--stderr")
    assert code == 0, err
    assert "==> task broken: exit code 3 (FailureExitCode: " in out
    assert out.splitlines()[-1] == "oops"
    code, out, err = run(capsys, "logs", stack, "crunch", "broken", "--stderr")
    assert (code, out) == (0, "oops\n"), err


def test_logs_follow_prints_lines_as_they_are_written(where: dict[str, Any], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Followed from before the task starts (its node takes a second to come: the file API answers
    409 TaskNotStarted until then), through its first line, to its end."""
    from deployer.cli import _stack_and_clients
    from deployer.ops.logs import run_logs
    from deployer.ops.reader import StackReader

    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "1")
    barrier = tmp_path / "BARRIER"
    path = where["stacks"] / "follow.yaml"
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err

    stream = _Stream()
    result: dict[str, Any] = {}
    stack, clients = _stack_and_clients(path, None)
    data = clients.batch_data(clients.batch_mgmt.batch_account.get("rg-follow", "bafollow01").account_endpoint)
    assert data.get_task("tail", "slow").state == "active"

    def follow() -> None:
        try:
            result["code"] = run_logs(StackReader(stack, clients), "tail", "slow", follow=True, interval=0.05,
                                      stream=stream)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            result["error"] = exc
        finally:
            stream.finish()

    thread = threading.Thread(target=follow, name="logs-follow", daemon=True)
    thread.start()
    try:
        assert stream.wait_for(b"one\n", timeout=60), f"no first line: {stream.getvalue()!r}, {result}"
        assert not barrier.exists()
        assert thread.is_alive(), result  # the task still runs: the follow goes on
        time.sleep(0.3)
        assert stream.getvalue() == b"one\n"
    finally:
        barrier.touch()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the follow did not end when the task completed"
    assert result == {"code": 0}
    assert stream.getvalue() == b"one\ntwo\n"
    code, out, err = run(capsys, "wait", str(path), "--timeout", "30s")
    assert code == EXIT_OK, out + err
    clients.close()


class _Stream(io.BytesIO):
    """A byte stream one thread writes and another watches."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()
        self._finished = False

    def finish(self) -> None:
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def write(self, data: Any) -> int:
        with self._changed:
            n = super().write(data)
            self._changed.notify_all()
            return n

    def wait_for(self, expected: bytes, timeout: float) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: self._finished or expected in self.getvalue(), timeout=timeout)
            return expected in self.getvalue()
