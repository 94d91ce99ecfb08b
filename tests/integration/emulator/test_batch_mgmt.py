"""Microsoft.Batch management through azure-mgmt-batch's BatchManagementClient, embedded and served.

Shapes are checked against Microsoft's published examples (tests/fixtures/azure-rest-examples): the
emulator must answer the way Azure does (defaults filled in, vmSize re-cased, secrets dropped,
weak ETags), not echo the request.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.batch.models import AutoStorageBaseProperties, BatchAccountCreateParameters

from deployer.emulator.batch_mgmt import models
from deployer.emulator.core import etag

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures/azure-rest-examples/specification/batch/resource-manager"
BATCH = EXAMPLES / "Microsoft.Batch/Batch"
RG = "rg-batch"
LOCATION = "westeurope"
M15 = timedelta(minutes=15)
IMAGE = {
    "virtualMachineConfiguration": {
        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
        "nodeAgentSkuId": "batch.node.ubuntu 22.04",
    }
}


def example(name: str) -> dict:
    for path in (BATCH / "stable/2025-06-01/examples" / name, BATCH / "examples/2025-06-01" / name):
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"example {name} missing from tests/fixtures/azure-rest-examples")


def pool_body(vm_size: str = "Standard_D2s_v3", dedicated: int = 0, low: int = 0, **props) -> dict:
    return {
        "properties": {
            "vmSize": vm_size,
            "deploymentConfiguration": copy.deepcopy(IMAGE),
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": dedicated, "targetLowPriorityNodes": low}},
            **props,
        }
    }


def error_of(exc: HttpResponseError) -> tuple[int, str]:
    return exc.status_code, exc.error.code


@pytest.fixture(autouse=True)
def _instant(monkeypatch):
    monkeypatch.setenv(models.RESIZE_ENV, "0")
    monkeypatch.delenv(models.QUOTAS_ENV, raising=False)


class Env:
    def __init__(self, emulator, storage_id: str | None, account: str) -> None:
        self.emulator = emulator
        self.storage_id = storage_id
        self.account = account
        self.bm = emulator.clients.batch_mgmt
        self.pool = self.bm.pool

    def create_pool(self, name: str, body: dict | None = None, **kwargs):
        return self.pool.create(RG, self.account, name, body or pool_body(), **kwargs)


def make_storage(emulator, name: str = "stbatchauto") -> str:
    return (
        emulator.clients.storage.storage_accounts.begin_create(
            RG, name, {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        )
        .result()
        .id
    )


def make_account(emulator, name: str, storage_id: str | None, **props):
    properties = dict(props)
    if storage_id:
        properties["autoStorage"] = {"storageAccountId": storage_id}
    return emulator.clients.batch_mgmt.batch_account.begin_create(
        RG, name, {"location": LOCATION, "properties": properties}
    ).result()


@pytest.fixture
def env(emulator) -> Env:
    emulator.clients.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    storage_id = make_storage(emulator)
    make_account(emulator, "batchacct", storage_id)
    return Env(emulator, storage_id, "batchacct")


# -- accounts ----------------------------------------------------------------------------------


def test_account_create_is_long_running_and_reads_back_like_azure(emulator):
    emulator.clients.resource.resource_groups.create_or_update(RG, {"location": "West Europe"})
    storage_id = make_storage(emulator)
    emulator.clear_requests()
    accounts = emulator.clients.batch_mgmt.batch_account
    # the SDK's model flattens `properties` (a plain dict must nest autoStorage under "properties")
    params = BatchAccountCreateParameters(
        location="West Europe", auto_storage=AutoStorageBaseProperties(storage_account_id=storage_id)
    )
    poller = accounts.begin_create(RG, "sampleacct", params)
    created = poller.result()
    put = next(e for e in emulator.requests() if e["method"] == "PUT")
    assert put["status"] == 202 and poller.status() == "Succeeded"

    got = emulator.clients.batch_mgmt.batch_account.get(RG, "sampleacct")
    assert got.as_dict() == created.as_dict()
    body = got.as_dict()
    expected = example("BatchAccountGet.json")["responses"]["200"]["body"]
    assert set(expected) <= set(body)
    assert set(expected["properties"]) <= set(body["properties"])
    p = got.properties
    host = emulator.endpoint.split("://", 1)[1]
    assert p.account_endpoint == f"{host}/batch/sampleacct"
    assert (got.type, got.location, got.identity.type) == ("Microsoft.Batch/batchAccounts", "westeurope", "None")
    assert p.provisioning_state == "Succeeded" and p.pool_allocation_mode == "BatchService"
    assert p.public_network_access == "Enabled"
    assert p.auto_storage.storage_account_id == storage_id and p.auto_storage.last_key_sync is not None
    assert (p.dedicated_core_quota, p.low_priority_core_quota, p.pool_quota, p.active_job_and_job_schedule_quota) == (
        20,
        20,
        20,
        20,
    )
    assert p.allowed_authentication_modes == ["SharedKey", "AAD", "TaskAuthenticationToken"]
    assert p.dedicated_core_quota_per_vm_family

    assert [a.name for a in accounts.list_by_resource_group(RG)] == ["sampleacct"]
    assert [a.name for a in accounts.list()] == ["sampleacct"]


def test_keys_regenerate_and_shared_key_switch(env):
    accounts = env.bm.batch_account
    keys = accounts.get_keys(RG, env.account)
    assert keys.account_name == env.account and keys.primary and keys.secondary and keys.primary != keys.secondary
    renewed = accounts.regenerate_key(RG, env.account, {"keyName": "Primary"})
    assert renewed.primary != keys.primary and renewed.secondary == keys.secondary
    doc = models.account_by_name(env.emulator.app.store, env.account.upper())
    assert models.account_keys(doc) == {"primary": renewed.primary, "secondary": renewed.secondary}

    before = accounts.get(RG, env.account).properties.auto_storage.last_key_sync
    accounts.synchronize_auto_storage_keys(RG, env.account)
    assert accounts.get(RG, env.account).properties.auto_storage.last_key_sync >= before

    updated = accounts.update(RG, env.account, {"properties": {"allowedAuthenticationModes": ["AAD"]}})
    assert updated.properties.allowed_authentication_modes == ["AAD"]
    assert updated.properties.auto_storage.storage_account_id == env.storage_id
    with pytest.raises(HttpResponseError) as err:
        accounts.get_keys(RG, env.account)
    assert error_of(err.value) == (409, "OperationNotAllowed")
    with pytest.raises(HttpResponseError):
        accounts.regenerate_key(RG, env.account, {"keyName": "Secondary"})


def test_account_errors(env):
    accounts = env.bm.batch_account
    with pytest.raises(HttpResponseError) as err:
        accounts.begin_create(RG, "Bad_Name", {"location": LOCATION}).result()
    assert error_of(err.value) == (400, "AccountNameInvalid")
    with pytest.raises(ResourceNotFoundError) as err:
        accounts.begin_create("no-such-group", "acct2", {"location": LOCATION}).result()
    assert err.value.error.code == "ResourceGroupNotFound"
    missing = env.storage_id.rsplit("/", 1)[0] + "/nosuchstorage"
    with pytest.raises(HttpResponseError) as err:
        make_account(env.emulator, "acct3", missing)
    assert error_of(err.value) == (400, "InvalidParameter")
    with pytest.raises(HttpResponseError) as err:
        accounts.update(RG, env.account, {"properties": {"autoStorage": {"storageAccountId": missing}}})
    assert error_of(err.value) == (400, "InvalidParameter")
    with pytest.raises(ResourceNotFoundError) as err:
        accounts.get(RG, "nosuchacct")
    assert err.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        env.pool.get(RG, "nosuchacct", "p")
    with pytest.raises(HttpResponseError) as err:
        accounts.begin_create(RG, "acct4", {"properties": {}}).result()
    assert error_of(err.value) == (400, "LocationRequired")


def test_account_delete_removes_pools_applications_and_data_plane_state(env):
    env.create_pool("p1")
    env.bm.application.create(RG, env.account, "app1")
    store = env.emulator.app.store
    acct = models.account_by_name(store, env.account)
    store.put("batchJob", acct.key + "/jobs/job1", {"id": "job1"}, parent=acct.key)  # what batch_data keeps
    env.emulator.clear_requests()
    poller = env.bm.batch_account.begin_delete(RG, env.account)
    assert poller.result() is None
    assert next(e for e in env.emulator.requests() if e["method"] == "DELETE")["status"] == 202
    assert store.get("batchJob", acct.key + "/jobs/job1") is None
    assert store.list(models.KIND_POOL, prefix=acct.key + "/") == []
    assert store.list(models.KIND_APPLICATION, prefix=acct.key + "/") == []
    with pytest.raises(ResourceNotFoundError):
        env.bm.batch_account.get(RG, env.account)


# -- pools: shape --------------------------------------------------------------------------------


def test_pool_create_reads_back_like_azure(env):
    ex = example("PoolCreate_VirtualMachineConfiguration.json")
    body = copy.deepcopy(ex["parameters"]["parameters"])
    props = body["properties"]
    props["vmSize"] = "Standard_d4s_v3"
    props["metadata"] = [{"name": "zeta", "value": "1"}, {"name": "alpha", "value": "2"}, {"name": "mid", "value": ""}]
    props["userAccounts"] = [{"name": "alice", "password": "s3cret!", "elevationLevel": "Admin"}]
    props["mountConfiguration"] = [
        {
            "azureFileShareConfiguration": {
                "accountName": "st",
                "azureFileUrl": "https://st.file.core.windows.net/share",
                "accountKey": "KEY==",
                "relativeMountPath": "share",
            }
        },
        {"cifsMountConfiguration": {"userName": "u", "password": "p", "source": "//s/x", "relativeMountPath": "c"}},
    ]
    vmc = props["deploymentConfiguration"]["virtualMachineConfiguration"]
    vmc["extensions"] = [
        {
            "name": "kv",
            "publisher": "Microsoft.Azure.KeyVault",
            "type": "KeyVaultForLinux",
            "protectedSettings": {"x": 1},
        }
    ]
    del vmc["imageReference"]["version"]

    emulator = env.emulator
    emulator.clear_requests()
    created = env.create_pool("testpool", body)
    assert emulator.requests()[-1]["status"] == 200
    got = env.pool.get(RG, env.account, "testpool")
    for pool in (created, got):
        d = pool.as_dict()
        expected = ex["responses"]["200"]["body"]
        assert set(expected) <= set(d)
        assert set(expected["properties"]) <= set(d["properties"])
        p = pool.properties
        assert pool.type == "Microsoft.Batch/batchAccounts/pools" and pool.name == "testpool"
        assert pool.id.endswith(f"/batchAccounts/{env.account}/pools/testpool")
        assert p.vm_size == "STANDARD_D4S_V3"
        assert (p.provisioning_state, p.allocation_state) == ("Succeeded", "Steady")  # resize time 0 here
        assert p.inter_node_communication == "Disabled" and p.task_slots_per_node == 1
        assert p.task_scheduling_policy.node_fill_type == "Spread"
        assert p.deployment_configuration.virtual_machine_configuration.image_reference.version == "latest"
        assert p.scale_settings.auto_scale.formula == "$TargetDedicatedNodes=1"
        assert p.scale_settings.auto_scale.evaluation_interval == timedelta(minutes=5)
        assert p.auto_scale_run.results.startswith("$TargetDedicatedNodes=1;")
        assert [(m.name, m.value) for m in p.metadata] == [("zeta", "1"), ("alpha", "2"), ("mid", "")]
        net = p.network_configuration
        assert net.dynamic_vnet_assignment_scope == "none" and net.enable_accelerated_networking is False
        text = json.dumps(d)
        for secret in ("s3cret!", "KEY==", '"p"', "protectedSettings", "protected_settings"):
            assert secret not in text
        assert p.user_accounts[0].name == "alice" and p.user_accounts[0].password is None
        assert pool.etag.startswith('W/"0x')
    assert created.etag == got.etag

    minimal = env.create_pool("minimal", pool_body("standard_a1_v2"))
    fixed = minimal.properties.scale_settings.fixed_scale
    assert (fixed.resize_timeout, fixed.target_dedicated_nodes, fixed.target_low_priority_nodes) == (M15, 0, 0)
    assert fixed.node_deallocation_option is None
    assert minimal.properties.resize_operation_status is None  # nothing to resize to
    assert minimal.properties.vm_size == "STANDARD_A1_V2"


def test_etag_header_and_preconditions(env):
    resp_headers = {}
    created = env.pool.create(
        RG, env.account, "p1", pool_body(), cls=lambda resp, body, headers: (resp_headers.update(headers), body)[1]
    )
    assert resp_headers["ETag"] == created.etag and created.etag.startswith('W/"0x8')
    with pytest.raises(HttpResponseError) as err:
        env.create_pool("p1", pool_body(), match_condition=MatchConditions.IfMissing)  # If-None-Match: *
    assert error_of(err.value) == (412, "ConditionNotMet")
    assert err.value.error.target == "BatchAccount"
    env.create_pool("p2", pool_body(), match_condition=MatchConditions.IfMissing)

    tags = [created.etag]
    tags.append(
        env.pool.update(RG, env.account, "p1", {"properties": {"metadata": [{"name": "a", "value": "1"}]}}).etag
    )
    with pytest.raises(HttpResponseError) as err:
        env.pool.update(
            RG, env.account, "p1", {"properties": {}}, etag=tags[0], match_condition=MatchConditions.IfNotModified
        )
    assert error_of(err.value) == (412, "ConditionNotMet")
    tags.append(
        env.pool.update(
            RG, env.account, "p1", {"properties": {}}, etag=tags[-1], match_condition=MatchConditions.IfNotModified
        ).etag
    )
    tags.append(env.create_pool("p1", pool_body(), etag=tags[-1], match_condition=MatchConditions.IfNotModified).etag)
    tags.append(env.pool.stop_resize(RG, env.account, "p1").etag)
    tags.append(env.pool.disable_auto_scale(RG, env.account, "p1").etag)
    assert len(set(tags)) == len(tags)
    assert env.pool.get(RG, env.account, "p1").etag == tags[-1]
    assert etag.strip(tags[-1]).startswith("0x")


# -- pools: allocation over time -------------------------------------------------------------------


def test_resizing_then_steady_for_fixed_and_autoscale(env, frozen_clock, monkeypatch):
    monkeypatch.setenv(models.RESIZE_ENV, "2")
    pool = env.create_pool("fixed", pool_body(dedicated=2, low=1))
    p = pool.properties
    assert (p.allocation_state, p.current_dedicated_nodes, p.current_low_priority_nodes) == ("Resizing", 0, 0)
    ros = p.resize_operation_status
    assert (ros.target_dedicated_nodes, ros.target_low_priority_nodes) == (2, 1)
    assert (ros.resize_timeout, ros.node_deallocation_option) == (M15, "Requeue")
    frozen_clock.advance(1.0)
    assert env.pool.get(RG, env.account, "fixed").properties.allocation_state == "Resizing"
    frozen_clock.advance(1.5)
    p = env.pool.get(RG, env.account, "fixed").properties
    assert (p.allocation_state, p.current_dedicated_nodes, p.current_low_priority_nodes) == ("Steady", 2, 1)
    assert p.allocation_state_transition_time > p.creation_time

    formula = "// constant\n$TargetDedicatedNodes = min(3, 5);\n$TargetLowPriorityNodes = max(0, 1);"
    auto = env.create_pool(
        "auto",
        pool_body("Standard_A1_v2", scaleSettings={"autoScale": {"formula": formula}}),
    )
    p = auto.properties
    assert p.scale_settings.auto_scale.evaluation_interval == M15
    assert p.allocation_state == "Resizing"
    assert p.auto_scale_run.results.startswith("$TargetDedicatedNodes=3;$TargetLowPriorityNodes=1;")
    frozen_clock.advance(2.0)
    p = env.pool.get(RG, env.account, "auto").properties
    assert (p.allocation_state, p.current_dedicated_nodes, p.current_low_priority_nodes) == ("Steady", 3, 1)

    metrics = env.create_pool(
        "metrics",
        pool_body(scaleSettings={"autoScale": {"formula": "$TargetDedicatedNodes = $PendingTasks.GetSample(1);"}}),
    )
    assert metrics.properties.allocation_state == "Steady"  # unknown value: 0 nodes, nothing to do

    # the data plane's view: one function
    store = env.emulator.app.store
    acct = models.account_by_name(store, env.account)
    state = models.pool_state(models.pool_of(store, acct, "FIXED"))
    assert (state.allocation_state, state.current_dedicated, state.current_low_priority) == ("Steady", 2, 1)
    assert [d.body["name"] for d in models.pools_of(store, acct)] == ["auto", "fixed", "metrics"]


def test_stop_resize_and_disable_autoscale(env, frozen_clock, monkeypatch):
    monkeypatch.setenv(models.RESIZE_ENV, "2")
    env.create_pool("p", pool_body(dedicated=3))
    stopped = env.pool.stop_resize(RG, env.account, "p").properties
    assert (stopped.allocation_state, stopped.current_dedicated_nodes) == ("Steady", 0)
    assert stopped.resize_operation_status.target_dedicated_nodes == 3
    assert stopped.scale_settings.fixed_scale.target_dedicated_nodes == 3
    frozen_clock.advance(5)
    assert env.pool.get(RG, env.account, "p").properties.current_dedicated_nodes == 0

    env.create_pool("a", pool_body(scaleSettings={"autoScale": {"formula": "$TargetDedicatedNodes=2"}}))
    frozen_clock.advance(5)
    disabled = env.pool.disable_auto_scale(RG, env.account, "a").properties
    assert disabled.scale_settings.auto_scale is None
    fixed = disabled.scale_settings.fixed_scale
    assert (fixed.target_dedicated_nodes, fixed.target_low_priority_nodes, fixed.resize_timeout) == (2, 0, M15)
    assert disabled.auto_scale_run is None
    assert (disabled.allocation_state, disabled.current_dedicated_nodes) == ("Steady", 2)


def test_properties_of_empty_pools_only(env, frozen_clock, monkeypatch):
    monkeypatch.setenv(models.RESIZE_ENV, "2")
    env.create_pool("p", pool_body("Standard_D2s_v3", dedicated=1))
    frozen_clock.advance(3)
    assert env.pool.get(RG, env.account, "p").properties.current_dedicated_nodes == 1

    with pytest.raises(HttpResponseError) as err:
        env.pool.update(RG, env.account, "p", {"properties": {"vmSize": "Standard_D4s_v3"}})
    assert error_of(err.value) == (400, "PropertyCannotBeUpdated")
    details = {d.code: d.message for d in err.value.error.details}
    assert details["PropertyName"] == "vmSize" and details["PropertyPath"] == "properties.vmSize"
    assert "RequestId:" in err.value.error.message and err.value.error.target == "BatchAccount"
    with pytest.raises(HttpResponseError) as err:
        env.create_pool("p", pool_body("Standard_D2s_v3", dedicated=1, taskSlotsPerNode=2))
    assert error_of(err.value) == (400, "PropertyCannotBeUpdated")
    # same vmSize in another case is no change; free properties change with nodes
    ok = env.pool.update(
        RG,
        env.account,
        "p",
        {"properties": {"vmSize": "STANDARD_D2S_V3", "metadata": [{"name": "k", "value": "v"}]}},
    )
    assert ok.properties.metadata[0].name == "k"

    shrinking = env.pool.update(RG, env.account, "p", {"properties": {"scaleSettings": {"fixedScale": {}}}})
    assert (shrinking.properties.allocation_state, shrinking.properties.current_dedicated_nodes) == ("Resizing", 1)
    with pytest.raises(HttpResponseError) as err:
        env.pool.update(RG, env.account, "p", {"properties": {"vmSize": "Standard_D4s_v3"}})
    assert error_of(err.value) == (400, "PropertyCannotBeUpdated")
    frozen_clock.advance(2)
    changed = env.pool.update(
        RG, env.account, "p", {"properties": {"vmSize": "Standard_D4s_v3", "taskSlotsPerNode": 4}}
    )
    assert (changed.properties.vm_size, changed.properties.task_slots_per_node) == ("STANDARD_D4S_V3", 4)


def test_patch_removes_start_task_and_mounts(env):
    start = {
        "commandLine": "/bin/bash -c 'echo hi'",
        "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
        "waitForSuccess": True,
    }
    mounts = [{"nfsMountConfiguration": {"source": "10.0.0.4:/x", "relativeMountPath": "x"}}]
    env.create_pool("p", pool_body(startTask=start, mountConfiguration=mounts))
    got = env.pool.get(RG, env.account, "p").properties
    assert got.start_task.command_line == start["commandLine"] and got.mount_configuration[0].nfs_mount_configuration
    updated = env.pool.update(RG, env.account, "p", {"properties": {"startTask": {}}}).properties
    assert updated.start_task is None and updated.mount_configuration is not None  # untouched by PATCH
    updated = env.pool.update(RG, env.account, "p", {"properties": {"mountConfiguration": []}}).properties
    assert updated.mount_configuration is None and updated.vm_size == "STANDARD_D2S_V3"
    assert env.pool.get(RG, env.account, "p").properties.start_task is None


# -- pools: lists, deletion, quotas, references ----------------------------------------------------


def test_pool_list_paging_select_and_filter(env):
    for name in ("pool-a", "pool-b", "pool-c", "other-d", "other-e"):
        env.create_pool(name, pool_body(dedicated=1 if name == "pool-b" else 0))
    env.emulator.clear_requests()
    assert [p.name for p in env.pool.list_by_batch_account(RG, env.account, maxresults=2)] == [
        "other-d",
        "other-e",
        "pool-a",
        "pool-b",
        "pool-c",
    ]
    pages = [e for e in env.emulator.requests() if e["method"] == "GET" and e["path"].endswith("/pools")]
    assert len(pages) == 3
    selected = list(
        env.pool.list_by_batch_account(
            RG,
            env.account,
            select="properties/allocationState,properties/currentDedicatedNodes",
            filter="startswith(name, 'pool') and properties/currentDedicatedNodes gt 0",
        )
    )
    assert [p.name for p in selected] == ["pool-b"]
    assert selected[0].properties.current_dedicated_nodes == 1 and selected[0].properties.vm_size is None
    either = env.pool.list_by_batch_account(
        RG, env.account, filter="name eq 'other-d' or (properties/allocationState eq 'steady' and name eq 'pool-a')"
    )
    assert sorted(p.name for p in either) == ["other-d", "pool-a"]
    with pytest.raises(HttpResponseError) as err:
        list(env.pool.list_by_batch_account(RG, env.account, filter="name eq"))
    assert err.value.status_code == 400


def test_pool_delete_is_long_running(env, frozen_clock, monkeypatch):
    monkeypatch.setenv(models.RESIZE_ENV, "3")
    env.create_pool("doomed")
    env.emulator.clear_requests()
    poller = env.pool.begin_delete(RG, env.account, "doomed")
    assert env.emulator.requests()[0]["status"] == 202
    p = env.pool.get(RG, env.account, "doomed").properties
    assert p.provisioning_state == "Deleting"
    with pytest.raises(HttpResponseError) as err:
        env.pool.update(RG, env.account, "doomed", {"properties": {}})
    assert error_of(err.value) == (409, "PoolBeingDeleted")
    frozen_clock.advance(3)
    poller.result(timeout=10)
    assert poller.status() == "Succeeded"
    with pytest.raises(ResourceNotFoundError) as err:
        env.pool.get(RG, env.account, "doomed")
    assert err.value.error.code == "PoolNotFound"
    assert list(env.pool.list_by_batch_account(RG, env.account)) == []
    env.create_pool("doomed")  # the name is free again


def test_pool_and_core_quotas(emulator, monkeypatch):
    monkeypatch.setenv(models.QUOTAS_ENV, "poolQuota=2,dedicatedCoreQuota=10")
    emulator.clients.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    acct = make_account(emulator, "quotaacct", None)
    assert (acct.properties.pool_quota, acct.properties.dedicated_core_quota) == (2, 10)
    pools = emulator.clients.batch_mgmt.pool
    # Standard_D4s_v3 has 4 vCPUs: 3 nodes need 12 cores, the quota allows 2 nodes
    big = pools.create(RG, "quotaacct", "big", pool_body("Standard_D4s_v3", dedicated=3))
    assert big.properties.current_dedicated_nodes == 2
    errs = big.properties.resize_operation_status.errors
    assert [e.code for e in errs] == ["AccountCoreQuotaReached"]
    small = pools.create(RG, "quotaacct", "small", pool_body("Standard_A1_v2", dedicated=3))
    assert small.properties.current_dedicated_nodes == 2  # 10 - 8 cores left
    with pytest.raises(HttpResponseError) as err:
        pools.create(RG, "quotaacct", "third", pool_body())
    assert error_of(err.value) == (409, "PoolQuotaReached")


def test_subnet_must_exist(env):
    vnet = f"/subscriptions/{env.emulator.subscription}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks"
    bad = f"{vnet}/vnet/subnets/none"
    with pytest.raises(HttpResponseError) as err:
        env.create_pool("p", pool_body(networkConfiguration={"subnetId": bad}))
    assert error_of(err.value) == (400, "InvalidPropertyValue")
    env.emulator.clients.network.virtual_networks.begin_create_or_update(
        RG,
        "vnet",
        {
            "location": LOCATION,
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.40.0.0/16"]},
                "subnets": [{"name": "nodes", "properties": {"addressPrefix": "10.40.0.0/20"}}],
            },
        },
    ).result()
    good = bad.rsplit("/", 1)[0] + "/nodes"
    pool = env.create_pool("p", pool_body(networkConfiguration={"subnetId": good}))
    assert pool.properties.network_configuration.subnet_id == good


# -- applications -----------------------------------------------------------------------------------


def test_package_tags_are_kept_and_replaced_by_a_new_create(env):
    """The deployer records a package's content hash in its tags (ApplicationPackage has tags)."""
    apps, packages = env.bm.application, env.bm.application_package
    apps.create(RG, env.account, "tool", {"properties": {}})
    created = packages.create(RG, env.account, "tool", "1.0", {"tags": {"deployer.sha256": "aa"}})
    assert created.tags == {"deployer.sha256": "aa"}
    assert packages.get(RG, env.account, "tool", "1.0").tags == {"deployer.sha256": "aa"}
    packages.create(RG, env.account, "tool", "1.0")  # no tags sent: kept
    assert [p.tags for p in packages.list(RG, env.account, "tool")] == [{"deployer.sha256": "aa"}]
    packages.create(RG, env.account, "tool", "1.0", {"tags": {"deployer.sha256": "bb"}})
    assert packages.get(RG, env.account, "tool", "1.0").tags == {"deployer.sha256": "bb"}


