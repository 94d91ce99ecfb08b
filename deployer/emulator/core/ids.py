"""ARM resource ids and store keys.

ARM names are case-insensitive and case-preserving: a resource keeps the spelling it was created
with, and `RG1` and `rg1` name the same group. The convention for the store is therefore:
key = `key_of(arm_id)` (the id lower-cased), parent = the key of the parent resource, and the
document keeps the original spelling in its `id` / `name` fields.

    arm_id("sub", "rg", "Microsoft.Storage", "storageAccounts", "acct")
      -> "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    arm_id("sub", "rg", "Microsoft.Batch", "batchAccounts", "ba", "pools", "p1")   # child
    group_id("sub", "rg") -> "/subscriptions/sub/resourceGroups/rg"
"""

from __future__ import annotations

import uuid


def subscription_id(subscription: str) -> str:
    return f"/subscriptions/{subscription}"


def group_id(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def arm_id(subscription: str, resource_group: str, provider: str, *types_and_names: str) -> str:
    """The id of a resource: `types_and_names` alternates type and name (children follow)."""
    if len(types_and_names) < 2 or len(types_and_names) % 2:
        raise ValueError("arm_id needs (type, name) pairs after the provider")
    return group_id(subscription, resource_group) + f"/providers/{provider}/" + "/".join(types_and_names)


def key_of(resource_id: str) -> str:
    """The store key of an ARM id (lower-cased, no trailing slash)."""
    return resource_id.rstrip("/").lower()


def parse_arm_id(resource_id: str) -> dict[str, str]:
    """Split an ARM id: {"subscription", "resourceGroup", "provider", "type", "name"}.

    "type" is the full type (`Microsoft.Batch/batchAccounts/pools`), "name" the last name.
    Missing parts are absent from the result.
    """
    parts = [p for p in resource_id.split("/") if p]
    out: dict[str, str] = {}
    lower = [p.lower() for p in parts]
    if len(parts) >= 2 and lower[0] == "subscriptions":
        out["subscription"] = parts[1]
    if len(parts) >= 4 and lower[2] == "resourcegroups":
        out["resourceGroup"] = parts[3]
        out["name"] = parts[3]
        out["type"] = "Microsoft.Resources/resourceGroups"
    if "providers" in lower:
        i = lower.index("providers")
        rest = parts[i + 1 :]
        if rest:
            out["provider"] = rest[0]
            pairs = rest[1:]
            types = pairs[0::2]
            names = pairs[1::2]
            if types:
                out["type"] = "/".join([rest[0], *types])
            if names:
                out["name"] = names[-1]
    return out


def new_id() -> str:
    """A fresh GUID, as Azure writes them (lower case, hyphenated)."""
    return str(uuid.uuid4())
