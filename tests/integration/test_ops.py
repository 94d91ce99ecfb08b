"""`deploy status`, `wait`, `logs`, `outputs` and `apply --wait-for-nodes` through the command line,
on the local target (embedded emulator) and on a served emulator, through the real SDK clients.

These run with the node agent off (DEPLOY_LOCAL_EXECUTE=0): every task completes with exit code 0
after DEPLOY_EMULATOR_TASK_SECONDS, and a failed task is made by terminating a running task through
the SDK (Batch records it as a failure, TaskEnded). The same commands over tasks that really run
(a real `exit 3`, its stderr, `logs --follow`) are in tests/integration/agent/test_ops_tasks.py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.cli import main
from deployer.ops import EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT
from deployer.resources.read import rest
from tests.integration.conftest import Emulator
from tests.integration.copies import copy_stacks
from tests.unit.stacks import UBUNTU_VM

MODES = ("local", "served")

FAILING = """\
stack: failing
target:
  kind: local
  resourceGroup: rg-failing
  location: westeurope
storageAccounts:
  data: {name: stfailing01, sku: Standard_LRS, kind: StorageV2}
batchAccounts:
  main:
    name: bafailing01
    pools:
      small:
""" + UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 1}
        taskSlotsPerNode: 2
    jobs:
      crunch:
        pool: small
        onAllTasksComplete: terminatejob
        tasks:
          - id: ok
            commandLine: /bin/bash -c "echo fine"
          - id: broken
            commandLine: /bin/bash -c "echo oops >&2; exit 3"
    jobSchedules:
      nightly:
        schedule: {recurrenceInterval: P1D}
        jobSpecification:
          pool: small
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = copy_stacks(tmp_path)
    (target / "failing.yaml").write_text(FAILING, encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.3")
    monkeypatch.setenv("HPC_SMB_PASSWORD", "canary-S3cret-0451")
    return target


@pytest.fixture(params=MODES)
def where(request: pytest.FixtureRequest, workdir: Path, tmp_path: Path, start_emulator: Any) -> dict[str, Any]:
    """Stack files for one target: `local` (embedded, in the deploy process) or a served emulator."""
    if request.param == "local":
        state = tmp_path / "state"
        return {"mode": "local", "stacks": workdir, "clients": lambda: Clients.for_emulator_embedded(state),
                "log": state / "requests.jsonl"}
    emulator: Emulator = start_emulator("served", tmp_path / "served")
    assert emulator.server is not None
    for path in workdir.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("  kind: local\n", f"  kind: emulator\n  endpoint: {emulator.server.endpoint}\n"
                            f"  caFile: {emulator.server.ca_file}\n", 1)
        path.write_text(text, encoding="utf-8")
    return {"mode": "served", "stacks": workdir, "clients": emulator.new_clients,
            "log": emulator.data_dir / "requests.jsonl"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def requests_since(log: Path, start: int) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines[start:] if line.strip()]


def log_length(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_apply_wait_then_status_and_outputs(where: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    stack = str(where["stacks"] / "quickstart.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve", "--wait")
    assert code == EXIT_OK, out + err
    assert "Apply complete" in out and "Wait complete" in out and "tasks 3/3 completed" in out
    assert "waiting:" in err  # periodic lines when not on a terminal

    start = log_length(where["log"])
    code, out, err = run(capsys, "status", stack, "--format", "json")
    assert code == 0, err
    status = json.loads(out)
    assert status["formatVersion"] == 1 and status["kind"] == "status" and status["stack"] == "quickstart"
    (pool,) = status["pools"]
    assert pool["address"] == "batchAccounts.main.pools.small" and pool["presence"] == "found"
    assert pool["allocationState"] == "steady" and pool["dedicatedNodes"] == {"current": 1, "target": 1}
    assert pool["nodeStates"] == {"idle": 1} and pool["problems"] == []
    (job,) = status["jobs"]
    assert job["state"] == "completed" and job["taskCounts"] == {
        "active": 0, "running": 0, "completed": 3, "succeeded": 3, "failed": 0}
    assert status["summary"]["done"] and status["summary"]["ok"]
    # a handful of requests, tasks never listed: accounts, pools, node counts, jobs, one task count
    paths = [f"{r['method']} {r['path']}" for r in requests_since(where["log"], start)]
    assert sorted(paths) == sorted([
        "GET /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-quickstart/providers/"
        "Microsoft.Batch/batchAccounts",
        "GET /batch/baquickstart01/pools", "GET /batch/baquickstart01/nodecounts", "GET /batch/baquickstart01/jobs",
        "GET /batch/baquickstart01/jobs/hello/taskcounts"]), paths

    code, out, _ = run(capsys, "status", stack)
    assert code == 0 and "batchAccounts.main.pools.small" in out and "steady" in out and "completed" in out

    code, out, err = run(capsys, "outputs", stack, "--format", "env")
    assert code == 0, err
    env = dict(line.split("=", 1) for line in out.splitlines())
    assert env["BATCH_MAIN_NAME"] == "baquickstart01" and env["BATCH_MAIN_POOL_SMALL_ID"] == "small"
    assert env["BATCH_MAIN_ENDPOINT"].startswith("https://") and env["BATCH_MAIN_ENDPOINT"].endswith("baquickstart01")
    assert env["STORAGE_DATA_BLOB_ENDPOINT"].startswith("https://")
    assert env["BATCH_MAIN_POOL_SMALL_RESOURCE_ID"].endswith("/batchAccounts/baquickstart01/pools/small")
    code, out_json, _ = run(capsys, "outputs", stack, "--format", "json")
    document = json.loads(out_json)
    assert document["formatVersion"] == 1 and document["kind"] == "outputs" and document["missing"] == []
    assert document["outputs"]["storageAccounts.data"]["name"] == "stquickstart01"
    clients = where["clients"]()
    keys = clients.batch_mgmt.batch_account.get_keys("rg-quickstart", "baquickstart01")
    storage_keys = rest(clients.storage.storage_accounts.list_keys("rg-quickstart", "stquickstart01"))["keys"]
    assert storage_keys
    for secret in [keys.primary, keys.secondary, *(k["value"] for k in storage_keys)]:
        assert secret not in out and secret not in out_json


def _running(clients: Clients, account: str, rg: str, job: str, task: str) -> Any:
    data = clients.batch_data(clients.batch_mgmt.batch_account.get(rg, account).account_endpoint)
    deadline = time.monotonic() + 20
    while data.get_task(job, task).state != "running":
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    return data


def test_failed_task_fails_wait_and_status_names_it(where: dict[str, Any], capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "2")
    stack = str(where["stacks"] / "failing.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve")
    assert code == 0, out + err
    data = _running(where["clients"](), "bafailing01", "rg-failing", "crunch", "broken")
    try:
        data.terminate_task("crunch", "broken")  # a failure (TaskEnded); a real `exit 3` once tasks run
    except Exception as exc:  # noqa: BLE001 - completed on its own (the node agent ran it): failed anyway
        assert "TaskCompleted" in str(exc)

    code, out, err = run(capsys, "wait", stack, "--timeout", "60s")
    assert code == EXIT_FAILED, out + err
    assert "Wait failed" in out and "failed task broken of batchAccounts.main.jobs.crunch" in out

    code, out, err = run(capsys, "status", stack, "--format", "json")
    assert code == 0, err
    job, schedule = json.loads(out)["jobs"]
    assert schedule["address"] == "batchAccounts.main.jobSchedules.nightly" and schedule["presence"] == "found"
    assert schedule["kind"] == "jobSchedule" and schedule["state"] == "active"
    assert job["taskCounts"]["failed"] == 1 and job["taskCounts"]["succeeded"] == 1
    (failed,) = job["failedTasks"]
    assert failed["id"] == "broken"
    assert failed["failureInfo"]["code"] in ("TaskEnded", "FailureExitCode")
    code, out, _ = run(capsys, "status", stack)
    assert "failed task broken" in out

    code, out, err = run(capsys, "wait", stack, "--format", "json")
    assert code == EXIT_FAILED
    document = json.loads(out)
    assert document["wait"] == {"result": "failed", "exitCode": EXIT_FAILED, "elapsed": document["wait"]["elapsed"]}
    assert document["jobs"][0]["failedTasks"][0]["id"] == "broken"

    code, out, err = run(capsys, "logs", stack, "crunch", "--failed", "--stderr")
    assert code == 0, err
    assert "==> task broken: " in out and "exit code" in out


def test_wait_times_out(workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "120")
    stack = str(workdir / "failing.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve")
    assert code == 0, out + err
    started = time.monotonic()
    code, out, err = run(capsys, "wait", stack, "--timeout", "1s")
    assert code == EXIT_TIMEOUT, out + err
    assert time.monotonic() - started < 20
    assert "Timed out after 1s" in out


def test_wait_for_nodes_fails_on_core_quota(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hpc asks for 4 x 120 cores; the emulator's account has 20: AccountCoreQuotaReached."""
    stack = str(workdir / "hpc.yaml")
    code, out, err = run(capsys, "apply", stack, "--target", "local", "--auto-approve", "--wait-for-nodes")
    assert code == 1, out + err
    assert "Apply failed" in out
    failed = next(line for line in out.splitlines() if line.startswith("  failed: batchAccounts.hpc.pools.mpi"))
    assert "pool mpi" in failed and "AccountCoreQuotaReached" in failed and "0 of 4 dedicated" in failed

    code, out, err = run(capsys, "status", stack, "--target", "local", "--format", "json")
    assert code == 0, err
    (pool,) = json.loads(out)["pools"]
    assert pool["allocationState"] == "steady"
    assert [e["code"] for e in pool["resizeErrors"]] == ["AccountCoreQuotaReached"]
    code, out, _ = run(capsys, "status", stack, "--target", "local")
    assert "AccountCoreQuotaReached" in out
    # wait stops at once on a pool that settled with errors (its tasks would never get a node)
    code, out, err = run(capsys, "wait", stack, "--target", "local", "--only", "batchAccounts.hpc.pools.mpi",
                         "--timeout", "60s")
    assert code == EXIT_FAILED, out + err
    assert "AccountCoreQuotaReached" in out


