"""A yes/no answer to "does this stack satisfy the schema?", fast enough for 1,000 pools.

jsonschema is the authority and explains every error, but it spends about 0.4 s walking a
1,000-pool stack, most of a `validate` run. Valid stacks are the common case in CI, so the
schema is compiled once into nested closures that only answer yes or no; jsonschema runs only
when the answer is no. The compiler knows exactly the keywords our schema uses and refuses any
other, so an unsupported keyword can never be skipped silently (tests/unit/test_fastcheck.py
also checks, on mutated stacks, that both validators always agree).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: they never change the verdict.
_ANNOTATIONS = frozenset({"description", "title", "default", "examples", "x-error-message", "$schema", "$id",
                          "$defs", "$comment", "deprecated", "readOnly", "writeOnly"})


class UnsupportedSchema(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compile_schema(root: dict[str, Any]) -> Check:
    compiled: dict[str, Check] = {}
    defs: dict[str, Any] = root.get("$defs", {})

    def ref(pointer: str) -> Check:
        if not pointer.startswith("#/$defs/"):
            raise UnsupportedSchema(f"$ref {pointer!r}")
        name = pointer[len("#/$defs/"):]
        if name not in compiled:
            compiled[name] = lambda v: compiled[name](v)  # placeholder for recursive refs
            compiled[name] = build(defs[name])
        return lambda v: compiled[name](v)

    def build(schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        checks: list[Check] = []
        if _OBJECT_WALK & schema.keys():
            checks.append(_object_walk(schema, build))
        for keyword, arg in schema.items():
            if keyword in _ANNOTATIONS or keyword in _OBJECT_WALK:
                continue
            maker = _KEYWORDS.get(keyword)
            if maker is None:
                raise UnsupportedSchema(keyword)
            checks.append(maker(arg, schema, build, ref))
        return _every(checks)

    return build(root)


def _every(checks: list[Check]) -> Check:
    """All of `checks`, unrolled for the usual two or three: `all()` over a generator was a third
    of the walk of a 1,000-pool stack."""
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    if len(checks) == 3:
        first, second, third = checks
        return lambda v: first(v) and second(v) and third(v)
    return lambda v: all(check(v) for check in checks)


# Types whose JSON check is a plain isinstance (no bool-is-not-a-number exception).
_PLAIN_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "null": type(None)}


def _type(arg: Any, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    if isinstance(arg, list):
        if all(t in _PLAIN_TYPES for t in arg):
            kinds = tuple(_PLAIN_TYPES[t] for t in arg)
            return lambda v: isinstance(v, kinds)
        options = [_TYPES[t] for t in arg]
        return lambda v: any(option(v) for option in options)
    return _TYPES[arg]


# These three decide together which schema applies to each key, so they compile to one walk.
_OBJECT_WALK = frozenset({"properties", "patternProperties", "additionalProperties"})


def _object_walk(schema: dict[str, Any], build: Any) -> Check:
    props = {name: build(sub) for name, sub in schema.get("properties", {}).items()}
    patterns = [(re.compile(p), build(sub)) for p, sub in schema.get("patternProperties", {}).items()]
    extra = schema.get("additionalProperties", True)
    extra_check = build(extra) if extra is not True else None

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, value in v.items():
            prop = props.get(key)
            if prop is not None:
                if not prop(value):
                    return False
                continue
            matched = False
            for pattern, sub in patterns:
                if pattern.search(key):
                    matched = True
                    if not sub(value):
                        return False
            if not matched and extra_check is not None and not extra_check(value):
                return False
        return True

    return check


def _required(arg: list[str], *_: Any) -> Check:
    names = frozenset(arg)
    return lambda v: not isinstance(v, dict) or v.keys() >= names


def _enum(arg: list[Any], *_: Any) -> Check:
    if all(isinstance(option, str) for option in arg):  # the usual enum: a set lookup
        options = frozenset(arg)
        return lambda v: isinstance(v, str) and v in options
    return lambda v: any(_json_equal(v, option) for option in arg)


def _const(arg: Any, *_: Any) -> Check:
    return lambda v: _json_equal(v, arg)


def _pattern(arg: str, *_: Any) -> Check:
    search = re.compile(arg).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _bound(compare: Callable[[Any, Any], bool], kinds: tuple[type, ...], measure: Callable[[Any], Any]) -> Any:
    def maker(arg: Any, *_: Any) -> Check:
        def check(v: Any) -> bool:
            if isinstance(v, bool) or not isinstance(v, kinds):
                return True
            return compare(measure(v), arg)

        return check

    return maker


def _identity(v: Any) -> Any:
    return v


def _items(arg: Any, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    sub = build(arg)
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v)


def _unique(arg: bool, *_: Any) -> Check:
    def check(v: Any) -> bool:
        if not arg or not isinstance(v, list):
            return True
        return not any(_json_equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))

    return check


def _all_of(arg: list[Any], schema: dict[str, Any], build: Any, ref: Any) -> Check:
    return _every([build(s) for s in arg])


def _any_of(arg: list[Any], schema: dict[str, Any], build: Any, ref: Any) -> Check:
    subs = [build(s) for s in arg]
    return lambda v: any(sub(v) for sub in subs)


def _one_of(arg: list[Any], schema: dict[str, Any], build: Any, ref: Any) -> Check:
    subs = [build(s) for s in arg]
    return lambda v: sum(1 for sub in subs if sub(v)) == 1


def _not(arg: Any, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    sub = build(arg)
    return lambda v: not sub(v)


def _if(arg: Any, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    condition = build(arg)
    then = build(schema.get("then", True))
    otherwise = build(schema.get("else", True))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _ignored(*_: Any) -> Check:
    return lambda v: True  # "then"/"else": evaluated by "if"


def _property_names(arg: Any, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    sub = build(arg)
    return lambda v: not isinstance(v, dict) or all(sub(key) for key in v)


def _dependent_required(arg: dict[str, list[str]], *_: Any) -> Check:
    return lambda v: not isinstance(v, dict) or all(
        all(need in v for need in needs) for name, needs in arg.items() if name in v)


def _ref(arg: str, schema: dict[str, Any], build: Any, ref: Any) -> Check:
    return ref(arg)  # type: ignore[no-any-return]


_KEYWORDS: dict[str, Callable[..., Check]] = {
    "type": _type,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _bound(lambda a, b: a >= b, (int, float), _identity),
    "maximum": _bound(lambda a, b: a <= b, (int, float), _identity),
    "exclusiveMinimum": _bound(lambda a, b: a > b, (int, float), _identity),
    "exclusiveMaximum": _bound(lambda a, b: a < b, (int, float), _identity),
    "minLength": _bound(lambda a, b: a >= b, (str,), len),
    "maxLength": _bound(lambda a, b: a <= b, (str,), len),
    "minItems": _bound(lambda a, b: a >= b, (list,), len),
    "maxItems": _bound(lambda a, b: a <= b, (list,), len),
    "minProperties": _bound(lambda a, b: a >= b, (dict,), len),
    "maxProperties": _bound(lambda a, b: a <= b, (dict,), len),
    "items": _items,
    "uniqueItems": _unique,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
    "then": _ignored,
    "else": _ignored,
    "propertyNames": _property_names,
    "dependentRequired": _dependent_required,
    "$ref": _ref,
}
