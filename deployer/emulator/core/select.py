"""`$select`: only the named properties of a response item, as ARM and the Batch service answer it.

    select({"id": "p", "properties": {"vmSize": "x", "allocationState": "steady"}},
           "properties/allocationState", always=("id",))
        -> {"id": "p", "properties": {"allocationState": "steady"}}

Paths are separated by ',' and nested with '/'; a path the item does not have is left out; the
keys in `always` are kept whatever the selection (ARM keeps id, name and type).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def select(item: dict[str, Any], text: str | None, *, always: Iterable[str] = ()) -> dict[str, Any]:
    if not text:
        return item
    out: dict[str, Any] = {k: item[k] for k in always if k in item}
    for raw in text.split(","):
        path = [p for p in raw.strip().split("/") if p]
        if not path:
            continue
        src: Any = item
        for part in path:
            src = src.get(part) if isinstance(src, dict) else None
        if src is None:
            continue
        dst = out
        for part in path[:-1]:
            dst = dst.setdefault(part, {})
        dst[path[-1]] = src
    return out