def test_applications_and_packages(env):
    apps, packages = env.bm.application, env.bm.application_package
    app = apps.create(RG, env.account, "ffmpeg", {"properties": {"displayName": "FFmpeg"}})
    assert (app.name, app.display_name if hasattr(app, "display_name") else app.properties.display_name) == (
        "ffmpeg",
        "FFmpeg",
    )
    assert apps.get(RG, env.account, "FFMPEG").name == "ffmpeg"
    assert [a.name for a in apps.list(RG, env.account)] == ["ffmpeg"]

    pkg = packages.create(RG, env.account, "ffmpeg", "6.1")
    props = pkg.properties
    assert props.state == "Pending" and props.storage_url and props.storage_url_expiry
    storage_name = env.storage_id.rsplit("/", 1)[1]
    assert f"/blob/{storage_name}/app-ffmpeg-" in props.storage_url and "sig=" in props.storage_url

    with pytest.raises(HttpResponseError) as err:
        env.create_pool("p", pool_body(applicationPackages=[{"id": app.id, "version": "6.1"}]))
    assert error_of(err.value) == (409, "InvalidApplicationPackageReferences")  # not active yet

    with pytest.raises(HttpResponseError) as err:
        packages.activate(RG, env.account, "ffmpeg", "6.1", {"format": "zip"})
    assert error_of(err.value) == (409, "ApplicationPackageBlobNotFound")  # nothing uploaded yet
    upload(env.emulator, props.storage_url, b"PK\x05\x06" + b"\x00" * 18)
    put = [e for e in env.emulator.requests() if e["method"] == "PUT" and e["path"].startswith("/blob/")]
    assert put[-1]["status"] == 201 and put[-1]["path"].startswith(f"/blob/{storage_name}/app-ffmpeg-")
    active = packages.activate(RG, env.account, "ffmpeg", "6.1", {"format": "zip"})
    assert (active.properties.state, active.properties.format) == ("Active", "zip")
    assert active.properties.last_activation_time is not None

    updated = apps.update(RG, env.account, "ffmpeg", {"properties": {"defaultVersion": "6.1", "allowUpdates": False}})
    assert (updated.properties.default_version, updated.properties.allow_updates) == ("6.1", False)
    with pytest.raises(HttpResponseError):
        apps.update(RG, env.account, "ffmpeg", {"properties": {"defaultVersion": "9.9"}})

    pool = env.create_pool("p", pool_body(applicationPackages=[{"id": app.id}, {"id": app.id, "version": "6.1"}]))
    assert [r.version for r in pool.properties.application_packages] == [None, "6.1"]
    with pytest.raises(HttpResponseError) as err:
        env.create_pool("q", pool_body(applicationPackages=[{"id": app.id.replace("ffmpeg", "nope")}]))
    assert error_of(err.value) == (409, "InvalidApplicationPackageReferences")

    assert [p.name for p in packages.list(RG, env.account, "ffmpeg")] == ["6.1"]
    packages.delete(RG, env.account, "ffmpeg", "6.1")
    with pytest.raises(ResourceNotFoundError) as err:
        packages.get(RG, env.account, "ffmpeg", "6.1")
    assert err.value.error.code == "ApplicationPackageNotFound"
    apps.delete(RG, env.account, "ffmpeg")
    with pytest.raises(ResourceNotFoundError) as err:
        apps.get(RG, env.account, "ffmpeg")
    assert err.value.error.code == "ApplicationNotFound"


