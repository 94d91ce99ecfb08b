"""Task factories on the local target (issue 14): each factory's tasks reach the job through the
real SDK, with stable ids (a second apply adds nothing), and a merge task depends on them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.cli import main
from tests.integration.test_tasks import HEAD, log, run

RG, ACCOUNT = "rg-genomics", "bagenomics01"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.1")
    return tmp_path / "state"


def live_tasks(state: Path, job: str = "nightly") -> dict[str, dict[str, Any]]:
    clients = Clients.for_emulator_embedded(state)
    try:
        account = clients.batch_mgmt.batch_account.get(RG, ACCOUNT)
        data = clients.batch_data(account.account_endpoint)
        return {t.id: t.as_dict() for t in data.list_tasks(job)}
    finally:
        clients.close()


def apply_twice(capsys: pytest.CaptureFixture[str], path: Path, state: Path) -> None:
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    before = len(log(state))
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0 and "No changes" in out, out + err
    assert not [e for e in log(state)[before:] if e["method"] == "POST" and "task" in e["path"]]


def write(tmp_path: Path, factory: str, extra: str = "") -> Path:
    path = tmp_path / "genomics.yaml"
    path.write_text(HEAD + extra + factory)
    return path


def test_parametric_sweep_with_a_merge_task(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            state: Path) -> None:
    path = write(tmp_path, """\
        taskFactory:
          type: parametricSweep
          parameterSets: [{start: 1, end: 4}, {start: 0, end: 20, step: 10}]
          repeatTask:
            id: "frame-{0:3}-{1}"
            commandLine: "render --frame {0} --lod {1:2}"
          mergeTask:
            commandLine: assemble
""", "        usesTaskDependencies: true\n")
    apply_twice(capsys, path, state)
    tasks = live_tasks(state)
    assert len(tasks) == 13
    assert tasks["frame-002-10"]["commandLine"] == "render --frame 2 --lod 10"
    assert tasks["frame-004-20"]["commandLine"] == "render --frame 4 --lod 20"
    merge = tasks["merge"]
    assert sorted(merge["dependsOn"]["taskIds"]) == sorted(i for i in tasks if i != "merge")


def test_repeat_with_default_ids_merges_by_range(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                 state: Path) -> None:
    path = write(tmp_path, """\
        taskFactory:
          type: repeat
          count: 5
          repeatTask: {commandLine: "simulate --seed {0}"}
          mergeTask: {id: gather, commandLine: gather}
""", "        usesTaskDependencies: true\n")
    apply_twice(capsys, path, state)
    tasks = live_tasks(state)
    assert set(tasks) == {"0", "1", "2", "3", "4", "gather"}
    assert tasks["3"]["commandLine"] == "simulate --seed 3"
    assert tasks["gather"]["dependsOn"]["taskIdRanges"] == [{"start": 0, "end": 4}]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_from_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path, kind: str) -> None:
    rows = [{"sample": "s1", "ref": "hg38"}, {"sample": "s2", "ref": "hg19"}]
    if kind == "csv":
        (tmp_path / "samples.csv").write_text("sample,ref\n" + "".join(f"{r['sample']},{r['ref']}\n" for r in rows))
    else:
        (tmp_path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = write(tmp_path, f"""\
        taskFactory:
          type: fromFile
          file: samples.{kind}
          repeatTask: {{id: "align-{{sample}}", commandLine: "align {{sample}} --ref {{ref}}"}}
""")
    apply_twice(capsys, path, state)
    tasks = live_tasks(state)
    assert {k: v["commandLine"] for k, v in tasks.items()} == {
        "align-s1": "align s1 --ref hg38", "align-s2": "align s2 --ref hg19"}
    # a new row is one task more, nothing else
    with (tmp_path / f"samples.{kind}").open("a") as handle:
        handle.write("s3,hg38\n" if kind == "csv" else json.dumps({"sample": "s3", "ref": "hg38"}) + "\n")
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    (job,) = [c for c in json.loads(out)["changes"] if c["kind"] == "job"]
    assert job["tasks"]["add"] == ["align-s3"] and job["tasks"]["counts"]["unchanged"] == 2


STORAGE = """\
storageAccounts:
  data:
    name: stgenomics01
    containers: [input]
