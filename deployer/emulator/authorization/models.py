"""Role assignments: one document each (kind "roleAssignment", keyed under its scope, so deleting
the scope's resource deletes them), named by a GUID the caller chooses. Checked as Azure does:
the name is a GUID; the principal exists (user-assigned identities of this emulator); the role
is one of the built-in roles below; one principal has a role once per scope (RoleAssignmentExists
for a second name); a PUT on an existing name with other content is refused (assignments are
immutable)."""

from __future__ import annotations

import re
from typing import Any

from ..core import Doc, Store, ids
from ..msi.models import find_by_principal
from . import errors

KIND = "roleAssignment"
TYPE = "Microsoft.Authorization/roleAssignments"
# Built-in roles the emulator knows (Azure's fixed GUIDs).
BUILT_IN = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "0c867c2a-1d8c-454a-a3db-ab2ea1bdc8bb": "Storage File Data SMB Share Contributor",
    "aba4ae5f-2193-4029-9191-0cb91df5e314": "Storage File Data SMB Share Reader",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _key(scope: str, name: str) -> str:
    return ids.key_of(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")


def put(store: Store, scope: str, name: str, payload: Any) -> tuple[Doc, bool]:
    if not _GUID.match(name):
        raise errors.invalid(f"The role assignment name '{name}' is not valid: it must be a GUID.")
    props = (payload or {}).get("properties") if isinstance(payload, dict) else None
    if not isinstance(props, dict):
        raise errors.invalid("The request has no properties.")
    role, principal = str(props.get("roleDefinitionId") or ""), str(props.get("principalId") or "")
    if role.rsplit("/", 1)[-1].lower() not in BUILT_IN:
        raise errors.role_not_found(role)
    if find_by_principal(store, principal) is None:
        raise errors.principal_not_found(principal)
    with store.transaction():
        cur = store.get(KIND, _key(scope, name))
        if cur is not None:
            if (cur.body["roleDefinitionId"].lower(), cur.body["principalId"]) != (role.lower(), principal):
                raise errors.invalid("Role assignments cannot be updated: delete it and create a new one.")
            return cur, False
        for other in list_at(store, scope):
            if (other.body["roleDefinitionId"].lower(), other.body["principalId"]) == (role.lower(), principal):
                raise errors.exists(name)
        body = {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
                "scope": scope, "roleDefinitionId": role, "principalId": principal,
                "principalType": str(props.get("principalType") or "ServicePrincipal")}
        doc = store.put(KIND, _key(scope, name), body, parent=ids.key_of(scope))
    return doc, True


def get(store: Store, scope: str, name: str) -> Doc:
    doc = store.get(KIND, _key(scope, name))
    if doc is None:
        raise errors.not_found(name)
    return doc


def delete(store: Store, scope: str, name: str) -> Doc | None:
    with store.transaction():
        doc = store.get(KIND, _key(scope, name))
        if doc is not None:
            store.delete(KIND, doc.key)
    return doc


def list_at(store: Store, scope: str) -> list[Doc]:
    """Assignments made at exactly this scope."""
    return store.list(KIND, parent=ids.key_of(scope))


def list_for_scope(store: Store, scope: str) -> list[Doc]:
    """What Azure lists for a scope: assignments at it, above it (its resource group and
    subscription) and below it (a storage account's containers)."""
    key = ids.key_of(scope)
    below = [d for d in store.list(KIND, prefix=key + "/") if d.parent != key]
    parts = scope.rstrip("/").split("/")
    above = [d for n in range(3, len(parts), 2) for d in list_at(store, "/".join(parts[:n]))
             if "/".join(parts[:n]) != scope]
    return above + list_at(store, scope) + below


def render(doc: Doc) -> dict[str, Any]:
    b = doc.body
    return {"id": b["id"], "name": b["name"], "type": TYPE,
            "properties": {"scope": b["scope"], "roleDefinitionId": b["roleDefinitionId"],
                           "principalId": b["principalId"], "principalType": b["principalType"]}}
