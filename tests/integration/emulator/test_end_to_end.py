"""Issue 3's acceptance path, end to end, through the unmodified Azure SDK clients only.

One environment is built the way the deployer will build it — resource group, storage account
with a container and a share, VNet and subnet, Batch account linked to the storage account, a
pool in the subnet mounting the share, a job and 1,000 tasks — in both embedded and served
mode, then read back and checked against the shapes of Microsoft's examples.
"""

from __future__ import annotations

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError

LOCATION = "westeurope"
RG = "rg-e2e"
STORAGE = "ste2edata01"
BATCH = "bae2e01"
POOL = "transcode"
JOB = "render"


def build(emulator):
    """Create the whole environment; return what later steps need."""
    c = emulator.clients
    c.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    account = c.storage.storage_accounts.begin_create(
        RG, STORAGE, {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    ).result()
    c.storage.blob_containers.create(RG, STORAGE, "input", {})
    c.storage.file_shares.create(RG, STORAGE, "scratch", {"properties": {"shareQuota": 100}})
    vnet = c.network.virtual_networks.begin_create_or_update(
        RG, "vnet-e2e",
        {"location": LOCATION, "properties": {
            "addressSpace": {"addressPrefixes": ["10.40.0.0/16"]},
            "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.40.0.0/20"}}]}},
    ).result()
    subnet_id = vnet.subnets[0].id
    batch = c.batch_mgmt.batch_account.begin_create(
        RG, BATCH, {"location": LOCATION, "properties": {"autoStorage": {"storageAccountId": account.id}}}
    ).result()
    key = c.storage.storage_accounts.list_keys(RG, STORAGE)["keys"][0]["value"]
    pool = c.batch_mgmt.pool.create(RG, BATCH, POOL, pool_body(subnet_id, key, dedicated=2))
    return {"account": account, "batch": batch, "subnet_id": subnet_id, "key": key, "pool": pool}


def pool_body(subnet_id: str, key: str, *, dedicated: int, vm_size: str = "Standard_D2s_v3") -> dict:
    return {
        "properties": {
            "vmSize": vm_size,
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                                       "sku": "22_04-lts"},
                    "nodeAgentSkuId": "batch.node.ubuntu 22.04",
                }
            },
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": dedicated}},
            "networkConfiguration": {"subnetId": subnet_id},
            "mountConfiguration": [{"azureFileShareConfiguration": {
                "accountName": STORAGE,
                "azureFileUrl": f"https://{STORAGE}.file.core.windows.net/scratch",
                "accountKey": key,
                "relativeMountPath": "scratch",
            }}],
            "metadata": [{"name": "deployer.stack", "value": "e2e"}, {"name": "b", "value": "2"}],
        }
    }


def test_environment_round_trip(emulator, frozen_clock):
    from azure.batch import models as batch_models

    built = build(emulator)
    c = emulator.clients

    # Storage and network read back as Azure shapes them.
    account = c.storage.storage_accounts.get_properties(RG, STORAGE)
    assert account.provisioning_state == "Succeeded"
    assert account.primary_endpoints.blob.rstrip("/").endswith(f"/blob/{STORAGE}")
    assert [s.name for s in c.storage.file_shares.list(RG, STORAGE)] == ["scratch"]
    assert [x.name for x in c.storage.blob_containers.list(RG, STORAGE)] == ["input"]
    assert c.network.subnets.get(RG, "vnet-e2e", "nodes").address_prefix == "10.40.0.0/20"

    # The Batch account reports its endpoint and its auto-storage link.
    batch = c.batch_mgmt.batch_account.get(RG, BATCH)
    assert batch.auto_storage.storage_account_id.lower() == built["account"].id.lower()
    assert batch.account_endpoint.endswith(f"/batch/{BATCH}")

    # The pool reads back like PoolGet.json: vmSize in another case, defaults filled in,
    # the mount key never returned, metadata kept in order.
    pool = c.batch_mgmt.pool.get(RG, BATCH, POOL)
    assert pool.vm_size.lower() == "standard_d2s_v3" and pool.vm_size != "Standard_D2s_v3"
    assert pool.deployment_configuration.virtual_machine_configuration.image_reference.version == "latest"
    assert pool.task_slots_per_node == 1
    assert pool.inter_node_communication == "Disabled"
    assert pool.network_configuration.subnet_id.lower() == built["subnet_id"].lower()
    mount = pool.mount_configuration[0].azure_file_share_configuration
    assert mount.relative_mount_path == "scratch" and not mount.account_key
    assert [(m.name, m.value) for m in pool.metadata] == [("deployer.stack", "e2e"), ("b", "2")]
    assert pool.allocation_state == "Resizing"
    frozen_clock.advance(600)
    pool = c.batch_mgmt.pool.get(RG, BATCH, POOL)
    assert (pool.allocation_state, pool.current_dedicated_nodes) == ("Steady", 2)

    # A job and 1,000 tasks through the Batch data plane.
    data = c.batch_data(batch.account_endpoint)
    data.create_job(batch_models.BatchJobCreateOptions(id=JOB, pool_info=batch_models.BatchPoolInfo(pool_id=POOL)))
    tasks = [batch_models.BatchTaskCreateOptions(id=f"t{i:04d}", command_line=f"echo {i}") for i in range(1000)]
    result = data.create_tasks(JOB, tasks)
    assert len(result.result_values) == 1000
    assert all(r.status == "success" for r in result.result_values)
    listed = list(data.list_tasks(JOB))
    assert sorted(t.id for t in listed) == [f"t{i:04d}" for i in range(1000)]
    job = data.get_job(JOB)
    assert job.pool_info.pool_id == POOL and job.state == "active"
    counts = data.get_job_task_counts(JOB)
    assert counts.task_counts.active + counts.task_counts.running + counts.task_counts.completed == 1000


