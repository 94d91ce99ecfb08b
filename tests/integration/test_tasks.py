"""A job's tasks planned one by one on the local target (issue 14): adding one task to an applied
50-task job adds that task and nothing else; a changed command line replaces that one task; a
removed task is deleted; neither touches the job beyond recording its task digest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployer.cli import main

HEAD = """\
stack: genomics
target:
  kind: local
  resourceGroup: rg-genomics
  location: westeurope
batchAccounts:
  main:
    name: bagenomics01
    poolAllocationMode: BatchService
    pools:
      cpu:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts,
                             version: latest}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 0}
    jobs:
      nightly:
        pool: cpu
        priority: 10
"""


def stack_text(ids: range, *, command: dict[int, str] | None = None, retries: dict[int, int] | None = None,
               extra: str = "") -> str:
    lines = [HEAD + extra + "        tasks:\n"]
    for i in ids:
        cmd = (command or {}).get(i, f"/bin/bash -c 'align sample-{i:03d}'")
        lines.append(f"          - id: sample-{i:03d}\n            commandLine: \"{cmd}\"\n")
        if retries and i in retries:
            lines.append(f"            constraints: {{maxTaskRetryCount: {retries[i]}}}\n")
    return "".join(lines)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.1")
    return tmp_path / "state"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def log(state: Path) -> list[dict[str, Any]]:
    path = state / "requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def job_plan(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    assert code == 0, out + err
    (job,) = [c for c in json.loads(out)["changes"] if c["kind"] == "job"]
    return dict(job)


def task_requests(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The writes to the job and its tasks (method, path without the query)."""
    out = []
    for e in entries:
        path = str(e["path"]).split("?", 1)[0]
        if "/jobs" in path and e["method"] != "GET":
            out.append((e["method"], path))
    return out


def reads_of_tasks(entries: list[dict[str, Any]]) -> list[str]:
    return [str(e["path"]) for e in entries if e["method"] == "GET" and "/tasks" in str(e["path"])]


def applied(capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path, text: str) -> Path:
    path = tmp_path / "genomics.yaml"
    path.write_text(text)
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    assert "batchAccounts.main.jobs.nightly: tasks added: " in out  # progress
    return path


def test_a_no_change_plan_reads_no_task(capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path) -> None:
    path = applied(capsys, tmp_path, state, stack_text(range(1, 51)))
    before = len(log(state))
    code, out, err = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out
    assert reads_of_tasks(log(state)[before:]) == []


def test_adding_one_task_adds_one_task(capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path) -> None:
    path = applied(capsys, tmp_path, state, stack_text(range(1, 51)))
    path.write_text(stack_text(range(1, 52)))
    before = len(log(state))
    job = job_plan(capsys, path)
    assert job["action"] == "update" and job["fields"] == []
    assert job["tasks"]["counts"] == {"add": 1, "replace": 0, "update": 0, "delete": 0, "keep": 0, "unchanged": 50}
    assert job["tasks"]["add"] == ["sample-051"]
    assert len(reads_of_tasks(log(state)[before:])) == 1  # one $select listing pass
    code, out, _ = run(capsys, "plan", str(path))
    assert "+ 1 task" in out or "+ sample-051" in out
    assert "Tasks: 1 to add." in out

    before = len(log(state))
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    writes = task_requests(log(state)[before:])
    adds = [w for w in writes if w[1].endswith("/addtaskcollection") or w[1].endswith("/tasks")]
    assert len(adds) == 1
    # the job itself: no replace, no delete; only its task digest is recorded (one metadata patch)
    job_writes = [w for w in writes if w not in adds]
    assert [m for m, _ in job_writes] == ["PATCH"], job_writes
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out


def test_changing_one_command_line_replaces_that_task(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      state: Path) -> None:
    path = applied(capsys, tmp_path, state, stack_text(range(1, 51)))
    path.write_text(stack_text(range(1, 51), command={7: "/bin/bash -c 'align --v2 sample-007'"}))
    job = job_plan(capsys, path)
    assert job["action"] == "update" and job["fields"] == []
    counts = job["tasks"]["counts"]
    assert (counts["replace"], counts["add"], counts["delete"], counts["unchanged"]) == (1, 0, 0, 49)
    (replaced,) = job["tasks"]["replace"]
    assert replaced["id"] == "sample-007"
    assert [f["path"] for f in replaced["fields"]] == ["commandLine"]

    before = len(log(state))
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    writes = task_requests(log(state)[before:])
    assert ("DELETE", "/jobs/nightly/tasks/sample-007") in [(m, p[p.index("/jobs"):]) for m, p in writes]
    assert sum(1 for m, p in writes if p.endswith("/addtaskcollection")) == 1
    assert not [w for w in writes if w[0] in ("PUT",) or (w[0] == "DELETE" and w[1].endswith("/jobs/nightly"))]
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out


def test_removed_tasks_are_deleted_and_constraints_update_in_place(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path, state: Path) -> None:
    path = applied(capsys, tmp_path, state, stack_text(range(1, 11)))
    path.write_text(stack_text(range(1, 10), retries={3: 2}))
    job = job_plan(capsys, path)
    counts = job["tasks"]["counts"]
    assert (counts["delete"], counts["update"], counts["replace"], counts["add"]) == (1, 1, 0, 0)
    assert job["tasks"]["delete"] == ["sample-010"]
    assert job["tasks"]["update"][0]["id"] == "sample-003"
    before = len(log(state))
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    writes = [(m, p[p.index("/jobs"):]) for m, p in task_requests(log(state)[before:])]
    assert ("DELETE", "/jobs/nightly/tasks/sample-010") in writes
    assert ("PUT", "/jobs/nightly/tasks/sample-003") in writes
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out


def test_a_job_property_that_cannot_change_still_replaces_the_job(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path, state: Path) -> None:
    path = applied(capsys, tmp_path, state, stack_text(range(1, 4)))
    path.write_text(stack_text(range(1, 4), extra="        displayName: renamed\n"))
    job = job_plan(capsys, path)
    assert job["action"] == "replace"
    assert job["tasks"]["add"] == ["sample-001", "sample-002", "sample-003"]


def test_a_stopped_run_resumes_with_only_the_missing_tasks(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                           state: Path) -> None:
    """What a run killed half way leaves: the job still says `pending`, some tasks are in."""
    from azure.batch import models

    from deployer.azure import Clients
    from deployer.resources.ownership import fingerprint_key

    path = applied(capsys, tmp_path, state, stack_text(range(1, 51)))
    clients = Clients.for_emulator_embedded(state)
    try:
        endpoint = clients.batch_mgmt.batch_account.get("rg-genomics", "bagenomics01").account_endpoint
        data = clients.batch_data(endpoint)
        job = data.get_job("nightly")
        metadata = [m if m.name != fingerprint_key("tasks") else models.BatchMetadataItem(name=m.name, value="pending")
                    for m in job.metadata]
        data.update_job("nightly", models.BatchJobUpdateOptions(metadata=metadata))
        for i in range(30, 51):
            data.delete_task("nightly", f"sample-{i:03d}")
    finally:
        clients.close()
    plan = job_plan(capsys, path)
    assert plan["tasks"]["counts"]["add"] == 21 and plan["tasks"]["counts"]["unchanged"] == 29
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    clients = Clients.for_emulator_embedded(state)
    try:
        ids = [t.id for t in clients.batch_data(endpoint).list_tasks("nightly", select=["id"])]
    finally:
        clients.close()
    assert sorted(ids) == [f"sample-{i:03d}" for i in range(1, 51)]
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out
