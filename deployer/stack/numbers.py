"""Integer fields take integers Azure can store: not `2.0`, not `!!float 1e+308`, not 2**40.

JSON Schema calls 2.0 an integer (a number with a zero fraction), so the schema alone lets both
`2.0` and `1e+308` through, and Azure then refuses the request with `InvalidPropertyValue`
naming no field. Azure's integer properties are 32-bit (`format: int32` in the Batch and
Storage REST specifications) unless the schema allows a larger range; this check walks the
document along the schema and reports each such value at its line.
"""

from __future__ import annotations

import math
import re
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack.loader import LoadedDocument, PathKey, format_path

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def check_numbers(doc: LoadedDocument) -> list[Diagnostic]:
    from deployer.stack.schema import schema

    root = schema()
    found: list[Diagnostic] = []
    todo: list[tuple[Any, list[dict[str, Any]], PathKey]] = [(doc.data, _applicable(root, root), ())]
    while todo:  # iterative: the document may nest as deep as the loader allows
        value, schemas, path = todo.pop()
        if not schemas:
            continue
        if isinstance(value, dict):
            for key, child in value.items():
                todo.append((child, [s for sub in schemas for s in _applicable(_property(sub, key), root)],
                             (*path, key)))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                todo.append((child, [s for sub in schemas if isinstance(sub.get("items"), dict)
                                     for s in _applicable(sub["items"], root)], (*path, index)))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            message = _integer_problem(value, schemas)
            if message:
                pos = doc.source.value(path)
                found.append(Diagnostic(doc.source.file, pos.line, pos.column, message, format_path(path)))
    return found


def _types(sub: dict[str, Any]) -> set[str]:
    kind = sub.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _integer_problem(value: float, schemas: list[dict[str, Any]]) -> str:
    types = set().union(*(_types(s) for s in schemas))
    if "integer" not in types or "number" in types:
        return ""
    wide = any(isinstance(s.get("maximum"), int | float) and s["maximum"] > INT32[1]
               or isinstance(s.get("minimum"), int | float) and s["minimum"] < INT32[0] for s in schemas)
    low, high = INT64 if wide else INT32
    bits = 64 if wide else 32
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a number Azure can store; this field takes an integer"
    if not low <= value <= high:
        shown = f"{value:,}" if isinstance(value, int) else repr(value)
        return (f"{shown} is out of range: Azure stores this field as a {bits}-bit integer "
                f"({low:,} to {high:,})")
    if isinstance(value, float):
        if value.is_integer():
            return f"{value!r} is a decimal number, but this field takes an integer: write {int(value)}"
        return f"{value!r} is not a whole number; this field takes an integer"
    return ""


def _property(sub: dict[str, Any], key: str) -> Any:
    properties = sub.get("properties")
    if isinstance(properties, dict) and key in properties:
        return properties[key]
    for pattern, child in (sub.get("patternProperties") or {}).items():
        if re.search(pattern, key):
            return child
    extra = sub.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _applicable(sub: Any, root: dict[str, Any]) -> list[dict[str, Any]]:
    """`sub` and every schema it pulls in at the same place ($ref, allOf, anyOf, oneOf, then/else)."""
    out: list[dict[str, Any]] = []
    todo = [sub]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if not isinstance(item, dict) or id(item) in seen:
            continue
        seen.add(id(item))
        out.append(item)
        ref = item.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            todo.append(target)
        for combinator in ("allOf", "anyOf", "oneOf"):
            todo.extend(item.get(combinator) or [])
        todo.extend(item.get(branch) for branch in ("then", "else"))
    return out