def test_wait_for_nodes_and_wait_pass_when_all_went_well(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "apply", str(workdir / "quickstart.yaml"), "--auto-approve", "--wait-for-nodes",
                         "--wait", "--format", "json")
    assert code == 0, out + err
    events = [json.loads(line) for line in out.splitlines()]
    summary = next(e for e in events if e.get("event") == "summary")
    assert summary["ok"] and not summary["failed"]
    assert events[-1]["kind"] == "status" and events[-1]["wait"]["result"] == "succeeded"
    assert events[-1]["summary"]["tasks"]["succeeded"] == 3


def test_commands_on_a_stack_not_deployed(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = str(workdir / "quickstart.yaml")
    code, out, err = run(capsys, "status", stack, "--format", "json")
    assert code == 0, err
    status = json.loads(out)
    assert [p["presence"] for p in status["pools"]] == ["missing"]
    assert [j["presence"] for j in status["jobs"]] == ["missing"]
    code, out, err = run(capsys, "wait", stack, "--timeout", "5s")
    assert code == 1 and "nothing to wait for" in err and "batchAccounts.main.jobs.hello (missing)" in err
    code, out, err = run(capsys, "outputs", stack, "--format", "json")
    assert code == 0 and set(json.loads(out)["missing"]) >= {"batchAccounts.main", "storageAccounts.data"}
    code, out, err = run(capsys, "logs", stack, "nope")
    assert code == 1 and "has no job or job schedule 'nope' (it has: hello)" in err
    code, out, err = run(capsys, "status", stack, "--only", "batchAccounts.main.pools.nope")
    assert code == 1 and "--only batchAccounts.main.pools.nope: no such resource" in err
    code, out, err = run(capsys, "wait", stack, "--timeout", "soon")
    assert code == 1 and "not a duration" in err and "Traceback" not in err


def test_only_watch_and_never_reading_what_the_stack_does_not_own(
        workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stack = str(workdir / "quickstart.yaml")
    code, out, err = run(capsys, "apply", stack, "--auto-approve")
    assert code == 0, out + err
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # --watch reads until interrupted: interrupt it at its third read
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("deployer.ops.status.time.sleep", sleep)
    code, out, err = run(capsys, "status", stack, "--watch", "--format", "json",
                         "--only", "batchAccounts.main.jobs.hello")
    assert code == 0, err
    documents = [json.loads(line) for line in out.splitlines()]
    assert len(documents) == 2 and all(d["kind"] == "status" and d["pools"] == [] for d in documents)
    code, out, err = run(capsys, "status", stack, "--only", "batchAccounts.main.jobs.hello", "--format", "json")
    status = json.loads(out)
    assert status["pools"] == [] and [j["address"] for j in status["jobs"]] == ["batchAccounts.main.jobs.hello"]
    # the same job id, re-created without this stack's marker: reported, never read further
    clients = Clients.for_emulator_embedded(workdir.parent / "state")
    from azure.batch import models as bm

    data = clients.batch_data(clients.batch_mgmt.batch_account.get("rg-quickstart", "baquickstart01").account_endpoint)
    data.begin_delete_job("hello").result()
    data.create_job(bm.BatchJobCreateOptions(id="hello", pool_info=bm.BatchPoolInfo(pool_id="small")))
    log = workdir.parent / "state" / "requests.jsonl"
    start = log_length(log)
    code, out, err = run(capsys, "status", stack, "--format", "json")
    (job,) = json.loads(out)["jobs"]
    assert job == {"address": "batchAccounts.main.jobs.hello", "id": "hello", "kind": "job", "presence": "not-owned"}
    assert not any("taskcounts" in r["path"] for r in requests_since(log, start))
    clients.close()
