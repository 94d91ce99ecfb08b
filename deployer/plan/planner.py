"""Desired model + live state → Plan: pair each stack resource with what Azure has.

Pairing is by Azure name inside the stack's resource group (Batch ids case-insensitively). A live
resource the stack declares but does not own (no `deployer.stack` marker, or another stack's) is
reported and left alone; a live resource the stack owns but no longer declares is deleted.
Containers, shares and applications belong to the stack that owns their account.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from deployer.plan.diff import DiffContext, diff_resource
from deployer.plan.identity import declared_elsewhere, identity_warning
from deployer.plan.model import Action, Change, Plan, PlanTarget
from deployer.resources import rules_for
from deployer.resources.ownership import Ownership, ownership
from deployer.resources.read import LiveState
from deployer.stack.model import Address, DesiredResource, Kind, Stack


def make_plan(stack: Stack, live: LiveState, context: DiffContext, target_kind: str | None = None) -> Plan:
    """`target_kind` is the `--target` override, so the plan names where it really applies."""
    changes: list[Change] = []
    for resource in stack.resources:
        found = find_live(stack, resource, live)
        if found is not None and not _manageable(resource, found, stack):
            changes.append(_not_managed(resource, found, stack))
            continue
        outside = _in_unmanaged_account(stack, resource, live)
        if outside is not None:  # never create or change anything inside an account the stack does not own
            changes.append(outside)
            continue
        change = diff_resource(rules_for(resource.kind), resource, found, context)
        if resource.kind is Kind.JOB:
            change = _with_tasks(stack, resource, found, change, context)
        elif resource.kind is Kind.JOB_SCHEDULE:
            from deployer.plan.tasks import plan_schedule_tasks

            change = plan_schedule_tasks(change, resource.spec, found, context, stack.base_dir)
        changes.append(change)
    for address, kind, name, found in _owned_but_undeclared(stack, live):
        change = _moved(stack, diff_resource(rules_for(kind), None, found, context, address=address, name=name))
        other = declared_elsewhere(stack, kind, found)
        if other is not None:
            change = replace(change, warnings=(identity_warning(stack, other), *change.warnings))
        changes.append(change)
    target = PlanTarget.from_target(stack.target)
    if target_kind:
        target = replace(target, kind=target_kind)
    notes: tuple[str, ...] = ()
    if not live.resource_group_exists:
        notes = (f"resource group {stack.target.resource_group} does not exist: apply creates it in "
                 f"{stack.target.location or 'westeurope'}, tagged deployer.stack={stack.name}",)
    return Plan(stack=stack.name, target=target, changes=tuple(changes), notes=notes)


def _with_tasks(stack: Stack, resource: DesiredResource, found: dict[str, Any] | None, change: Change,
                context: DiffContext) -> Change:
    """A job's change with its tasks planned one by one (`deployer.plan.tasks`)."""
    from functools import partial

    from deployer.plan.tasks import plan_job_tasks

    list_tasks = getattr(context, "list_job_tasks", None)
    lister = partial(list_tasks, _account_name(stack, resource)) if callable(list_tasks) else None
    return plan_job_tasks(change, resource.spec, found, context, stack.base_dir, lister)


def find_live(stack: Stack, resource: DesiredResource, live: LiveState) -> dict[str, Any] | None:
    kind = resource.kind
    if kind is Kind.NETWORK:
        return live.networks.get(resource.name.lower())
    if kind is Kind.STORAGE_ACCOUNT:
        account = live.storage.get(resource.name)
        return account.account if account else None
    if kind is Kind.IDENTITY:
        return live.identities.get(resource.name.lower())
    if kind is Kind.SECURITY_GROUP:
        return live.security_groups.get(resource.name.lower())
    if kind is Kind.UPLOAD:  # what the read found in the container (deployer.resources.upload)
        storage = live.storage.get(_account_name(stack, resource))
        container = storage.containers.get(resource.name) if storage else None
        return None if container is None else (container.get("_deployer") or {}).get("upload", {"blobs": {}})
    if kind in (Kind.CONTAINER, Kind.FILE_SHARE):
        storage = live.storage.get(_account_name(stack, resource))
        if storage is None:
            return None
        return (storage.containers if kind is Kind.CONTAINER else storage.shares).get(resource.name)
    if kind is Kind.BATCH_ACCOUNT:
        batch = live.batch.get(resource.name)
        return batch.account if batch else None
    batch = live.batch.get(_account_name(stack, resource))
    if batch is None:
        return None
    if kind is Kind.APPLICATION:
        return batch.applications.get(resource.name)
    if kind is Kind.POOL:
        return next((p for name, p in batch.pools.items() if name.lower() == resource.name.lower()), None)
    if kind is Kind.JOB:
        return batch.jobs.get(resource.name.lower())
    if kind is Kind.JOB_SCHEDULE:
        return batch.schedules.get(resource.name.lower())
    return None


