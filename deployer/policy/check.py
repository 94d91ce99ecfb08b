"""`deploy check`: run the built-in policy rules over stack files; results at FILE:LINE:COL.

No credentials, no network: the rules read the stack document as written (secret references
stay references). A finding is reported at the key it is about, in the file that wrote it (an
included template's file and line when a template produced it).

Suppressing a finding takes a reason, written in the stack as a YAML comment on the reported
line, on the comment lines just above it, or on the key line of any enclosing resource:

    pools:
      gpu:  # deploy:ignore BDP004 the render farm needs public IPs for licence checkout
      ...
      # deploy:ignore BDP007,BDP010 a throwaway benchmark pool
      bench:

A suppression without a reason suppresses nothing and is itself reported (BDP000). Suppressed
findings stay in the JSON and SARIF output, marked suppressed with their justification (GitHub
code scanning shows them as dismissed in source).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer.policy.rules import BY_ID, RULES, Rule

_IGNORE = re.compile(r"#\s*deploy:ignore\b(?P<body>.*)$")
_IDS = re.compile(r"^\s*(?P<ids>[A-Za-z]+\d+(?:\s*,\s*[A-Za-z]+\d+)*)(?P<reason>.*)$")

#: reported for a `deploy:ignore` comment that gives no reason (not a rule of the table)
NO_REASON = Rule("BDP000", "suppression-without-reason", "warning", "Suppression without a reason",
                 "A suppressed finding must say why, so a reviewer can judge it.",
                 "Write the reason after the rule ids: `# deploy:ignore BDP004 why it is acceptable`.",
                 lambda doc: iter(()))


@dataclass(frozen=True)
class Result:
    rule: Rule
    message: str
    file: str
    line: int
    column: int
    path: str
    suppressed: bool = False
    justification: str = ""

    @property
    def fails(self) -> bool:
        return not self.suppressed and self.rule.severity in ("error", "warning")

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        at = f" (at {self.path})" if self.path else ""
        note = f" [suppressed: {self.justification}]" if self.suppressed else ""
        return f"{where}: {self.rule.severity}: {self.rule.id} {self.message}{at}{note}"

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "name": self.rule.name, "severity": self.rule.severity,
                "message": self.message, "file": self.file, "line": self.line, "column": self.column,
                "path": self.path, "suppressed": self.suppressed, "justification": self.justification or None}


def check_file(path: Path, display: str | None = None,
               variables: Mapping[str, Any] | None = None) -> list[Result]:
    """Every finding of every rule on one stack file (StackError if the stack is not valid)."""
    from deployer.errors import StackError
    from deployer.stack.loader import format_path
    from deployer.stack.validate import validate_file

    name = display or str(path)
    validated = validate_file(path, name, variables)
    errors = [d for d in validated.diagnostics if d.severity == "error"]
    if errors or validated.document is None:
        raise StackError(errors)
    doc = validated.document
    files = _Files(path, name)
    out: list[Result] = []
    for rule in RULES:
        for where, message in rule.check(doc.data):
            file, line, column = _locate(doc, where, name)
            ancestors = [_locate(doc, where[:i], name)[:2] for i in range(len(where) - 1, 1, -1)]
            suppression = files.suppression(rule.id, [(file, line), *ancestors])
            out.append(Result(rule, message, file, line, column, format_path(where),
                              suppressed=suppression is not None, justification=suppression or ""))
    out += files.unexplained()
    return sorted(out, key=lambda r: (r.file, r.line, r.column, r.rule.id))


def _locate(doc: Any, where: tuple[str | int, ...], name: str) -> tuple[str, int, int]:
    position = doc.source.key(where)
    file, line = name, position.line
    if doc.line_map is not None:
        file, line = doc.line_map.locate(line)
    return file, line, position.column


class _Files:
    """The stack's (and included templates') lines, read once, for `deploy:ignore` comments."""

    def __init__(self, path: Path, display: str) -> None:
        self.paths = {display: path}
        self.lines: dict[str, list[str]] = {}
        self.bad: dict[tuple[str, int], str] = {}

    def _lines(self, file: str) -> list[str]:
        if file not in self.lines:
            try:
                self.lines[file] = self.paths.get(file, Path(file)).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self.lines[file] = []
        return self.lines[file]

    def suppression(self, rule: str, places: Sequence[tuple[str, int]]) -> str | None:
        for file, line in places:
            lines = self._lines(file)
            candidates = [line]
            above = line - 1
            while 1 <= above <= len(lines) and lines[above - 1].lstrip().startswith("#"):
                candidates.append(above)
                above -= 1
            for number in candidates:
                if not 1 <= number <= len(lines):
                    continue
                reason = self._parse(file, number, lines[number - 1], rule)
                if reason:
                    return reason
        return None

    def _parse(self, file: str, number: int, text: str, rule: str) -> str | None:
        found = _IGNORE.search(text)
        if not found:
            return None
        body = _IDS.match(found["body"])
        if body is None:
            self.bad[(file, number)] = "a deploy:ignore comment names no rule id"
            return None
        ids = {i.strip().upper() for i in body["ids"].split(",")}
        reason = body["reason"].strip()
        if rule not in ids:
            return None
        if not reason:
            self.bad[(file, number)] = f"deploy:ignore {', '.join(sorted(ids))} gives no reason: nothing is suppressed"
            return None
        return reason

    def unexplained(self) -> list[Result]:
        return [Result(NO_REASON, message, file, line, 1, "") for (file, line), message in sorted(self.bad.items())]


def known_rules() -> tuple[Rule, ...]:
    return (*RULES, NO_REASON)


def rule(rule_id: str) -> Rule | None:
    return BY_ID.get(rule_id) or (NO_REASON if rule_id == NO_REASON.id else None)
