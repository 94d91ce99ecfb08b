"""Microsoft.Network through azure-mgmt-network's NetworkManagementClient, embedded and served."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from deployer.emulator.network import models


def group(emulator, name="rg"):
    emulator.clients.resource.resource_groups.create_or_update(name, {"location": "westeurope"})


def vnet_body(space=("10.40.0.0/16",), **subnets):
    return {
        "location": "West Europe",
        "properties": {
            "addressSpace": {"addressPrefixes": list(space)},
            "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets.items()],
        },
    }


def create(emulator, name="vnet", rg="rg", body=None):
    body = body or vnet_body(nodes="10.40.0.0/20", infra="10.40.16.0/24")
    return emulator.clients.network.virtual_networks.begin_create_or_update(rg, name, body).result()


def test_vnet_with_two_subnets(emulator):
    group(emulator)
    poller = emulator.clients.network.virtual_networks.begin_create_or_update(
        "rg", "vnet", vnet_body(nodes="10.40.0.0/20", infra="10.40.16.0/24")
    )
    vnet = poller.result()
    put = next(e for e in emulator.requests() if e["method"] == "PUT" and "virtualNetworks" in e["path"])
    assert put["status"] == 201
    vid = f"/subscriptions/{emulator.subscription}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
    assert (vnet.id, vnet.name, vnet.location) == (vid, "vnet", "westeurope")
    assert vnet.type == "Microsoft.Network/virtualNetworks"
    assert vnet.provisioning_state == "Succeeded" and vnet.resource_guid
    assert vnet.etag.startswith('W/"') and vnet.address_space.address_prefixes == ["10.40.0.0/16"]
    assert [(s.name, s.address_prefix) for s in vnet.subnets] == [("nodes", "10.40.0.0/20"), ("infra", "10.40.16.0/24")]
    assert vnet.subnets[0].id == vid + "/subnets/nodes" and vnet.subnets[0].etag == vnet.etag
    assert vnet.subnets[0].private_endpoint_network_policies == "Disabled"

    subnets = emulator.clients.network.subnets
    node = subnets.get("rg", "vnet", "nodes")
    assert node.id == vid + "/subnets/nodes" and node.provisioning_state == "Succeeded"
    added = subnets.begin_create_or_update("rg", "vnet", "extra", {"properties": {"addressPrefix": "10.40.17.0/24"}})
    assert added.result().address_prefix == "10.40.17.0/24"
    assert [s.name for s in subnets.list("rg", "vnet")] == ["nodes", "infra", "extra"]
    after = emulator.clients.network.virtual_networks.get("rg", "vnet")
    assert after.etag != vnet.etag and all(s.etag == after.etag for s in after.subnets)
    assert models.find_subnet(emulator.app.store, vid + "/subnets/EXTRA") is not None
    with pytest.raises(ResourceNotFoundError) as err:
        subnets.get("rg", "vnet", "missing")
    assert err.value.error.code == "NotFound"


@pytest.mark.parametrize(
    ("space", "subnets", "code"),
    [
        (["10.40.0.0/16"], {"out": "10.41.0.0/24"}, "NetcfgSubnetRangeOutsideVnet"),
        (["10.40.0.0/16"], {"a": "10.40.0.0/20", "b": "10.40.8.0/24"}, "NetcfgSubnetRangesOverlap"),
        (["10.40.0.0/16"], {"a": "10.40.0.0/33"}, "InvalidAddressPrefixFormat"),
        (["10.40.0.1/16"], {}, "NetcfgInvalidIPAddressPrefix"),
        (["10.40.0.0/16", "10.40.1.0/24"], {}, "VnetAddressSpacesOverlap"),
    ],
)
def test_invalid_address_layouts(emulator, space, subnets, code):
    group(emulator)
    with pytest.raises(HttpResponseError) as err:
        create(emulator, body=vnet_body(space, **subnets))
    assert err.value.status_code == 400 and err.value.error.code == code
    assert list(emulator.clients.network.virtual_networks.list("rg")) == []


def test_subnet_outside_range_fails(emulator):
    group(emulator)
    create(emulator)
    subnets = emulator.clients.network.subnets
    with pytest.raises(HttpResponseError) as err:
        subnets.begin_create_or_update("rg", "vnet", "far", {"properties": {"addressPrefix": "192.168.0.0/24"}})
    assert err.value.status_code == 400 and err.value.error.code == "NetcfgSubnetRangeOutsideVnet"
    assert "'far'" in err.value.error.message and "'vnet'" in err.value.error.message
    with pytest.raises(HttpResponseError) as err:
        subnets.begin_create_or_update("rg", "vnet", "clash", {"properties": {"addressPrefix": "10.40.1.0/24"}})
    assert err.value.error.code == "NetcfgSubnetRangesOverlap"
    with pytest.raises(HttpResponseError) as err:  # shrinking the space under a subnet
        create(emulator, body=vnet_body(["10.40.0.0/20"], nodes="10.40.0.0/20", infra="10.40.16.0/24"))
    assert err.value.error.code == "NetcfgSubnetRangeOutsideVnet"
    assert [s.name for s in subnets.list("rg", "vnet")] == ["nodes", "infra"]


def test_list_tags_and_put_restates_subnets(emulator):
    group(emulator, "rg1")
    group(emulator, "rg2")
    create(emulator, "v1", "rg1")
    create(emulator, "v2", "rg1")
    create(emulator, "v3", "rg2")
    vnets = emulator.clients.network.virtual_networks
    assert sorted(v.name for v in vnets.list("rg1")) == ["v1", "v2"]
    assert sorted(v.name for v in vnets.list_all()) == ["v1", "v2", "v3"]
    assert vnets.update_tags("rg1", "v1", {"tags": {"stack": "media"}}).tags == {"stack": "media"}

    replaced = create(emulator, "v1", "rg1", vnet_body(only="10.40.0.0/24"))
    put = [e for e in emulator.requests() if e["method"] == "PUT" and e["path"].endswith("/v1")][-1]
    assert put["status"] == 200
    assert [s.name for s in replaced.subnets] == ["only"]  # a PUT restates the whole VNet
    stale = {"headers": {"If-Match": 'W/"00000000-0000-0000-0000-000000000000"'}}
    with pytest.raises(HttpResponseError) as err:
        vnets.begin_create_or_update("rg1", "v1", vnet_body(only="10.40.0.0/24"), **stale).result()
    assert err.value.status_code == 412
    current = {"headers": {"If-Match": replaced.etag}}
    assert vnets.begin_create_or_update("rg1", "v1", vnet_body(only="10.40.0.0/24"), **current).result().etag
    with pytest.raises(ResourceNotFoundError) as err:
        list(vnets.list("nowhere"))
    assert err.value.error.code == "ResourceGroupNotFound"


def test_delete_subnet_and_vnet(emulator):
    group(emulator)
    create(emulator)
    network = emulator.clients.network
    network.subnets.begin_delete("rg", "vnet", "infra").result()
    assert [s.name for s in network.virtual_networks.get("rg", "vnet").subnets] == ["nodes"]

    poller = network.virtual_networks.begin_delete("rg", "vnet")
    assert poller.result() is None and poller.status() == "Succeeded"
    delete = next(e for e in emulator.requests() if e["method"] == "DELETE" and e["path"].endswith("/vnet"))
    assert delete["status"] == 202
    with pytest.raises(ResourceNotFoundError) as err:
        network.virtual_networks.get("rg", "vnet")
    assert err.value.error.code == "ResourceNotFound"
    network.virtual_networks.begin_delete("rg", "vnet").result()  # nothing to delete: 204
    assert emulator.requests()[-1]["status"] == 204
    with pytest.raises(ResourceNotFoundError):
        network.subnets.begin_create_or_update("rg", "vnet", "x", {"properties": {"addressPrefix": "10.0.0.0/24"}})
