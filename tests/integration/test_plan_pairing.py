"""Children are paired with live resources inside their parent, never across accounts.

Cases from issue 10 ("wrong plans that report No changes"), applied through the command line on
the local target: a pool and a job moved from one Batch account of the stack to another; two
storage accounts whose names are swapped. The plan must show the delete of the old ones (loud,
in the text) next to the create of the new ones, apply must make both, and the next plan must be
empty.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.resources.read import rest
from tests.integration.cli import apply_converges, run
from tests.unit.stacks import POOL

HEAD = """\
stack: pairs
target: {kind: local, resourceGroup: rg-pairs, location: westeurope}
storageAccounts:
  data:
    name: stpairs01
    containers: [input]
batchAccounts:
"""
FIRST = "  first:\n    name: bapairsa\n    autoStorage: data\n"
SECOND = "  second:\n    name: bapairsb\n    autoStorage: data\n"
CHILDREN = f"""\
    pools:
      small:
{POOL}
    jobs:
      hello:
        pool: small
"""

TWO_ACCOUNTS = HEAD + FIRST + CHILDREN + SECOND
MOVED = HEAD + FIRST + SECOND + CHILDREN  # the pool and the job, in the other account

TWO_STORAGE = """\
stack: swap
target: {kind: local, resourceGroup: rg-swap, location: westeurope}
storageAccounts:
  data:
    name: stswapone
    containers: [input, output]
    fileShares:
      scratch: {quotaGiB: 10}
  logs:
    name: stswaptwo
    containers: [logs]
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    (tmp_path / ".git").mkdir()
    return tmp_path


def actions(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, str]:
    code, out, err = run(capsys, "plan", str(path), "--format", "json")
    assert code == 0, out + err
    return {c["address"]: c["action"] for c in json.loads(out)["changes"] if c["action"] != "no-op"}


def clients(work: Path) -> Clients:
    return Clients.for_emulator_embedded(work / "state")


def test_pool_and_job_moved_to_another_account(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "stack.yaml"
    path.write_text(TWO_ACCOUNTS)
    assert run(capsys, "apply", str(path), "--auto-approve")[0] == 0
    path.write_text(MOVED)
    assert actions(capsys, path) == {
        "batchAccounts.first.pools.small": "delete",
        "batchAccounts.first.jobs.hello": "delete",
        "batchAccounts.second.pools.small": "create",
        "batchAccounts.second.jobs.hello": "create",
    }
    code, out, err = run(capsys, "plan", str(path))
    assert code == 0, out + err
    # loud: the text says where each one went
    assert "pool small is no longer in Batch account bapairsa" in out, out
    assert "the stack now declares it in batchAccounts.second.pools.small" in out, out
    assert "Azure cannot move it" in out, out
    apply_converges(capsys, path)
    batch = clients(work).batch_mgmt
    assert [rest(p)["name"] for p in batch.pool.list_by_batch_account("rg-pairs", "bapairsa")] == []
    assert [rest(p)["name"] for p in batch.pool.list_by_batch_account("rg-pairs", "bapairsb")] == ["small"]


def test_swapped_storage_names_delete_the_stale_children(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = work / "stack.yaml"
    path.write_text(TWO_STORAGE)
    assert run(capsys, "apply", str(path), "--auto-approve")[0] == 0
    swapped = TWO_STORAGE.replace("stswapone", "@").replace("stswaptwo", "stswapone").replace("@", "stswaptwo")
    path.write_text(swapped)
    assert actions(capsys, path) == {
        # stswaptwo (now `data`) gets data's children and loses `logs`; stswapone the other way round
        "storageAccounts.data.containers.input": "create",
        "storageAccounts.data.containers.output": "create",
        "storageAccounts.data.fileShares.scratch": "create",
        "storageAccounts.data.containers.logs": "delete",
        "storageAccounts.logs.containers.logs": "create",
        "storageAccounts.logs.containers.input": "delete",
        "storageAccounts.logs.containers.output": "delete",
        "storageAccounts.logs.fileShares.scratch": "delete",
    }
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 1 and "--allow-data-loss" in err and "storageAccounts.logs.containers.input" in err, out + err
    apply_converges(capsys, path, "--allow-data-loss")
    storage = clients(work).storage
    names = {account: sorted(rest(c)["name"] for c in storage.blob_containers.list("rg-swap", account))
             for account in ("stswapone", "stswaptwo")}
    assert names == {"stswapone": ["logs"], "stswaptwo": ["input", "output"]}
