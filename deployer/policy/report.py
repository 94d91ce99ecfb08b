"""Policy results as text (terminals, CI logs), JSON (versioned) and SARIF 2.1.0 (code scanning)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from deployer import __version__
from deployer.policy.check import Result, known_rules

FORMAT_VERSION = 1
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def render_text(results: Sequence[Result]) -> str:
    lines = [r.format() for r in results]
    shown = {r.rule.id: r.rule for r in results if not r.suppressed}
    for rule in sorted(shown.values(), key=lambda r: r.id):
        lines.append(f"  {rule.id} {rule.name}: {rule.rationale} Fix: {rule.fix}")
    failing = sum(1 for r in results if r.fails)
    notes = sum(1 for r in results if not r.suppressed and not r.fails)
    suppressed = sum(1 for r in results if r.suppressed)
    lines.append(f"{failing} finding{'s' if failing != 1 else ''} to fix, {notes} note{'s' if notes != 1 else ''}, "
                 f"{suppressed} suppressed.")
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[Result]) -> str:
    document = {
        "formatVersion": FORMAT_VERSION,
        "ok": not any(r.fails for r in results),
        "findings": [r.as_dict() for r in results],
        "rules": [_rule_dict(rule) for rule in known_rules()],
    }
    return json.dumps(document, indent=2) + "\n"


def _rule_dict(rule: Any) -> dict[str, str]:
    return {"id": rule.id, "name": rule.name, "severity": rule.severity, "title": rule.title,
            "rationale": rule.rationale, "fix": rule.fix}


def render_sarif(results: Sequence[Result]) -> str:
    """One SARIF 2.1.0 run; locations relative to the working directory (the repository root in CI)."""
    rules = list(known_rules())
    index = {rule.id: i for i, rule in enumerate(rules)}
    sarif_results = []
    for r in results:
        item: dict[str, Any] = {
            "ruleId": r.rule.id,
            "ruleIndex": index[r.rule.id],
            "level": r.rule.severity,
            "message": {"text": f"{r.message}. {r.rule.fix}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": _artifact(r.file),
                "region": {"startLine": max(r.line, 1), "startColumn": max(r.column, 1)},
            }, **({"logicalLocations": [{"fullyQualifiedName": r.path}]} if r.path else {})}],
            "partialFingerprints": {"deployCheck/v1": f"{r.rule.id}:{r.file}:{r.path or r.line}"},
        }
        if r.suppressed:
            item["suppressions"] = [{"kind": "inSource", "justification": r.justification}]
        sarif_results.append(item)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "batch-deployer",
                "semanticVersion": __version__,
                "rules": [{
                    "id": rule.id,
                    "name": rule.name,
                    "shortDescription": {"text": rule.title},
                    "fullDescription": {"text": rule.rationale},
                    "help": {"text": f"{rule.rationale} Fix: {rule.fix}",
                             "markdown": f"{rule.rationale}\n\n**Fix:** {rule.fix}"},
                    "defaultConfiguration": {"level": rule.severity},
                    "properties": {"tags": ["security" if rule.severity != "note" else "maintainability",
                                            "azure-batch"]},
                } for rule in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


def _artifact(file: str) -> dict[str, Any]:
    path = PurePath(file)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    return {"uri": path.as_posix(), "uriBaseId": "%SRCROOT%"}
