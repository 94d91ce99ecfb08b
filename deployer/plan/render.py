"""Renderings of a plan: text for terminals and CI logs, JSON for machines, Markdown for a pull
request comment. Each is a pure function of the `Plan`; none prints anything.

Secrets: a plan holds none (the diff redacts them), and these functions print `(sensitive)` for
every field marked sensitive whatever it holds, as a second line of defence.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from deployer.plan.model import Action, Change, FieldChange, Plan, thaw
from deployer.resources import rules_for
from deployer.resources.normalize import KNOWN_AFTER_APPLY, NOT_READ, SENSITIVE, WRITE_ONLY, format_path

__all__ = ["render_json", "render_markdown", "render_text"]

_HEADLINES = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DRAIN: "will be drained, updated and scaled back",
    Action.REPLACE: "must be replaced",
    Action.DELETE: "will be destroyed",
    Action.NO_OP: "is unchanged",
}

_GREEN, _YELLOW, _RED, _BOLD, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m", "\x1b[0m"
_ACTION_COLORS = {
    Action.CREATE: _GREEN,
    Action.UPDATE: _YELLOW,
    Action.DRAIN: _YELLOW,
    Action.REPLACE: _RED,
    Action.DELETE: _RED,
    Action.NO_OP: "",
}
_INDENT = "      "


_MARKERS = (SENSITIVE, KNOWN_AFTER_APPLY, WRITE_ONLY, NOT_READ)


def _value(value: Any) -> str:
    """A value as plans print it: JSON, except the markers, which read as they are."""
    if isinstance(value, str) and value in _MARKERS:
        return value
    return json.dumps(thaw(value), ensure_ascii=False, separators=(", ", ": "))


def _is_multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.strip("\n")


def _title(change: Change) -> str:
    return f"{rules_for(change.kind).title} {change.name or change.address.parts[-1]}"


def _flatten(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, (*path, key))
    else:
        yield format_path(path), value


def _comment(field: FieldChange, change: Change) -> str:
    if field.forces_replacement:
        return "  # forces replacement"
    if field.requires_empty_pool:
        return "  # only while the pool has zero nodes"
    if field.after in ({}, ()) and field.before not in (None, {}, ()):
        return "  # removed: sent as " + ("{}" if field.after == {} else "[]")
    return ""


class _Text:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not any(styles):
            return text
        return "".join(styles) + text + _RESET

    def field_lines(self, field: FieldChange, change: Change) -> list[str]:
        comment = _comment(field, change)
        before, after = field.before, field.after
        if field.sensitive:
            before = None if before is None else SENSITIVE
            after = None if after is None else SENSITIVE
        if before is None:
            return self.value_lines("+", field.path, after, comment, _GREEN)
        if after is None:
            return self.value_lines("-", field.path, before, comment, _RED)
        if field.sensitive:
            return [self.paint(f"{_INDENT}~ {field.path}: {SENSITIVE}", _YELLOW) + comment]
        if _is_multiline(before) or _is_multiline(after):
            head = self.paint(f"{_INDENT}~ {field.path}:", _YELLOW) + comment
            return [head, *self.line_diff(str(before), str(after))]
        return [self.paint(f"{_INDENT}~ {field.path}: {_value(before)} -> {_value(after)}", _YELLOW) + comment]

    def value_lines(self, symbol: str, path: str, value: Any, comment: str, style: str) -> list[str]:
        if _is_multiline(value):
            body = [f"{_INDENT}      {line}" for line in str(value).strip("\n").splitlines()]
            return [self.paint(f"{_INDENT}{symbol} {path}: <<", style) + comment, *body]
        return [self.paint(f"{_INDENT}{symbol} {path}: {_value(value)}", style) + comment]

    def line_diff(self, before: str, after: str) -> list[str]:
        old, new = before.strip("\n").splitlines(), after.strip("\n").splitlines()
        out: list[str] = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
            if op == "equal":
                out += [f"{_INDENT}      {line}" for line in old[i1:i2]]
                continue
            out += [self.paint(f"{_INDENT}    - {line}", _RED) for line in old[i1:i2]]
            out += [self.paint(f"{_INDENT}    + {line}", _GREEN) for line in new[j1:j2]]
        return out

    def change(self, change: Change) -> None:
        style = _ACTION_COLORS[change.action]
        self.lines.append(self.paint(f"  # {change.address} {_HEADLINES[change.action]}", _BOLD))
        if change.reason:
            self.lines.append(f"  # {change.reason}")
        for warning in change.warnings:
            self.lines.append(self.paint(f"  # warning: {warning}", _YELLOW, _BOLD))
        label = _title(change) + (" (drain)" if change.action == Action.DRAIN else "")
        self.lines.append(self.paint(f"{change.action.symbol:>3} {label}", style, _BOLD))
        if change.action == Action.CREATE:
            for path, value in _flatten(change.after):
                if path:
                    self.lines += self.value_lines("+", path, value, "", _GREEN)
        elif change.action != Action.DELETE:
            for field in change.fields:
                self.lines += self.field_lines(field, change)
        self.lines.append("")


def render_text(plan: Plan, color: bool = False) -> str:
    """Terraform-like text: one block per change, field diffs with `before -> after`, forcing
    fields marked `# forces replacement`, and the summary line. ANSI colour only when asked."""
    out = _Text(color)
    out.lines += [f"Plan for stack {plan.stack} on {plan.target.describe()}", ""]
    if plan.notes:
        out.lines += [f"  # note: {note}" for note in plan.notes] + [""]
    for change in plan.actionable:
        out.change(change)
    if plan.not_managed:
        out.lines.append(out.paint(f"Not managed: {_count_resources(len(plan.not_managed))} in Azure that stack "
                                   f"{plan.stack} declares but does not own, left alone:", _YELLOW, _BOLD))
        out.lines += [f"  # {change.address}: {change.reason}" for change in plan.not_managed]
    for warning in plan.validation:
        out.lines.append(out.paint(f"Warning: {warning.format().replace(': warning: ', ': ', 1)}", _YELLOW))
    if plan.validation:
        out.lines.append("")
    summary = plan.summary()
    out.lines.append(out.paint(summary, _BOLD))
    return "\n".join(out.lines) + "\n"


def _count_resources(count: int) -> str:
    return f"{count} resource" + ("" if count == 1 else "s")


def render_json(plan: Plan) -> str:
    """The documented JSON shape (see `deployer.plan`): the same as a saved plan."""
    return plan.to_json()


# --- Markdown ------------------------------------------------------------------------------------

_MD_ACTIONS = {
    Action.CREATE: "create",
    Action.UPDATE: "update in place",
    Action.DRAIN: "**drain** and update",
    Action.REPLACE: "**replace**",
    Action.DELETE: "**destroy**",
    Action.NO_OP: "no change",
}


def _cell(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _code(text: str) -> str:
    ticks = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _diff_lines(change: Change) -> list[str]:
    """A change as `diff` lines: `-` before, `+` after, for GitHub's highlighting."""
    lines = [f"# {change.action.symbol} {_title(change)}"]
    if change.action == Action.CREATE:
        for path, value in _flatten(change.after):
            if path:
                lines += [f"+ {path}: {line}" for line in _plain(value)]
        return lines
    if change.action == Action.DELETE:
        return lines
    for field in change.fields:
        note = _comment(field, change)
        before = SENSITIVE if field.sensitive and field.before is not None else field.before
        after = SENSITIVE if field.sensitive and field.after is not None else field.after
        if before is not None:
            lines += [f"- {field.path}: {line}" for line in _plain(before)]
        if after is not None:
            plain = _plain(after)
            lines += [f"+ {field.path}: {line}" for line in plain[:-1]] + [f"+ {field.path}: {plain[-1]}{note}"]
        elif note:
            lines[-1] += note
    return lines


