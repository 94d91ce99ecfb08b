"""`deploy plan --refresh-only`: only what changed outside batch-deployer since the last apply.

Every write records a digest of the applied desired state next to the ownership marker; a
difference on a resource whose stack part still digests to it is drift, anything else a change of
the stack not applied yet (left out, and counted in a note)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main
from tests.integration.copies import copy_stacks


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_refresh_only_reports_drift_and_not_pending_changes(tmp_path: Path, monkeypatch, capsys) -> None:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    stack = stacks / "quickstart.yaml"
    assert run(capsys, "apply", str(stack), "--auto-approve")[0] == 0
    assert run(capsys, "plan", str(stack), "--refresh-only", "--detailed-exitcode")[0] == 0

    # someone edits the pool by hand (its metadata, keeping the deployer's entries)
    with Clients.for_emulator_embedded(tmp_path / "state") as clients:
        pool = clients.batch_mgmt.pool.get("rg-quickstart", "baquickstart01", "small")
        metadata = [{"name": m.name, "value": m.value} for m in pool.metadata] + [{"name": "owner", "value": "bob"}]
        clients.batch_mgmt.pool.update("rg-quickstart", "baquickstart01", "small",
                                       {"properties": {"metadata": metadata}})
    # and the stack changes the storage account (a change not applied yet, not drift)
    stack.write_text(stack.read_text().replace("containers: [input, output]", "containers: [input, output, logs]"))
    code, out, _ = run(capsys, "plan", str(stack), "--detailed-exitcode")
    assert code == 2 and "pools.small" in out and "containers.logs" in out  # the full plan shows both
    code, out, err = run(capsys, "plan", str(stack), "--refresh-only", "--detailed-exitcode", "--format", "json")
    assert code == 2, err
    plan = json.loads(out)
    changed = {c["address"]: c for c in plan["changes"] if c["action"] != "no-op"}
    assert list(changed) == ["batchAccounts.main.pools.small"]
    assert changed["batchAccounts.main.pools.small"]["reason"].startswith(
        "drift: changed outside batch-deployer since the last apply")
    assert any("1 change(s) of the stack not applied yet" in note for note in plan["notes"])
