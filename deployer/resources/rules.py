"""The rule tables: per resource kind, how each field compares and what changing it does.

A kind's rules are data: one `Field` row per property (or nested property) that needs anything
other than plain equality, in a `KindRules` table with the kind's two canonicalizers. The generic
engine (`deployer.plan.diff`) reads the table; no kind-specific `if` lives in the engine.

A `Field` row says, for the place `path` names in the canonical document:

* `effect` — what a change there does: `UPDATE` (in place, on a live resource), `EMPTY_POOL`
  (Batch accepts it only while the pool has zero nodes: the pool is replaced, or drained, per its
  `changeStrategy`) or `REPLACE` (delete and create). A callable `(before, after) -> Effect`
  decides per value (a job's `onAllTasksComplete` cannot go back from `terminatejob`). Rows
  without an effect inherit the effect of the enclosing row; top-level rows always have one.
* `key` — the comparison key (`normalize.ci`, `duration`, `formula`, ...): values compare equal
  when their keys do, and plans still show them as written.
* `default` — the value Azure fills in when none is sent: absence on either side stands for it.
* `form` — a structural form applied before comparing (`name_value_map`, `keyed_by`, `id_set`).
* `unordered` — a list compared as a multiset.
* `ignore` — set by the server (counts, states, timestamps, ids): never compared.
* `unset="keep"` — when the stack does not set the field, the live value is left alone (Azure
  chooses one: a storage account's access tier); otherwise absence means the default (or none).
* `write_only` / `sensitive` — Azure never returns the value: it is compared by the fingerprint
  the deployer recorded when it wrote it (`deployer.fingerprint.<path>`); sensitive ones are
  secrets, shown as `(sensitive)` everywhere.
* `removal` — the explicit value the API needs to remove the field (`startTask: {}`); a removal
  is planned as that value, never as "unchanged".

Paths: dot-separated names; `*` stands for any key of a map (including lists turned into maps by
`keyed_by`), `[]` for any item of a list: `userAccounts.*.password`, `startTask.resourceFiles[]`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, Protocol

from deployer.resources import normalize as n
from deployer.resources.normalize import MISSING, Key
from deployer.stack.model import Address, Kind

__all__ = [
    "DiffContext",
    "Effect",
    "Field",
    "KindRules",
    "Node",
    "ANNOTATIONS",
    "StaticContext",
    "annotation",
    "apply_forms",
    "properties",
    "fingerprint_for_field",
    "prefixed",
    "resolve_secrets",
]


#: The key under which a reader attaches to a live resource's JSON what Azure's resource body does
#: not carry: `runningTasks` (pools), `taskCounts` (jobs: {"active", "running"}), `versions`
#: (applications: the package versions). Never an Azure property name.
ANNOTATIONS = "_deployer"


def annotation(live: Mapping[str, Any], name: str) -> Any:
    found = live.get(ANNOTATIONS)
    return found.get(name) if isinstance(found, Mapping) else None


def properties(rest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The `properties` of an ARM resource's JSON ({} when it has none)."""
    props = rest.get("properties")
    return props if isinstance(props, Mapping) else {}


class Effect(str, Enum):
    UPDATE = "update"
    EMPTY_POOL = "empty-pool"
    REPLACE = "replace"


EffectRule = Effect | Callable[[Any, Any], Effect]


@dataclass(frozen=True)
class Field:
    path: str
    effect: EffectRule | None = None
    key: Key = n.exact
    default: Any = MISSING
    form: Callable[[Any], Any] | None = None
    unordered: bool = False
    ignore: bool = False
    unset: str = "default"  # or "keep"
    write_only: bool = False
    sensitive: bool = False
    removal: Any = MISSING
    note: str = ""

    def __post_init__(self) -> None:
        if self.unset not in ("default", "keep"):
            raise ValueError(f"{self.path}: unset is 'default' or 'keep'")
        if self.sensitive and not self.write_only:
            object.__setattr__(self, "write_only", True)

    @property
    def parts(self) -> tuple[str, ...]:
        return _split(self.path)


