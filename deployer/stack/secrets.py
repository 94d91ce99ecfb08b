"""Where a stack asks for secrets: every `{secret: REFERENCE}` with its file, line and column.

The desired model keeps references, never values. Planning resolves every reference once,
before anything is read or written (`deployer.plan.secrets`), so that a missing environment
variable, file or vault secret stops the run with the place in the stack that asked for it —
instead of failing halfway through an apply with some resources already changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack.loader import LoadedDocument, PathKey, format_path


@dataclass(frozen=True)
class SecretReference:
    reference: str  # `env:NAME`, `file:relative/path` or `keyvault:vault/name[/version]`
    file: str
    line: int
    column: int
    path: str  # where in the document: batchAccounts.main.pools.p.mountConfiguration[0]...

    def diagnostic(self, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.column, message, self.path)


def secret_references(doc: LoadedDocument) -> tuple[SecretReference, ...]:
    """Every secret reference of a loaded (valid) stack document, in document order."""
    found = []
    for path, reference in _walk(doc.data, ()):
        position = doc.source.value((*path, "secret"))
        located = Diagnostic(doc.source.file, position.line, position.column, "", format_path(path))
        if doc.line_map is not None:
            located = doc.line_map.remap(located)
        found.append(SecretReference(reference, located.file, located.line, located.column, located.path))
    return tuple(found)


def _walk(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, dict):
        if set(value) == {"secret"} and isinstance(value["secret"], str):
            yield path, value["secret"]
            return
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
