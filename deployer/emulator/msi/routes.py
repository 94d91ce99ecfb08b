"""Microsoft.ManagedIdentity HTTP surface, as azure-mgmt-msi's ManagedServiceIdentityClient sends
it: userAssignedIdentities PUT (201 created / 200 updated), GET, DELETE (200, or 204 when there
was none), list by resource group and subscription. Synchronous, as Azure's are."""

from __future__ import annotations

from typing import Any

from ..core import Request, Response, Router, paging
from . import models

IDS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


def register(router: Router) -> None:
    router.add_all({
        "/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities": {"GET": list_identities},
        IDS: {"GET": list_identities},
        IDS + "/{name}": {"PUT": put_identity, "GET": get_identity, "DELETE": delete_identity},
    })


def put_identity(req: Request, sub: str, rg: str, name: str) -> Response:
    doc, created = models.create_or_update(req.store, sub, rg, name, req.json())
    return Response.json(models.render(doc), 201 if created else 200)


def get_identity(req: Request, sub: str, rg: str, name: str) -> dict[str, Any]:
    return models.render(models.require(req.store, sub, rg, name))


def delete_identity(req: Request, sub: str, rg: str, name: str) -> Response:
    return Response.empty(200 if models.delete(req.store, sub, rg, name) else 204)


def list_identities(req: Request, sub: str, rg: str | None = None) -> dict[str, Any]:
    return paging.page(req, [models.render(d) for d in models.list_identities(req.store, sub, rg)])
