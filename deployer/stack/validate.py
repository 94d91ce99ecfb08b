"""`deploy validate`: load a stack, check it against the schema, then run the semantic checks.

Both stages run on every file so one run reports every error; the semantic checks are written
to tolerate a document the schema rejected. Nothing here touches the network or an Azure SDK.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer.errors import Diagnostic, StackError
from deployer.stack.checks import run_checks
from deployer.stack.loader import LoadedDocument, load_stack_file
from deployer.stack.numbers import check_numbers
from deployer.stack.schema import check_schema


@dataclass
class ValidationResult:
    file: str
    diagnostics: list[Diagnostic]
    document: LoadedDocument | None = None

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def validate_file(path: Path, display: str | None = None,
                  variables: Mapping[str, Any] | None = None) -> ValidationResult:
    """Validate a stack file; `variables` (from --var-file/--var) are used to render a templated
    stack, and diagnostics in rendered text point back at the template's file and line."""
    name = display or str(path)
    with _gc_paused():
        try:
            doc = load_stack_file(path, name, variables)
        except StackError as exc:
            return ValidationResult(name, list(exc.diagnostics))
        result = validate_document(doc, path.parent)
        if doc.line_map is not None:
            result.diagnostics = sorted(doc.line_map.remap_all(result.diagnostics))
        return result


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading builds tens of thousands of small objects and no cycles; the cyclic collector
    would rescan them all many times over (it doubled the load time of a 1,000-pool stack)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_document(doc: LoadedDocument, base_dir: Path) -> ValidationResult:
    semantic = run_checks(doc, base_dir) + check_numbers(doc)
    # Where a semantic check and the schema flag the same spot (a name's pattern, say), the
    # semantic message explains the rule in words; the schema's regex adds nothing.
    flagged = {(d.line, d.column) for d in semantic}
    structural = [d for d in check_schema(doc) if (d.line, d.column) not in flagged]
    return ValidationResult(doc.source.file, sorted(structural + semantic), doc)
