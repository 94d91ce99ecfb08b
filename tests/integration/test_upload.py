"""Data in: a container's `upload` through azure-storage-blob against the local emulator —
uploads only new or changed files, plans by one listing (never a GET per blob), deletes nothing,
sends large files in blocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main

STACK = """stack: upload-test
target: {kind: local, resourceGroup: rg-upload-test, location: westeurope}
storageAccounts:
  data:
    name: stuploadtest01
    containers:
      - name: input
        upload: {from: data/, pattern: "*.fq.gz", prefix: reads/}
"""


def _blob_requests(log: Path, start: int) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in log.read_text().splitlines()[start:]]
    return [r for r in rows if r["path"].startswith("/blob/")]


def _lines(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    data = tmp_path / "data"
    (data / "nested").mkdir(parents=True)
    for i in range(40):
        (data / f"s{i:03d}.fq.gz").write_bytes(bytes([i]) * (100 + i))
    (data / "nested" / "deep.fq.gz").write_bytes(b"nested")  # `*.fq.gz` matches the top folder only
    (data / "notes.txt").write_text("not matched")
    (data / "big.fq.gz").write_bytes(b"\x01" * (9 * 1024 * 1024))  # above the single-put size: blocks
    (tmp_path / "stack.yaml").write_text(STACK)
    return tmp_path


def test_upload_plans_by_content_and_uploads_only_changes(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack, log = str(workdir / "stack.yaml"), workdir / "state" / "requests.jsonl"
    assert main(["apply", stack, "--target", "local", "--auto-approve"]) == 0
    out = capsys.readouterr()
    assert "uploaded 41/41 files" in out.err
    first = _blob_requests(log, 0)
    puts = [r["path"] for r in first if r["method"] == "PUT"]
    names = {p.split("/input/", 1)[1] for p in puts if "/input/" in p}
    assert names == {f"reads/s{i:03d}.fq.gz" for i in range(40)} | {"reads/big.fq.gz"}
    assert puts.count("/blob/stuploadtest01/input/reads/big.fq.gz") > 2  # staged blocks + block list

    start = _lines(log)
    assert main(["plan", stack, "--target", "local", "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out
    planned = _blob_requests(log, start)
    assert [(r["method"], r["path"]) for r in planned] == [("GET", "/blob/stuploadtest01/input")]  # one listing

    (workdir / "data" / "s007.fq.gz").write_bytes(b"changed")
    (workdir / "data" / "s003.fq.gz").unlink()  # a file gone: its blob stays (uploads never delete)
    assert main(["plan", stack, "--target", "local", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert 'blobs["reads/s007.fq.gz"]' in out and "1 to change" in out and "s003" not in out
    start = _lines(log)
    assert main(["apply", stack, "--target", "local", "--auto-approve"]) == 0
    capsys.readouterr()
    puts = [r["path"] for r in _blob_requests(log, start) if r["method"] == "PUT"]
    assert puts == ["/blob/stuploadtest01/input/reads/s007.fq.gz"]
    assert main(["plan", stack, "--target", "local", "--detailed-exitcode"]) == 0
    capsys.readouterr()

    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(workdir / "state")
    try:
        account = clients.storage.storage_accounts.get_properties("rg-upload-test", "stuploadtest01")
        endpoint = account.primary_endpoints.blob
        listed = {b.name for b in clients.blob(endpoint).get_container_client("input").list_blobs()}
    finally:
        clients.close()
    assert "reads/s003.fq.gz" in listed and "reads/nested/deep.fq.gz" not in listed
