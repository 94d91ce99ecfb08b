"""`deploy destroy` on the local target: it deletes what the stack owns and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.cli import main
from deployer.resources.ownership import STACK_KEY
from deployer.resources.read import rest
from deployer.stack.model import load_stack
from tests.integration.copies import copy_stacks

REPO = Path(__file__).resolve().parents[2]
STACKS = sorted(p.stem for p in (REPO / "stacks").glob("*.yaml"))


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    monkeypatch.setenv("HPC_SMB_PASSWORD", "smb-secret-value")
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def owned(clients: Clients, rg: str, stack: str) -> list[str]:
    """Everything in the resource group that carries the stack's marker (or lives in an account that does)."""
    found: list[str] = []
    if not clients.resource.resource_groups.check_existence(rg):
        return found
    for vnet in clients.network.virtual_networks.list(rg):
        if (rest(vnet).get("tags") or {}).get(STACK_KEY) == stack:
            found.append(f"network {rest(vnet)['name']}")
    for account in clients.storage.storage_accounts.list_by_resource_group(rg):
        if (rest(account).get("tags") or {}).get(STACK_KEY) == stack:
            found.append(f"storage {rest(account)['name']}")
    for account in clients.batch_mgmt.batch_account.list_by_resource_group(rg):
        body = rest(account)
        if (body.get("tags") or {}).get(STACK_KEY) == stack:
            found.append(f"batch {body['name']}")
        for pool in clients.batch_mgmt.pool.list_by_batch_account(rg, body["name"]):
            metadata = (rest(pool).get("properties") or {}).get("metadata") or []
            if any(m.get("name") == STACK_KEY and m.get("value") == stack for m in metadata):
                found.append(f"pool {rest(pool)['name']}")
    return found


def local_clients(stacks: Path) -> Clients:
    return Clients.for_emulator_embedded(stacks.parent / "state")


@pytest.mark.parametrize("name", STACKS)
def test_apply_plan_destroy(stacks: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = stacks / f"{name}.yaml"
    # protect: true refuses any deletion: a user removes it before destroying
    path.write_text("\n".join(line for line in path.read_text().splitlines() if line.strip() != "protect: true"
                              and not line.strip().startswith("protect: true ")) + "\n")
    stack = load_stack(path)
    rg = str(stack.target.resource_group)
    assert run(capsys, "apply", str(path), "--target", "local", "--auto-approve")[0] == 0
    assert run(capsys, "plan", str(path), "--target", "local", "--detailed-exitcode")[0] == 0
    clients = local_clients(stacks)
    assert owned(clients, rg, stack.name)
    code, out, err = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 0, out + err
    assert "Destroy complete" in out
    assert owned(clients, rg, stack.name) == []
    # jobs went before their pools, pools before their account
    lines = [line for line in out.splitlines() if "delete done" in line]
    order = [line.split(": ")[0].split(" ", 1)[1] for line in lines]
    jobs = [i for i, a in enumerate(order) if ".jobs." in a]
    pools = [i for i, a in enumerate(order) if ".pools." in a]
    accounts = [i for i, a in enumerate(order) if a.count(".") == 1 and a.startswith("batchAccounts")]
    assert max(jobs, default=-1) < min(pools, default=99) and max(pools, default=-1) < min(accounts, default=99)
    # destroying again has nothing to do
    code, out, _ = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 0 and "No changes" in out


def _foreign_pool(clients: Clients) -> dict[str, Any]:
    return {"properties": {
        "vmSize": "Standard_D2s_v3",
        "deploymentConfiguration": {"virtualMachineConfiguration": {
            "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                               "sku": "22_04-lts", "version": "latest"},
            "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
    }}


def test_a_pool_the_stack_does_not_own_survives(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = stacks / "quickstart.yaml"
    assert run(capsys, "apply", str(path), "--target", "local", "--auto-approve")[0] == 0
    clients = local_clients(stacks)
    clients.batch_mgmt.pool.create("rg-quickstart", "baquickstart01", "someone-elses", _foreign_pool(clients))

    # --only the stack's pool: the pool and its job go, the other pool stays
    code, out, err = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve",
                         "--only", "batchAccounts.main.pools.small")
    assert code == 0, out + err
    assert "batchAccounts.main.pools.small: delete done" in out
    assert "batchAccounts.main.jobs.hello: delete done" in out
    pools = {rest(p)["name"] for p in clients.batch_mgmt.pool.list_by_batch_account("rg-quickstart", "baquickstart01")}
    assert pools == {"someone-elses"}

    # the account holds a pool the stack does not own: refused, naming it
    code, out, err = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 1
    assert "someone-elses" in err and "--force" in err
    assert {rest(a)["name"] for a in clients.batch_mgmt.batch_account.list_by_resource_group("rg-quickstart")} == {
        "baquickstart01"}

    # --force deletes the account with what it holds
    code, out, err = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss",
                         "--force")
    assert code == 0, out + err
    assert owned(clients, "rg-quickstart", "quickstart") == []


def test_destroy_leaves_other_stacks_alone(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quick = stacks / "quickstart.yaml"
    other = stacks / "other.yaml"
    other.write_text(quick.read_text().replace("stack: quickstart", "stack: other")
                     .replace("stquickstart01", "stother01").replace("baquickstart01", "baother01"))
    assert run(capsys, "apply", str(quick), "--target", "local", "--auto-approve")[0] == 0
    assert run(capsys, "apply", str(other), "--target", "local", "--auto-approve")[0] == 0
    code, out, err = run(capsys, "destroy", str(quick), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 0, out + err
    clients = local_clients(stacks)
    assert owned(clients, "rg-quickstart", "quickstart") == []
    assert sorted(owned(clients, "rg-quickstart", "other")) == ["batch baother01", "pool small", "storage stother01"]
    assert run(capsys, "plan", str(other), "--target", "local", "--detailed-exitcode")[0] == 0