"""


READER = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-genomics/providers/"
          "Microsoft.ManagedIdentity/userAssignedIdentities/id-reader")


def test_task_per_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, state: Path) -> None:
    head = HEAD.replace("batchAccounts:\n", STORAGE + "batchAccounts:\n", 1)
    pool_size = "          fixedScale: {targetDedicatedNodes: 0}\n"
    identity = f"        identity: {{type: UserAssigned, userAssignedIdentities: [{READER}]}}\n"
    head = head.replace(pool_size, pool_size + identity)
    path = tmp_path / "genomics.yaml"
    path.write_text(head + f"""\
        taskFactory:
          type: taskPerFile
          source: {{storage: data, container: input, prefix: raw/, identityReference: {{resourceId: {READER}}}}}
          repeatTask: {{id: "f-{{fileNameWithoutExtension}}", commandLine: "process {{filePath}} {{fileName}}"}}
""")
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    assert live_tasks(state) == {}  # no file yet
    clients = Clients.for_emulator_embedded(state)
    try:
        account = clients.storage.storage_accounts.get_properties(RG, "stgenomics01")
        container = clients.blob(account.primary_endpoints.blob).get_container_client("input")
        for name in ("raw/a.fastq", "raw/b.fastq", "other/c.fastq"):
            container.upload_blob(name, b"ACGT")
    finally:
        clients.close()
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    assert code == 0, out + err
    (job,) = [c for c in json.loads(out)["changes"] if c["kind"] == "job"]
    assert sorted(job["tasks"]["add"]) == ["f-a", "f-b"]
    apply_twice(capsys, path, state)
    tasks = live_tasks(state)
    assert set(tasks) == {"f-a", "f-b"}
    assert tasks["f-a"]["commandLine"] == "process raw/a.fastq a.fastq"
    (resource,) = tasks["f-a"]["resourceFiles"]
    assert resource["filePath"] == "raw/a.fastq" and resource["httpUrl"].endswith("/input/raw/a.fastq")
    assert resource["identityReference"] == {"resourceId": READER}  # the nodes read it with the pool's identity


def test_validate_reports_factory_mistakes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, """\
        taskFactory:
          type: parametricSweep
          parameterSets: [{start: 1, end: 100000}]
          repeatTask: {id: "frame-{0:2}", commandLine: "render {1}"}
          mergeTask: {commandLine: assemble}
""")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "{1}: no such parameter (this factory has {0})" in err
    assert "usesTaskDependencies" in err
    path = write(tmp_path, """\
        taskFactory:
          type: parametricSweep
          parameterSets: [{start: 1, end: 100000}]
          repeatTask: {id: "frame-{0:2}", commandLine: "render {0}"}
""")
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    path = write(tmp_path, """\
        tasks:
          - {id: "7", commandLine: x}
        taskFactory:
          type: repeat
          count: 10
          repeatTask: {commandLine: "run {0}"}
""")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "task id '7' is generated twice (or repeats one of `tasks`)" in err
    assert f"{path}:" in err


def test_validate_task_per_file_names_a_storage_account_of_the_stack(capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path) -> None:
    path = write(tmp_path, """\
        taskFactory:
          type: taskPerFile
          source: {storage: nosuch, container: input}
          repeatTask: {id: "f-{fileName}", commandLine: "process {filePath} {nope}"}
""")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "no storage account 'nosuch' in this stack" in err
    assert "{nope}: no such parameter" in err


def test_a_schedule_has_no_task_factory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "genomics.yaml"
    path.write_text(HEAD.replace("    jobs:\n      nightly:\n        pool: cpu\n        priority: 10\n", """\
    jobSchedules:
      nightly:
        schedule: {recurrenceInterval: P1D}
        jobSpecification:
          pool: cpu
          taskFactory: {type: repeat, count: 2, repeatTask: {commandLine: x}}
"""))
    assert main(["validate", str(path)]) == 1
    assert "a jobSpecification has no taskFactory" in capsys.readouterr().err
