"""A job schedule's tasks reach every job it creates (issue 14), on a served emulator: apply uploads
the task file and the submit script to auto-storage; the schedule fires; the job manager task's
command (run here as the node would run it, with the job's environment) adds the tasks to its job
through the SDK; a changed task set plans the file's upload again, and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deployer.cli import main
from tests.integration.conftest import Emulator
from tests.integration.test_tasks import run

STACK = """\
stack: nightly
target:
  kind: emulator
  endpoint: {endpoint}
  caFile: {ca}
  resourceGroup: rg-nightly
  location: westeurope
storageAccounts:
  data: {{name: stnightly01}}
batchAccounts:
  main:
    name: banightly01
    autoStorage: data
    pools:
      cpu:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {{publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          fixedScale: {{targetDedicatedNodes: 0}}
    jobSchedules:
      genomics:
        schedule: {{recurrenceInterval: PT1H}}
        jobSpecification:
          pool: cpu
          jobManagerTask:
            id: submit
            commandLine: python3 genomics/submit_tasks.py genomics/tasks.jsonl
            resourceFiles: [{{autoStorageContainerName: deployer-tasks, blobPrefix: genomics/}}]
            killJobOnCompletion: false
        taskFactory:
          type: repeat
          count: {count}
          repeatTask: {{id: "sample-{{0:4}}", commandLine: "align sample-{{0:4}}"}}
"""


@pytest.fixture
def served(served_emulator: Emulator, tmp_path: Path) -> tuple[Emulator, Path]:
    assert served_emulator.server is not None
    return served_emulator, tmp_path / "nightly.yaml"


def write(where: tuple[Emulator, Path], count: int) -> Path:
    emulator, path = where
    assert emulator.server is not None
    path.write_text(STACK.format(endpoint=emulator.server.endpoint, ca=emulator.server.ca_file, count=count))
    return path


def blobs(emulator: Emulator) -> dict[str, bytes]:
    account = emulator.clients.storage.storage_accounts.get_properties("rg-nightly", "stnightly01")
    container = emulator.clients.blob(account.primary_endpoints.blob).get_container_client("deployer-tasks")
    return {b.name: container.download_blob(b.name).readall() for b in container.list_blobs()}


def test_a_schedules_jobs_receive_its_tasks(served: tuple[Emulator, Path], capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    emulator, _ = served
    path = write(served, 150)
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    files = blobs(emulator)
    assert sorted(files) == ["genomics/submit_tasks.py", "genomics/tasks.jsonl"]
    lines = [json.loads(line) for line in files["genomics/tasks.jsonl"].decode().splitlines()]
    assert len(lines) == 150 and lines[7] == {"id": "sample-0007", "commandLine": "align sample-0007"}
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out

    # the schedule fires (no doNotRunUntil: at once); its job manager task runs as a node runs it
    account = emulator.clients.batch_mgmt.batch_account.get("rg-nightly", "banightly01")
    data = emulator.clients.batch_data(account.account_endpoint)
    (job,) = [j for j in data.list_jobs() if j.id.startswith("genomics:")]
    assert [t.id for t in data.list_tasks(job.id)] == ["submit"]
    workdir = tmp_path / "node" / "wd"
    (workdir / "genomics").mkdir(parents=True)
    for name, content in files.items():
        (workdir / name).write_bytes(content)
    manager = data.get_task(job.id, "submit")
    env: dict[str, Any] = {**os.environ, "AZ_BATCH_ACCOUNT_URL": "https://" + account.account_endpoint,
                           "AZ_BATCH_JOB_ID": job.id, "AZ_BATCH_AUTHENTICATION_TOKEN": "job-token",
                           "DEPLOYER_CA_FILE": str(emulator.server.ca_file if emulator.server else "")}
    command = manager.command_line.split()
    assert command[0] == "python3"
    done = subprocess.run([sys.executable, *command[1:]], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tasks added: 150" in done.stdout
    ids = sorted(t.id for t in data.list_tasks(job.id))
    assert ids == sorted(["submit", *(f"sample-{i:04d}" for i in range(150))])

    # a changed task set: the file is uploaded again; the schedule is otherwise unchanged
    path = write(served, 160)
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    assert code == 0, out + err
    (change,) = [c for c in json.loads(out)["changes"] if c["kind"] == "jobSchedule"]
    assert change["action"] == "update" and change["fields"] == [] and "uploaded again" in change["reason"]
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    assert len(blobs(emulator)["genomics/tasks.jsonl"].decode().splitlines()) == 160
    code, out, _ = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out


def test_a_schedule_with_tasks_needs_auto_storage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text(STACK.format(endpoint="https://127.0.0.1:1", ca="ca.pem", count=2)
                    .replace("    autoStorage: data\n", ""))
    assert main(["validate", str(path)]) == 1
    assert "set autoStorage on the Batch account" in capsys.readouterr().err


def test_a_schedules_tasks_hold_no_secret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text(STACK.format(endpoint="https://127.0.0.1:1", ca="ca.pem", count=2).replace(
        'repeatTask: {id: "sample-{0:4}", commandLine: "align sample-{0:4}"}',
        'repeatTask: {id: "s-{0}", commandLine: "x", environmentSettings: [{name: K, value: {secret: env:K}}]}'))
    assert main(["validate", str(path)]) == 1
    assert "no secret reference here" in capsys.readouterr().err