def test_applications_need_auto_storage(emulator):
    emulator.clients.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    make_account(emulator, "nostorage", None)
    with pytest.raises(ResourceExistsError) as err:
        emulator.clients.batch_mgmt.application.create(RG, "nostorage", "app")
    assert err.value.error.code == "AutoStorageNotConfigured"


def upload(emulator, url: str, data: bytes) -> None:
    """Upload to a package's storageUrl with azure-storage-blob, as a deployer would."""
    from azure.storage.blob import BlobClient

    if emulator.server is None:
        from deployer.emulator.core.transport import EmulatorTransport

        client = BlobClient.from_blob_url(url, transport=EmulatorTransport(emulator.app))
    else:
        client = BlobClient.from_blob_url(url, connection_verify=str(emulator.server.ca_file))
    client.upload_blob(data, overwrite=True)


FORMULAS = [
    ("$TargetDedicatedNodes=1", 1, 0),
    ("$TargetDedicated = 34;", 34, 0),  # legacy alias
    ("$TargetLowPriorityNodes = max(2, min(4, 3));\n$NodeDeallocationOption = taskcompletion;", 0, 3),
    ("n = 2;\n/* block */ $TargetDedicatedNodes = n * 2 + 1; // line\n$TargetDedicatedNodes = n;", 2, 0),
    ("$TargetDedicatedNodes = 5 > 3 ? 2.9 : 7;", 2, 0),
    ("$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);\n"
     "$TargetLowPriorityNodes = min(4, $PendingTasks.GetSample(1));", 0, 0),
    ("$TargetDedicatedNodes = -3;", 0, 0),
]  # fmt: skip


