"""The plan as data: immutable `Plan` of `Change`s, with a stable JSON form (see the package
docstring for the documented shape).

A plan is made by the planner, rendered by `deployer.plan.render`, saved with `--out` and executed
by apply. It never holds a secret: values are canonical forms with every write-only value replaced
by `(sensitive)` before they reach a `Change`. `before`, `after` and field values are deep-frozen
(read-only mappings and tuples) so no consumer can alter a plan another consumer reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

from deployer.errors import Diagnostic, PlanError
from deployer.stack.model import Address, Kind, Target

__all__ = ["FORMAT_VERSION", "Action", "Change", "FieldChange", "Plan", "PlanTarget", "freeze", "thaw"]

#: The version of the saved-plan JSON; a reader refuses any other.
FORMAT_VERSION = 1


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"  # in place
    DRAIN = "drain"  # a pool: scale to zero, update, restore the scale (changeStrategy: drain)
    REPLACE = "replace"  # delete, then create
    DELETE = "delete"
    NO_OP = "no-op"

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DRAIN: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.NO_OP: " ",
}


def freeze(value: Any) -> Any:
    """A deep read-only copy of JSON-like data: mappings become read-only, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON data (dicts and lists) from frozen data."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its canonical path, the live value (`before`) and the desired one
    (`after`; for a removal, the explicit empty value the API needs, such as `{}`)."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False
    sensitive: bool = False
    requires_empty_pool: bool = False  # a pool field Batch changes only on a pool with zero nodes

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", freeze(self.before))
        object.__setattr__(self, "after", freeze(self.after))

    def __hash__(self) -> int:
        return hash((self.path, self.forces_replacement, self.sensitive))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": thaw(self.before),
            "after": thaw(self.after),
            "forcesReplacement": self.forces_replacement,
            "requiresEmptyPool": self.requires_empty_pool,
            "sensitive": self.sensitive,
        }


@dataclass(frozen=True)
class Change:
    """What the plan does to one resource, and why."""

    address: Address
    kind: Kind
    action: Action
    reason: str
    before: Any = None  # canonical live form (None when creating)
    after: Any = None  # canonical desired form (None when deleting)
    fields: tuple[FieldChange, ...] = ()
    replace_paths: tuple[str, ...] = ()  # the fields that force a replacement (or a drain)
    warnings: tuple[str, ...] = ()
    etag: str | None = None  # of the live resource the plan was made from
    name: str = ""  # the Azure name
    managed: bool = True  # False: it exists in Azure but this stack does not own it (`reason` says why)
    tasks: Any = None  # a job's `deployer.plan.tasks.TaskPlan`: its tasks planned one by one

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", freeze(self.before))
        object.__setattr__(self, "after", freeze(self.after))
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "replace_paths", tuple(self.replace_paths))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def __hash__(self) -> int:
        return hash((self.address, self.kind, self.action, self.etag))

    @property
    def is_change(self) -> bool:
        return self.action != Action.NO_OP

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": str(self.address),
            "kind": self.kind.value,
            "name": self.name,
            "action": self.action.value,
            "reason": self.reason,
            "before": thaw(self.before),
            "after": thaw(self.after),
            "fields": [f.to_dict() for f in self.fields],
            "replacePaths": list(self.replace_paths),
            "warnings": list(self.warnings),
            "etag": self.etag,
            "managed": self.managed,
            **({"tasks": self.tasks.to_dict()} if self.tasks is not None else {}),
        }


@dataclass(frozen=True)
class PlanTarget:
    """Where the plan applies: the target's kind, subscription, resource group and location."""

    kind: str
    subscription: str | None = None
    resource_group: str | None = None
    location: str | None = None

    @classmethod
    def from_target(cls, target: Target) -> PlanTarget:
        return cls(target.kind, target.subscription, target.resource_group, target.location)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subscription": self.subscription, "resourceGroup": self.resource_group,
                "location": self.location}

    def describe(self) -> str:
        where = ", ".join(p for p in (self.resource_group, self.location) if p)
        return f"{self.kind} ({where})" if where else self.kind


