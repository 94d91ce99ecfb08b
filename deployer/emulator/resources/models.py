"""Resource groups: state and rules.

Other services use `require_group(store, sub, rg)` before creating anything in a group, key their
documents by `ids.key_of(arm_id)` with `parent=group_doc.key` (or a deeper parent), read them
with `require_in_group` (the 404 ARM gives) and `list_in_scope` (a group or the subscription), and
may add a hook run when a group is deleted, before every document under its key is removed:

    from deployer.emulator.resources.models import on_group_delete

    @on_group_delete
    def _drop_data_plane(store: Store, group: Doc) -> None: ...
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..core import ApiError, Doc, Store, arm_location_required, ids
from . import errors

KIND = "resourceGroup"
TYPE = "Microsoft.Resources/resourceGroups"

GroupDeleteHook = Callable[[Store, Doc], None]
_delete_hooks: list[GroupDeleteHook] = []

_ALLOWED = re.compile(r"[\w\-.()]", re.UNICODE)


def on_group_delete(hook: GroupDeleteHook) -> GroupDeleteHook:
    """Register `hook(store, group_doc)`, run (in the delete transaction) when a group is deleted."""
    if hook not in _delete_hooks:
        _delete_hooks.append(hook)
    return hook


def subscription_key(sub: str) -> str:
    return ids.key_of(ids.subscription_id(sub))


def group_key(sub: str, rg: str) -> str:
    return ids.key_of(ids.group_id(sub, rg))


def get_group(store: Store, sub: str, rg: str) -> Doc | None:
    return store.get(KIND, group_key(sub, rg))


def require_group(store: Store, sub: str, rg: str) -> Doc:
    """The group's document, or ApiError 404 ResourceGroupNotFound."""
    doc = get_group(store, sub, rg)
    if doc is None:
        raise errors.group_not_found(rg)
    return doc


def require_in_group(store: Store, doc: Doc | None, sub: str, rg: str, not_found: Callable[[], ApiError]) -> Doc:
    """`doc`, or 404 for it: ResourceGroupNotFound when the group itself is missing, else `not_found()`."""
    if doc is None:
        require_group(store, sub, rg)
        raise not_found()
    return doc


def list_in_scope(store: Store, kind: str, sub: str, rg: str | None = None) -> list[Doc]:
    """Documents of `kind` in a resource group (404 when it is missing), or in the whole subscription."""
    if rg is not None:
        return store.list(kind, parent=require_group(store, sub, rg).key)
    return store.list(kind, prefix=subscription_key(sub) + "/")


def normalize_location(location: str) -> str:
    """ARM writes locations back lower-cased without spaces ("West Europe" -> "westeurope")."""
    return location.replace(" ", "").lower()


def required_location(payload: dict[str, Any]) -> str:
    """The normalized `location` of a PUT body; 400 LocationRequired when it names none."""
    location = payload.get("location")
    if not isinstance(location, str) or not location:
        raise arm_location_required()
    return normalize_location(location)


def validate_name(name: str) -> None:
    bad = "".join(dict.fromkeys(ch for ch in name if not _ALLOWED.fullmatch(ch)))
    if bad or not 1 <= len(name) <= 90 or name.endswith("."):
        raise errors.invalid_name(name, bad)


def _tags(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise errors.invalid_tags()
    return {k: "" if v is None else str(v) for k, v in value.items()}


def render(doc: Doc) -> dict[str, Any]:
    """The ResourceGroup resource as ARM returns it."""
    b = doc.body
    out: dict[str, Any] = {"id": b["id"], "name": b["name"], "type": TYPE, "location": b["location"]}
    if b.get("managedBy"):
        out["managedBy"] = b["managedBy"]
    if b.get("tags") is not None:
        out["tags"] = b["tags"]
    out["properties"] = {"provisioningState": "Succeeded"}
    return out


def create_or_update(store: Store, sub: str, rg: str, payload: Any) -> tuple[Doc, bool]:
    """PUT semantics: (document, created?)."""
    validate_name(rg)
    location = required_location(payload if isinstance(payload, dict) else {})
    tags = _tags(payload.get("tags"))
    with store.transaction():
        current = get_group(store, sub, rg)
        if current is not None and current.body["location"] != location:
            raise errors.location_conflict(payload["location"], current.body["location"])
        body: dict[str, Any] = dict(current.body) if current else {"id": ids.group_id(sub, rg), "name": rg}
        body["location"] = location
        body["tags"] = tags
        body["managedBy"] = payload.get("managedBy") or None
        doc = store.put(KIND, group_key(sub, rg), body, parent=subscription_key(sub))
    return doc, current is None


def patch(store: Store, sub: str, rg: str, payload: Any) -> Doc:
    """PATCH semantics: fields present replace the stored ones; location cannot change."""
    if not isinstance(payload, dict):
        payload = {}
    with store.transaction():
        current = require_group(store, sub, rg)
        body = dict(current.body)
        if "location" in payload and payload["location"]:
            location = normalize_location(str(payload["location"]))
            if location != body["location"]:
                raise errors.location_conflict(str(payload["location"]), body["location"])
        if "tags" in payload:
            body["tags"] = _tags(payload["tags"])
        if "managedBy" in payload:
            body["managedBy"] = payload["managedBy"] or None
        return store.put(KIND, current.key, body, parent=current.parent)


def delete(store: Store, sub: str, rg: str) -> Doc:
    """Delete the group and everything under it (hooks first); returns the deleted document."""
    with store.transaction():
        current = require_group(store, sub, rg)
        for hook in list(_delete_hooks):
            hook(store, current)
        store.delete_prefix(current.key + "/")
        store.delete(KIND, current.key)
    return current


_FILTER = re.compile(
    r"^\s*tagname\s+eq\s+'((?:[^']|'')*)'\s*(?:and\s+tagvalue\s+eq\s+'((?:[^']|'')*)'\s*)?$",
    re.IGNORECASE,
)


def list_groups(store: Store, sub: str, filter_text: str | None = None, top: int | None = None) -> list[dict[str, Any]]:
    docs = store.list(KIND, parent=subscription_key(sub))
    if filter_text:
        m = _FILTER.match(filter_text)
        if not m:
            raise errors.invalid_filter(filter_text)
        name = m.group(1).replace("''", "'").lower()
        value = m.group(2).replace("''", "'") if m.group(2) is not None else None
        kept = []
        for d in docs:
            tags = {k.lower(): v for k, v in (d.body.get("tags") or {}).items()}
            if name in tags and (value is None or tags[name] == value):
                kept.append(d)
        docs = kept
    items = [render(d) for d in docs]
    return items[:top] if top is not None else items
