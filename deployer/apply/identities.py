"""Apply an identity (deployer.resources.identity): create or update the user-assigned identity
(azure-mgmt-msi, with the deployer's ownership tags), then make its role assignments at the
stack's scopes exactly the declared ones (azure-mgmt-authorization): missing ones are created
under a name derived from (principal, scope, role) — so a retried apply finds the one it made —
and ones no longer declared are deleted. Deleting an identity deletes its assignments first
(Azure would leave them behind, pointing at a principal that no longer exists)."""

from __future__ import annotations

import uuid
from typing import Any

from deployer.plan.model import Change
from deployer.resources.identity import desired_roles, read_roles, scopes
from deployer.stack.model import DesiredResource, Kind

NAMESPACE = uuid.UUID("5a0c3f3e-8f1e-4b8e-9d57-1d2b7a3c6e17")


def assignment_name(principal: str, scope: str, role: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{principal}|{scope.lower()}|{role.lower()}"))


def sync(writers: Any, resource: DesiredResource) -> None:
    body, recorded = writers.body(resource)
    rest = writers.marked(Kind.IDENTITY, {"location": body.get("location") or writers.stack.target.location,
                                          "tags": body.get("tags") or {}}, recorded)
    identity = writers.clients.msi.user_assigned_identities.create_or_update(writers.rg, resource.name, rest)
    principal = str(identity.principal_id)
    wanted = desired_roles(resource.spec, writers.context)
    live = read_roles(writers.clients, scopes(writers.stack, writers.context), {principal}).get(principal, [])
    have = {(a["roleDefinitionId"].rsplit("/", 1)[-1].lower(), a["scope"].lower()): a for a in live}
    assignments = writers.clients.authorization.role_assignments
    subscription = writers.clients.subscription_id
    for guid, scope in wanted:
        if (guid, scope.lower()) in have:
            continue
        role_id = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
        assignments.create(scope, assignment_name(principal, scope, guid), {"properties": {
            "roleDefinitionId": role_id, "principalId": principal, "principalType": "ServicePrincipal"}})
    keep = {(g, s.lower()) for g, s in wanted}
    for key, assignment in have.items():
        if key not in keep:
            assignments.delete(assignment["scope"], assignment["name"])


def delete(writers: Any, change: Change) -> None:
    msi = writers.clients.msi.user_assigned_identities
    identity = msi.get(writers.rg, change.name)
    principal = str(identity.principal_id)
    found = read_roles(writers.clients, scopes(writers.stack, writers.context), {principal}).get(principal, [])
    for assignment in found:
        writers.clients.authorization.role_assignments.delete(assignment["scope"], assignment["name"])
    msi.delete(writers.rg, change.name)