def test_empty_pool_only_property_and_etags(emulator, frozen_clock):
    built = build(emulator)
    c = emulator.clients
    frozen_clock.advance(600)
    first = c.batch_mgmt.pool.get(RG, BATCH, POOL)
    assert first.current_dedicated_nodes == 2

    # vmSize cannot change while the pool has nodes...
    with pytest.raises(HttpResponseError) as info:
        c.batch_mgmt.pool.update(RG, BATCH, POOL, {"properties": {"vmSize": "Standard_D4s_v3"}})
    assert info.value.error.code == "PropertyCannotBeUpdated"

    # ...and can once the pool is scaled to zero and steady. Every write changes the ETag.
    scaled = c.batch_mgmt.pool.update(
        RG, BATCH, POOL, {"properties": {"scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}}}})
    assert scaled.etag != first.etag
    frozen_clock.advance(600)
    assert c.batch_mgmt.pool.get(RG, BATCH, POOL).current_dedicated_nodes == 0
    resized = c.batch_mgmt.pool.update(RG, BATCH, POOL, {"properties": {"vmSize": "Standard_D4s_v3"}})
    assert resized.vm_size.lower() == "standard_d4s_v3"
    assert resized.etag not in (first.etag, scaled.etag)

    # A second create with If-None-Match: * is refused.
    with pytest.raises((ResourceExistsError, ResourceModifiedError, HttpResponseError)) as info:
        c.batch_mgmt.pool.create(RG, BATCH, POOL, pool_body(built["subnet_id"], built["key"], dedicated=1),
                                 match_condition=MatchConditions.IfMissing)
    assert info.value.status_code in (409, 412)


def test_served_restart_keeps_everything(data_dir, start_emulator):
    first = start_emulator("served", data_dir)
    build(first)
    first.stop()
    again = start_emulator("served", data_dir)
    c = again.clients
    assert c.storage.storage_accounts.get_properties(RG, STORAGE).name == STORAGE
    assert c.batch_mgmt.pool.get(RG, BATCH, POOL).name == POOL
    # The embedded emulator on the same data directory sees the same state.
    embedded = start_emulator("embedded", data_dir)
    assert embedded.clients.batch_mgmt.batch_account.get(RG, BATCH).name == BATCH


def test_sdk_retries_recover_from_throttling(emulator, faults):
    emulator.clients.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    emulator.clear_requests()
    faults("429=0.3", seed=3)
    for i in range(10):
        emulator.clients.resource.resource_groups.create_or_update(f"rg-{i}", {"location": LOCATION})
    log = emulator.requests()
    throttled = [r for r in log if r["status"] == 429]
    assert throttled, "the fault injection produced no 429"
    for i in range(10):
        assert emulator.clients.resource.resource_groups.get(f"rg-{i}").name == f"rg-{i}"
    # Each throttled request was retried by the SDK and eventually succeeded.
    paths = {r["path"] for r in throttled}
    assert all(any(r["path"] == p and r["status"] in (200, 201) for r in log) for p in paths)