def _plain(value: Any) -> list[str]:
    if _is_multiline(value):
        return str(value).strip("\n").splitlines()
    return [_value(value)]


def render_markdown(plan: Plan) -> str:
    """A pull-request comment: the summary, a table of changes, warnings, then one collapsible
    `<details>` per change with its field diff."""
    changes = plan.actionable
    out = [f"### Plan for stack {_code(plan.stack)} on {_code(plan.target.describe())}", "",
           f"**{plan.summary()}**", ""]
    if plan.notes:
        out += [f"> {_cell(note)}" for note in plan.notes] + [""]
    if plan.not_managed:
        out += [f"**Not managed**: {_count_resources(len(plan.not_managed))} in Azure that the stack declares but "
                "does not own, left alone:", "", "| Resource | Why |", "| --- | --- |"]
        out += [f"| {_code(str(c.address))} ({_cell(_title(c))}) | {_cell(c.reason)} |" for c in plan.not_managed]
    if plan.validation:
        out += ["> [!WARNING]", "> The stack validates with warnings:"]
        out += [f"> - {_code(f'{w.file}:{w.line}:{w.column}')}: {_cell(w.message)}" for w in plan.validation]
        out.append("")
    if not changes:
        return "\n".join(out)
    out += ["| | Resource | Action | Why |", "| --- | --- | --- | --- |"]
    for change in changes:
        out.append(f"| {_code(change.action.symbol)} | {_code(str(change.address))} ({_cell(_title(change))}) "
                   f"| {_MD_ACTIONS[change.action]} | {_cell(change.reason)} |")
    warnings = [(change, warning) for change in changes for warning in change.warnings]
    if warnings:
        out += ["", "> [!WARNING]"]
        out += [f"> - {_code(str(change.address))}: {_cell(warning)}" for change, warning in warnings]
    out.append("")
    for change in changes:
        body = "\n".join(_diff_lines(change))
        ticks = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
        fence = "`" * (ticks + 1)
        out += [
            "<details>",
            f"<summary><code>{html.escape(str(change.address))}</code>: {html.escape(_MD_ACTIONS[change.action])}"
            .replace("**", "") + "</summary>",
            "",
            f"{fence}diff",
            body,
            fence,
            "",
            "</details>",
            "",
        ]
    return "\n".join(out)
