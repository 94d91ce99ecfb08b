"""The example stacks' tasks on the local target, end to end: `deploy apply`, then the node agent
runs them (in this process, so that the test can move the emulator clock to the autoscale
formula's next evaluation) and their outputs land in the emulated containers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.cli import main
from deployer.emulator.agent import control
from deployer.emulator.core import clock
from tests.integration.copies import copy_stacks

TIMEOUT = 60.0


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path, Clients]]:
    """(stacks copy, data dir, clients); the agent runs in a thread of this process."""
    stacks = copy_stacks(tmp_path)
    data_dir = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data_dir))
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", "1")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    agent = control.start_thread(data_dir)
    clients = Clients.for_emulator_embedded(data_dir)
    try:
        yield stacks, data_dir, clients
    finally:
        agent.stop()
        clients.close()
    assert not control.agent_running(data_dir)


def wait_until(predicate: Any, what: str) -> Any:
    import time

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def text(data: Any, job: str, task: str, name: str = "stdout.txt") -> str:
    return b"".join(data.download_task_file(job, task, name)).decode()


def test_media_transcode_runs_the_package_and_writes_renditions(local, capsys: pytest.CaptureFixture[str]) -> None:
    stacks, _, clients = local
    assert main(["apply", str(stacks / "media-transcode.yaml.j2"), "--auto-approve"]) == 0, capsys.readouterr()
    account = clients.batch_mgmt.batch_account.get("rg-media-dev", "bamediatranscodedev")
    data = clients.batch_data(account.account_endpoint)
    pool = clients.batch_mgmt.pool.get("rg-media-dev", "bamediatranscodedev", "transcode")
    assert pool.current_low_priority_nodes == 0  # evaluated when made: the job had no task yet
    clock.advance(300)  # the formula's next evaluation (PT5M) sees the three queued tasks
    wait_until(lambda: data.get_job("transcode-catalog").state == "completed", "the job to complete")
    for task in ("probe", "trailer-1080p", "trailer-720p"):
        info = data.get_task("transcode-catalog", task).execution_info
        assert (info.exit_code, info.result, info.failure_info) == (0, "success", None), task
    probe = text(data, "transcode-catalog", "probe")
    assert probe.startswith("ffmpeg version 6.1 (stand-in")  # from $AZ_BATCH_APP_PACKAGE_ffmpeg_6_1/bin
    grown = clients.batch_mgmt.pool.get("rg-media-dev", "bamediatranscodedev", "transcode")
    assert grown.current_low_priority_nodes == 3 and grown.etag == pool.etag
    for node in data.list_nodes("transcode"):  # the local start task: no apt-get, as the current user
        assert node.start_task_info.result == "success"
    storage = clients.storage.storage_accounts.get_properties("rg-media-dev", "stmediatranscodedev")
    output = clients.blob(storage.primary_endpoints.blob).get_container_client("output")
    renditions = {b.name: output.download_blob(b.name).readall().decode() for b in output.list_blobs()}
    assert set(renditions) == {"trailer/trailer-1080p.mp4", "trailer/trailer-720p.mp4"}
    sample = (stacks / "media" / "input" / "trailer.mov").stat().st_size
    assert f"input: input/trailer.mov ({sample} bytes" in renditions["trailer/trailer-1080p.mp4"]
    assert "filter: scale=-2:1080" in renditions["trailer/trailer-1080p.mp4"]
    assert "filter: scale=-2:720" in renditions["trailer/trailer-720p.mp4"]


SOLVER_FILES = {  # what the stack expects on its `projects` file server (not part of the stack)
    "tools/solver/bin/solver": "#!/bin/sh\necho solver\n",
    "wing-a320/mesh.sh": "#!/bin/sh\necho meshed > mesh.out\n",
    "wing-a320/run-solver.sh": "#!/bin/sh\ntest -x \"$1/bin/solver\" && echo \"solved on $2\" > solution.txt\n",
    "wing-a320/post.sh": "#!/bin/sh\necho 'station,load'\necho 'root,42.0'\n",
    "wing-a320/report.sh": "#!/bin/sh\necho report\n",
}


def test_hpc_outputs_land_with_the_sas_made_at_apply(local, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """hpc.yaml as written, on the local target: the MPI pool needs 480 dedicated cores (a quota
    raised as on Azure), the CIFS share holds the case (placed where the local target backs it);
    postprocess's loads.csv reaches the results container with the write-only SAS the deployer
    made at apply time (`sas: {expiry: P2D}`)."""
    stacks, data_dir, clients = local
    monkeypatch.setenv("DEPLOY_EMULATOR_BATCH_QUOTAS", "dedicatedCoreQuota=480")
    monkeypatch.setenv("HPC_SMB_PASSWORD", "local-test-password")
    share = data_dir / "mounts" / "cifs" / "10.50.4.5_projects"
    for name, body in SOLVER_FILES.items():
        path = share / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        path.chmod(0o755)
    # The start task writes /etc as root on Azure. Run as root (CI containers), the local target
    # would write this machine's /etc: the test points it at the node's own directory instead.
    path = stacks / "hpc.yaml"
    text = path.read_text()
    assert text.count("/etc/security/limits.d/") == 1
    path.write_text(text.replace("/etc/security/limits.d/", "$AZ_BATCH_NODE_SHARED_DIR/"))
    stack = str(path)
    assert main(["apply", stack, "--target", "local", "--auto-approve"]) == 0, capsys.readouterr()
    capsys.readouterr()
    code = main(["wait", stack, "--target", "local", "--timeout", "60s"])
    out = capsys.readouterr()
    assert code == 0, out
    account = clients.batch_mgmt.batch_account.get("rg-hpc", "bahpcweu")
    data = clients.batch_data(account.account_endpoint)
    for task in ("mesh", "solve", "postprocess", "report"):
        info = data.get_task("wing-study", task).execution_info
        assert (info.exit_code, info.result) == (0, "success"), (task, info.failure_info)
    url = data.get_task("wing-study", "postprocess").output_files[0].destination.container.container_url
    assert "sig=" in url and "sp=w" in url  # the credential the deployer made, write only
    storage = clients.storage.storage_accounts.get_properties("rg-hpc", "sthpcresults")
    results = clients.blob(storage.primary_endpoints.blob).get_container_client("results")
    assert [b.name for b in results.list_blobs()] == ["wing-a320/loads.csv"]
    assert results.download_blob("wing-a320/loads.csv").readall() == b"station,load\nroot,42.0\n"
    for node in data.list_nodes("mpi"):
        assert node.start_task_info.result == "success"
        stderr = b"".join(data.download_node_file("mpi", node.id, "startup/stderr.txt")).decode()
        if os.getuid() == 0:
            limits = b"".join(data.download_node_file("mpi", node.id, "shared/99-batch-rdma.conf")).decode()
            assert limits == "* soft memlock unlimited\n* hard memlock unlimited\n"
        else:
            assert stderr == "not root: memlock limit left unchanged\n"  # said, not silently skipped



def test_hpc_start_task_as_a_user_says_so_and_succeeds(tmp_path: Path) -> None:
    """The start task of hpc.yaml as Batch runs it (split, no shell) by a user who is not root:
    exit 0 and a line on stderr, nothing written. Run as `nobody` when this process is root."""
    import shlex
    import subprocess

    import yaml

    stack = yaml.safe_load((copy_stacks(tmp_path) / "hpc.yaml").read_text())
    command = stack["batchAccounts"]["hpc"]["pools"]["mpi"]["startTask"]["commandLine"]
    argv = shlex.split(command)
    if os.getuid() == 0:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "not root: memlock limit left unchanged\n")
