"""Resource groups through azure-mgmt-resource's ResourceManagementClient, embedded and served."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.resources.models import ResourceGroup, ResourceGroupPatchable

from deployer.emulator.core import ids
from deployer.emulator.resources import models


def test_create_get_update_and_exists(emulator):
    groups = emulator.clients.resource.resource_groups
    created = groups.create_or_update("My-RG", ResourceGroup(location="West Europe", tags={"stack": "media"}))
    assert created.id == f"/subscriptions/{emulator.subscription}/resourceGroups/My-RG"
    assert (created.name, created.location, created.type) == (
        "My-RG",
        "westeurope",
        "Microsoft.Resources/resourceGroups",
    )
    assert created.properties.provisioning_state == "Succeeded"
    assert created.tags == {"stack": "media"}
    assert emulator.requests()[-1]["status"] == 201

    updated = groups.create_or_update("my-rg", {"location": "westeurope", "tags": {"stack": "media", "env": "dev"}})
    assert emulator.requests()[-1]["status"] == 200
    assert updated.name == "My-RG"  # case-insensitive names keep their first spelling
    assert updated.tags == {"stack": "media", "env": "dev"}

    got = groups.get("MY-RG")
    assert got.id == created.id and got.tags == updated.tags
    assert groups.check_existence("my-RG") is True
    assert groups.check_existence("other") is False


def test_patch_changes_only_what_it_names(emulator):
    groups = emulator.clients.resource.resource_groups
    groups.create_or_update("rg", {"location": "eastus", "tags": {"a": "1"}})
    patched = groups.update("rg", ResourceGroupPatchable(tags={"b": "2"}))
    assert patched.tags == {"b": "2"} and patched.location == "eastus"
    assert groups.update("rg", {"managedBy": "someone"}).tags == {"b": "2"}


def test_errors_are_azures(emulator):
    groups = emulator.clients.resource.resource_groups
    with pytest.raises(ResourceNotFoundError) as err:
        groups.get("missing")
    assert err.value.error.code == "ResourceGroupNotFound"

    groups.create_or_update("rg", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as err:
        groups.create_or_update("rg", {"location": "westus"})
    assert err.value.status_code == 409 and err.value.error.code == "InvalidResourceGroupLocation"

    with pytest.raises(HttpResponseError) as err:
        groups.create_or_update("bad name!", {"location": "eastus"})
    assert err.value.status_code == 400 and err.value.error.code == "InvalidResourceGroup"
    with pytest.raises(HttpResponseError) as err:
        groups.create_or_update("ends.", {"location": "eastus"})
    assert err.value.error.code == "InvalidResourceGroup"
    with pytest.raises(HttpResponseError) as err:
        groups.create_or_update("noloc", {"tags": {}})
    assert err.value.status_code == 400 and err.value.error.code == "LocationRequired"


def test_list_filter_and_top(emulator):
    groups = emulator.clients.resource.resource_groups
    for name, env in [("a", "dev"), ("b", "prod"), ("c", "dev"), ("d", None)]:
        groups.create_or_update(name, {"location": "westus", "tags": {"env": env} if env else None})
    assert sorted(g.name for g in groups.list()) == ["a", "b", "c", "d"]
    assert sorted(g.name for g in groups.list(filter="tagName eq 'env' and tagValue eq 'dev'")) == ["a", "c"]
    assert sorted(g.name for g in groups.list(filter="tagname eq 'ENV'")) == ["a", "b", "c"]
    assert len(list(groups.list(top=2))) == 2
    with pytest.raises(HttpResponseError) as err:
        list(groups.list(filter="name eq 'a'"))
    assert err.value.status_code == 400


def test_groups_are_per_subscription(emulator):
    emulator.clients.resource.resource_groups.create_or_update("rg", {"location": "westus"})
    other = emulator.new_clients()
    other.subscription_id = "11111111-1111-1111-1111-111111111111"
    assert list(other.resource.resource_groups.list()) == []


def test_delete_is_long_running_and_removes_the_contents(emulator):
    groups = emulator.clients.resource.resource_groups
    groups.create_or_update("doomed", {"location": "westus"})
    groups.create_or_update("doomed-not", {"location": "westus"})
    store = emulator.app.store
    group = models.get_group(store, emulator.subscription, "doomed")
    child = ids.key_of(ids.arm_id(emulator.subscription, "doomed", "Microsoft.Test", "things", "t"))
    store.put("thing", child, {"name": "t"}, parent=group.key)
    store.put("thing", "/elsewhere/doomed", {"name": "kept"})
    seen = []

    @models.on_group_delete
    def hook(store_, doc):
        seen.append(doc.body["name"])

    poller = groups.begin_delete("doomed")
    assert poller.result() is None and poller.status() == "Succeeded"
    delete = next(e for e in emulator.requests() if e["method"] == "DELETE")
    assert delete["status"] == 202
    assert "doomed" in seen
    assert store.get("thing", child) is None and store.get("thing", "/elsewhere/doomed") is not None
    assert groups.check_existence("doomed") is False and groups.check_existence("doomed-not") is True
    with pytest.raises(ResourceNotFoundError):
        groups.begin_delete("doomed").result()
    models._delete_hooks.remove(hook)


def test_providers_are_registered(emulator):
    providers = emulator.clients.resource.providers
    assert providers.get("Microsoft.Resources").registration_state == "Registered"
    assert providers.register("microsoft.resources").registration_state == "Registered"
    assert "Microsoft.Resources" in [p.namespace for p in providers.list()]
    with pytest.raises(ResourceNotFoundError):
        providers.get("Microsoft.Nothing")
