"""The small part of the ARM template expression language the Batch CLI extension templates and
Bicep-compiled ARM templates use for Batch settings: `[parameters('x')]`, `[variables('x')]`,
`concat(...)`, `format(...)`, `resourceId(..., 'name')` (its last segment), string and integer literals — whole
values or embedded in text (the CLI extension allows `sample{0}.[parameters('ext')]`).
Anything else stays unresolved, and the converter reports the setting as dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Unresolved:
    expression: str
    why: str


class _Fail(Exception):
    pass


@dataclass
class Scope:
    parameters: dict[str, Any]
    variables: dict[str, Any]

    def resolve(self, value: Any) -> Any:
        """Resolve every expression in a JSON value; unresolvable ones become `Unresolved`."""
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, str):
            return value
        if value.startswith("[") and value.endswith("]") and not value.startswith("[["):
            try:
                return self.resolve(self._eval(value[1:-1].strip()))
            except _Fail as exc:
                return Unresolved(value, str(exc))
        if "[" in value:
            failed: list[str] = []

            def sub(m: re.Match[str]) -> str:
                try:
                    return str(self._eval(m.group(1)))
                except _Fail as exc:
                    failed.append(str(exc))
                    return m.group(0)

            text = re.sub(r"\[((?:parameters|variables)\('[^']*'\))\]", sub, value)
            return Unresolved(value, failed[0]) if failed else text
        return value

    def _eval(self, expr: str) -> Any:
        tokens = re.findall(r"'(?:[^']|'')*'|-?\d+|[A-Za-z_][A-Za-z0-9_]*|[(),.\[\]]", expr)
        value, rest = self._expr(tokens)
        if rest:
            raise _Fail(f"cannot read {expr!r}")
        return value

    def _expr(self, tokens: list[str]) -> tuple[Any, list[str]]:
        if not tokens:
            raise _Fail("empty expression")
        head, rest = tokens[0], tokens[1:]
        if head.startswith("'"):
            return head[1:-1].replace("''", "'"), rest
        if re.fullmatch(r"-?\d+", head):
            return int(head), rest
        if not rest or rest[0] != "(":
            raise _Fail(f"cannot read {head!r}")
        args: list[Any] = []
        rest = rest[1:]
        while rest and rest[0] != ")":
            arg, rest = self._expr(rest)
            args.append(arg)
            if rest and rest[0] == ",":
                rest = rest[1:]
        if not rest:
            raise _Fail("unbalanced parentheses")
        rest = rest[1:]
        value = self._call(head, args)
        while rest and rest[0] == ".":  # property access: variables('os').publisher
            if len(rest) < 2 or not isinstance(value, dict):
                raise _Fail("property of a non-object")
            value, rest = value.get(rest[1]), rest[2:]
        return value, rest

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "parameters":
            if args[0] not in self.parameters:
                raise _Fail(f"parameter {args[0]!r} has no value: give it in a parameters file")
            return self.parameters[args[0]]
        if name == "variables":
            if args[0] not in self.variables:
                raise _Fail(f"variable {args[0]!r} is not defined")
            return self.resolve(self.variables[args[0]])
        if name == "concat":
            if any(isinstance(a, list) for a in args):
                return [x for a in args for x in (a if isinstance(a, list) else [a])]
            return "".join(str(a) for a in args)
        if name == "format" and args:
            text = str(args[0])
            for n, arg in enumerate(args[1:]):
                text = text.replace(f"{{{n}}}", str(arg))
            return text
        if name == "resourceId":
            return str(args[-1])
        if name in ("toLower", "toUpper") and args:
            return str(args[0]).lower() if name == "toLower" else str(args[0]).upper()
        raise _Fail(f"the template function {name}() is not evaluated by deploy convert")


def scope_for(template: dict[str, Any], parameter_values: dict[str, Any]) -> Scope:
    """Parameter values from parameter files (`{name: {value: v}}` or `{name: v}`) over defaults."""
    params: dict[str, Any] = {}
    for name, decl in (template.get("parameters") or {}).items():
        if isinstance(decl, dict) and "defaultValue" in decl:
            params[name] = decl["defaultValue"]
    for name, value in parameter_values.items():
        params[name] = value["value"] if isinstance(value, dict) and "value" in value else value
    scope = Scope(params, dict(template.get("variables") or {}))
    scope.parameters = {k: scope.resolve(v) for k, v in params.items()}
    return scope


def unresolved(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Unresolved]]:
    """Every unresolved expression in a resolved value, with its path."""
    if isinstance(value, Unresolved):
        return [(path, value)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in unresolved(v, (*path, k))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in unresolved(v, (*path, i))]
    return []


def strip_unresolved(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_unresolved(v) for k, v in value.items() if not isinstance(v, Unresolved)}
    if isinstance(value, list):
        return [strip_unresolved(v) for v in value if not isinstance(v, Unresolved)]
    return value
