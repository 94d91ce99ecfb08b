"""The desired model: every resource of a stack gets an address and its dependencies."""

from __future__ import annotations

import pytest

from deployer.errors import StackError
from deployer.stack.model import Address, Kind, load_stack
from tests.unit.stacks import mutate


def write(tmp_path, text):
    path = tmp_path / "stack.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_addresses_and_dependencies(tmp_path):
    text = mutate("        taskSlotsPerNode: 2\n", "        taskSlotsPerNode: 2\n"
                  "        networkConfiguration: {subnet: hpc.nodes}\n"
                  "        mountConfiguration:\n"
                  "          - azureFileShareConfiguration: {storage: data, share: scratch, relativeMountPath: s}\n")
    stack = load_stack(write(tmp_path, text))
    assert stack.name == "demo"
    assert stack.target.kind == "local"
    addresses = {str(r.address): r for r in stack.resources}
    assert set(addresses) == {
        "networks.hpc",
        "storageAccounts.data",
        "storageAccounts.data.containers.input",
        "storageAccounts.data.containers.output",
        "storageAccounts.data.fileShares.scratch",
        "batchAccounts.main",
        "batchAccounts.main.pools.p1",
        "batchAccounts.main.jobs.j1",
    }
    pool = addresses["batchAccounts.main.pools.p1"]
    assert pool.kind is Kind.POOL
    assert set(map(str, pool.depends_on)) == {
        "batchAccounts.main", "networks.hpc", "storageAccounts.data.fileShares.scratch"}
    assert set(map(str, addresses["batchAccounts.main"].depends_on)) == {"storageAccounts.data"}
    assert "containers" not in addresses["storageAccounts.data"].spec


def test_invalid_stack_raises_with_all_diagnostics(tmp_path):
    text = mutate("pool: p1", "pool: p2", mutate("kind: local", "kind: lokal"))
    with pytest.raises(StackError) as info:
        load_stack(write(tmp_path, text))
    assert len(info.value.diagnostics) == 2


def test_address_parse_and_contains():
    account = Address.parse("batchAccounts.main")
    assert account.contains(Address.parse("batchAccounts.main.pools.p1"))
    assert not account.contains(Address.parse("batchAccounts.other"))
    assert str(account.child("pools", "p1")) == "batchAccounts.main.pools.p1"
