"""Offline checks for Azure Batch autoscale formulas.

`check_formula` reports what `deploy validate` can know without asking Azure: syntax errors at
their exact line and column inside the formula, assignments to service-defined variables that
do not exist or cannot be set, unknown functions, methods and constants, and wrong argument
counts where Microsoft's documentation states them. `canonical_formula` gives the form the
planner compares, so formulas that differ only in layout never show up as a change.

The language, as documented in "Create a formula to automatically scale compute nodes in a
Batch pool" (learn.microsoft.com/azure/batch/batch-automatic-scaling):

    formula    := statement (';' statement)* ';'?        at most 100 statements, 8 KB
    statement  := target '=' expr | expr
    target     := '$'name | name                         '$' is optional for user variables
    expr       := or ('?' expr ':' expr)?
    or … mul   := binary operators, precedence in _BINARY below
    unary      := ('-' | '!') unary | postfix
    postfix    := primary ('.' name ('(' args ')')?)*    sample methods, timestamp members
    primary    := number | "string" | '$'name | name | name '(' args ')' | '(' expr ')'

with `//` line comments and `/* */` block comments. Pure Python and linear in the formula's
length: a stack may hold a thousand pools.

Where the documentation is silent the checker leans towards accepting: `ceil`, `floor`, `round`
and `$UsableNodeCount` (in newer revisions of the page) are accepted; the documented legacy
aliases `$TargetDedicated` and `$TargetLowPriority` are warnings, not errors; a variable read
before any statement assigns it is a warning unless its name is a near miss of a service name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from deployer.stack.suggest import closest

__all__ = [
    "Binary", "Call", "Conditional", "Expression", "FormulaIssue", "Member", "Method", "Name", "Number", "Statement",
    "Text", "Unary", "canonical_formula", "check_formula", "parse_formula",
]


@dataclass(frozen=True)
class FormulaIssue:
    line: int  # 1-based, inside the formula text
    column: int  # 1-based
    message: str
    severity: str = "error"  # or "warning"


# --- the language's vocabulary (Microsoft's documentation, see the module docstring) ----------

#: Read-write service-defined variables: the formula's outputs.
TARGET_VARIABLES = ("$TargetDedicatedNodes", "$TargetLowPriorityNodes")
SETTABLE_VARIABLES = (*TARGET_VARIABLES, "$NodeDeallocationOption")

#: Documented legacy aliases of the targets ("can also be specified using the alias …").
LEGACY_ALIASES = {
    "$TargetDedicated": "$TargetDedicatedNodes",
    "$TargetLowPriority": "$TargetLowPriorityNodes",
}

#: Read-only service-defined variables: metrics and pool state, objects with sample methods.
READONLY_VARIABLES = (
    "$CPUPercent", "$WallClockSeconds", "$MemoryBytes", "$DiskBytes", "$DiskReadBytes",
    "$DiskWriteBytes", "$DiskReadOps", "$DiskWriteOps", "$NetworkInBytes", "$NetworkOutBytes",
    "$SampleNodeCount", "$ActiveTasks", "$RunningTasks", "$PendingTasks", "$SucceededTasks",
    "$FailedTasks", "$TaskSlotsPerNode", "$CurrentDedicatedNodes", "$CurrentLowPriorityNodes",
    "$PreemptedNodeCount", "$UsableNodeCount",
)

SERVICE_VARIABLES = SETTABLE_VARIABLES + READONLY_VARIABLES

#: Values of $NodeDeallocationOption, written as bare words.
DEALLOCATION_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")

TIME_INTERVALS = tuple(
    f"TimeInterval_{unit}"
    for unit in (
        "Zero", "100ns", "Microsecond", "Millisecond", "Second", "Minute", "Hour", "Day", "Week", "Year",
    )
)

#: Members of a timestamp (`time().weekday`, `$now.hour`).
TIMESTAMP_MEMBERS = ("year", "month", "day", "weekday", "hour", "minute", "second")

_MANY = None  # no upper bound: the argument is a doubleVecList
_Arity = tuple[int, int | None, str]  # (fewest arguments, most or _MANY, signature for messages)

FUNCTIONS: dict[str, _Arity] = {
    "avg": (1, _MANY, "avg(doubleVecList)"),
    "ceil": (1, _MANY, "ceil(double | doubleVecList)"),
    "floor": (1, _MANY, "floor(double | doubleVecList)"),
    "len": (1, _MANY, "len(doubleVecList)"),
    "lg": (1, _MANY, "lg(double | doubleVecList)"),
    "ln": (1, _MANY, "ln(double | doubleVecList)"),
    "log": (1, _MANY, "log(double | doubleVecList)"),
    "max": (1, _MANY, "max(doubleVecList)"),
    "min": (1, _MANY, "min(doubleVecList)"),
    "norm": (1, _MANY, "norm(doubleVecList)"),
    "percentile": (2, 2, "percentile(doubleVec v, double p)"),
    "rand": (0, 0, "rand()"),
    "range": (1, _MANY, "range(doubleVecList)"),
    "round": (1, _MANY, "round(double | doubleVecList)"),
    "std": (1, _MANY, "std(doubleVecList)"),
    "stop": (0, 0, "stop()"),
    "sum": (1, _MANY, "sum(doubleVecList)"),
    "time": (0, 1, 'time(string dateTime="")'),
    "val": (2, 2, "val(doubleVec v, double i)"),
}

#: methods of the read-only (sampled) service variables
METHODS: dict[str, _Arity] = {
    "GetSample": (1, 3, "GetSample(count | startTime [, endTime] [, samplePercent])"),
    "GetSamplePercent": (1, 2, "GetSamplePercent(startTime [, endTime])"),
    "GetSamplePeriod": (0, 0, "GetSamplePeriod()"),
    "Count": (0, 0, "Count()"),
    "HistoryBeginTime": (0, 0, "HistoryBeginTime()"),
}

MAX_BYTES = 8 * 1024
MAX_STATEMENTS = 100

#: Binary operators and their precedence, loosest first. The ternary `?:` sits below them all.
_BINARY: dict[str, int] = {
    "||": 1,
    "&&": 2,
    "==": 3, "!=": 3,
    "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6,
}
_UNARY = ("-", "!")
_MAX_DEPTH = 40

#: Operators people reach for that the language does not have.
_NOT_OPERATORS = {
    "%": "'%' is not an operator in autoscale formulas; the arithmetic operators are + - * /",
    "^": "'^' is not an operator in autoscale formulas; the arithmetic operators are + - * /",
    "&": "'&' is not an operator in autoscale formulas — did you mean '&&'?",
    "|": "'|' is not an operator in autoscale formulas — did you mean '||'?",
}

# --- tokens -------------------------------------------------------------------------------------

# token kinds
_NUM, _STR, _VAR, _NAME, _OP = "number", "string", "var", "name", "op"
_BAD, _COMMENT, _EOF = "bad", "comment", "eof"

_TOKEN_RE = re.compile(
    r"""
      (?P<ws>[ \t\r\n\f\v]+)
    | (?P<comment>//[^\r\n]*|/\*.*?\*/)
    | (?P<open_comment>/\*)
    | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    | (?P<string>"[^"\r\n]*")
    | (?P<open_string>"[^"\r\n]*)
    | (?P<single_quoted>'[^'\r\n]*')
    | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%^!<>=?:(),.;&|])
    | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SKIP = "ws"
