"""User-assigned managed identities: one document each (kind "userAssignedIdentity", keyed by its
ARM id, parent: the resource group). Azure sets `principalId`, `clientId` and `tenantId` at
creation and never changes them; a PUT on an existing identity updates its tags only."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..core import Doc, Store, ids
from ..resources.models import list_in_scope, require_group, require_in_group, required_location
from . import errors

KIND = "userAssignedIdentity"
TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
TENANT = "00000000-0000-0000-0000-0000000000aa"  # the emulator's one tenant
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")


def identity_id(sub: str, rg: str, name: str) -> str:
    return ids.arm_id(sub, rg, "Microsoft.ManagedIdentity", "userAssignedIdentities", name)


def get(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    return store.get(KIND, ids.key_of(identity_id(sub, rg, name)))


def require(store: Store, sub: str, rg: str, name: str) -> Doc:
    return require_in_group(store, get(store, sub, rg, name), sub, rg, lambda: errors.not_found(name, rg))


def list_identities(store: Store, sub: str, rg: str | None = None) -> list[Doc]:
    return list_in_scope(store, KIND, sub, rg)


def create_or_update(store: Store, sub: str, rg: str, name: str, payload: Any) -> tuple[Doc, bool]:
    if not _NAME.match(name):
        raise errors.invalid_name(name)
    group = require_group(store, sub, rg)
    payload = payload if isinstance(payload, dict) else {}
    location = required_location(payload)
    rid = identity_id(sub, group.body["name"], name)
    with store.transaction():
        cur = store.get(KIND, ids.key_of(rid))
        body: dict[str, Any] = dict(cur.body) if cur else {
            "id": rid, "name": name, "location": location, "principalId": str(uuid.uuid4()),
            "clientId": str(uuid.uuid4()), "tenantId": TENANT}
        body["tags"] = payload.get("tags") or None
        doc = store.put(KIND, ids.key_of(rid), body, parent=group.key)
    return doc, cur is None


def delete(store: Store, sub: str, rg: str, name: str) -> bool:
    with store.transaction():
        cur = get(store, sub, rg, name)
        if cur is None:
            require_group(store, sub, rg)
            return False
        store.delete(KIND, cur.key)
    return True


def find_by_principal(store: Store, principal: str) -> Doc | None:
    return next((d for d in store.list(KIND) if d.body["principalId"] == principal), None)


def render(doc: Doc) -> dict[str, Any]:
    b = doc.body
    out: dict[str, Any] = {"id": b["id"], "name": b["name"], "type": TYPE, "location": b["location"]}
    if b.get("tags"):
        out["tags"] = b["tags"]
    out["properties"] = {"tenantId": b["tenantId"], "principalId": b["principalId"], "clientId": b["clientId"],
                         "isolationScope": "None"}
    return out