def _split(path: str) -> tuple[str, ...]:
    parts: list[str] = []
    for segment in path.split("."):
        while segment.endswith("[]"):
            segment = segment[:-2]
            if segment:
                parts.append(segment)
            segment = ""
            parts.append("[]")
        if segment:
            parts.append(segment)
    return tuple(parts)


def prefixed(prefix: str, fields: tuple[Field, ...], **overrides: Any) -> tuple[Field, ...]:
    """The same rows re-rooted under `prefix` (shared task rules under `startTask`, ...)."""
    out = []
    for row in fields:
        path = f"{prefix}.{row.path}"
        values = {name: getattr(row, name) for name in Field.__dataclass_fields__}
        values.update(overrides, path=path)
        out.append(Field(**values))
    return tuple(out)


class Node:
    """A compiled table: the rule for one place and the nodes below it."""

    __slots__ = ("children", "rule")

    def __init__(self) -> None:
        self.children: dict[str, Node] = {}
        self.rule: Field | None = None

    def child(self, key: str | int) -> Node:
        if isinstance(key, int):
            return self.children.get("[]", _EMPTY)
        return self.children.get(key) or self.children.get("*") or _EMPTY

    def find(self, parts: tuple[str | int, ...]) -> Node | None:
        node: Node = self
        for part in parts:
            node = node.child(part)
            if node is _EMPTY:
                return None
        return node

    def walk(self, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Node]]:
        yield prefix, self
        for name, child in self.children.items():
            yield from child.walk((*prefix, name))


_EMPTY = Node()


def compile_fields(fields: tuple[Field, ...]) -> Node:
    root = Node()
    for row in fields:
        node = root
        for part in row.parts:
            node = node.children.setdefault(part, Node())
        if node.rule is not None:
            raise ValueError(f"two rules for {row.path}")
        node.rule = row
    return root


class DiffContext(Protocol):
    """What canonicalizing a desired spec needs to know beyond the spec: the ids and endpoints of
    resources a logical reference names, and secret values. Every method answers None when the
    value does not exist yet (the plan creates it): the value is then "known after apply". A
    planner implements it from the stack and the target; tests pass a `StaticContext`."""

    @property
    def stack_name(self) -> str: ...

    @property
    def location(self) -> str | None: ...

    def resource_id(self, address: Address) -> str | None:
        """The Azure resource id of a stack resource: `storageAccounts.data`,
        `networks.hpc.subnets.nodes`, `batchAccounts.main.applications.ffmpeg`."""

    def storage_account_name(self, address: Address) -> str | None:
        """The Azure name of the storage account `storageAccounts.<logical>`."""

    def storage_endpoint(self, address: Address, service: str) -> str | None:
        """The endpoint of a storage account for `service` ("blob", "file"), ending in "/"."""

    def storage_account_key(self, address: Address) -> str | None:
        """A key of the storage account, for mounts that name `storage:`; None when unreadable."""

    def secret(self, reference: str) -> str | None:
        """The value of a secret reference (`env:NAME`, `file:path`, `keyvault:vault/name`)."""

    def file_sha256(self, path: str) -> str | None:
        """The sha256 (hex) of a file named relative to the stack's folder (an application
        package's zip); None when it cannot be read."""


