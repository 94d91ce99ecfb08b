"""What the emulator makes of an autoscale formula: the targets it can know without node metrics.

    result = evaluate("$TargetDedicatedNodes = min(4, 2 * 3);")
    result.dedicated, result.low_priority   -> 4, 0
    result.results                          -> "$TargetDedicatedNodes=4;$TargetLowPriorityNodes=0;..."

The formula is parsed by the stack validator's parser (deployer.stack.formula.parse_formula: one
grammar for both), and its statements are evaluated in order over *constants*: numbers, user
variables (`$x` or `x`) and service variables that earlier statements set to constants, `+ - * /`,
unary `-` and `!`, comparisons, `&& ||`, `?:`, and the functions min, max, avg, sum, abs, ceil,
floor, round, sqrt, pow (min/max/avg/sum also over several arguments). What the emulator
knows of the service is passed in: `metrics` (service variables such as `$CurrentDedicatedNodes`
or `$PendingTasks`: the emulator keeps no history, so `$PendingTasks.GetSample(…)` is a vector of
that one value and `GetSamplePercent(…)` is 100) and `now` (for `time()`, UTC; Sunday is weekday
0). Without them — and for anything else, such as `$CPUPercent` — a value is unknown, and so is
every expression that uses it. The last assignment to `$TargetDedicatedNodes`
(legacy `$TargetDedicated`) / `$TargetLowPriorityNodes` (`$TargetLowPriority`) decides; an unknown
or missing value gives 0 nodes. Fractions are rounded down, negatives give 0. Evaluating never
raises: a statement that does not parse leaves its variable unknown, so a formula the emulator
cannot use still creates its pool (with 0 nodes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deployer.stack.formula import (
    Binary,
    Call,
    Conditional,
    Expression,
    Member,
    Method,
    Name,
    Number,
    Unary,
    parse_formula,
)

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

#: Keys of what the service knows in the evaluation environment (no formula variable can be named so).
_METRIC_PREFIX = "\0metric:"
_NOW = "\0now"
#: TimeInterval_* constants, in seconds.
_INTERVALS = {
    "timeinterval_zero": 0.0, "timeinterval_100ns": 1e-7, "timeinterval_microsecond": 1e-6,
    "timeinterval_millisecond": 1e-3, "timeinterval_second": 1.0, "timeinterval_minute": 60.0,
    "timeinterval_hour": 3600.0, "timeinterval_day": 86400.0, "timeinterval_week": 604800.0,
    "timeinterval_year": 31536000.0,
}

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


def _value(node: Expression, env: dict[str, Any]) -> Any:
    """The value of an expression over what is known (`env`), or UNKNOWN."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        key = _ALIASES.get(node.name.lower(), node.name)
        if key in env:
            return env[key]
        lowered = node.name.lower()
        if lowered in _DEALLOCATION:
            return lowered
        if lowered in _INTERVALS:
            return _INTERVALS[lowered]
        return env.get(_METRIC_PREFIX + lowered, UNKNOWN)
    if isinstance(node, Call):
        if node.function == "time" and not node.arguments:
            return env.get(_NOW, UNKNOWN)
        return _call(node.function.lower(), [_value(a, env) for a in node.arguments])
    if isinstance(node, Unary):
        operand = _value(node.operand, env)
        if not _num(operand):
            return UNKNOWN
        return -operand if node.operator == "-" else float(not operand)
    if isinstance(node, Binary):
        return _apply(node.operator, _value(node.left, env), _value(node.right, env))
    if isinstance(node, Conditional):
        condition = _value(node.condition, env)
        if not _num(condition):
            return UNKNOWN
        return _value(node.then if condition else node.otherwise, env)
    if isinstance(node, Method):
        return _method(node, env)
    if isinstance(node, Member):
        stamp = _value(node.target, env)
        return float(getattr(stamp, node.member)) if isinstance(stamp, _Timestamp) else UNKNOWN
    return UNKNOWN  # strings


