"""`deploy import` and `deploy export`: resources made by plain SDK calls become a stack's.

Done when (issue 16): import then `plan --detailed-exitcode` exits 0 for a pool, a job and an
account created outside the deployer; export of an account with 3 pools and 2 jobs writes a
stack that validates and plans empty (everything in it owned, nothing to change).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deployer.azure import Clients
from deployer.cli import main
from tests.unit.stacks import POOL

RG = "rg-adopt"
IMAGE = {"imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
                            "version": "latest"}, "nodeAgentSkuId": "batch.node.ubuntu 22.04"}

STACK = """\
stack: adopt
target: {kind: local, resourceGroup: rg-adopt, location: westeurope}
storageAccounts:
  data: {name: stadopt01, sku: Standard_LRS, kind: StorageV2}
batchAccounts:
  main:
    name: baadopt01
    autoStorage: data
    pools:
      p1:
""" + POOL + """\
    jobs:
      j1:
        pool: p1
        priority: PRIORITY
"""


@pytest.fixture
def estate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty local target in tmp_path, and SDK clients on it (another tool's)."""
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    clients = Clients.for_emulator_embedded(tmp_path / "state")
    yield clients
    clients.close()


def make_account(c: Clients, name: str, storage: str) -> Any:
    c.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
    c.storage.storage_accounts.begin_create(RG, storage, {"location": "westeurope", "sku": {"name": "Standard_LRS"},
                                                          "kind": "StorageV2"}).result()
    storage_id = (f"/subscriptions/{c.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                  f"storageAccounts/{storage}")
    c.batch_mgmt.batch_account.begin_create(RG, name, {"location": "westeurope", "properties": {
        "autoStorage": {"storageAccountId": storage_id}}}).result()
    return c.batch_data(c.batch_mgmt.batch_account.get(RG, name).account_endpoint)


def make_pool(c: Clients, account: str, pool: str, vm: str = "Standard_D2s_v3", nodes: int = 0) -> None:
    c.batch_mgmt.pool.create(RG, account, pool, {"properties": {
        "vmSize": vm, "deploymentConfiguration": {"virtualMachineConfiguration": IMAGE},
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": nodes}}}})


def make_job(data: Any, job: str, pool: str, priority: int = 0) -> None:
    from azure.batch import models

    data.create_job(models.BatchJobCreateOptions({"id": job, "poolInfo": {"poolId": pool}, "priority": priority}))


def foreign_stack(estate: Clients, tmp_path: Path, priority: int, job_priority: int | None = 10) -> Path:
    """Another tool's Batch account baadopt01 with pool p1 and (unless `job_priority` is None) job j1,
    and the stack file that declares them, its job j1 at `priority`."""
    data = make_account(estate, "baadopt01", "stadopt01")
    make_pool(estate, "baadopt01", "p1")
    if job_priority is not None:
        make_job(data, "j1", "p1", priority=job_priority)
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("PRIORITY", str(priority)), encoding="utf-8")
    return stack


def plan_json(stack: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["plan", str(stack), "--format", "json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_import_a_pool_a_job_and_an_account_then_the_plan_is_empty(estate, tmp_path, capsys):
    stack = foreign_stack(estate, tmp_path, priority=10)

    before = plan_json(stack, capsys)
    assert {c["address"]: c["managed"] for c in before["changes"]} == {
        "storageAccounts.data": False, "batchAccounts.main": False, "batchAccounts.main.pools.p1": False,
        "batchAccounts.main.jobs.j1": False}
    assert all(c["action"] == "no-op" for c in before["changes"])  # nothing created in someone else's account
    assert main(["plan", str(stack)]) == 0
    text = capsys.readouterr().out
    assert "Not managed: 4 resources" in text and "deploy import" in text

    sub = estate.subscription_id
    account_id = f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Batch/batchAccounts/baadopt01"
    for address, azure_id in [
        ("storageAccounts.data", f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                                 "storageAccounts/stadopt01"),
        ("batchAccounts.main", account_id),
        ("batchAccounts.main.pools.p1", account_id + "/pools/p1"),
        ("batchAccounts.main.jobs.j1", account_id + "/jobs/j1"),
    ]:
        assert main(["import", str(stack), address, azure_id, "--yes"]) == 0, capsys.readouterr().err
        out = capsys.readouterr()
        assert f"{address} (" in out.out and "the stack and Azure agree" in out.out
        assert f"imported 1 resource into stack adopt: {address}" in out.err

    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0
    after = plan_json(stack, capsys)
    assert all(c["managed"] and c["action"] == "no-op" for c in after["changes"])
    # the markers are on the resources themselves
    pool = estate.batch_mgmt.pool.get(RG, "baadopt01", "p1")
    assert {m.name: m.value for m in pool.metadata}["deployer.stack"] == "adopt"
    tags = estate.batch_mgmt.batch_account.get(RG, "baadopt01").tags
    assert tags["deployer.stack"] == "adopt"
    assert tags["deployer.stackFile"] == stack.name  # the declaring file (no git root above tmp_path)


def test_import_shows_what_differs_and_the_plan_then_changes_it(estate, tmp_path, capsys):
    stack = foreign_stack(estate, tmp_path, priority=20)
    assert main(["import", str(stack), "--all", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "batchAccounts.main.jobs.j1 (job j1): the stack and Azure disagree" in out
    assert "~ priority: 10 -> 20" in out
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 2  # owned now: apply would change the priority


@pytest.mark.parametrize(("argv", "message"), [
    (["batchAccounts.main.pools.nope"], "no such resource in stack adopt"),
    (["batchAccounts.main.pools.p1", "/subscriptions/x/resourceGroups/rg-adopt/providers/Microsoft.Batch/"
      "batchAccounts/baadopt01/pools/other"], "is not batchAccounts.main.pools.p1: the stack pairs it with"),
])
def test_import_refuses_what_it_cannot_pair(estate, tmp_path, capsys, argv, message):
    stack = foreign_stack(estate, tmp_path, priority=0, job_priority=None)
    assert main(["import", str(stack), *argv, "--yes"]) == 1
    assert message in capsys.readouterr().err


def test_export_an_account_with_3_pools_and_2_jobs_validates_and_plans_empty(estate, tmp_path, capsys):
    data = make_account(estate, "baexport01", "stexport01")
    make_account(estate, "baother01", "stother01")  # another account in the group: not exported
    make_pool(estate, "baexport01", "render", nodes=1)
    make_pool(estate, "baexport01", "encode", vm="Standard_D4s_v3")
    estate.batch_mgmt.pool.create(RG, "baexport01", "auto", {"properties": {
        "vmSize": "Standard_D2s_v3", "deploymentConfiguration": {"virtualMachineConfiguration": IMAGE},
        "taskSlotsPerNode": 2, "metadata": [{"name": "team", "value": "vfx"}],
        "scaleSettings": {"autoScale": {"formula": "$TargetDedicatedNodes = 0;", "evaluationInterval": "PT5M"}}}})
    make_job(data, "nightly", "render", priority=50)
    make_job(data, "adhoc", "encode")
    stack = tmp_path / "exported.yaml"
    assert main(["export", "--target", "local", "-g", RG, "--account", "baexport01", "--stack-name", "estate",
                 "--out", str(stack), "--import", "--yes"]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "0 networks, 1 storage accounts, 1 Batch accounts, 3 pools, 2 jobs" in err
    assert "imported 7 resources into stack estate" in err
    assert main(["validate", str(stack)]) == 0
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0, capsys.readouterr().out
    plan = plan_json(stack, capsys)
    assert sorted(c["address"] for c in plan["changes"] if c["kind"] in ("pool", "job")) == [
        "batchAccounts.baexport01.jobs.adhoc", "batchAccounts.baexport01.jobs.nightly",
        "batchAccounts.baexport01.pools.auto", "batchAccounts.baexport01.pools.encode",
        "batchAccounts.baexport01.pools.render"]
    assert all(c["managed"] and c["action"] == "no-op" for c in plan["changes"])
    assert "baother01" not in stack.read_text()


def test_export_a_resource_group_with_a_network_containers_and_shares(estate, tmp_path, capsys):
    c = estate
    make_account(c, "banet01", "stnet01")
    c.network.virtual_networks.begin_create_or_update(RG, "vnet-a", {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.1.0.0/20"}}]}}).result()
    c.storage.blob_containers.create(RG, "stnet01", "input", {})
    c.storage.file_shares.create(RG, "stnet01", "scratch", {"properties": {"shareQuota": 10}})
    subnet = (f"/subscriptions/{c.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Network/"
              "virtualNetworks/vnet-a/subnets/nodes")
    c.batch_mgmt.pool.create(RG, "banet01", "private", {"properties": {
        "vmSize": "Standard_D2s_v3", "deploymentConfiguration": {"virtualMachineConfiguration": IMAGE},
        "networkConfiguration": {"subnetId": subnet, "publicIPAddressConfiguration": {
            "provision": "NoPublicIPAddresses"}},
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}}}})
    stack = tmp_path / "estate.yaml"
    assert main(["export", "--target", "local", "-g", RG, "--out", str(stack), "--import", "--yes"]) == 0
    assert "1 networks, 1 storage accounts, 1 Batch accounts, 1 pools, 0 jobs" in capsys.readouterr().err
    text = stack.read_text()
    assert "subnet: vnet-a.nodes" in text and "- input" in text and "quotaGiB: 10" in text
    assert main(["validate", str(stack)]) == 0
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0, capsys.readouterr().out
    plan = plan_json(stack, capsys)
    assert {c["address"] for c in plan["changes"]} >= {"networks.vnet-a", "storageAccounts.stnet01.containers.input",
                                                      "storageAccounts.stnet01.fileShares.scratch"}
    assert all(c["managed"] and c["action"] == "no-op" for c in plan["changes"])


def test_import_all_narrowed_to_an_account_by_its_azure_id(estate, tmp_path, capsys):
    stack = foreign_stack(estate, tmp_path, priority=0, job_priority=0)
    account_id = (f"/subscriptions/{estate.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Batch/"
                  "batchAccounts/baadopt01")
    assert main(["import", str(stack), "--all", account_id, "--yes"]) == 0
    assert ("imported 3 resources into stack adopt: batchAccounts.main, batchAccounts.main.pools.p1, "
            "batchAccounts.main.jobs.j1") in capsys.readouterr().err
    managed = {c["address"]: c["managed"] for c in plan_json(stack, capsys)["changes"]}
    assert managed == {"storageAccounts.data": False, "batchAccounts.main": True,
                       "batchAccounts.main.pools.p1": True, "batchAccounts.main.jobs.j1": True}
    other_group = account_id.replace(RG, "rg-elsewhere")
    assert main(["import", str(stack), "--all", other_group, "--yes"]) == 1
    assert "is outside the stack's target" in capsys.readouterr().err