@dataclass(frozen=True)
class StaticContext:
    """A `DiffContext` from plain maps (addresses as text): for tests and simple callers."""

    stack_name: str = "test"
    location: str | None = None
    ids: Mapping[str, str] = field(default_factory=dict)
    storage_names: Mapping[str, str] = field(default_factory=dict)
    endpoints: Mapping[str, str] = field(default_factory=dict)  # "storageAccounts.data:file" -> URL
    keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    files: Mapping[str, str] = field(default_factory=dict)  # relative path -> sha256 hex

    def resource_id(self, address: Address) -> str | None:
        return self.ids.get(str(address))

    def storage_account_name(self, address: Address) -> str | None:
        return self.storage_names.get(str(address))

    def storage_endpoint(self, address: Address, service: str) -> str | None:
        return self.endpoints.get(f"{address}:{service}")

    def storage_account_key(self, address: Address) -> str | None:
        return self.keys.get(str(address))

    def secret(self, reference: str) -> str | None:
        return self.secrets.get(reference)

    def file_sha256(self, path: str) -> str | None:
        return self.files.get(path)


CanonicalDesired = Callable[[Mapping[str, Any], DiffContext, Address], dict[str, Any]]
CanonicalLive = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class KindRules:
    """One kind's table and hooks: everything the generic diff engine needs to know about it."""

    kind: Kind
    title: str  # how plans name the kind: "pool", "storage account"
    fields: tuple[Field, ...]
    canonical_desired: CanonicalDesired
    canonical_live: CanonicalLive
    #: top-level keys of the live JSON that Azure sets (ignored; listed for the record and tests)
    server_set: tuple[str, ...] = ()
    #: top-level live keys the stack format cannot express (ignored: the deployer does not manage them)
    unmanaged: tuple[str, ...] = ()
    #: what deleting or replacing it destroys, from the live JSON (for "loud about loss")
    loss: Callable[[Mapping[str, Any]], list[str]] | None = None
    #: whether a live resource is empty now (a pool with zero nodes): EMPTY_POOL changes apply in place
    is_empty: Callable[[Mapping[str, Any]], bool] | None = None
    #: the stack setting that chooses between replace and drain for EMPTY_POOL changes
    strategy_setting: str | None = None

    @cached_property
    def tree(self) -> Node:
        root = compile_fields(self.fields)
        for name, child in root.children.items():
            if child.rule is None or child.rule.effect is None:
                raise ValueError(f"{self.title}: top-level field {name} needs an effect")
        return root

    def field(self, path: str) -> Field | None:
        node = self.tree.find(_split(path))
        return node.rule if node else None


def apply_forms(value: Any, node: Node) -> Any:
    """Structural canonical form: nulls and empties dropped, server-set fields removed, each row's
    `form` applied (lists to maps, name/value lists to maps). Scalars are left as written."""
    if value is None:
        return MISSING
    rule = node.rule
    if rule is not None and rule.ignore:
        return MISSING
    if rule is not None and rule.form is not None:
        value = rule.form(value)
    if n.is_marker(value):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            normalized = apply_forms(item, node.child(str(key)))
            if normalized is not MISSING:
                out[str(key)] = normalized
        return out if out else MISSING
    if isinstance(value, list | tuple):
        items = [apply_forms(item, node.child(0)) for item in value]
        kept = [item for item in items if item is not MISSING]
        return kept if kept else MISSING
    return value


def resolve_secrets(value: Any, context: DiffContext) -> Any:
    """Every `{secret: REF}` in a desired spec becomes a `Secret` carrying its resolved value."""
    if isinstance(value, Mapping):
        if set(value) == {"secret"} and isinstance(value["secret"], str):
            return n.Secret(value["secret"], context.secret(value["secret"]))
        return {k: resolve_secrets(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, context) for v in value]
    return value


def fingerprint_for_field(rules: KindRules, path: str | tuple[str | int, ...], value: Any) -> str:
    """The fingerprint the writer records for a write-only field it sets to `value` (the resolved
    secret, or the desired value): keyed the way the diff compares it."""
    parts = n.parse_path(path) if isinstance(path, str) else path
    node = rules.tree.find(parts)
    key = node.rule.key if node and node.rule else n.exact
    return n.fingerprint(key(value))


def fingerprint_paths(rules: KindRules) -> list[tuple[str, ...]]:
    """The table paths of write-only fields (with `*` and `[]` as in the table)."""
    return [path for path, node in rules.tree.walk() if node.rule is not None and node.rule.write_only]


