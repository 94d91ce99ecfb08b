"""The conversion report: what was dropped (exactly), which secrets to set, what to review."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deployer.convert import ConvertResult


def print_report(result: ConvertResult, out: Path | None) -> None:
    findings = result.conversion.findings
    err = sys.stderr
    where = str(out) if out else "standard output"
    dropped = [f for f in findings if f.kind == "dropped"]
    err.write(f"Wrote the stack to {where}: {'valid' if result.ok else 'NOT VALID (see below)'}.\n")
    for kind, title in (("dropped", "Dropped (not carried over)"), ("secret", "Secrets (set before apply)"),
                        ("review", "Review")):
        items = [f for f in findings if f.kind == kind]
        if not items:
            continue
        err.write(f"{title}: {len(items)}\n")
        for f in items:
            err.write(f"  {f.source}: {f.reason}\n")
    if not dropped:
        err.write("Nothing was dropped.\n")


def write_json_report(result: ConvertResult) -> None:
    sys.stdout.write(json.dumps(result.report(), indent=2) + "\n")
