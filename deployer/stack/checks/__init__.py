"""Semantic checks: what the JSON Schema cannot say about a stack.

Each module holds one concern and exposes `check(view)`, which records diagnostics on the view.
Add a concern by adding a module and listing it in CHECKS.
"""

from __future__ import annotations

from pathlib import Path

from deployer.errors import Diagnostic
from deployer.stack.checks import (
    api_version,
    auto_pools,
    consistency,
    credentials,
    factories,
    lifecycle,
    naming,
    pools,
    references,
    sas,
    security_groups,
    unique,
)
from deployer.stack.checks.view import StackView
from deployer.stack.loader import LoadedDocument

CHECKS = (naming.check, references.check, pools.check, unique.check, lifecycle.check, consistency.check, sas.check,
          api_version.check, credentials.check, security_groups.check, auto_pools.check,
          factories.check)


def run_checks(doc: LoadedDocument, base_dir: Path) -> list[Diagnostic]:
    view = StackView(doc, base_dir)
    for check in CHECKS:
        check(view)
    return view.diagnostics
