"""Microsoft.Network HTTP surface, as azure-mgmt-network's NetworkManagementClient sends it.

virtualNetworks: PUT, GET, PATCH (tags), DELETE, list (group, subscription); subnets under a VNet:
PUT, GET, DELETE, list; networkSecurityGroups: PUT, GET, DELETE, list (security_groups.py).
Writes are long-running the network provider's way: a PUT answers 201/200
with the resource ("provisioningState": "Updating") and an Azure-AsyncOperation header; a DELETE
answers 202 with Location and Azure-AsyncOperation (204 when there was nothing to delete). The
operation itself is done by the time the poller asks, so a GET shows "Succeeded".
"""

from __future__ import annotations

from typing import Any

from ..core import Request, Response, Router, lro, paging
from . import errors, models
from . import security_groups as nsgs

VNETS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks"
VNET = VNETS + "/{vnet}"
SUBNETS = VNET + "/subnets"
SUBNET = SUBNETS + "/{subnet}"
NSGS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups"
NSG = NSGS + "/{nsg}"


def register(router: Router) -> None:
    router.add_all(
        {
            "/subscriptions/{sub}/providers/Microsoft.Network/virtualNetworks": {"GET": list_vnets},
            VNETS: {"GET": list_vnets},
            VNET: {"PUT": put_vnet, "GET": get_vnet, "PATCH": patch_vnet, "DELETE": delete_vnet},
            SUBNETS: {"GET": list_subnets},
            SUBNET: {"PUT": put_subnet, "GET": get_subnet, "DELETE": delete_subnet},
            "/subscriptions/{sub}/providers/Microsoft.Network/networkSecurityGroups": {"GET": list_nsgs},
            NSGS: {"GET": list_nsgs},
            NSG: {"PUT": put_nsg, "GET": get_nsg, "DELETE": delete_nsg},
        }
    )


def _started(req: Request, location: str, status: int, body: Any = None) -> Response:
    """The network provider's answer to a write: the status, body, and an async operation to poll."""
    if status == 202:
        return lro.accepted(req, provider="Microsoft.Network", location=location)
    return lro.accepted(
        req, provider="Microsoft.Network", location=location, status=status, body=body, location_header=False
    )


def put_vnet(req: Request, sub: str, rg: str, vnet: str) -> Response:
    doc, created = models.create_or_update_vnet(req.store, sub, rg, vnet, req.json(), req.if_match)
    return _started(req, doc.body["location"], 201 if created else 200, models.render_vnet(doc, "Updating"))


def get_vnet(req: Request, sub: str, rg: str, vnet: str) -> dict[str, Any]:
    return models.render_vnet(models.require_vnet(req.store, sub, rg, vnet))


def patch_vnet(req: Request, sub: str, rg: str, vnet: str) -> dict[str, Any]:
    return models.render_vnet(models.update_tags(req.store, sub, rg, vnet, req.json()))


def delete_vnet(req: Request, sub: str, rg: str, vnet: str) -> Response:
    doc = models.delete_vnet(req.store, sub, rg, vnet, req.if_match)
    if doc is None:
        return Response.empty(204)
    return _started(req, doc.body["location"], 202)


def list_vnets(req: Request, sub: str, rg: str | None = None) -> dict[str, Any]:
    return paging.page(req, [models.render_vnet(d) for d in models.list_vnets(req.store, sub, rg)])


def _subnet_id(doc: Any, name: str) -> str:
    return f"{doc.body['id']}/subnets/{name}"


def put_subnet(req: Request, sub: str, rg: str, vnet: str, subnet: str) -> Response:
    doc, created = models.put_subnet(req.store, sub, rg, vnet, subnet, req.json(), req.if_match)
    entry = models.subnet_of(doc, subnet)
    assert entry is not None
    body = models.render_subnet(doc, entry, "Updating")
    return _started(req, doc.body["location"], 201 if created else 200, body)


def get_subnet(req: Request, sub: str, rg: str, vnet: str, subnet: str) -> dict[str, Any]:
    doc = models.require_vnet(req.store, sub, rg, vnet)
    entry = models.subnet_of(doc, subnet)
    if entry is None:
        raise errors.subnet_not_found(_subnet_id(doc, subnet))
    return models.render_subnet(doc, entry)


def delete_subnet(req: Request, sub: str, rg: str, vnet: str, subnet: str) -> Response:
    if not models.delete_subnet(req.store, sub, rg, vnet, subnet, req.if_match):
        return Response.empty(204)
    doc = models.require_vnet(req.store, sub, rg, vnet)
    return _started(req, doc.body["location"], 202)


def list_subnets(req: Request, sub: str, rg: str, vnet: str) -> dict[str, Any]:
    doc = models.require_vnet(req.store, sub, rg, vnet)
    return paging.page(req, [models.render_subnet(doc, s) for s in doc.body["subnets"]])


def put_nsg(req: Request, sub: str, rg: str, nsg: str) -> Response:
    if not models.valid_name(nsg):
        raise errors.invalid_name(nsg)
    doc, created = nsgs.create_or_update(req.store, sub, rg, nsg, req.json())
    return _started(req, doc.body["location"], 201 if created else 200, nsgs.render(req.store, doc, "Updating"))


def get_nsg(req: Request, sub: str, rg: str, nsg: str) -> dict[str, Any]:
    return nsgs.render(req.store, nsgs.require_nsg(req.store, sub, rg, nsg))


def delete_nsg(req: Request, sub: str, rg: str, nsg: str) -> Response:
    doc = nsgs.delete(req.store, sub, rg, nsg)
    if doc is None:
        return Response.empty(204)
    return _started(req, doc.body["location"], 202)


def list_nsgs(req: Request, sub: str, rg: str | None = None) -> dict[str, Any]:
    return paging.page(req, [nsgs.render(req.store, d) for d in nsgs.list_nsgs(req.store, sub, rg)])
