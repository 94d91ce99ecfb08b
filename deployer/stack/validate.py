"""`deploy validate`: load a stack, check it against the schema, then run the semantic checks.

Both stages run on every file so one run reports every error; the semantic checks are written
to tolerate a document the schema rejected. Nothing here touches the network or an Azure SDK.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deployer.errors import Diagnostic, StackError
from deployer.stack.checks import run_checks
from deployer.stack.loader import LoadedDocument, has_template_syntax, load_stack_file
from deployer.stack.numbers import check_numbers
from deployer.stack.schema import check_schema
from deployer.stack.spellings import normalize_spellings

_QUOTED = re.compile(r"'[^']*'")
_PATH_PART = re.compile(r"[^.\[\]]+")


@dataclass
class ValidationResult:
    file: str
    diagnostics: list[Diagnostic]
    document: LoadedDocument | None = None

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def validate_file(path: Path, display: str | None = None,
                  variables: Mapping[str, Any] | None = None, target: str | None = None) -> ValidationResult:
    """Validate a stack file; `variables` (from --var-file/--var) and `target` (--target) are used
    to render a templated stack, and diagnostics in rendered text point back at the template's
    file and line."""
    name = display or str(path)
    with _gc_paused():
        try:
            doc = load_stack_file(path, name, variables, target)
        except StackError as exc:
            return ValidationResult(name, sorted([*exc.diagnostics, *_template_hint(path, name)]))
        result = validate_document(doc, path.parent)
        if doc.line_map is not None:
            result.diagnostics = collapse_repeats(sorted(doc.line_map.remap_all(result.diagnostics)))
        elif has_template_syntax(doc.text):
            result.diagnostics = sorted([*result.diagnostics, *_template_hint(path, name, doc.text)])
        return result


def _template_hint(path: Path, name: str, text: str | None = None) -> list[Diagnostic]:
    """Template syntax in a stack that is not a template (not *.j2): say why it was not rendered."""
    from deployer.stack.loader import read_stack_text
    from deployer.stack.template.render import unrendered_template

    if text is None and not path.is_file():  # a pipe or a device is read once, never again for a hint
        return []
    try:
        text = read_stack_text(path, name) if text is None else text
    except StackError:
        return []
    hint = unrendered_template(text, name)
    return [hint] if hint is not None else []


def collapse_repeats(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic per template line: a mistake inside `{% for %}` is rendered (and found) once
    per iteration, with only the names changing; report it once, with the count."""
    groups: dict[tuple[str, int, int, str, str], list[Diagnostic]] = {}
    for d in diagnostics:
        groups.setdefault((d.file, d.line, d.column, d.severity, _shape(d)), []).append(d)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1:
            first = replace(first, message=f"{first.message} (and {len(same) - 1} more times from this "
                                           "template line, which a loop renders repeatedly)")
        out.append(first)
    return out


def _shape(d: Diagnostic) -> str:
    """The message with the names that vary from one loop iteration to the next (the names in its
    path: `pool 'p7'`) blanked out."""
    names = set(_PATH_PART.findall(d.path))
    return _QUOTED.sub(lambda m: "'…'" if m.group(0)[1:-1] in names else m.group(0), d.message)


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
    spelled = normalize_spellings(doc)  # first: the checks and the model see one spelling
    semantic = spelled + run_checks(doc, base_dir) + check_numbers(doc)
    # Where a semantic check and the schema flag the same spot (a name's pattern, say), the
    # semantic message explains the rule in words; the schema's regex adds nothing.
    flagged = {(d.line, d.column) for d in semantic}
    structural = [d for d in check_schema(doc) if (d.line, d.column) not in flagged]
    return ValidationResult(doc.source.file, sorted(structural + semantic), doc)
