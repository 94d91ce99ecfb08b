"""Microsoft.Resources HTTP surface (what azure-mgmt-resource's ResourceManagementClient sends)."""

from __future__ import annotations

from ..core import ApiError, Request, Response, Router, lro, paging
from . import models

GROUPS = "/subscriptions/{sub}/resourcegroups"
GROUP = GROUPS + "/{rg}"


def register(router: Router) -> None:
    router.add("PUT", GROUP, put_group)
    router.add("GET", GROUP, get_group)
    router.add("HEAD", GROUP, head_group)
    router.add("PATCH", GROUP, patch_group)
    router.add("DELETE", GROUP, delete_group)
    router.add("GET", GROUPS, list_groups)


def put_group(req: Request, sub: str, rg: str) -> Response:
    doc, created = models.create_or_update(req.store, sub, rg, req.json())
    return Response.json(models.render(doc), status=201 if created else 200)


def get_group(req: Request, sub: str, rg: str) -> Response:
    return Response.json(models.render(models.require_group(req.store, sub, rg)))


def head_group(req: Request, sub: str, rg: str) -> Response:
    return Response.empty(204 if models.get_group(req.store, sub, rg) else 404)


def patch_group(req: Request, sub: str, rg: str) -> Response:
    return Response.json(models.render(models.patch(req.store, sub, rg, req.json())))


def delete_group(req: Request, sub: str, rg: str) -> Response:
    models.delete(req.store, sub, rg)
    # ARM answers a group deletion with 202 + Location only (no Azure-AsyncOperation).
    return lro.accepted(req, provider="Microsoft.Resources", location="global", async_header=False)


def list_groups(req: Request, sub: str) -> Response:
    top = req.query.get("$top")
    try:
        limit = int(top) if top else None
    except ValueError:
        raise ApiError(400, "InvalidQueryParameterValue", f"The value '{top}' of $top is invalid.") from None
    items = models.list_groups(req.store, sub, req.query.get("$filter"), limit)
    return Response.json(paging.page(req, items))
