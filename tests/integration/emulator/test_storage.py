"""Microsoft.Storage through azure-mgmt-storage's StorageManagementClient, embedded and served."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from deployer.emulator.storage import models

SUB2 = "11111111-1111-1111-1111-111111111111"


def group(emulator, name="rg", location="westeurope"):
    emulator.clients.resource.resource_groups.create_or_update(name, {"location": location})


def account(emulator, name="stdata", rg="rg", **body):
    params = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", **body}
    return emulator.clients.storage.storage_accounts.begin_create(rg, name, params).result()


def test_create_reads_back_in_azures_shape(emulator):
    group(emulator)
    params = {"location": "West Europe", "sku": {"name": "Standard_GRS"}, "kind": "StorageV2", "tags": {"stack": "m"}}
    poller = emulator.clients.storage.storage_accounts.begin_create("rg", "stmedia", params)
    created = poller.result()
    assert poller.status() == "Succeeded"
    put = next(e for e in emulator.requests() if e["method"] == "PUT" and "storageAccounts" in e["path"])
    assert put["status"] == 202  # provisioned asynchronously, as in Azure

    acct = emulator.clients.storage.storage_accounts.get_properties("RG", "stmedia")
    assert acct.as_dict() == created.as_dict()
    rg_id = f"/subscriptions/{emulator.subscription}/resourceGroups/rg"
    assert acct.id == rg_id + "/providers/Microsoft.Storage/storageAccounts/stmedia"
    assert (acct.name, acct.type, acct.location, acct.kind) == (
        "stmedia",
        "Microsoft.Storage/storageAccounts",
        "westeurope",
        "StorageV2",
    )
    assert (acct.sku.name, acct.sku.tier, acct.tags) == ("Standard_GRS", "Standard", {"stack": "m"})
    assert acct.provisioning_state == "Succeeded" and acct.creation_time is not None
    assert (acct.primary_location, acct.status_of_primary) == ("westeurope", "available")
    assert (acct.secondary_location, acct.status_of_secondary) == ("northeurope", "available")
    assert acct.access_tier == "Hot" and acct.minimum_tls_version == "TLS1_2"
    assert acct.allow_blob_public_access is False and acct.enable_https_traffic_only is True
    assert acct.encryption.key_source == "Microsoft.Storage"
    assert acct.encryption.services.blob.enabled and acct.encryption.services.file.enabled
    assert acct.encryption.services.blob.last_enabled_time is not None
    assert (acct.network_rule_set.default_action, acct.network_rule_set.bypass) == ("Allow", "AzureServices")
    assert set(acct.key_creation_time.as_dict()) == {"key1", "key2"}
    assert acct.primary_endpoints.blob == f"{emulator.endpoint}/blob/stmedia/"
    assert acct.primary_endpoints.file == f"{emulator.endpoint}/file/stmedia/"

    # A second PUT updates in place (200, no new operation) and keeps what it does not name.
    again = emulator.clients.storage.storage_accounts.begin_create("rg", "stmedia", {**params, "tags": {}}).result()
    assert emulator.requests()[-1]["status"] == 200
    assert again.tags == {} and again.creation_time == acct.creation_time


def test_list_by_group_and_subscription(emulator):
    group(emulator, "rg1")
    group(emulator, "rg2")
    for name, rg in [("sta", "rg1"), ("stb", "rg1"), ("stc", "rg2")]:
        account(emulator, name, rg)
    accounts = emulator.clients.storage.storage_accounts
    assert sorted(a.name for a in accounts.list_by_resource_group("rg1")) == ["sta", "stb"]
    listed = {a.name: a for a in accounts.list()}
    assert sorted(listed) == ["sta", "stb", "stc"]
    assert listed["stc"].primary_endpoints.blob.endswith("/blob/stc/")
    with pytest.raises(ResourceNotFoundError) as err:
        list(accounts.list_by_resource_group("nope"))
    assert err.value.error.code == "ResourceGroupNotFound"


@pytest.mark.contract_violation  # sends accessTier 'Lukewarm' to see it refused
def test_update_tags_and_properties(emulator):
    group(emulator)
    account(emulator, tags={"a": "1"})
    accounts = emulator.clients.storage.storage_accounts
    updated = accounts.update("rg", "stdata", {"tags": {"b": "2"}, "properties": {"minimumTlsVersion": "TLS1_3"}})
    assert updated.tags == {"b": "2"} and updated.minimum_tls_version == "TLS1_3"
    assert updated.access_tier == "Hot" and updated.sku.name == "Standard_LRS"
    assert accounts.update("rg", "stdata", {"sku": {"name": "Standard_RAGRS"}}).secondary_location == "northeurope"
    with pytest.raises(HttpResponseError) as err:
        accounts.update("rg", "stdata", {"properties": {"accessTier": "Lukewarm"}})
    assert err.value.status_code == 400 and err.value.error.code == "InvalidValuesForRequestParameters"


def test_keys_and_regenerate_changes_only_that_key(emulator):
    group(emulator)
    account(emulator)
    accounts = emulator.clients.storage.storage_accounts
    keys = accounts.list_keys("rg", "stdata").keys_property
    assert [k.key_name for k in keys] == ["key1", "key2"]
    assert all(len(base64.b64decode(k.value)) == 64 and k.permissions == "Full" for k in keys)
    assert keys[0].value != keys[1].value
    assert accounts.list_keys("rg", "stdata").keys_property[0].value == keys[0].value  # generated once

    after = accounts.regenerate_key("rg", "stdata", {"keyName": "key1"}).keys_property
    assert after[0].value != keys[0].value and after[1].value == keys[1].value
    assert accounts.list_keys("rg", "stdata").keys_property[0].value == after[0].value
    with pytest.raises(HttpResponseError) as err:
        accounts.regenerate_key("rg", "stdata", {"keyName": "key3"})
    assert err.value.status_code == 400


def test_name_availability_is_global(emulator):
    accounts = emulator.clients.storage.storage_accounts
    check = {"name": "stshared", "type": "Microsoft.Storage/storageAccounts"}
    assert accounts.check_name_availability(check).name_available is True

    group(emulator)
    account(emulator, "stshared")
    taken = accounts.check_name_availability(check)
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    assert taken.message == "The storage account named stshared is already taken."
    bad = accounts.check_name_availability({"name": "No_Good", "type": "Microsoft.Storage/storageAccounts"})
    assert (bad.name_available, bad.reason) == (False, "AccountNameInvalid")
    assert "must be between 3 and 24 characters" in bad.message

    group(emulator, "rg2")
    with pytest.raises(HttpResponseError) as err:
        account(emulator, "stshared", "rg2")
    assert err.value.status_code == 409 and err.value.error.code == "StorageAccountInAnotherResourceGroup"

    other = emulator.new_clients()
    other.subscription_id = SUB2
    other.resource.resource_groups.create_or_update("rg", {"location": "westeurope"})
    params = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    with pytest.raises(HttpResponseError) as err:
        other.storage.storage_accounts.begin_create("rg", "stshared", params).result()
    assert err.value.status_code == 409 and err.value.error.code == "StorageAccountAlreadyTaken"
    assert other.storage.storage_accounts.check_name_availability(check).reason == "AlreadyExists"


@pytest.mark.parametrize("name", ["ab", "a" * 25, "UpperCase", "with-dash"])
def test_invalid_account_names(emulator, name):
    group(emulator)
    with pytest.raises(HttpResponseError) as err:
        account(emulator, name)
    assert err.value.status_code == 400 and err.value.error.code == "AccountNameInvalid"
    assert err.value.error.message.startswith(f"{name} is not a valid storage account name.")


@pytest.mark.contract_violation  # sends sku 'Standard_XYZ' to see it refused
def test_missing_group_and_missing_account(emulator):
    with pytest.raises(ResourceNotFoundError) as err:
        account(emulator, rg="nowhere")
    assert err.value.error.code == "ResourceGroupNotFound"
    group(emulator)
    accounts = emulator.clients.storage.storage_accounts
    with pytest.raises(ResourceNotFoundError) as err:
        accounts.get_properties("rg", "stmissing")
    assert err.value.error.code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        emulator.clients.storage.blob_containers.get("rg", "stmissing", "c")
    assert err.value.error.code == "ParentResourceNotFound"
    with pytest.raises(HttpResponseError) as err:
        account(emulator, sku={"name": "Standard_XYZ"})
    assert err.value.status_code == 400


def test_container_etag_changes_on_every_write(emulator):
    group(emulator)
    account(emulator)
    containers = emulator.clients.storage.blob_containers
    created = containers.create("rg", "stdata", "input", {"properties": {"metadata": {"team": "a"}}})
    assert emulator.requests()[-1]["status"] == 201
    assert created.etag.startswith('"0x') and created.etag.endswith('"')
    assert created.type == "Microsoft.Storage/storageAccounts/blobServices/containers"
    got = containers.get("rg", "stdata", "input")
    assert got.etag == created.etag and got.metadata == {"team": "a"}
    assert (got.public_access, got.lease_state, got.lease_status) == ("None", "Available", "Unlocked")

    updated = containers.update("rg", "stdata", "input", {"properties": {"metadata": {"team": "b"}}})
    assert updated.etag != got.etag and updated.metadata == {"team": "b"}
    again = containers.create("rg", "stdata", "input", {"properties": {}})
    assert emulator.requests()[-1]["status"] == 200
    assert again.etag not in (got.etag, updated.etag) and again.metadata is None

    containers.create("rg", "stdata", "output", {})
    assert [c.name for c in containers.list("rg", "stdata")] == ["input", "output"]
    assert [c.name for c in containers.list("rg", "stdata", maxpagesize="1")] == ["input", "output"]

    containers.delete("rg", "stdata", "input")
    with pytest.raises(ResourceNotFoundError) as err:
        containers.get("rg", "stdata", "input")
    assert err.value.error.code == "ContainerNotFound"
    containers.delete("rg", "stdata", "input")  # deleting nothing is not an error (204)
    assert emulator.requests()[-1]["status"] == 204
    for bad in ("ab", "Upper", "double--dash", "-lead"):
        with pytest.raises(HttpResponseError) as err:
            containers.create("rg", "stdata", bad, {})
        assert err.value.status_code == 400


def test_container_lease_through_management_blocks_delete(emulator):
    group(emulator)
    account(emulator)
    containers = emulator.clients.storage.blob_containers
    containers.create("rg", "stdata", "held", {})
    lease = containers.lease("rg", "stdata", "held", {"action": "Acquire", "leaseDuration": -1})
    got = containers.get("rg", "stdata", "held")
    assert (got.lease_state, got.lease_status, got.lease_duration) == ("Leased", "Locked", "Infinite")
    with pytest.raises(HttpResponseError) as err:
        containers.lease("rg", "stdata", "held", {"action": "Acquire", "leaseDuration": -1})
    assert err.value.status_code == 409 and err.value.error.code == "LeaseAlreadyPresent"
    with pytest.raises(HttpResponseError) as err:
        containers.delete("rg", "stdata", "held")
    assert err.value.status_code == 412 and err.value.error.code == "LeaseIdMissing"
    assert containers.get("rg", "stdata", "held").etag == got.etag  # leases do not touch the etag
    containers.lease("rg", "stdata", "held", {"action": "Release", "leaseId": lease.lease_id})
    containers.delete("rg", "stdata", "held")


def test_share_defaults_and_etag_changes(emulator):
    group(emulator)
    account(emulator)
    shares = emulator.clients.storage.file_shares
    created = shares.create("rg", "stdata", "scratch", {"properties": {"shareQuota": 100}})
    assert emulator.requests()[-1]["status"] == 201
    assert created.type == "Microsoft.Storage/storageAccounts/fileServices/shares"
    assert created.share_quota == 100  # PUT echoes what it was sent

    got = shares.get("rg", "stdata", "scratch")
    assert got.etag.startswith('"0x') and got.last_modified_time is not None
    assert (got.share_quota, got.enabled_protocols, got.access_tier) == (100, "SMB", "TransactionOptimized")
    assert got.root_squash is None
    plain = shares.create("rg", "stdata", "plain", {})
    assert shares.get("rg", "stdata", "plain").share_quota == models.DEFAULT_QUOTA and plain.name == "plain"

    shares.update("rg", "stdata", "scratch", {"properties": {"shareQuota": 200, "metadata": {"k": "v"}}})
    patched = shares.get("rg", "stdata", "scratch")
    assert patched.etag != got.etag and (patched.share_quota, patched.metadata) == (200, {"k": "v"})
    shares.create("rg", "stdata", "scratch", {"properties": {"shareQuota": 200}})
    assert shares.get("rg", "stdata", "scratch").etag != patched.etag
    assert sorted(s.name for s in shares.list("rg", "stdata")) == ["plain", "scratch"]

    with pytest.raises(HttpResponseError) as err:
        shares.create("rg", "stdata", "big", {"properties": {"shareQuota": 0}})
    assert err.value.status_code == 400
    with pytest.raises(HttpResponseError) as err:
        shares.create("rg", "stdata", "nfs", {"properties": {"enabledProtocols": "NFS"}})
    assert err.value.status_code == 400 and err.value.error.code == "FeatureNotSupportedForAccount"

    shares.delete("rg", "stdata", "scratch")
    with pytest.raises(ResourceNotFoundError) as err:
        shares.get("rg", "stdata", "scratch")
    assert err.value.error.code == "ShareNotFound"


def test_nfs_share_on_premium_file_storage(emulator):
    group(emulator)
    account(emulator, "stfiles", sku={"name": "Premium_LRS"}, kind="FileStorage")
    acct = emulator.clients.storage.storage_accounts.get_properties("rg", "stfiles")
    assert acct.primary_endpoints.blob is None and acct.access_tier is None
    shares = emulator.clients.storage.file_shares
    body = {"properties": {"enabledProtocols": "NFS", "rootSquash": "RootSquash", "shareQuota": 128}}
    created = shares.create("rg", "stfiles", "nfsdata", body)
    assert created.enabled_protocols == "NFS"
    got = shares.get("rg", "stfiles", "nfsdata")
    assert (got.enabled_protocols, got.root_squash, got.access_tier) == ("NFS", "RootSquash", "Premium")
    with pytest.raises(HttpResponseError) as err:  # the protocol is fixed at creation
        shares.update("rg", "stfiles", "nfsdata", {"properties": {"enabledProtocols": "SMB"}})
    assert err.value.status_code == 400
    with pytest.raises(HttpResponseError) as err:  # root squash is NFS-only
        shares.create("rg", "stfiles", "smbdata", {"properties": {"rootSquash": "RootSquash"}})
    assert err.value.status_code == 400


def test_delete_cascades_and_frees_the_name(emulator):
    group(emulator)
    account(emulator)
    clients = emulator.clients
    clients.storage.blob_containers.create("rg", "stdata", "input", {})
    clients.storage.file_shares.create("rg", "stdata", "scratch", {})
    url = clients.storage.storage_accounts.get_properties("rg", "stdata").primary_endpoints.blob
    clients.blob(url).get_blob_client("input", "x/y.txt").upload_blob(b"data")
    store = emulator.app.store
    acct_key = models.get_account(store, emulator.subscription, "rg", "stdata").key
    assert store.list("blob", prefix=acct_key + "/")

    clients.storage.storage_accounts.delete("rg", "stdata")
    assert emulator.requests()[-1]["status"] == 200
    for kind in ("blobContainer", "fileShare", "blob"):
        assert store.list(kind, prefix=acct_key + "/") == []
    check = {"name": "stdata", "type": "Microsoft.Storage/storageAccounts"}
    assert clients.storage.storage_accounts.check_name_availability(check).name_available is True
    clients.storage.storage_accounts.delete("rg", "stdata")
    assert emulator.requests()[-1]["status"] == 204

    account(emulator)  # the name is free again, and the new account starts empty
    assert list(clients.storage.blob_containers.list("rg", "stdata")) == []
