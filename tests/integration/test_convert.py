"""`deploy convert` end to end: every fixture (real Shipyard recipes, a CLI-extension sample, a
Batch service API pool, an ARM template) converts to a stack that validates, applies on the local
target and then plans empty; the dropped-features report is exactly the expected list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "convert"
SECRETS = {"MYREGISTRY_REGISTRY_PASSWORD": "x1", "RENDER_RENDERER_PASSWORD": "x2", "SCENES_PASSWORD": "x3"}
CANARIES = ("canary-Registry-Pa55", "canary-User-Pa55", "canary-Cifs-Pa55")


def _shipyard(name: str, jobs: str = "jobs.yaml") -> list[str]:
    return [f"shipyard/{name}/{f}" for f in ("config.yaml", "credentials.yaml", "pool.yaml", jobs)]


CASES = {
    "batch-json": (["batch-json/pool.json"], [
        "pool.json: $.certificateReferences",
        "pool.json: $.targetNodeCommunicationMode",  # not in the management API 2025-06-01
    ]),
    "shipyard-blast": (_shipyard("blast-cpu", "jobs-blast.yaml"), [
        "credentials.yaml: credentials.batch.account_key",
        "credentials.yaml: credentials.storage.mystorageaccount.account_key",
        "pool.yaml: pool_specification.ssh",
        "jobs-blast.yaml: job_specifications.0.tasks.0",
        "jobs-blast.yaml: job_specifications.0.merge_task",
    ]),
    "shipyard-cntk-multinode": (_shipyard("cntk-cpu-openmpi-multinode"), [
        "credentials.yaml: credentials.batch.account_key",
        "credentials.yaml: credentials.storage.mystorageaccount.account_key",
        "pool.yaml: pool_specification.ssh",
        "jobs.yaml: job_specifications.0.tasks.0.multi_instance.mpi",
    ]),
    "shipyard-ffmpeg-gpu": (_shipyard("ffmpeg-gpu"), [
        "credentials.yaml: credentials.batch.account_key",
        "credentials.yaml: credentials.storage.mystorageaccount.account_key",
        "pool.yaml: pool_specification.ssh",
        "jobs.yaml: job_specifications.0.tasks.0.resource_files.0",
    ]),
    "cli-template-ffmpeg": (["cli-template/ffmpeg/pool.json", "cli-template/ffmpeg/job.sweep.json",
                             "--parameters", "cli-template/ffmpeg/job.parameters.json"], [
        "job.sweep.json: job.properties.taskFactory.repeatTask.outputFiles.0",
        "job.sweep.json: job.properties.taskFactory.repeatTask.packageReferences",
    ]),
    "arm-network-identity": (["arm/network.json"], [
        "network.json: resources.1",
    ]),
    "arm": (["arm/batch.json"], [
        "batch.json: resources.0.properties.supportsHttpsTrafficOnly",
        "batch.json: resources.2.properties.encryption",
        "batch.json: resources.4",
        "batch.json: resources.3.properties.certificates",
    ]),
}


def _args(args: list[str]) -> list[str]:
    return [a if a.startswith("--") else str(FIXTURES / a) for a in args]


@pytest.mark.parametrize("case", sorted(CASES))
def test_convert_validates_applies_and_plans_empty(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    args, expected_dropped = CASES[case]
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    stack = tmp_path / "stack.yaml"
    code = main(["convert", *_args(args), "--out", str(stack), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    report = json.loads(out)
    assert report["valid"] and report["diagnostics"] == []
    assert [d["source"] for d in report["dropped"]] == expected_dropped
    text = stack.read_text()
    for canary in CANARIES:
        assert canary not in text and canary not in out and canary not in err
    # every dropped setting is explained in the stack itself
    for d in report["dropped"]:
        assert f"dropped: {d['source']}: " in text
    assert main(["validate", str(stack)]) == 0
    code = main(["apply", str(stack), "--target", "local", "--auto-approve"])
    out, err = capsys.readouterr()
    assert code == 0 and "0 failed" in out, out + err
    code = main(["plan", str(stack), "--target", "local", "--detailed-exitcode"])
    out, err = capsys.readouterr()
    assert code == 0 and "No changes" in out, out + err