def test_autoscale_formulas_the_emulator_evaluates(env, monkeypatch):
    monkeypatch.setenv(models.QUOTAS_ENV, "dedicatedCoreQuota=1000,lowPriorityCoreQuota=1000")
    env.emulator.clients.batch_mgmt.batch_account.begin_create(
        RG, "bigacct", {"location": LOCATION, "properties": {}}
    ).result()
    for i, (formula, dedicated, low) in enumerate(FORMULAS):
        body = pool_body("Standard_A1_v2", scaleSettings={"autoScale": {"formula": formula}})
        p = env.pool.create(RG, "bigacct", f"f{i}", body).properties
        assert (p.current_dedicated_nodes, p.current_low_priority_nodes) == (dedicated, low), formula
        assert p.auto_scale_run.results.startswith(f"$TargetDedicatedNodes={dedicated};$TargetLowPriorityNodes={low};")
        assert p.scale_settings.auto_scale.formula == formula
    p = env.pool.get(RG, "bigacct", "f2").properties
    assert p.resize_operation_status.node_deallocation_option == "TaskCompletion"


def test_location_operations(env):
    locations = env.bm.location
    assert locations.get_quotas(LOCATION).account_quota >= 1
    taken = locations.check_name_availability(LOCATION, {"name": env.account, "type": "Microsoft.Batch/batchAccounts"})
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    free = locations.check_name_availability(LOCATION, {"name": "freename", "type": "Microsoft.Batch/batchAccounts"})
    assert free.name_available is True
    bad = locations.check_name_availability(LOCATION, {"name": "Bad-Name", "type": "Microsoft.Batch/batchAccounts"})
    assert (bad.name_available, bad.reason) == (False, "Invalid")


