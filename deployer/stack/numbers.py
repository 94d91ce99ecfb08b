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

    suspects = _suspects(doc.data)
    if not suspects:
        return []
    root = schema()
    found: list[Diagnostic] = []
    for path, value in suspects:  # few: the schema is walked along their paths only
        message = _integer_problem(value, _schemas_at(path, root))
        if message:
            pos = doc.source.value(path)
            found.append(Diagnostic(doc.source.file, pos.line, pos.column, message, format_path(path)))
    return found


def _suspect(value: Any) -> bool:
    """A number no integer field of Azure would take as it is: a float, or an integer past 32 bits."""
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                        and not INT32[0] <= value <= INT32[1])


def _suspects(data: Any) -> list[tuple[PathKey, float]]:
    """The paths of every suspect number. An explicit stack, not recursion (documents may nest as
    deep as the loader allows); paths are built only below containers that hold a suspect."""
    out: list[tuple[PathKey, float]] = []
    todo: list[tuple[Any, PathKey]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in items:
            if isinstance(child, dict | list):
                todo.append((child, (*path, key)))
            elif _suspect(child):
                out.append(((*path, key), child))
    return sorted(out, key=lambda item: [str(part) for part in item[0]])


def _schemas_at(path: PathKey, root: dict[str, Any]) -> list[dict[str, Any]]:
    """Every schema that applies at `path` of a document."""
    schemas = _applicable(root, root)
    for part in path:
        if isinstance(part, int):
            schemas = [s for sub in schemas if isinstance(sub.get("items"), dict)
                       for s in _applicable(sub["items"], root)]
        else:
            schemas = [s for sub in schemas for s in _applicable(_property(sub, part), root)]
        if not schemas:
            break
    return schemas


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