@dataclass(frozen=True)
class Plan:
    stack: str
    target: PlanTarget
    changes: tuple[Change, ...] = field(default_factory=tuple)
    #: what `deploy validate` warned about the stack (a VM size retiring soon, an alias): plans
    #: repeat it, so a warning is seen where the change is reviewed, not only in validate
    validation: tuple[Diagnostic, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = ()  # about the plan as a whole (a resource group apply creates)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "validation", tuple(self.validation))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.is_change)

    @property
    def not_managed(self) -> tuple[Change, ...]:
        """Declared resources that exist in Azure but that this stack does not own: left alone."""
        return tuple(c for c in self.changes if not c.managed)

    @property
    def is_empty(self) -> bool:
        return not self.actionable

    def counts(self) -> dict[str, int]:
        counts = {"add": 0, "change": 0, "replace": 0, "destroy": 0, "unchanged": 0}
        for change in self.changes:
            counts[_BUCKET[change.action]] += 1
        return counts

    def summary(self) -> str:
        """`Plan: 1 to add, 2 to change, 1 to replace, 0 to destroy.`, or the no-change line."""
        if self.is_empty:
            return "No changes. Live state matches the stack."
        c = self.counts()
        line = (f"Plan: {c['add']} to add, {c['change']} to change, {c['replace']} to replace, "
                f"{c['destroy']} to destroy.")
        tasks = self.task_counts()
        if any(tasks.values()):
            words = (("add", "to add"), ("replace", "to replace"), ("update", "to update"), ("delete", "to delete"))
            line += " Tasks: " + ", ".join(f"{tasks[k]} {w}" for k, w in words if tasks[k]) + "."
        return line

    def task_counts(self) -> dict[str, int]:
        """Tasks added, replaced, updated and deleted in jobs that already exist (a job created or
        replaced adds all its tasks: those are counted with the job)."""
        out = {"add": 0, "replace": 0, "update": 0, "delete": 0}
        for change in self.actionable:
            if change.tasks is not None and change.action in (Action.UPDATE, Action.NO_OP):
                for key in out:
                    out[key] += change.tasks.counts()[key]
        return out

    # --- JSON -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "stack": self.stack,
            "target": self.target.to_dict(),
            "changes": [c.to_dict() for c in self.changes],
            "summary": self.counts(),
            "validationWarnings": [d.as_dict() for d in self.validation],
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "saved plan") -> Plan:
        """Read a saved plan; a malformed file or another format version raises PlanError."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise PlanError(f"{source}: not a plan file: invalid JSON ({error})") from None
        except RecursionError:
            raise PlanError(f"{source}: not a plan file: nested too deeply") from None
        try:
            return cls.from_dict(data, source)
        except RecursionError:
            raise PlanError(f"{source}: malformed plan: values nested too deeply") from None

    @classmethod
    def from_dict(cls, data: Any, source: str = "saved plan") -> Plan:
        reader = _Reader(source)
        root = reader.mapping(data, "")
        version = root.get("formatVersion")
        if version is None:
            raise PlanError(f"{source}: not a plan file: formatVersion is missing")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise PlanError(f"{source}: plan format version {version!r} is not supported; this deployer reads "
                            f"version {FORMAT_VERSION} — make the plan again with this version")
        target = reader.mapping(reader.get(root, "target", ""), "target")
        plan_target = PlanTarget(
            kind=reader.text(reader.get(target, "kind", "target"), "target.kind"),
            subscription=reader.optional_text(target.get("subscription"), "target.subscription"),
            resource_group=reader.optional_text(target.get("resourceGroup"), "target.resourceGroup"),
            location=reader.optional_text(target.get("location"), "target.location"),
        )
        changes = reader.array(reader.get(root, "changes", ""), "changes")
        return cls(
            stack=reader.text(reader.get(root, "stack", ""), "stack"),
            target=plan_target,
            changes=tuple(reader.change(item, f"changes[{i}]") for i, item in enumerate(changes)),
            validation=tuple(_diagnostic(item) for item in root.get("validationWarnings") or ()
                             if isinstance(item, dict)),
            notes=reader.texts(root.get("notes", []), "notes"),
        )


def _diagnostic(item: Mapping[str, Any]) -> Diagnostic:
    """A validation warning as a saved plan holds it (only shown again: never trusted for more)."""
    def number(key: str) -> int:
        value = item.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return Diagnostic(str(item.get("file", "")), number("line"), number("column"), str(item.get("message", "")),
                      str(item.get("path", "")), str(item.get("severity", "warning")))


_BUCKET = {
    Action.CREATE: "add",
    Action.UPDATE: "change",
    Action.DRAIN: "change",
    Action.REPLACE: "replace",
    Action.DELETE: "destroy",
    Action.NO_OP: "unchanged",
}


class _Reader:
    """Checks a saved plan's structure, naming the exact place of the first problem."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> PlanError:
        at = f" (at {where})" if where else ""
        return PlanError(f"{self.source}: malformed plan: {message}{at}")

    def get(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data:
            raise self.fail(where, f"{key} is missing")
        return data[key]

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected an object, found {_json_type(value)}")
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, found {_json_type(value)}")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, found {_json_type(value)}")
        return value

    def optional_text(self, value: Any, where: str) -> str | None:
        return None if value is None else self.text(value, where)

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, found {_json_type(value)}")
        return value

    def enum(self, kind: type[Enum], value: Any, where: str) -> Any:
        text = self.text(value, where)
        try:
            return kind(text)
        except ValueError:
            allowed = ", ".join(str(member.value) for member in kind)  # type: ignore[var-annotated]
            raise self.fail(where, f"{text!r} is not one of {allowed}") from None

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        return tuple(self.text(item, f"{where}[{i}]") for i, item in enumerate(self.array(value, where)))

    def change(self, value: Any, where: str) -> Change:
        data = self.mapping(value, where)
        address_text = self.text(self.get(data, "address", where), f"{where}.address")
        if not address_text or any(not part for part in address_text.split(".")):
            raise self.fail(f"{where}.address", f"{address_text!r} is not a resource address")
        fields = self.array(data.get("fields", []), f"{where}.fields")
        etag = data.get("etag")
        return Change(
            address=Address.parse(address_text),
            kind=self.enum(Kind, self.get(data, "kind", where), f"{where}.kind"),
            action=self.enum(Action, self.get(data, "action", where), f"{where}.action"),
            reason=self.text(data.get("reason", ""), f"{where}.reason"),
            before=(data.get("before")),
            after=(data.get("after")),
            fields=tuple(self.field(item, f"{where}.fields[{i}]") for i, item in enumerate(fields)),
            replace_paths=self.texts(data.get("replacePaths", []), f"{where}.replacePaths"),
            warnings=self.texts(data.get("warnings", []), f"{where}.warnings"),
            etag=None if etag is None else self.text(etag, f"{where}.etag"),
            name=self.text(data.get("name", ""), f"{where}.name"),
            managed=self.boolean(data.get("managed", True), f"{where}.managed"),
            tasks=self.tasks(data.get("tasks"), f"{where}.tasks"),
        )

    def tasks(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        from deployer.plan.tasks import TaskPlan

        try:
            return TaskPlan.from_dict(self.mapping(value, where))
        except (TypeError, ValueError) as exc:
            raise self.fail(where, f"not a task plan ({exc})") from None

    def field(self, value: Any, where: str) -> FieldChange:
        data = self.mapping(value, where)
        return FieldChange(
            path=self.text(self.get(data, "path", where), f"{where}.path"),
            before=(data.get("before")),
            after=(data.get("after")),
            forces_replacement=self.boolean(data.get("forcesReplacement", False), f"{where}.forcesReplacement"),
            sensitive=self.boolean(data.get("sensitive", False), f"{where}.sensitive"),
            requires_empty_pool=self.boolean(data.get("requiresEmptyPool", False), f"{where}.requiresEmptyPool"),
        )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
