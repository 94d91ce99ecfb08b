"""What the emulator makes of an autoscale formula: the targets it can know without node metrics.

    result = evaluate("$TargetDedicatedNodes = min(4, 2 * 3);")
    result.dedicated, result.low_priority   -> 4, 0
    result.results                          -> "$TargetDedicatedNodes=4;$TargetLowPriorityNodes=0;..."

Statements are evaluated in order over *constants*: numbers, user variables (`$x` or `x`) and
service variables that earlier statements set to constants, `+ - * / %`, unary `-` and `!`,
comparisons, `&& ||`, `?:`, and the functions min, max, avg, sum, abs, ceil, floor, round,
sqrt, pow (min/max/avg/sum also over several arguments). Anything that needs the service's
metrics — `$PendingTasks.GetSample(...)`, `$CPUPercent`, `TimeInterval_Minute`, `time()` — is
unknown, and so is every expression that uses it. The last assignment to `$TargetDedicatedNodes`
(legacy `$TargetDedicated`) / `$TargetLowPriorityNodes` (`$TargetLowPriority`) decides; an unknown
or missing value gives 0 nodes. Fractions are rounded down, negatives give 0. The parser never
raises: text it cannot read is unknown, so a valid formula the emulator does not understand
still creates its pool (with 0 nodes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormulaResult", "evaluate"]

UNKNOWN: Any = object()

_ALIASES = {
    "$targetdedicated": "$TargetDedicatedNodes",
    "$targetdedicatednodes": "$TargetDedicatedNodes",
    "$targetlowpriority": "$TargetLowPriorityNodes",
    "$targetlowprioritynodes": "$TargetLowPriorityNodes",
    "$nodedeallocationoption": "$NodeDeallocationOption",
}
_DEALLOCATION = {
    "requeue": "Requeue",
    "terminate": "Terminate",
    "taskcompletion": "TaskCompletion",
    "retaineddata": "RetainedData",
}
MAX_NODES = 10_000

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>\"[^\"]*\")"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/%()<>!?:,.=]))"
)


@dataclass
class FormulaResult:
    dedicated: int
    low_priority: int
    deallocation: str  # Requeue, Terminate, TaskCompletion, RetainedData
    variables: dict[str, Any] = field(default_factory=dict)  # known values, in assignment order

    @property
    def results(self) -> str:
        """Azure's `autoScaleRun.results` text: `$Var=value` pairs separated by semicolons."""
        parts = [
            f"$TargetDedicatedNodes={self.dedicated}",
            f"$TargetLowPriorityNodes={self.low_priority}",
            f"$NodeDeallocationOption={self.deallocation.lower()}",
        ]
        for name, value in self.variables.items():
            if name in ("$TargetDedicatedNodes", "$TargetLowPriorityNodes", "$NodeDeallocationOption"):
                continue
            parts.append(f"{name}={_fmt(value)}")
        return ";".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _statements(text: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    in_str = False
    for ch in text:
        if ch == '"':
            in_str = not in_str
        if ch == ";" and not in_str:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [s for s in (p.strip() for p in out) if s]


class _Parser:
    def __init__(self, text: str, env: dict[str, Any]) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError("unreadable")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.env = env

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise ValueError("unexpected")
        self.i += 1
        return tok

    def at(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] in values

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    # expr := or ('?' expr ':' expr)?
    def expr(self) -> Any:
        cond = self.binary(0)
        if self.at("?"):
            self.take("?")
            a = self.expr()
            self.take(":")
            b = self.expr()
            if cond is UNKNOWN:
                return UNKNOWN
            return a if cond else b
        return cond

    _LEVELS: list[tuple[str, ...]] = [
        ("||",),
        ("&&",),
        ("==", "!="),
        ("<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    ]

    def binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take()[1]
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self) -> Any:
        if self.at("-", "!", "+"):
            op = self.take()[1]
            v = self.unary()
            if v is UNKNOWN or not isinstance(v, int | float):
                return UNKNOWN
            return -v if op == "-" else (float(not v) if op == "!" else v)
        return self.postfix()

    def postfix(self) -> Any:
        v = self.primary()
        while self.at("."):
            self.take(".")
            self.take()
            if self.at("("):
                self.args()
            v = UNKNOWN  # sample methods and timestamp members need metrics
        return v

    def args(self) -> list[Any]:
        self.take("(")
        out: list[Any] = []
        if self.at(")"):
            self.take(")")
            return out
        out.append(self.expr())
        while self.at(","):
            self.take(",")
            out.append(self.expr())
        self.take(")")
        return out

    def primary(self) -> Any:
        tok = self.take()
        kind, text = tok
        if kind == "num":
            return float(text)
        if kind == "str":
            return UNKNOWN
        if kind == "op" and text == "(":
            v = self.expr()
            self.take(")")
            return v
        if kind == "name":
            if self.at("("):
                return _call(text.lower(), self.args())
            key = _ALIASES.get(text.lower(), text)
            if key in self.env:
                return self.env[key]
            if text.lower() in _DEALLOCATION:
                return text.lower()
            return UNKNOWN
        raise ValueError("unexpected")


def _num(*values: Any) -> bool:
    return all(v is not UNKNOWN and isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _apply(op: str, a: Any, b: Any) -> Any:
    if not _num(a, b):
        return UNKNOWN
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "%":
            return math.fmod(a, b)
        if op == "&&":
            return float(bool(a) and bool(b))
        if op == "||":
            return float(bool(a) or bool(b))
        return float({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except (ZeroDivisionError, ValueError, OverflowError):
        return UNKNOWN


def _call(name: str, args: list[Any]) -> Any:
    if not args or not _num(*args):
        return UNKNOWN
    try:
        if name == "min":
            return min(args)
        if name == "max":
            return max(args)
        if name == "avg":
            return sum(args) / len(args)
        if name == "sum":
            return sum(args)
        if len(args) == 1:
            (x,) = args
            if name == "abs":
                return abs(x)
            if name == "ceil":
                return float(math.ceil(x))
            if name == "floor":
                return float(math.floor(x))
            if name == "round":
                return float(math.floor(x + 0.5))
            if name == "sqrt":
                return math.sqrt(x)
        if name == "pow" and len(args) == 2:
            return math.pow(args[0], args[1])
    except (ValueError, OverflowError):
        return UNKNOWN
    return UNKNOWN


_ASSIGN = re.compile(r"^(\$?[A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$", re.S)


def _nodes(value: Any) -> int:
    if not _num(value) or math.isnan(value):
        return 0
    return int(max(0, min(MAX_NODES, math.floor(value))))


def evaluate(formula: str) -> FormulaResult:
    """Evaluate what can be known of a formula (see the module docstring); never raises."""
    env: dict[str, Any] = {}
    for stmt in _statements(_strip_comments(formula or "")):
        m = _ASSIGN.match(stmt)
        if not m:
            continue
        name = _ALIASES.get(m.group(1).lower(), m.group(1))
        try:
            parser = _Parser(m.group(2), env)
            value = parser.expr()
            if not parser.done():
                value = UNKNOWN
        except (ValueError, IndexError, RecursionError):
            value = UNKNOWN
        if value is UNKNOWN:
            env.pop(name, None)
        else:
            env.pop(name, None)  # keep assignment order: the last assignment decides the position
            env[name] = value
    dealloc = env.get("$NodeDeallocationOption")
    deallocation = _DEALLOCATION.get(str(dealloc).lower(), "Requeue") if isinstance(dealloc, str) else "Requeue"
    known = {k: v for k, v in env.items() if _num(v) or k == "$NodeDeallocationOption"}
    return FormulaResult(
        dedicated=_nodes(env.get("$TargetDedicatedNodes", UNKNOWN)),
        low_priority=_nodes(env.get("$TargetLowPriorityNodes", UNKNOWN)),
        deallocation=deallocation,
        variables=known,
    )
