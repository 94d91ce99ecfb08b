"""`$filter` for pool lists: the OData subset Microsoft.Batch documents (PoolListWithFilter.json).

    matches = compile_filter("startswith(name, 'po') or (properties/allocationState eq 'Steady' "
                             "and properties/provisioningStateTransitionTime lt datetime'2017-02-02')")
    matches(rendered_pool) -> bool

Operands: property paths (`name`, `properties/vmSize`, ...) of the rendered resource, 'strings',
datetime'...' literals, numbers, true/false/null. Operators: eq ne lt le gt ge, and or not,
parentheses; functions startswith, endswith, contains (substringof). Strings compare without
regard to case (as enum values and ARM names do); a datetime literal compares as a time.
Anything else raises ValueError (the route answers 400 InvalidQueryParameterValue).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..core import clock

_TOKEN = re.compile(
    r"\s*(?:(?P<dt>datetime'[^']*')|(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_/.]*)|(?P<op>[(),]))"
)
_CMP = {"eq", "ne", "lt", "le", "gt", "ge"}
_FUNCS = {"startswith", "endswith", "contains", "substringof"}

Predicate = Callable[[dict[str, Any]], bool]


class _Date(float):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unexpected text at position {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _resolve(item: dict[str, Any], path: str) -> Any:
    cur: Any = item
    for part in path.split("/"):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _norm(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, _Date) or isinstance(b, _Date):

        def t(v: Any) -> Any:
            if isinstance(v, str):
                try:
                    return clock.parse_iso(v)
                except ValueError:
                    return None
            return v

        return t(a), t(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower(), b.lower()
    return a, b


def _compare(op: str, a: Any, b: Any) -> bool:
    a, b = _norm(a, b)
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None:
        return False
    try:
        return bool({"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op])
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "name" and tok[1].lower() in words

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ValueError(f"expected {value or 'more'}")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected '{self.peek()[1]}'")  # type: ignore[index]
        return pred

    def or_(self) -> Predicate:
        left = self.and_()
        while self.word("or"):
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def and_(self) -> Predicate:
        left = self.not_()
        while self.word("and"):
            self.take()
            right = self.not_()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def not_(self) -> Predicate:
        if self.word("not"):
            self.take()
            inner = self.not_()
            return lambda item: not inner(item)
        return self.comparison()

    def comparison(self) -> Predicate:
        tok = self.peek()
        if tok == ("op", "("):
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        left = self.operand()
        if self.word(*_CMP):
            op = self.take()[1].lower()
            right = self.operand()
            return lambda item: _compare(op, left(item), right(item))
        return lambda item: bool(left(item))

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, text = self.take()
        if kind == "dt":
            value = _Date(clock.parse_iso(text[len("datetime'") : -1]))
            return lambda item: value
        if kind == "str":
            s = text[1:-1].replace("''", "'")
            return lambda item: s
        if kind == "num":
            n = float(text)
            return lambda item: n
        if kind == "name":
            low = text.lower()
            if low in ("true", "false"):
                flag = low == "true"
                return lambda item: flag
            if low == "null":
                return lambda item: None
            if low in _FUNCS and self.peek() == ("op", "("):
                self.take("(")
                first = self.operand()
                self.take(",")
                second = self.operand()
                self.take(")")
                if low == "substringof":
                    first, second = second, first

                def call(item: dict[str, Any], a: Any = first, b: Any = second, f: str = low) -> bool:
                    x, y = a(item), b(item)
                    if not isinstance(x, str) or not isinstance(y, str):
                        return False
                    x, y = x.lower(), y.lower()
                    if f == "startswith":
                        return x.startswith(y)
                    if f == "endswith":
                        return x.endswith(y)
                    return y in x

                return call
            return lambda item: _resolve(item, text)
        raise ValueError(f"unexpected '{text}'")


def compile_filter(text: str) -> Predicate:
    """A predicate over rendered resources; ValueError when the filter is outside the subset."""
    return _Parser(text).parse()
