"""Microsoft.Authorization roleAssignments, as azure-mgmt-authorization's
AuthorizationManagementClient sends them (`role_assignments.create / get / delete /
list_for_scope`), at resource-group, storage-account and blob-container scope. A list returns the
assignments at, above and below the scope (Azure's answer), narrowed by `$filter=principalId eq
'…'` or `atScope()` (at or above only)."""

from __future__ import annotations

import re
from typing import Any

from ..core import Request, Response, Router, paging
from . import models

RG = "/subscriptions/{sub}/resourceGroups/{rg}"
ACCOUNT = RG + "/providers/Microsoft.Storage/storageAccounts/{account}"
CONTAINER = ACCOUNT + "/blobServices/default/containers/{container}"
SUFFIX = "/providers/Microsoft.Authorization/roleAssignments"


def register(router: Router) -> None:
    for scope in (RG, ACCOUNT, CONTAINER):
        router.add_all({scope + SUFFIX: {"GET": list_assignments},
                        scope + SUFFIX + "/{name}": {"PUT": put_assignment, "GET": get_assignment,
                                                     "DELETE": delete_assignment}})


def _scope(req: Request) -> str:
    path = req.path.split("?", 1)[0]
    return re.split(r"/providers/Microsoft\.Authorization/roleAssignments", path, flags=re.IGNORECASE)[0]


def put_assignment(req: Request, name: str, **_: str) -> Response:
    doc, created = models.put(req.store, _scope(req), name, req.json())
    return Response.json(models.render(doc), 201 if created else 200)


def get_assignment(req: Request, name: str, **_: str) -> dict[str, Any]:
    return models.render(models.get(req.store, _scope(req), name))


def delete_assignment(req: Request, name: str, **_: str) -> Response:
    doc = models.delete(req.store, _scope(req), name)
    return Response.json(models.render(doc)) if doc is not None else Response.empty(204)


def list_assignments(req: Request, **_: str) -> dict[str, Any]:
    docs = models.list_for_scope(req.store, _scope(req))
    if "atscope()" in (req.query.get("$filter") or "").lower():
        scope = _scope(req).lower()
        docs = [d for d in docs if scope.startswith(d.body["scope"].lower())]
    match = re.search(r"principalId\s+eq\s+'([^']+)'", req.query.get("$filter") or "")
    if match:
        docs = [d for d in docs if d.body["principalId"] == match.group(1)]
    return paging.page(req, [models.render(d) for d in docs])
