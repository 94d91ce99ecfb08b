"""A stack's identity (issue 10): two stack files with the same `stack:` name.

Apply records on every account and network it writes which stack file declared it (ARM tag
`deployer.stackFile`: the file's path from the git root). A plan from another file that would
delete such an account is refused — plan, apply and destroy, exit 1, naming the other file and
everything that would go — unless `--force`. Accounts recorded before this existed (no tag) keep
the old behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.resources.ownership import STACK_FILE_KEY, STACK_KEY
from deployer.resources.read import rest
from tests.integration.cli import run
from tests.unit.stacks import POOL

ONE = """\
stack: twins
target: {kind: local, resourceGroup: rg-twins, location: westeurope}
networks:
  hpc:
    name: vnet-twins-one
    addressSpace: [10.1.0.0/16]
    subnets:
      nodes: {addressPrefix: 10.1.0.0/24}
storageAccounts:
  data:
    name: sttwinsone
    containers: [input]
batchAccounts:
  main:
    name: batwinsone
    autoStorage: data
    pools:
      small:
""" + POOL + """\
    jobs:
      hello:
        pool: small
"""

TWO = """\
stack: twins
target: {kind: local, resourceGroup: rg-twins, location: westeurope}
batchAccounts:
  main:
    name: batwinstwo
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    (tmp_path / ".git").mkdir()  # the repository root: stack files are named from here
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "one.yaml").write_text(ONE)
    (tmp_path / "stacks" / "two.yaml").write_text(TWO)
    return tmp_path


def accounts(work: Path) -> dict[str, dict[str, str]]:
    """Batch and storage accounts in the resource group -> their tags."""
    clients = Clients.for_emulator_embedded(work / "state")
    found = {}
    for account in clients.batch_mgmt.batch_account.list_by_resource_group("rg-twins"):
        found[rest(account)["name"]] = rest(account).get("tags") or {}
    for account in clients.storage.storage_accounts.list_by_resource_group("rg-twins"):
        found[rest(account)["name"]] = rest(account).get("tags") or {}
    return found


def test_a_second_file_with_the_same_stack_name_does_not_delete_the_first_ones_accounts(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one, two = str(work / "stacks" / "one.yaml"), str(work / "stacks" / "two.yaml")
    code, out, err = run(capsys, "apply", one, "--auto-approve")
    assert code == 0, out + err
    tags = accounts(work)
    network = rest(Clients.for_emulator_embedded(work / "state").network.virtual_networks.get("rg-twins",
                                                                                              "vnet-twins-one"))
    assert network["tags"][STACK_FILE_KEY] == "stacks/one.yaml"
    assert tags["batwinsone"][STACK_FILE_KEY] == "stacks/one.yaml"
    assert tags["sttwinsone"][STACK_FILE_KEY] == "stacks/one.yaml"
    assert run(capsys, "plan", one, "--detailed-exitcode")[0] == 0  # the tag is no phantom diff

    for command in (("plan",), ("apply", "--auto-approve", "--allow-data-loss"),
                    ("destroy", "--auto-approve", "--allow-data-loss")):
        code, out, err = run(capsys, *command, two)
        assert code == 1, (command, out + err)
        assert "stacks/one.yaml" in err and "stacks/two.yaml" in err, err
        assert "Batch account batwinsone" in err and "storage account sttwinsone" in err, err
        assert "pool small" in err and "job hello" in err and "container input" in err, err
        assert "network vnet-twins-one (networks.vnet-twins-one) with subnet nodes" in err, err
        assert "--force" in err, err
    assert set(accounts(work)) == {"batwinsone", "sttwinsone"}  # nothing was deleted or created

    code, out, err = run(capsys, "plan", two, "--force", "--format", "json")
    assert code == 0, out + err
    warned = {c["address"]: c["warnings"] for c in json.loads(out)["changes"] if c["action"] == "delete"}
    assert any("stacks/one.yaml" in w for w in warned["batchAccounts.batwinsone"]), warned
    code, out, err = run(capsys, "apply", two, "--auto-approve", "--allow-data-loss", "--force")
    assert code == 0, out + err
    assert set(accounts(work)) == {"batwinstwo"}
    assert accounts(work)["batwinstwo"][STACK_FILE_KEY] == "stacks/two.yaml"
    assert run(capsys, "plan", two, "--detailed-exitcode")[0] == 0


def test_accounts_recorded_before_the_stack_file_tag_keep_the_old_behaviour(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one, two = str(work / "stacks" / "one.yaml"), str(work / "stacks" / "two.yaml")
    assert run(capsys, "apply", one, "--auto-approve")[0] == 0
    clients = Clients.for_emulator_embedded(work / "state")
    clients.batch_mgmt.batch_account.update("rg-twins", "batwinsone", {"tags": {STACK_KEY: "twins"}})
    clients.storage.storage_accounts.update("rg-twins", "sttwinsone", {"tags": {STACK_KEY: "twins"}})
    clients.network.virtual_networks.update_tags("rg-twins", "vnet-twins-one", {"tags": {STACK_KEY: "twins"}})
    assert STACK_FILE_KEY not in accounts(work)["batwinsone"]
    code, out, err = run(capsys, "apply", two, "--auto-approve", "--allow-data-loss")
    assert code == 0, out + err
    assert set(accounts(work)) == {"batwinstwo"}
