"""Ownership markers: which stack a live resource belongs to, recorded on the resource itself.

Live state is the truth (DESIGN.md principle 2): there is no state file, so a plan finds what a
stack created by a marker on each resource:

* ARM tag `deployer.stack` on networks, storage accounts and Batch accounts;
* metadata item `deployer.stack` on pools, jobs and job schedules.

Next to it, networks and accounts carry `deployer.stackFile`: which stack file declared them
(`deployer.stack.identity`), so a plan from another file with the same stack name does not delete
them unasked (`deployer.plan.identity`). Resources tagged before it existed have none.

Containers, file shares and applications live inside an account and belong to the stack that owns
the account. Next to the marker the deployer records the fingerprints of write-only values it
wrote (`deployer.fingerprint.<path>`, see `normalize`). Every key starting with `deployer.` is
reserved: the diff ignores them (they are not part of the desired state), and these helpers are
the only code that reads or writes them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from enum import Enum
from typing import Any

from deployer.stack.model import Kind

__all__ = [
    "FINGERPRINT_PREFIX",
    "RESERVED_PREFIX",
    "STACK_FILE_KEY",
    "STACK_KEY",
    "Ownership",
    "declared_by",
    "fingerprint_key",
    "marker_place",
    "owner",
    "ownership",
    "read_markers",
    "split_reserved",
    "with_markers",
]

RESERVED_PREFIX = "deployer."
STACK_KEY = "deployer.stack"
STACK_FILE_KEY = "deployer.stackFile"
FINGERPRINT_PREFIX = "deployer.fingerprint."

_TAGGED = (Kind.NETWORK, Kind.STORAGE_ACCOUNT, Kind.BATCH_ACCOUNT, Kind.SECURITY_GROUP, Kind.IDENTITY)
_METADATA = (Kind.POOL, Kind.JOB, Kind.JOB_SCHEDULE)


class Ownership(str, Enum):
    OWNED = "owned"  # carries this stack's marker
    OTHER_STACK = "other-stack"  # carries another stack's marker: never touched
    UNMARKED = "unmarked"  # no marker: created outside the deployer, never touched
    INHERITED = "inherited"  # a child (container, share, application): owned through its account


def marker_place(kind: Kind) -> str | None:
    """Where a kind carries its markers: "tags" (ARM tags), "metadata" (Batch metadata) or None."""
    if kind in _TAGGED:
        return "tags"
    if kind in _METADATA:
        return "metadata"
    return None


def fingerprint_key(path: str) -> str:
    """The tag or metadata name under which the fingerprint of the write-only field `path` lives."""
    return FINGERPRINT_PREFIX + path


def is_reserved(name: str) -> bool:
    return name.startswith(RESERVED_PREFIX)


def split_reserved(items: Any) -> tuple[Any, str | None, dict[str, str]]:
    """Separate the deployer's markers from user metadata or tags.

    Takes a tag map or a `[{name, value}]` metadata list and returns the same shape without
    reserved entries, the stack name it records (or None) and the fingerprints by field path.
    """
    stack: str | None = None
    fingerprints: dict[str, str] = {}
    if isinstance(items, Mapping):
        kept_map: dict[str, Any] = {}
        for name, value in items.items():
            stack = _take(str(name), value, stack, fingerprints, kept_map)
        return kept_map, stack, fingerprints
    if isinstance(items, list):
        kept_list: list[Any] = []
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("name"), str) and is_reserved(item["name"]):
                stack = _take(item["name"], item.get("value"), stack, fingerprints, None)
            else:
                kept_list.append(item)
        return kept_list, stack, fingerprints
    return items, None, {}


def _take(name: str, value: Any, stack: str | None, fingerprints: dict[str, str],
          kept: dict[str, Any] | None) -> str | None:
    if name == STACK_KEY:
        return str(value) if value is not None else stack
    if name.startswith(FINGERPRINT_PREFIX):
        if isinstance(value, str):
            fingerprints[name[len(FINGERPRINT_PREFIX):]] = value
        return stack
    if not is_reserved(name) and kept is not None:
        kept[name] = value
    return stack


def _marker_container(kind: Kind, live: Mapping[str, Any]) -> Any:
    place = marker_place(kind)
    if place == "tags":
        return live.get("tags")
    if place == "metadata":
        if kind == Kind.POOL and isinstance(live.get("properties"), Mapping):
            return live["properties"].get("metadata")  # management API shape
        return live.get("metadata")
    return None


def read_markers(kind: Kind, live: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The owning stack and the recorded fingerprints of a live resource (REST JSON)."""
    _, stack, fingerprints = split_reserved(_marker_container(kind, live))
    return stack, fingerprints


def declared_by(kind: Kind, live: Mapping[str, Any]) -> str | None:
    """The stack file recorded on a live network or account (None: not recorded, or another kind)."""
    if marker_place(kind) != "tags":
        return None
    tags = live.get("tags")
    value = tags.get(STACK_FILE_KEY) if isinstance(tags, Mapping) else None
    return str(value) if value else None


def owner(kind: Kind, live: Mapping[str, Any]) -> str | None:
    return read_markers(kind, live)[0]


def ownership(kind: Kind, live: Mapping[str, Any], stack: str) -> Ownership:
    """Whether `stack` owns a live resource. Children of accounts answer INHERITED: ask about the
    account."""
    if marker_place(kind) is None:
        return Ownership.INHERITED
    found = owner(kind, live)
    if found is None:
        return Ownership.UNMARKED
    return Ownership.OWNED if found == stack else Ownership.OTHER_STACK


def with_markers(kind: Kind, body: Mapping[str, Any], stack: str,
                 fingerprints: Mapping[str, str] | None = None, *, stack_file: str = "") -> dict[str, Any]:
    """A copy of a REST request body carrying the ownership marker and fingerprints (for writers),
    and on what carries tags (accounts, networks) `stack_file`, the declaring file's identity
    (deployer.stack.identity; "" records none).

    Existing reserved entries are replaced, user entries kept in their order. Pools take the
    management API shape (`properties.metadata`); jobs and schedules the data-plane shape.
    """
    out = copy.deepcopy(dict(body))
    place = marker_place(kind)
    if place is None:
        return out
    entries = {STACK_KEY: stack}
    if place == "tags" and stack_file:
        entries[STACK_FILE_KEY] = stack_file
    entries.update({fingerprint_key(path): value for path, value in (fingerprints or {}).items()})
    if place == "tags":
        kept, _, _ = split_reserved(out.get("tags") or {})
        out["tags"] = {**kept, **entries}
        return out
    holder = out
    if kind == Kind.POOL:
        holder = out.setdefault("properties", {})
    kept_items, _, _ = split_reserved(list(holder.get("metadata") or []))
    holder["metadata"] = [*kept_items, *({"name": k, "value": v} for k, v in entries.items())]
    return out