WORKDAY = ("$now = time(); $on = $now.weekday >= 1 && $now.weekday <= 5 && $now.hour >= 8 && $now.hour < 18;"
           "$TargetDedicatedNodes = $on ? 3 : 1 + $CurrentDedicatedNodes;")


@pytest.mark.parametrize(("at", "dedicated"), [
    (1_700_470_800.0, 3),  # Monday 2023-11-20 09:00 UTC: working hours
    (1_700_470_800.0 - 86_400.0, 1),  # Sunday 09:00 UTC
])
def test_autoscale_reads_the_emulator_clock_and_the_pool_nodes(env, frozen_clock, at, dedicated):
    """time() is the emulator's clock (UTC, Sunday = weekday 0); $CurrentDedicatedNodes the pool's
    nodes when the formula is evaluated (0 for a new pool). Also through the data plane's evaluate."""
    frozen_clock.freeze(at)
    body = pool_body(scaleSettings={"autoScale": {"formula": WORKDAY}})
    p = env.pool.create(RG, env.account, "timed", body).properties
    assert p.auto_scale_run.results.startswith(f"$TargetDedicatedNodes={dedicated};")
    # the resize has finished (2 s), the next evaluation (PT15M) is not due: `dedicated` nodes now
    frozen_clock.advance(600)
    account = env.bm.batch_account.get(RG, env.account)
    data = env.emulator.clients.batch_data(account.account_endpoint)
    run = data.evaluate_pool_auto_scale("timed", {"autoScaleFormula": WORKDAY})
    expected = 3 if dedicated == 3 else 1 + dedicated  # off hours: 1 + the nodes the pool has
    assert run.results.startswith(f"$TargetDedicatedNodes={expected};")