def _account_name(stack: Stack, resource: DesiredResource) -> str:
    """The Azure name of the account a child resource (share, pool, job...) lives in."""
    account = stack.get(Address(resource.address.parts[:2]))
    return account.name if account is not None else ""


def parent_name(stack: Stack, address: Address) -> str:
    """The Azure name of the account a child address lives in: the declared account's name, or
    (an account the stack no longer declares) the name its address was made from."""
    account = stack.get(Address(address.parts[:2]))
    return account.name if account is not None else address.parts[1]


def _manageable(resource: DesiredResource, found: dict[str, Any], stack: Stack) -> bool:
    # A child of an account (INHERITED) follows the account, which is checked on its own.
    return ownership(resource.kind, found, stack.name) in (Ownership.OWNED, Ownership.INHERITED)


def _not_managed(resource: DesiredResource, found: dict[str, Any], stack: Stack) -> Change:
    state = ownership(resource.kind, found, stack.name)
    if state is Ownership.OTHER_STACK:
        why = f"belongs to stack {ownership_owner(resource, found)}"
        hint = "(only that stack changes it)"
    else:
        why = "was not created by this stack"
        hint = f"(adopting it is `deploy import {stack.file or 'STACK'} {resource.address}`)"
    return Change(
        resource.address, resource.kind, Action.NO_OP,
        f"{resource.kind.value} {resource.name} exists but {why}: not managed, left alone {hint}",
        warnings=(f"{resource.address} exists in Azure and is not managed by stack {stack.name}",),
        name=resource.name, managed=False,
    )


def ownership_owner(resource: DesiredResource, found: dict[str, Any]) -> str:
    from deployer.resources.ownership import owner

    return owner(resource.kind, found) or "?"


def _in_unmanaged_account(stack: Stack, resource: DesiredResource, live: LiveState) -> Change | None:
    """A child (pool, job, container...) of an account that exists but that the stack does not
    own: not managed either, whatever Azure has of it — creating a pool in someone else's Batch
    account is touching it."""
    if len(resource.address.parts) <= 2:
        return None
    account = stack.get(Address(resource.address.parts[:2]))
    if account is None or account.kind not in (Kind.BATCH_ACCOUNT, Kind.STORAGE_ACCOUNT):
        return None
    found = find_live(stack, account, live)
    if found is None or _manageable(account, found, stack):
        return None
    title = "Batch account" if account.kind is Kind.BATCH_ACCOUNT else "storage account"
    return Change(
        resource.address, resource.kind, Action.NO_OP,
        f"{resource.kind.value} {resource.name} is in {title} {account.name}, which this stack does not manage: "
        f"not managed, left alone (adopt the account first: `deploy import {stack.file or 'STACK'} "
        f"{account.address} --all`)",
        warnings=(f"{resource.address} is inside {account.address}, which is not managed by stack {stack.name}",),
        name=resource.name, managed=False,
    )