def insert_fingerprints(document: dict[str, Any], recorded: Mapping[str, str], rules: KindRules) -> dict[str, Any]:
    """Place each recorded fingerprint (`path` -> fingerprint) into a canonical live document as a
    `Fingerprint` marker (the live value of a write-only field), where the item it belongs to
    exists. Fixed-name objects on the way that Azure left out are created: Azure drops an object
    whose only field is write-only (`linuxUserConfiguration: {sshPrivateKey}` reads back empty)."""
    out = copy.deepcopy(document)
    for text, recorded_value in recorded.items():
        try:
            parts = n.parse_path(text)
        except ValueError:
            continue
        node = rules.tree.find(parts)
        if node is None or node.rule is None or not node.rule.write_only:
            continue
        parent: Any = out
        table = rules.tree
        for part in parts[:-1]:
            fixed_name = isinstance(part, str) and part in table.children  # not a `*` entry, not an index
            table = table.child(part)
            in_map = isinstance(parent, dict) and isinstance(part, str) and part in parent
            in_list = isinstance(parent, list) and isinstance(part, int) and 0 <= part < len(parent)
            if in_map or in_list:
                parent = parent[part]
            elif isinstance(parent, dict) and fixed_name:
                parent[part] = {}
                parent = parent[part]
            else:
                parent = None
                break
        last = parts[-1]
        if isinstance(parent, dict) and isinstance(last, str) and last not in parent:
            parent[last] = n.Fingerprint(recorded_value, sensitive=node.rule.sensitive)
    return out


# --- rows shared by several kinds -------------------------------------------------------------------

#: .NET TimeSpan.MaxValue: what Batch returns for "no limit" on task and job constraints.
UNLIMITED = "P10675199DT2H48M5.4775807S"

#: How a task runs when it names no user: a non-admin auto-user unique to the task. (An `autoUser`
#: that omits `scope` runs in the pool scope: the defaults below the object differ.)
DEFAULT_USER_IDENTITY = {"autoUser": {"scope": "task", "elevationLevel": "nonadmin"}}

USER_IDENTITY: tuple[Field, ...] = (
    Field("userIdentity", default=DEFAULT_USER_IDENTITY),
    Field("userIdentity.autoUser.scope", key=n.ci, default="pool"),
    Field("userIdentity.autoUser.elevationLevel", key=n.ci, default="nonadmin"),
)

CONTAINER_SETTINGS: tuple[Field, ...] = (
    Field("containerSettings.workingDirectory", key=n.ci, default="taskWorkingDirectory"),
    Field("containerSettings.registry.registryServer", key=n.ci, default="docker.io"),
    Field("containerSettings.registry.password", sensitive=True),
    Field("containerSettings.registry.identityReference.resourceId", key=n.arm_id),
    Field("containerSettings.containerHostBatchBindMounts", unordered=True),
    Field("containerSettings.containerHostBatchBindMounts[].source", key=n.ci),
    Field("containerSettings.containerHostBatchBindMounts[].isReadOnly", default=False),
)

RESOURCE_FILES: tuple[Field, ...] = (
    Field("resourceFiles[].identityReference.resourceId", key=n.arm_id),
)

#: The rows every kind of task shares (start task, job manager, preparation and release tasks).
TASK_COMMON: tuple[Field, ...] = (
    *USER_IDENTITY,
    *CONTAINER_SETTINGS,
    *RESOURCE_FILES,
    Field("environmentSettings", form=n.name_value_map),
)

#: Task constraints (job manager and preparation tasks).
TASK_CONSTRAINTS: tuple[Field, ...] = (
    Field("constraints.maxWallClockTime", key=n.duration, default=UNLIMITED),
    Field("constraints.retentionTime", key=n.duration, default="P7D"),
    Field("constraints.maxTaskRetryCount", default=0),
)
