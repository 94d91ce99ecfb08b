"""A forgiving walk over a loaded stack, for checks that must run even when the schema failed.

Semantic checks run on the same document as the schema so one `validate` reports every error;
the document may therefore hold a list where a mapping belongs. These accessors yield only what
has the right shape and leave the wrong shapes to the schema's diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack.loader import LoadedDocument, PathKey, format_path


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class Node:
    """A value of the document together with its path (for positions and messages)."""

    name: str
    value: dict[str, Any]
    path: PathKey


@dataclass
class StackView:
    doc: LoadedDocument
    base_dir: Path = Path(".")  # the stack file's folder: relative paths in the stack start here
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        return mapping(self.doc.data)

    def error(self, path: PathKey, message: str, *, key: bool = False, severity: str = "error") -> None:
        pos = self.doc.source.key(path) if key else self.doc.source.value(path)
        self.diagnostics.append(
            Diagnostic(self.doc.source.file, pos.line, pos.column, message, format_path(path), severity)
        )

    def error_at(self, line: int, column: int, path: PathKey, message: str, severity: str = "error") -> None:
        self.diagnostics.append(
            Diagnostic(self.doc.source.file, line, column, message, format_path(path), severity)
        )

    def section(self, name: str) -> Iterator[Node]:
        for key, value in mapping(self.data.get(name)).items():
            if isinstance(value, dict):
                yield Node(key, value, (name, key))

    def children(self, parent: Node, name: str) -> Iterator[Node]:
        for key, value in mapping(parent.value.get(name)).items():
            if isinstance(value, dict):
                yield Node(key, value, (*parent.path, name, key))

    def items(self, parent: Node, name: str) -> Iterator[Node]:
        """Entries of a list of mappings, named by their index."""
        for index, value in enumerate(sequence(parent.value.get(name))):
            if isinstance(value, dict):
                yield Node(str(index), value, (*parent.path, name, index))

    def storage_accounts(self) -> Iterator[Node]:
        return self.section("storageAccounts")

    def batch_accounts(self) -> Iterator[Node]:
        return self.section("batchAccounts")

    def networks(self) -> Iterator[Node]:
        return self.section("networks")

    def pools(self) -> Iterator[tuple[Node, Node]]:
        for account in self.batch_accounts():
            for pool in self.children(account, "pools"):
                yield account, pool

    def jobs(self) -> Iterator[tuple[Node, Node]]:
        for account in self.batch_accounts():
            for job in self.children(account, "jobs"):
                yield account, job

    def schedules(self) -> Iterator[tuple[Node, Node]]:
        for account in self.batch_accounts():
            for schedule in self.children(account, "jobSchedules"):
                yield account, schedule


def sub(node: Node, *keys: str) -> Node | None:
    """Descend through nested mappings (`sub(pool, 'scaleSettings', 'autoScale')`)."""
    value: Any = node.value
    path = node.path
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
        path = (*path, key)
    return Node(keys[-1] if keys else node.name, value, path) if isinstance(value, dict) else None
