"""The example stacks' tasks on the local target, end to end: `deploy apply`, then the node agent
runs them (in this process, so that the test can move the emulator clock to the autoscale
formula's next evaluation) and their outputs land in the emulated containers."""

from __future__ import annotations

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