#: token kinds the scanner's groups make as they are; the others need a look (comments, mistakes)
_PLAIN = frozenset((_NUM, _STR, _VAR, _NAME, _OP))
#: the scanner's group names by group number: `match.lastindex` is cheaper than `match.lastgroup`
_GROUP_NAMES = {index: name for name, index in _TOKEN_RE.groupindex.items()}
_GROUP_KINDS = [_GROUP_NAMES.get(index, "bad") for index in range(_TOKEN_RE.groups + 1)]


class _Token(NamedTuple):
    """A NamedTuple, not a dataclass: a 1,000-pool stack scans some 60,000 of them, and a frozen
    dataclass's __init__ took a third of the scan."""

    kind: str
    text: str
    start: int  # offset in the formula
    end: int

    def describe(self) -> str:
        if self.kind == _EOF:
            return "end of formula"
        if self.kind == _NUM:
            return f"number {self.text}"
        if self.kind == _STR:
            return f"string {_shorten(self.text)}"
        if self.kind == _BAD:
            return f"character {_describe_char(self.text)}"
        return repr(self.text)


_new_token = tuple.__new__  # _Token's fields without its __new__'s extra call (the scanner's hot loop)


def _shorten(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_char(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return repr(char)
    return f"U+{ord(char):04X}"


class _Source:
    """The formula text with its tokens and a way to turn offsets into (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self.tokens: list[_Token] = []  # without comments
        self.comments: list[_Token] = []
        self.issues: list[FormulaIssue] = []
        self._scan()

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:  # last line start <= offset
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def issue(self, offset: int, message: str, severity: str = "error") -> None:
        line, column = self.position(offset)
        self.issues.append(FormulaIssue(line, column, message, severity))

    def _scan(self) -> None:
        text = self.text
        tokens = self.tokens
        for match in _TOKEN_RE.finditer(text):
            kind = _GROUP_KINDS[match.lastindex or 0]
            if kind == _SKIP:
                continue
            start, end = match.span()
            if kind in _PLAIN:  # the common case first
                tokens.append(_new_token(_Token, (kind, text[start:end], start, end)))
                continue
            if kind == "comment":
                self.comments.append(_Token(_COMMENT, match.group(), start, end))
                continue
            if kind == "open_comment":
                self.issue(start, "unterminated comment: '/*' has no closing '*/'")
                self.comments.append(_Token(_COMMENT, text[start:], start, len(text)))
                break
            if kind == "open_string":
                self.issue(start, "unterminated string: add the closing '\"' on the same line")
            elif kind == "single_quoted":
                self.issue(start, "strings are written in double quotes (\"…\"), not single quotes")
            else:  # bad
                char = match.group()
                hint = ""
                if char in "'‘’“”":
                    hint = "; strings are written in straight double quotes (\")"
                elif char == "$":
                    hint = "; '$' starts a variable name such as $TargetDedicatedNodes"
                elif char in "[]{}":
                    hint = "; use parentheses ( ) for grouping and function calls"
                self.issue(start, f"unexpected character {_describe_char(char)}{hint}")
                tokens.append(_Token(_BAD, match.group(), start, end))
                continue
            tokens.append(_Token(_STR, match.group(), start, end))
        end = tokens[-1].end if tokens else 0
        tokens.append(_Token(_EOF, "", end, end))


# --- parser ---------------------------------------------------------------------------------------


class _SyntaxError(Exception):
    """Abandon the current statement; the issue (if any) is already recorded."""


# --- the parse tree (what the emulator evaluates: deployer.emulator.batch_mgmt.formula) ---------------


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Text:
    value: str  # without the quotes


@dataclass(frozen=True, slots=True)
class Name:
    name: str  # as written: `$PendingTasks`, `$mine`, `mine`, `taskcompletion`, `TimeInterval_Minute`


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    arguments: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Method:
    target: Expression
    method: str  # GetSample, GetSamplePercent, ...
    arguments: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Member:
    target: Expression
    member: str  # a timestamp's hour, weekday, ...


@dataclass(frozen=True, slots=True)
class Unary:
    operator: str
    operand: Expression


@dataclass(frozen=True, slots=True)
class Binary:
    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Expression
    then: Expression
    otherwise: Expression


Expression = Number | Text | Name | Call | Method | Member | Unary | Binary | Conditional


@dataclass(frozen=True, slots=True)
class Statement:
    """`target = value;` (target None: a bare expression). `value` is None when the statement
    does not parse: check_formula reports why."""

    target: str | None
    value: Expression | None


class _Parser:
    def __init__(self, source: _Source) -> None:
        self.source = source
        self.tokens = source.tokens
        self.pos = 0
        self.assigned: set[str] = set()  # variables assigned by earlier statements
        self.reported: set[str] = set()  # names already warned about, to say it once
        self.sets_target = False
        self.depth = 0  # nesting of expressions, bounded to keep clear of Python's recursion limit
        self.statements: list[Statement] = []

    # token helpers
    def peek(self, ahead: int = 0) -> _Token:
        if not ahead:  # pos never passes the end token
            return self.tokens[self.pos]
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != _EOF:
            self.pos += 1
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.tokens[self.pos]
        return token.kind == _OP and token.text in ops

    def fail(self, token: _Token, message: str) -> _SyntaxError:
        if token.kind != _BAD:  # the scanner already reported a bad character
            self.source.issue(token.start, message)
        return _SyntaxError()

    def unexpected(self, token: _Token, expected: str) -> _SyntaxError:
        if token.kind == _OP and token.text in _NOT_OPERATORS:
            return self.fail(token, _NOT_OPERATORS[token.text])
        return self.fail(token, f"unexpected {token.describe()} — expected {expected}")

    # statements
    def formula(self) -> None:
        statements = 0
        while self.peek().kind != _EOF:
            if self.at_op(";"):  # empty statement
                self.advance()
                continue
            statements += 1
            if statements == MAX_STATEMENTS + 1:
                self.source.issue(
                    self.peek().start,
                    f"too many statements: Azure Batch accepts at most {MAX_STATEMENTS} in one formula",
                )
            start = self.pos
            try:
                self.statement()
            except _SyntaxError:
                first, second = self.tokens[start], self.tokens[start + 1]
                assigns = first.kind in (_VAR, _NAME) and second.kind == _OP and second.text == "="
                self.statements.append(Statement(first.text if assigns else None, None))
                self.recover()

    def recover(self) -> None:
        while self.peek().kind != _EOF:
            token = self.advance()
            if token.kind == _OP and token.text == ";":
                return

    def statement(self) -> None:
        first, second = self.peek(), self.peek(1)
        if first.kind in (_VAR, _NAME) and second.kind == _OP and second.text == "=":
            self.advance()
            self.advance()
            try:
                value = self.expression()
            finally:
                self.assign(first)
            target: str | None = first.text
        else:
            value = self.expression()
            target = None
            if self.at_op("="):
                raise self.fail(
                    self.peek(), "the left side of '=' must be a variable such as $TargetDedicatedNodes"
                )
            if not (isinstance(value, Call) and value.function == "stop"):
                self.source.issue(
                    first.start,
                    "this statement computes a value but does not use it; assign it to a variable",
                    "warning",
                )
        self.end_of_statement()
        self.statements.append(Statement(target, value))

    def end_of_statement(self) -> None:
        token = self.peek()
        if token.kind == _EOF or self.at_op(";"):
            self.advance()
            return
        following = self.peek(1)
        if token.kind in (_VAR, _NAME) and following.kind == _OP and following.text == "=":
            # A slip the documentation's own example makes: the next statement follows without
            # the ';' in between. Report it and carry on as if the ';' were there.
            self.source.issue(
                token.start, f"missing ';' before {token.describe()} — end each statement with ';'"
            )
            return
        if token.kind == _OP and token.text == ")":
            raise self.fail(token, "unexpected ')' — it closes no '('")
        if token.kind == _OP and token.text == "=":
            raise self.fail(token, "unexpected '=' — a statement assigns one variable; to compare, use '=='")
        raise self.unexpected(token, "an operator or ';'")

    # expressions
    def expression(self) -> Expression:
        if self.depth >= _MAX_DEPTH:
            raise self.fail(self.peek(), f"the expression nests more than {_MAX_DEPTH} levels deep")
        self.depth += 1
        try:
            condition = self.binary(1)
            if not self.at_op("?"):
                return condition
            self.advance()
            then = self.expression()
            if not self.at_op(":"):
                raise self.unexpected(self.peek(), "':' to complete the '… ? … : …' expression")
            self.advance()
            return Conditional(condition, then, self.expression())
        finally:
            self.depth -= 1

    def binary(self, min_precedence: int) -> Expression:
        left = self.unary()
        while True:
            token = self.peek()
            if token.kind != _OP:
                return left
            if token.text in _NOT_OPERATORS:
                raise self.fail(token, _NOT_OPERATORS[token.text])
            precedence = _BINARY.get(token.text)
            if precedence is None or precedence < min_precedence:
                return left
            self.advance()
            left = Binary(token.text, left, self.binary(precedence + 1))

    def unary(self) -> Expression:
        operators = []
        while (token := self.tokens[self.pos]).kind == _OP and token.text in _UNARY:
            operators.append(self.advance().text)
        value = self.postfix()
        for operator in reversed(operators):
            value = Unary(operator, value)
        return value

    def postfix(self) -> Expression:
        value = self.primary()
        while (token := self.tokens[self.pos]).kind == _OP and token.text == ".":
            self.advance()
            member = self.peek()
            if member.kind != _NAME:
                raise self.unexpected(member, "a method such as GetSample or a member such as hour after '.'")
            self.advance()
            if self.at_op("("):
                arguments = self.arguments()
                self.check_call(member, len(arguments), METHODS, "method")
                value = Method(value, member.text, arguments)
            else:
                self.check_member(member)
                value = Member(value, member.text)
        if self.at_op("("):
            raise self.fail(self.peek(), "unexpected '(' — only functions and methods can be called")
        return value

    def primary(self) -> Expression:
        token = self.tokens[self.pos]
        if token.kind == _NUM:
            self.advance()
            return Number(float(token.text))
        if token.kind == _STR:
            self.advance()
            return Text(token.text.strip('"\''))
        if token.kind == _VAR:
            self.advance()
            self.read(token)
            return Name(token.text)
        if token.kind == _NAME:
            self.advance()
            if self.at_op("("):
                arguments = self.arguments()
                self.check_call(token, len(arguments), FUNCTIONS, "function")
                return Call(token.text, arguments)
            self.read(token)
            return Name(token.text)
        if self.at_op("("):
            opening = self.advance()
            value = self.expression()
            if not self.at_op(")"):
                line, column = self.source.position(opening.start)
                raise self.unexpected(self.peek(), f"')' to close the '(' at line {line}, column {column}")
            self.advance()
            return value
        raise self.unexpected(token, "an expression")

    def arguments(self) -> tuple[Expression, ...]:
        opening = self.advance()  # "("
        if self.at_op(")"):
            self.advance()
            return ()
        found: list[Expression] = []
        while True:
            found.append(self.expression())
            if self.at_op(","):
                self.advance()
                continue
            if self.at_op(")"):
                self.advance()
                return tuple(found)
            line, column = self.source.position(opening.start)
            raise self.unexpected(self.peek(), f"',' or ')' to close the '(' at line {line}, column {column}")

    # checks
    def check_call(self, name: _Token, count: int, table: dict[str, _Arity], what: str) -> None:
        spec = table.get(name.text)
        if spec is None:
            suggestion = closest(name.text, table, short=True)
            if suggestion:
                message = f"unknown {what} '{name.text}' — did you mean '{suggestion}'?"
            else:
                message = f"unknown {what} '{name.text}'; the {what}s are {', '.join(table)}"
            self.source.issue(name.start, message)
            return
        fewest, most, signature = spec
        if count < fewest or (most is not None and count > most):
            if most is None:
                wanted = f"at least {_count(fewest)}"
            elif fewest == most:
                wanted = _count(fewest)
            else:
                wanted = f"{fewest} to {most} arguments"
            self.source.issue(name.start, f"{name.text}() takes {wanted}, got {count}: {signature}")

    def check_member(self, member: _Token) -> None:
        if member.text in TIMESTAMP_MEMBERS:
            return
        if member.text in METHODS:
            self.source.issue(member.start, f"'{member.text}' is a method: call it as {member.text}(…)")
            return
        suggestion = closest(member.text, TIMESTAMP_MEMBERS + tuple(METHODS), short=True)
        if suggestion:
            hint = f" — did you mean '{suggestion}'?"
        else:
            hint = f"; a timestamp has {', '.join(TIMESTAMP_MEMBERS)}"
        self.source.issue(member.start, f"unknown member '{member.text}'{hint}")

    def assign(self, target: _Token) -> None:
        name = target.text
        if target.kind == _VAR:
            self.check_var_target(target)
        else:
            self.check_name_target(target)
        self.assigned.add(name)
        if name in TARGET_VARIABLES or name in LEGACY_ALIASES:
            self.sets_target = True

    def check_var_target(self, target: _Token) -> None:
        name = target.text
        if name in SETTABLE_VARIABLES:
            return
        if name in LEGACY_ALIASES:
            self.legacy_alias(target)
            return
        if name in READONLY_VARIABLES:
            self.source.issue(
                target.start,
                f"{name} is a read-only service-defined variable; a formula sets only "
                f"{', '.join(SETTABLE_VARIABLES)} — give your own variable another name",
            )
            return
        settable = _closest_settable(name)
        if settable:
            settable = LEGACY_ALIASES.get(settable, settable)
            self.source.issue(
                target.start, f"unknown service-defined variable {name} — did you mean {settable}?"
            )
            return
        same = _READONLY_BY_CASE.get(name.lower())
        if same:
            self.source.issue(
                target.start,
                f"{name} differs from the read-only service-defined variable {same} only in case; "
                "give your own variable a distinct name",
                "warning",
            )

    def check_name_target(self, target: _Token) -> None:
        name = target.text
        if name in DEALLOCATION_OPTIONS:
            self.source.issue(target.start, f"'{name}' is a value of $NodeDeallocationOption, not a variable")
        elif name in TIME_INTERVALS:
            self.source.issue(target.start, f"'{name}' is a time interval constant, not a variable")
        else:
            service = closest("$" + name, SETTABLE_VARIABLES + tuple(LEGACY_ALIASES))
            if service:
                service = LEGACY_ALIASES.get(service, service)
                self.source.issue(
                    target.start,
                    f"'{name}' without '$' is a variable of your own, not a service-defined one — "
                    f"did you mean {service}?",
                )

    def legacy_alias(self, token: _Token) -> None:
        if token.text in self.reported:
            return
        self.reported.add(token.text)
        current = LEGACY_ALIASES[token.text]
        self.source.issue(
            token.start,
            f"{token.text} is the legacy alias of {current}; did you mean {current}?",
            "warning",
        )

    def read(self, token: _Token) -> None:
        name = token.text
        if name in self.assigned or name in SERVICE_VARIABLES:
            return
        if name in DEALLOCATION_OPTIONS or name in TIME_INTERVALS:
            return
        if name in LEGACY_ALIASES:
            self.legacy_alias(token)
            return
        if name in self.reported:
            return
        self.reported.add(name)
        if token.kind == _VAR:
            service = closest(name, SERVICE_VARIABLES)
            if service:
                self.source.issue(
                    token.start, f"unknown service-defined variable {name} — did you mean {service}?"
                )
                return
        else:
            if name.lower().startswith("timeinterval_"):
                suggestion = closest(name, TIME_INTERVALS)
                if suggestion:
                    hint = f" — did you mean {suggestion}?"
                else:
                    hint = f"; use one of {', '.join(TIME_INTERVALS)}"
                self.source.issue(token.start, f"unknown time interval '{name}'{hint}")
                return
            service = closest("$" + name, SERVICE_VARIABLES)
            if service:
                self.source.issue(
                    token.start, f"service-defined variables start with '$' — did you mean {service}?"
                )
                return
            option = closest(name, DEALLOCATION_OPTIONS)
            if option:
                self.source.issue(
                    token.start, f"unknown node deallocation option '{name}' — did you mean {option}?"
                )
                return
        self.source.issue(
            token.start,
            f"{name} is read before any statement assigns it; assign it first, or check the spelling",
            "warning",
        )


@functools.lru_cache(maxsize=1024)
def _closest_settable(name: str) -> str | None:
    """A settable service variable (or legacy alias) `name` is a near miss of. Cached: every pool
    of a stack usually assigns the same variables of its own ($samples, $tasks)."""
    return closest(name, SETTABLE_VARIABLES + tuple(LEGACY_ALIASES))


_READONLY_BY_CASE = {name.lower(): name for name in READONLY_VARIABLES}


def _count(n: int) -> str:
    return f"{n} argument" if n == 1 else f"{n} arguments"


# --- public API -------------------------------------------------------------------------------------


def check_formula(text: str) -> list[FormulaIssue]:
    """Every problem found in one pass, in order of position; empty when the formula looks valid."""
    source = _Source(text)
    if len(source.tokens) == 1 and not source.issues:  # only the end token: blank or comments only
        return [FormulaIssue(1, 1, "the autoscale formula is empty; set at least $TargetDedicatedNodes or "
                                   "$TargetLowPriorityNodes, e.g. `$TargetDedicatedNodes = 1;`")]
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        source.issues.append(
            FormulaIssue(
                1, 1, f"the formula is {size:,} bytes; Azure Batch accepts at most 8 KB ({MAX_BYTES:,} bytes)"
            )
        )
    parser = _Parser(source)
    parser.formula()
    if not parser.sets_target and not any(i.severity == "error" for i in source.issues):
        source.issue(
            source.tokens[0].start,
            "the formula never assigns $TargetDedicatedNodes or $TargetLowPriorityNodes, "
            "so it never changes the pool's size",
            "warning",
        )
    return sorted(source.issues, key=lambda issue: (issue.line, issue.column))


def parse_formula(text: str) -> tuple[Statement, ...]:
    """The formula's statements as parse trees, for evaluating it (the emulator's autoscale). A
    statement that does not parse has `value` None; check_formula says what is wrong with it."""
    parser = _Parser(_Source(text))
    parser.formula()
    return tuple(parser.statements)


_NO_SPACE_BEFORE = {")", ",", ";"}


def canonical_formula(text: str) -> str:
    """The formula re-joined from its tokens with canonical spacing.

    Two formulas get the same canonical form when they differ only in whitespace, line endings
    and trailing semicolons. Comments are kept, with their inner whitespace collapsed, so editing
    one is a change. Defined for any text, valid or not.
    """
    source = _Source(text)
    items = sorted(source.tokens[:-1] + source.comments, key=lambda token: token.start)
    while items and items[-1].kind == _OP and items[-1].text == ";":
        items.pop()
    out: list[str] = []
    previous: _Token | None = None  # None at the start and after a line break we must keep
    after_unary = False
    for token in items:
        rendered, ends_line = _render(token)
        if previous is None:
            sep = " " if out and not out[-1].endswith("\n") else ""
        else:
            sep = "" if after_unary or _adjoins(previous, token) else " "
        after_unary = token.kind == _OP and token.text in _UNARY and (
            previous is None or (previous.kind == _OP and previous.text != ")")
        )
        out.append(sep + rendered)
        previous = None if ends_line else token
    return "".join(out).rstrip("\n")


def _adjoins(previous: _Token, token: _Token) -> bool:
    """Whether canonical text writes `token` right after `previous`, without a space."""
    if token.kind == _OP and token.text in _NO_SPACE_BEFORE:
        return True
    if previous.kind == _OP and previous.text == "(":
        return True
    if token.kind == _OP and token.text == "(":
        return previous.kind == _NAME  # a call: max(…), .GetSample(…)
    if token.kind == _OP and token.text == ".":
        return previous.kind != _NUM  # a member: $x.GetSample, time().hour
    return previous.kind == _OP and previous.text == "." and token.kind == _NAME


def _render(token: _Token) -> tuple[str, bool]:
    """A token's canonical text, and whether a line break must follow it."""
    text = token.text
    if token.kind == _COMMENT:
        if text.startswith("//"):
            body = " ".join(text[2:].split())
            return ("// " + body if body else "//") + "\n", True
        if len(text) >= 4 and text.endswith("*/"):
            body = " ".join(text[2:-2].split())
            return ("/* " + body + " */" if body else "/* */"), False
        return "/* " + " ".join(text[2:].split()), True  # unterminated: runs to the end
    if token.kind == _STR and (len(text) < 2 or text[-1] != text[0]) or token.text == "'":
        return text + "\n", True  # unterminated (or a lone quote): keep the line break that ends it
    return text, False
