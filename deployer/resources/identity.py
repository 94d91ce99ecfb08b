"""User-assigned managed identities and their role assignments (`identities:`).

Canonical form: `location` (forces replacement), `tags`, and `roles`: the set of
"ROLE on SCOPE" strings (a built-in role's name, the resource id of a storage account or one of
its containers). The live side is the identity as azure-mgmt-msi lists it plus the role
assignments the read found for its principal at the scopes the stack's identities use (one
`list_for_scope` per scope, never a GET per assignment). Role assignments are immutable in Azure:
a changed role is one deleted and one created (deployer.apply.identities).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import split_reserved
from deployer.resources.rules import DiffContext, Effect, Field, KindRules
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE

#: Azure's built-in role definitions (fixed GUIDs in every tenant)
ROLE_IDS = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage File Data SMB Share Contributor": "0c867c2a-1d8c-454a-a3db-ab2ea1bdc8bb",
    "Storage File Data SMB Share Reader": "aba4ae5f-2193-4029-9191-0cb91df5e314",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Account Contributor": "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
}
ROLE_NAMES = {guid: name for name, guid in ROLE_IDS.items()}

FIELDS: tuple[Field, ...] = (
    Field("location", R, key=n.location),
    Field("roles", U, key=n.ci, unordered=True, default=[]),
    Field("tags", U, default={}),
)
SERVER_SET = ("id", "name", "type", "systemData", "tenantId", "principalId", "clientId", "isolationScope")


def role_scope(role: Mapping[str, Any], context: DiffContext) -> str | None:
    account = Address(("storageAccounts", str(role.get("storage"))))
    target = account.child("containers", str(role["container"])) if role.get("container") else account
    return context.resource_id(target)


def desired_roles(spec: Mapping[str, Any], context: DiffContext) -> list[tuple[str, str]]:
    """(role GUID, scope id) for each role of the spec; scopes not known yet are left out."""
    out = []
    for role in spec.get("roles") or []:
        scope = role_scope(role, context) if isinstance(role, Mapping) else None
        guid = ROLE_IDS.get(str(role.get("role"))) if isinstance(role, Mapping) else None
        if scope and guid:
            out.append((guid, scope))
    return out


def _text(guid: str, scope: str) -> str:
    return f"{ROLE_NAMES.get(guid.lower(), guid)} on {scope}"


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    tags, _, _ = split_reserved(spec.get("tags") or {})
    return {"location": context.location, "roles": sorted(_text(g, s) for g, s in desired_roles(spec, context)),
            "tags": tags}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    roles = [_text(str(a["roleDefinitionId"]).rsplit("/", 1)[-1], str(a["scope"]))
             for a in (rest.get("_deployer") or {}).get("roles") or []]
    tags, _, _ = split_reserved(rest.get("tags") or {})
    return {"location": n.location(rest.get("location")) if rest.get("location") else None,
            "roles": sorted(roles), "tags": tags}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["pools using this identity lose its access (its role assignments are deleted with it)"]


RULES = KindRules(
    kind=Kind.IDENTITY,
    title="identity",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)


def scopes(stack: Any, context: DiffContext) -> set[str]:
    """The stack's storage accounts: role assignments there or on their containers are the
    stack's to manage (what the read lists, one list per account)."""
    return {rid for r in stack.of_kind(Kind.STORAGE_ACCOUNT)
            if (rid := context.resource_id(r.address)) is not None}


def read_roles(clients: Any, scope_ids: set[str], principals: set[str]) -> dict[str, list[dict[str, str]]]:
    """principalId → its assignments on those scopes or below them: one list per scope (Azure
    lists what is at, above and below a scope; only at-or-below counts here)."""
    found: dict[str, list[dict[str, str]]] = {}
    for scope in sorted(scope_ids):
        for assignment in clients.authorization.role_assignments.list_for_scope(scope):
            principal = str(assignment.principal_id)
            at = str(assignment.scope).lower()
            if principal in principals and (at == scope.lower() or at.startswith(scope.lower() + "/")):
                found.setdefault(principal, []).append({
                    "name": str(assignment.name), "scope": str(assignment.scope),
                    "roleDefinitionId": str(assignment.role_definition_id)})
    return found
