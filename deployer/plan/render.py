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
        if change.tasks is not None and change.action != Action.DELETE:
            self.lines += [self.paint(line, _TASK_COLORS.get(line.lstrip().split(" ", 1)[0], ""))
                           for line in task_lines(change.tasks, _INDENT)]
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
        if change.tasks is not None:
            lines += [line.strip() for line in task_lines(change.tasks, "")]
        return lines
    if change.action == Action.DELETE:
        return lines
    if change.tasks is not None:
        lines += [line.strip() for line in task_lines(change.tasks, "")]
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
    return cap_markdown("\n".join(out), plan)


# --- a job's tasks (issue 14): summarised, never one line per task -------------------------------

#: how many ids of each task action a text or Markdown plan names (the JSON plan names them all)
TASK_IDS_SHOWN = 10
#: how many replaced or updated tasks show their field diffs
TASK_DIFFS_SHOWN = 3
#: Markdown stays under this many characters (a GitHub comment holds 65,536)
MARKDOWN_LIMIT = 60_000

_TASK_COLORS = {"+": _GREEN, "-/+": _RED, "~": _YELLOW, "-": _RED, "!": _YELLOW}


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:TASK_IDS_SHOWN])
    return shown + (f" … and {len(ids) - TASK_IDS_SHOWN} more" if len(ids) > TASK_IDS_SHOWN else "")


def _fields_changed(changes: Any) -> str:
    counts: dict[str, int] = {}
    for change in changes:
        for field in change.fields:
            counts[field.path] = counts.get(field.path, 0) + 1
    text = ", ".join(f"{path} ({count})" if count > 1 else path for path, count in list(counts.items())[:8])
    return f" ({text})" if text else ""


def _plural(count: int) -> str:
    return f"{count} task" + ("" if count == 1 else "s")


def task_lines(plan: Any, indent: str) -> list[str]:
    """A job's `TaskPlan` in a few lines: counts per action, the first ids of each, the fields
    that changed (and the diffs of the first few tasks); `--format json` has every task."""
    lines = [f"{indent}{plan.summary()}" + ("" if plan.read or not plan.unchanged else
                                              " (recorded digest matches: no task read)")]
    if plan.add:
        lines.append(f"{indent}+ {_plural(len(plan.add))}: {_ids(list(plan.add))}")
    if plan.replace:
        lines.append(f"{indent}-/+ {_plural(len(plan.replace))}, definition changed"
                     f"{_fields_changed(plan.replace)}: deleted and added again: "
                     f"{_ids([c.id for c in plan.replace])}")
        for change in plan.replace[:TASK_DIFFS_SHOWN]:
            lines += _task_diff(change, indent + "    ")
    if plan.update:
        lines.append(f"{indent}~ {_plural(len(plan.update))}, constraints updated in place"
                     f"{_fields_changed(plan.update)}: {_ids([c.id for c in plan.update])}")
        for change in plan.update[:TASK_DIFFS_SHOWN]:
            lines += _task_diff(change, indent + "    ")
    if plan.delete:
        lines.append(f"{indent}- {_plural(len(plan.delete))}, no longer in the stack (not running): deleted: "
                     f"{_ids(list(plan.delete))}")
    if plan.keep:
        lines.append(f"{indent}! {_plural(len(plan.keep))}, no longer in the stack but running: left alone: "
                     f"{_ids([c.id for c in plan.keep])}")
    return lines


def _task_diff(change: Any, indent: str) -> list[str]:
    note = f"  # {change.note}" if change.note else ""
    out = [f"{indent}{change.id}:{note}"]
    for field in change.fields:
        before = SENSITIVE if field.sensitive and field.before is not None else field.before
        after = SENSITIVE if field.sensitive and field.after is not None else field.after
        text = f"{indent}  {field.path}: {_value(before)} -> {_value(after)}"
        out.append(text if len(text) <= 300 else text[:297] + "...")
    return out


def cap_markdown(text: str, plan: Plan, limit: int = MARKDOWN_LIMIT) -> str:
    """Markdown within `limit` characters whatever the plan's size: cut whole lines from the end
    (closing any open code fence and details block), and say what was cut and where it all is."""
    if len(text) <= limit:
        return text
    note = (f"\n\n> [!NOTE]\n> This plan is {len(text):,} characters: the rest ({{cut}} of {len(text):,}) "
            "was cut to fit a comment. The full plan is `deploy plan --format json` (or the saved plan file of "
            "`deploy plan --out`).\n")
    budget = limit - len(note) - 200
    kept: list[str] = []
    size = 0
    fence = ""
    in_details = False
    for line in text.split("\n"):
        if size + len(line) + 1 > budget:
            break
        kept.append(line)
        size += len(line) + 1
        stripped = line.strip()
        if fence and stripped == fence:
            fence = ""
        elif not fence and stripped.startswith("```"):
            fence = stripped[:len(stripped) - len(stripped.lstrip("`"))]
        if stripped == "<details>":
            in_details = True
        elif stripped == "</details>":
            in_details = False
    closing = []
    if fence:
        closing.append(fence)
    if in_details:
        closing += ["", "</details>"]
    body = "\n".join(kept + closing)
    return body + note.replace("{cut}", f"{len(text) - size:,} characters")