def _owned_but_undeclared(stack: Stack, live: LiveState) -> Iterator[tuple[Address, Kind, str, dict[str, Any]]]:
    """Live resources the stack owns and no longer declares where they are.

    Top-level resources are matched by kind and Azure name; every child (container, share,
    application, pool, job, schedule) within its own parent account only, so a child the stack
    now declares under another account (a move, or swapped account names) is deleted here and
    created there."""
    declared = {(r.kind, r.name.lower()) for r in stack.resources if len(r.address.parts) == 2}
    children = {(_account_name(stack, r).lower(), r.kind, r.name.lower())
                for r in stack.resources if len(r.address.parts) > 2}

    def gone(kind: Kind, name: str) -> bool:
        return (kind, name.lower()) not in declared

    def gone_from(parent: str, kind: Kind, name: str) -> bool:
        return (parent.lower(), kind, name.lower()) not in children

    for name, network in live.networks.items():
        if gone(Kind.NETWORK, name) and ownership(Kind.NETWORK, network, stack.name) is Ownership.OWNED:
            yield Address(("networks", name)), Kind.NETWORK, network.get("name", name), network
    identities = {r.name.lower() for r in stack.of_kind(Kind.IDENTITY)}
    for name, identity in live.identities.items():
        if name not in identities and ownership(Kind.IDENTITY, identity, stack.name) is Ownership.OWNED:
            yield Address(("identities", name)), Kind.IDENTITY, identity.get("name", name), identity
    groups = {r.name.lower() for r in stack.of_kind(Kind.SECURITY_GROUP)}
    for name, group in live.security_groups.items():
        if name not in groups and ownership(Kind.SECURITY_GROUP, group, stack.name) is Ownership.OWNED:
            yield Address(("securityGroups", name)), Kind.SECURITY_GROUP, group.get("name", name), group
    for name, storage in live.storage.items():
        if ownership(Kind.STORAGE_ACCOUNT, storage.account, stack.name) is not Ownership.OWNED:
            continue
        account = _logical(stack, "storageAccounts", name)
        if gone(Kind.STORAGE_ACCOUNT, name):
            yield account, Kind.STORAGE_ACCOUNT, name, storage.account
            continue  # deleting the account deletes what it holds
        for container, body in storage.containers.items():
            if gone_from(name, Kind.CONTAINER, container):
                yield account.child("containers", container), Kind.CONTAINER, container, body
        for share, body in storage.shares.items():
            if gone_from(name, Kind.FILE_SHARE, share):
                yield account.child("fileShares", share), Kind.FILE_SHARE, share, body
    for name, batch in live.batch.items():
        if ownership(Kind.BATCH_ACCOUNT, batch.account, stack.name) is not Ownership.OWNED:
            continue
        account = _logical(stack, "batchAccounts", name)
        if gone(Kind.BATCH_ACCOUNT, name):
            yield account, Kind.BATCH_ACCOUNT, name, batch.account
            continue
        for app, body in batch.applications.items():
            if gone_from(name, Kind.APPLICATION, app):
                yield account.child("applications", app), Kind.APPLICATION, app, body
        for section, kind, items in (("pools", Kind.POOL, batch.pools), ("jobs", Kind.JOB, batch.jobs),
                                     ("jobSchedules", Kind.JOB_SCHEDULE, batch.schedules)):
            for key, body in items.items():
                real = str(body.get("name") or body.get("id") or key)
                if gone_from(name, kind, real) and ownership(kind, body, stack.name) is Ownership.OWNED:
                    yield account.child(section, real), kind, real, body


def _moved(stack: Stack, change: Change) -> Change:
    """A deleted child the stack now declares under another parent says so, loud: the reason names
    where it went, and a warning says that it is deleted here, not moved (Azure has no move)."""
    if len(change.address.parts) <= 2:
        return change
    parent = change.address.parts[:2]
    elsewhere = [r for r in stack.resources if r.kind is change.kind and r.name.lower() == change.name.lower()
                 and r.address.parts[0] == parent[0] and r.address.parts[:2] != parent]
    if not elsewhere:
        return change
    holder = _ACCOUNT_TITLES.get(parent[0], "account")
    account = parent_name(stack, change.address)
    title = rules_for(change.kind).title
    where = ", ".join(str(r.address) for r in elsewhere)
    return replace(
        change,
        reason=f"{title} {change.name} is no longer in {holder} {account}: the stack now declares it in {where}",
        warnings=(f"{title} {change.name} is deleted from {holder} {account} and created in {where}: "
                  "Azure cannot move it, nothing it holds is carried over", *change.warnings),
    )


_ACCOUNT_TITLES = {"storageAccounts": "storage account", "batchAccounts": "Batch account"}


def _logical(stack: Stack, section: str, azure_name: str) -> Address:
    """The address of an account by its Azure name: its logical name if the stack still has it,
    else the Azure name — marked with `~undeclared` (no logical name has a `~`) when a logical name
    of the stack is that very name, so the delete and the create never share an address."""
    for resource in stack.resources:
        if resource.address.parts[0] == section and len(resource.address.parts) == 2 \
                and resource.name == azure_name:
            return resource.address
    address = Address((section, azure_name))
    return Address((section, f"{azure_name}~undeclared")) if stack.get(address) is not None else address
