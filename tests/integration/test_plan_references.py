"""A plan never deletes a storage account something of the stack still uses (issue 10).

Users: a Batch account's auto-storage (live `autoStorage.storageAccountId`; Azure cannot unlink it,
so dropping `autoStorage:` leaves the link) and a pool mount or resource file that names the
account. The plan is refused (exit 1, naming both and what to do) unless the same plan deletes
the user or points it elsewhere. Through the command line on the local target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli import apply_converges, run
from tests.unit.stacks import POOL

AUTO = f"""\
stack: refs
target: {{kind: local, resourceGroup: rg-refs, location: westeurope}}
storageAccounts:
  data:
    name: strefsdata
    containers: [input]
batchAccounts:
  main:
    name: barefs01
    autoStorage: data
    pools:
      small:
{POOL}
"""

MOUNT = f"""\
stack: mounts
target: {{kind: local, resourceGroup: rg-mounts, location: westeurope}}
storageAccounts:
  data:
    name: stmountsdata
    containers: [input]
  auto:
    name: stmountsauto
batchAccounts:
  main:
    name: bamounts01
    autoStorage: auto
    pools:
      small:
{POOL}        mountConfiguration:
          - azureBlobFileSystemConfiguration:
              accountName: stmountsdata
              containerName: input
              sasKey: {{secret: env:REFS_SAS}}
              relativeMountPath: input
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("REFS_SAS", "sv=2024&sig=refs-test")
    (tmp_path / ".git").mkdir()
    return tmp_path


def without(text: str, *lines: str) -> str:
    for line in lines:
        assert text.count(line) == 1, line
        text = text.replace(line, "")
    return text


def test_auto_storage_account_is_not_deleted_under_its_batch_account(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "stack.yaml"
    path.write_text(AUTO)
    assert run(capsys, "apply", str(path), "--auto-approve")[0] == 0
    dropped = without(AUTO, "storageAccounts:\n  data:\n    name: strefsdata\n    containers: [input]\n",
                      "    autoStorage: data\n")
    path.write_text(dropped)
    for command in (("plan",), ("apply", "--auto-approve", "--allow-data-loss")):
        code, out, err = run(capsys, *command, str(path))
        assert code == 1, out + err
        assert "storage account strefsdata" in err and "Batch account barefs01 (batchAccounts.main)" in err, err
        assert "auto-storage" in err and "autoStorage" in err, err
        assert "Traceback" not in err
    # the Batch account goes in the same plan: nothing is left pointing at nothing
    path.write_text(without(dropped, "batchAccounts:\n  main:\n    name: barefs01\n    pools:\n      small:\n" + POOL))
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    assert code == 0, out + err
    deleted = {c["address"] for c in json.loads(out)["changes"] if c["action"] == "delete"}
    assert {"storageAccounts.strefsdata", "batchAccounts.barefs01"} <= deleted
    # or the Batch account points at another storage account in the same plan
    moved = AUTO.replace("storageAccounts:\n  data:\n    name: strefsdata\n    containers: [input]\n",
                         "storageAccounts:\n  other:\n    name: strefsother\n").replace("autoStorage: data",
                                                                                        "autoStorage: other")
    path.write_text(moved)
    apply_converges(capsys, path, "--allow-data-loss")


def test_mounted_storage_account_is_not_deleted_under_its_pool(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "stack.yaml"
    path.write_text(MOUNT)
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    dropped = without(MOUNT, "  data:\n    name: stmountsdata\n    containers: [input]\n")
    path.write_text(dropped)
    code, out, err = run(capsys, "plan", str(path))
    assert code == 1, out + err
    assert "storage account stmountsdata" in err and "pool small (batchAccounts.main.pools.small)" in err, err
    # the pool stops mounting it in the same plan: allowed
    path.write_text(dropped[:dropped.index("        mountConfiguration:")])
    apply_converges(capsys, path, "--allow-data-loss")


def test_destroy_only_the_auto_storage_account_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "stack.yaml"
    path.write_text(AUTO)
    assert run(capsys, "apply", str(path), "--auto-approve")[0] == 0
    code, out, err = run(capsys, "destroy", str(path), "--only", "storageAccounts.data", "--auto-approve",
                         "--allow-data-loss")
    assert code == 1, out + err
    assert "auto-storage account of Batch account barefs01 (batchAccounts.main)" in err, err
    code, out, err = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0, out + err  # nothing was deleted
