"""The desired state of a validated stack: resources with addresses and dependencies.

This is what the planner compares with live state. It keeps Azure's property names from the
stack (specs are plain dicts) and resolves nothing that needs Azure: logical references stay
logical and become dependencies, so the order of apply can be derived from the model alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from deployer.errors import Diagnostic, StackError
from deployer.stack.identity import stack_file_id
from deployer.stack.secrets import SecretReference, secret_references
from deployer.stack.validate import validate_file


class Kind(str, Enum):
    NETWORK = "network"
    STORAGE_ACCOUNT = "storageAccount"
    CONTAINER = "container"
    FILE_SHARE = "fileShare"
    BATCH_ACCOUNT = "batchAccount"
    APPLICATION = "application"
    POOL = "pool"
    JOB = "job"
    JOB_SCHEDULE = "jobSchedule"
    UPLOAD = "upload"  # files uploaded into a container (deployer.resources.upload)
    SECURITY_GROUP = "securityGroup"  # a network's security groups (deployer.resources.security_group)
    IDENTITY = "identity"  # user-assigned managed identities and their roles (deployer.resources.identity)


@dataclass(frozen=True, order=True)
class Address:
    """A resource's name in plans, errors and `--only`: `batchAccounts.main.pools.transcode`."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)

    @classmethod
    def parse(cls, text: str) -> Address:
        return cls(tuple(text.split(".")))

    def child(self, *parts: str) -> Address:
        return Address((*self.parts, *parts))

    def contains(self, other: Address) -> bool:
        return other.parts[: len(self.parts)] == self.parts


@dataclass(frozen=True)
class Target:
    kind: str
    subscription: str | None = None
    resource_group: str | None = None
    location: str | None = None
    cloud: str = "AzureCloud"
    endpoint: str | None = None
    ca_file: str | None = None
    execute: bool = True  # local target: run the jobs' tasks on this machine (the node agent)


@dataclass(frozen=True)
class DesiredResource:
    address: Address
    kind: Kind
    name: str  # the Azure name (account name, pool id, share name...)
    spec: dict[str, Any]
    depends_on: tuple[Address, ...] = ()
    protect: bool = False


@dataclass(frozen=True)
class Stack:
    name: str
    file: str
    base_dir: Path
    target: Target
    resources: tuple[DesiredResource, ...] = field(default_factory=tuple)
    #: every `{secret: …}` reference with its place in the stack (resolved before planning)
    secrets: tuple[SecretReference, ...] = ()
    #: sha256 of the text the YAML was read from (after rendering): what a saved plan pins
    source_sha256: str = ""
    #: the --var-file / --var values the stack was rendered with (a saved plan carries them)
    variables: Mapping[str, Any] = field(default_factory=dict)
    #: the --target the stack was rendered with (`deploy.target`; a saved plan carries it too)
    rendered_for: str | None = None
    #: which file this is, as apply records it on accounts (deployer.stack.identity); "" unknown
    file_id: str = ""
    #: validate's warnings (plans and apply show them too)
    warnings: tuple[Diagnostic, ...] = ()
    #: where each resource is declared, by address: `FILE:LINE:COL` (errors from Azure name it)
    locations: Mapping[str, str] = field(default_factory=dict)

    def get(self, address: Address | str) -> DesiredResource | None:
        wanted = Address.parse(address) if isinstance(address, str) else address
        return next((r for r in self.resources if r.address == wanted), None)

    def of_kind(self, kind: Kind) -> Iterator[DesiredResource]:
        return (r for r in self.resources if r.kind == kind)


def load_stack(path: Path, display: str | None = None,
               variables: Mapping[str, Any] | None = None, target: str | None = None) -> Stack:
    """Validate a stack file and build its model; raise StackError with every diagnostic.
    `variables` (from --var-file/--var) and `target` (--target, `deploy.target`) render a
    templated stack (deployer.stack.template)."""
    result = validate_file(path, display, variables, target)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors or result.document is None:
        raise StackError(errors or [Diagnostic(result.file, 0, 0, "the stack could not be read")])
    document = result.document
    stack = build_model(document.data, result.file, path.parent)
    return replace(stack, secrets=secret_references(document),
                   source_sha256=hashlib.sha256(document.text.encode("utf-8")).hexdigest(),
                   variables=dict(variables or {}), rendered_for=target, file_id=stack_file_id(path),
                   warnings=tuple(d for d in result.diagnostics if d.severity == "warning"),
                   locations=_locations(stack, document))


def _locations(stack: Stack, document: Any) -> dict[str, str]:
    """`FILE:LINE:COL` of each resource's key in the stack file (through a template's line map)."""
    out: dict[str, str] = {}
    for resource in stack.resources:
        position = document.source.key(tuple(resource.address.parts))
        where = Diagnostic(document.source.file, position.line, position.column, "")
        if document.line_map is not None:
            where = document.line_map.remap(where)
        out[str(resource.address)] = f"{where.file}:{where.line}:{where.column}"
    return out


