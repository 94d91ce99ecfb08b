"""Lists Azure keys by a field of their items: two items with the same key are an error.

Azure stores these lists as maps (the deployer's canonical form does too: `userAccounts.alice`), so
a second `alice` silently replaces the first — the plan then compares one of them and says "No
changes" while the stack says two. Each row of `KEYED_LISTS` names such a list (by its key,
wherever it appears in the stack: `environmentSettings` on a start task, a task, a job manager...),
the field that identifies an item and why it must be unique. The error points at the second
occurrence and names the first.

Not here: `metadata` and `tags` are YAML mappings in a stack, so a repeated name is already a
duplicate YAML key (the loader's error); `mountConfiguration` (by relativeMountPath) is checked
with the other pool rules (`pools._mount_paths`); task ids with the names (`naming`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deployer.stack.checks.view import StackView
from deployer.stack.loader import PathKey


@dataclass(frozen=True)
class KeyedList:
    key: str  # the list's key in the stack
    field: str  # the field of an item that identifies it ("" for a list of plain names)
    what: str  # what the identifier is, for the message
    why: str  # what Azure does with the list


KEYED_LISTS = (
    KeyedList("userAccounts", "name", "user account", "Azure keys a pool's user accounts by name"),
    KeyedList("environmentSettings", "name", "environment variable", "a task's environment holds each name once"),
    KeyedList("commonEnvironmentSettings", "name", "environment variable",
              "a job's common environment holds each name once"),
    KeyedList("extensions", "name", "VM extension", "Azure keys a pool's VM extensions by name"),
    KeyedList("dataDisks", "lun", "data disk LUN", "each data disk of a node needs its own LUN"),
    KeyedList("inboundNatPools", "name", "inbound NAT pool", "Azure keys a pool's NAT pools by name"),
    KeyedList("networkSecurityGroupRules", "priority", "network security group rule priority",
              "rule priorities within a pool must be unique"),
    KeyedList("containers", "name", "container", "a storage account holds each container name once"),
)
_BY_KEY = {row.key: row for row in KEYED_LISTS}


def check(view: StackView) -> None:
    """Walk the whole document (iteratively: a hostile stack can nest deep) for keyed lists."""
    pending: list[tuple[PathKey, Any]] = [((), view.data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(child, dict | list):
                    continue  # a scalar holds no list
                row = _BY_KEY.get(key) if isinstance(key, str) else None
                if row is not None and isinstance(child, list):
                    _unique(view, row, (*path, key), child)
                pending.append(((*path, key), child))
        else:
            pending.extend(((*path, index), child) for index, child in enumerate(value)
                           if isinstance(child, dict | list))


def _unique(view: StackView, row: KeyedList, path: PathKey, items: list[Any]) -> None:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            at: PathKey = (*path, index, row.field)
            identity = item.get(row.field)
        elif row.key == "containers":  # a plain name
            at, identity = (*path, index), item
        else:
            continue
        if not isinstance(identity, str | int) or isinstance(identity, bool):
            continue  # the wrong type is the schema's error
        if identity in seen:
            view.error(at, f"duplicate {row.what} {identity!r} (also {row.key}[{seen[identity]}]); {row.why}, "
                       "so one of them would be silently dropped")
        else:
            seen[identity] = index
