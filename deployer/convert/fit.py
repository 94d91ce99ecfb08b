"""Make a converted document fit the stack schema, recording every removal as a finding.

Converters map what they understand; anything else they copy as it is. This pass walks the copy
beside the schema and removes what the stack format has no place for (an unknown property, a
value of the wrong type, outside an enum or not matching a pattern — often an unresolved
template placeholder), so the report of what was dropped is complete by construction.
"""

from __future__ import annotations

import re
from typing import Any

from deployer.convert.model import Conversion, Path


def fit(conv: Conversion, schema: dict[str, Any]) -> None:
    conv.stack = _fit(conv, conv.stack, schema, schema, ())


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in node and seen < 20:
        ref = node["$ref"]
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **merged}
        seen += 1
    return node


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float),
}


def _type_ok(value: Any, types: Any) -> bool:
    if types is None:
        return True
    names = types if isinstance(types, list) else [types]
    for name in names:
        if name in ("integer", "number") and isinstance(value, bool):
            continue
        if isinstance(value, _TYPES.get(name, (object,))):
            return True
    return False


def _describe(value: Any, secret: bool = False) -> str:
    if isinstance(value, str) and secret:
        return "a text (not shown: it may be a secret)"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) < 60 else "a text"
    return type(value).__name__


_SECRETISH = re.compile(r"(?i)password|key|secret|token|sas|credential")


def _fit(conv: Conversion, value: Any, node: dict[str, Any], root: dict[str, Any], path: Path) -> Any:
    node = _resolve(node, root)
    secret = any(isinstance(p, str) and _SECRETISH.search(p) for p in path)
    if not _type_ok(value, node.get("type")):
        return _Drop(f"expected {node.get('type')}, found {_describe(value, secret)} (an unresolved placeholder?)")
    if "enum" in node and value not in node["enum"]:
        # Batch reads its enums case-insensitively (`pack`, `nonadmin`); the stack spells them out
        same = [e for e in node["enum"] if isinstance(e, str) and isinstance(value, str) and e.lower() == value.lower()]
        if not same:
            return _Drop(f"{_describe(value, secret)} is not one of {', '.join(map(str, node['enum']))}")
        value = same[0]
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        rule = node.get("x-error-message", "pattern " + node["pattern"])
        return _Drop(f"{_describe(value, secret)} is not valid here ({rule})")
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        out: dict[str, Any] = {}
        for key, item in value.items():
            here = (*path, key)
            if key in props:
                child = props[key]
            elif isinstance(extra, dict):
                child = extra
            elif extra is False:
                conv.drop(conv.source_of(here), path, f"`{key}` has no equivalent in the stack format")
                continue
            else:
                out[key] = item
                continue
            fitted = _fit(conv, item, child, root, here)
            if isinstance(fitted, _Drop):
                conv.drop(conv.source_of(here), path, f"`{key}`: {fitted.reason}")
                continue
            out[key] = fitted
        missing = [k for k in node.get("required", []) if k not in out]
        if missing and path:
            return _Drop(f"without {', '.join(missing)} it is not complete (see the other findings)")
        return out
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        kept = []
        for i, item in enumerate(value):
            fitted = _fit(conv, item, node["items"], root, (*path, i))
            if isinstance(fitted, _Drop):
                conv.drop(conv.source_of((*path, i)), path, f"item {i}: {fitted.reason}")
                continue
            kept.append(fitted)
        return kept
    return value


class _Drop:
    def __init__(self, reason: str) -> None:
        self.reason = reason