def build_model(data: dict[str, Any], file: str, base_dir: Path) -> Stack:
    target = data["target"]
    resources: list[DesiredResource] = []
    networks = Address(("networks",))
    for logical, spec in data.get("networks", {}).items():
        groups = []
        for group, group_spec in (spec.get("securityGroups") or {}).items():
            address = networks.child(logical, "securityGroups", group)
            name = (group_spec or {}).get("name") or f"{spec['name']}-{group}"
            resources.append(_resource(address, Kind.SECURITY_GROUP, name, group_spec or {}))
            groups.append(address)
        resources.append(_resource(networks.child(logical), Kind.NETWORK, spec["name"],
                                   _without(spec, "securityGroups"), tuple(groups)))
    storage = Address(("storageAccounts",))
    for logical, spec in data.get("storageAccounts", {}).items():
        account = storage.child(logical)
        account_spec = _without(spec, "containers", "fileShares")
        resources.append(_resource(account, Kind.STORAGE_ACCOUNT, spec["name"], account_spec))
        for entry in spec.get("containers", []):
            container = entry if isinstance(entry, dict) else {"name": entry}
            address = account.child("containers", container["name"])
            resources.append(_resource(address, Kind.CONTAINER, container["name"],
                                       _without(container, "upload"), (account,)))
            if isinstance(container.get("upload"), dict):
                resources.append(_resource(address.child("upload"), Kind.UPLOAD, container["name"],
                                           {**container["upload"], "baseDir": str(base_dir)}, (address,)))
        for share, share_spec in spec.get("fileShares", {}).items():
            resources.append(_resource(account.child("fileShares", share), Kind.FILE_SHARE, share,
                                       share_spec or {}, (account,)))
    for logical, spec in (data.get("identities") or {}).items():
        needs = tuple(dict.fromkeys(
            Address(("storageAccounts", r["storage"], "containers", r["container"])) if r.get("container")
            else Address(("storageAccounts", r["storage"])) for r in spec.get("roles") or []))
        resources.append(_resource(Address(("identities", logical)), Kind.IDENTITY, spec["name"], spec, needs))
    batch = Address(("batchAccounts",))
    for logical, spec in data.get("batchAccounts", {}).items():
        resources.extend(_batch_account(batch.child(logical), spec))
    return Stack(
        name=data["stack"],
        file=file,
        base_dir=base_dir,
        target=Target(
            kind=target["kind"],
            subscription=target.get("subscription"),
            resource_group=target.get("resourceGroup"),
            location=target.get("location"),
            cloud=target.get("cloud", "AzureCloud"),
            endpoint=target.get("endpoint"),
            ca_file=target.get("caFile"),
            execute=bool(target.get("execute", True)),
        ),
        resources=tuple(resources),
    )


def _without(spec: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in keys}


def _resource(address: Address, kind: Kind, name: str, spec: dict[str, Any],
              depends_on: tuple[Address, ...] = ()) -> DesiredResource:
    return DesiredResource(address, kind, name, spec, depends_on, bool(spec.get("protect", False)))


def _batch_account(account: Address, spec: dict[str, Any]) -> Iterator[DesiredResource]:
    auto = spec.get("autoStorage")
    auto_name = auto.get("storageAccount") if isinstance(auto, dict) else auto
    needs = (Address(("storageAccounts", auto_name)),) if auto_name else ()
    yield _resource(account, Kind.BATCH_ACCOUNT, spec["name"],
                    _without(spec, "applications", "pools", "jobs", "jobSchedules"), needs)
    for app, app_spec in spec.get("applications", {}).items():
        yield _resource(account.child("applications", app), Kind.APPLICATION, app, app_spec, (account,))
    for pool_id, pool in spec.get("pools", {}).items():
        yield _resource(account.child("pools", pool_id), Kind.POOL, pool_id, pool,
                        (account, *_pool_dependencies(account, pool)))
    for job_id, job in spec.get("jobs", {}).items():
        pool = job.get("pool") or (job.get("autoPool") or {}).get("template")  # an auto pool's template
        source = (job.get("taskFactory") or {}).get("source") or {}  # taskPerFile lists its blobs
        files = (Address(("storageAccounts", source["storage"])),) if source.get("storage") else ()
        yield _resource(account.child("jobs", job_id), Kind.JOB, job_id, job,
                        (account, *((account.child("pools", pool),) if pool else ()), *files))
    for schedule_id, schedule in spec.get("jobSchedules", {}).items():
        pool = schedule["jobSpecification"].get("pool")
        yield _resource(account.child("jobSchedules", schedule_id), Kind.JOB_SCHEDULE, schedule_id, schedule,
                        (account, *((account.child("pools", pool),) if pool else ())))


def _pool_dependencies(account: Address, pool: dict[str, Any]) -> Iterator[Address]:
    subnet = pool.get("networkConfiguration", {}).get("subnet")
    if isinstance(subnet, str):
        yield Address(("networks", subnet.split(".", 1)[0]))
    for mount in pool.get("mountConfiguration", []):
        for config in mount.values():
            storage = config.get("storage")
            if storage and "share" in config:
                yield Address(("storageAccounts", storage, "fileShares", config["share"]))
            elif storage and "containerName" in config:
                yield Address(("storageAccounts", storage, "containers", config["containerName"]))
    for ref in pool.get("applicationPackages", []):
        name = ref.get("application", "")
        if not name.startswith("/"):
            yield account.child("applications", name)