@dataclass(frozen=True)
class _Timestamp:
    """What `time()` returns: its members are read as numbers (`time().hour`)."""

    year: int
    month: int
    day: int
    weekday: int  # Sunday 0 … Saturday 6
    hour: int
    minute: int
    second: int

    @classmethod
    def at(cls, seconds: float) -> _Timestamp:
        t = datetime.fromtimestamp(seconds, UTC)
        return cls(t.year, t.month, t.day, t.isoweekday() % 7, t.hour, t.minute, t.second)


def _method(node: Method, env: dict[str, Any]) -> Any:
    """Sample methods of a service metric: one sample, the current value, whatever the window."""
    if not isinstance(node.target, Name):
        return UNKNOWN
    current = env.get(_METRIC_PREFIX + node.target.name.lower(), UNKNOWN)
    if not _num(current):
        return UNKNOWN
    if node.method == "GetSample":
        return (current,)
    if node.method == "GetSamplePercent":
        return 100.0
    return UNKNOWN


def _num(*values: Any) -> bool:
    return all(v is not UNKNOWN and isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _apply(op: str, a: Any, b: Any) -> Any:
    if op in "+-*/" and (isinstance(a, tuple) or isinstance(b, tuple)):  # a sample vector: item by item
        left = a if isinstance(a, tuple) else (a,) * len(b)
        right = b if isinstance(b, tuple) else (b,) * len(left)
        if len(left) != len(right):
            return UNKNOWN
        items = tuple(_apply(op, x, y) for x, y in zip(left, right, strict=True))
        return UNKNOWN if any(i is UNKNOWN for i in items) else items
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
        if op == "&&":
            return float(bool(a) and bool(b))
        if op == "||":
            return float(bool(a) or bool(b))
        return float({"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])
    except (ZeroDivisionError, ValueError, OverflowError):
        return UNKNOWN


def _call(name: str, args: list[Any]) -> Any:
    if any(isinstance(a, tuple) for a in args):  # a vector: the list functions take its values
        if name not in ("min", "max", "avg", "sum", "len"):
            return UNKNOWN
        args = [v for a in args for v in (a if isinstance(a, tuple) else (a,))]
        if name == "len":
            return float(len(args))
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


def _nodes(value: Any) -> int:
    if not _num(value) or math.isnan(value):
        return 0
    return int(max(0, min(MAX_NODES, math.floor(value))))


def evaluate(formula: str, metrics: Mapping[str, float] | None = None, now: float | None = None) -> FormulaResult:
    """Evaluate what can be known of a formula (see the module docstring); never raises.
    `metrics`: service variables by name (`{"$PendingTasks": 7, "$CurrentDedicatedNodes": 2}`);
    `now`: the evaluation time (epoch seconds) for `time()`."""
    env: dict[str, Any] = {_METRIC_PREFIX + k.lower(): float(v) for k, v in (metrics or {}).items()}
    if now is not None:
        env[_NOW] = _Timestamp.at(now)
    for statement in parse_formula(formula or ""):
        if statement.target is None:
            continue
        name = _ALIASES.get(statement.target.lower(), statement.target)
        try:
            value = _value(statement.value, env) if statement.value is not None else UNKNOWN
        except RecursionError:
            value = UNKNOWN
        env.pop(name, None)  # keep assignment order: the last assignment decides the position
        if value is not UNKNOWN:
            env[name] = value
    dealloc = env.get("$NodeDeallocationOption")
    deallocation = _DEALLOCATION.get(str(dealloc).lower(), "Requeue") if isinstance(dealloc, str) else "Requeue"
    known = {k: v for k, v in env.items()
             if not k.startswith("\0") and (_num(v) or k == "$NodeDeallocationOption")}
    return FormulaResult(
        dedicated=_nodes(env.get("$TargetDedicatedNodes", UNKNOWN)),
        low_priority=_nodes(env.get("$TargetLowPriorityNodes", UNKNOWN)),
        deallocation=deallocation,
        variables=known,
    )
