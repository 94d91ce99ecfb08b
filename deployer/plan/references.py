"""Cross-resource checks: a plan never deletes a storage account the stack still uses elsewhere.

Diffing one resource at a time cannot see that deleting storage account `st1` breaks Batch account
`ba1`, whose auto-storage is `st1` (Azure cannot unlink auto-storage: `autoStorage` dropped from
the stack leaves the link), or pool `p1`, which mounts a container of `st1` by its raw account
name. `check_references(plan, stack, live)` looks at every storage account the plan deletes and at
every user of it — live (what Azure has now) and desired (what the plan writes) — and refuses the
plan unless the same plan deletes that user or leaves it without the reference.

A user is found by what Azure records: `autoStorage.storageAccountId` (an ARM id), a mount's
`accountName`, and any URL under one of the account's endpoints (`azureFileUrl`,
`storageContainerUrl`, `httpUrl` of resource files on start, job manager, preparation and release
tasks). Tasks themselves are never read (DESIGN.md), so a task's resource file is not a user here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from deployer.errors import PlanError
from deployer.plan.model import Action, Change, Plan
from deployer.plan.planner import parent_name
from deployer.resources import rules_for
from deployer.resources.job_schedule import made_by_schedule
from deployer.resources.normalize import format_path
from deployer.resources.read import LiveState
from deployer.stack.model import Address, Kind, Stack

__all__ = ["check_references"]

#: actions that change a resource in place: a field the stack leaves out but the kind keeps
#: (`unset: keep`, such as auto-storage) still holds its live value afterwards
_IN_PLACE = (Action.UPDATE, Action.DRAIN)
_TITLES = {Kind.BATCH_ACCOUNT: "Batch account", Kind.POOL: "pool", Kind.JOB: "job",
           Kind.JOB_SCHEDULE: "job schedule"}


def check_references(plan: Plan, stack: Stack, live: LiveState | None) -> None:
    """Raise PlanError naming each storage account the plan deletes while something still uses it."""
    if live is None:
        return
    doomed = {c.name.lower(): c for c in plan.actionable if c.kind is Kind.STORAGE_ACCOUNT
              and c.action is Action.DELETE}
    if not doomed:
        return
    changes = _index(plan, stack)
    users = list(_users(live))
    read = {(kind, parent.lower(), user.lower()) for kind, parent, user, _ in users}
    # what the plan creates and Azure does not have yet can name the account too
    created = [(c.kind, _parent(stack, c), c.name, c.after) for c in plan.changes
               if c.kind in _TITLES and c.action is not Action.DELETE
               and (c.kind, _parent(stack, c), c.name.lower()) not in read]
    problems: list[str] = []
    for name, deleted in doomed.items():
        storage = live.storage.get(deleted.name)
        endpoints = _endpoints(storage.account if storage is not None else {})
        for kind, parent, user, body in [*users, *created]:
            where = _reference(body, name, endpoints)
            if where is None:
                continue
            change = changes.get((kind, parent.lower(), user.lower()))
            if change is not None and _released(change, name, endpoints):
                continue
            address = change.address if change is not None else _declared(stack, kind, parent, user)
            problems.append(_problem(deleted, kind, parent, user, address, where))
    if problems:
        raise PlanError("refusing to delete a storage account still in use: " + " ".join(dict.fromkeys(problems)))


def _index(plan: Plan, stack: Stack) -> dict[tuple[Kind, str, str], Change]:
    """Each change by (kind, parent account's Azure name, Azure name), as live resources are read."""
    return {(c.kind, _parent(stack, c), c.name.lower()): c for c in plan.changes}


def _parent(stack: Stack, change: Change) -> str:
    return parent_name(stack, change.address).lower() if len(change.address.parts) > 2 else ""


def _users(live: LiveState) -> Iterator[tuple[Kind, str, str, Any]]:
    """Everything read that can name a storage account: (kind, parent account, name, live JSON)."""
    for account_name, batch in live.batch.items():
        yield Kind.BATCH_ACCOUNT, "", account_name, batch.account
        for kind, items in ((Kind.POOL, batch.pools), (Kind.JOB, batch.jobs), (Kind.JOB_SCHEDULE, batch.schedules)):
            for key, body in items.items():
                if kind is Kind.JOB and made_by_schedule(body, batch.schedules):
                    continue  # made by a schedule: the schedule is the user
                yield kind, account_name, str(body.get("name") or body.get("id") or key), body


def _endpoints(account: Mapping[str, Any]) -> tuple[str, ...]:
    endpoints = (account.get("properties") or {}).get("primaryEndpoints") or {}
    return tuple(str(url).lower() for url in endpoints.values() if isinstance(url, str) and url)


def _reference(value: Any, name: str, endpoints: tuple[str, ...]) -> str | None:
    """The path of the first place in `value` that names storage account `name`, or None. Iterative:
    live documents can be deep."""
    suffix = f"/providers/microsoft.storage/storageaccounts/{name}"
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, Mapping):
            for key, child in item.items():
                if key == "accountName" and isinstance(child, str) and child.lower() == name:
                    return format_path((*path, key))
                stack.append(((*path, str(key)), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, i), child) for i, child in enumerate(item))
        elif isinstance(item, str):
            text = item.lower()
            if text.rstrip("/").endswith(suffix) or f"{suffix}/" in text \
                    or any(text.startswith(e) for e in endpoints):
                return format_path(path)
    return None


def _released(change: Change, name: str, endpoints: tuple[str, ...]) -> bool:
    """Whether, once the plan is applied, the user no longer names the storage account."""
    if change.action is Action.DELETE:
        return True
    if change.action is Action.NO_OP:
        return False  # stays as Azure has it (also a resource the stack declares but does not manage)
    after: Mapping[str, Any] = change.after if isinstance(change.after, Mapping) else {}
    if change.action in _IN_PLACE and isinstance(change.before, Mapping):
        rules = rules_for(change.kind)
        kept = {}
        for key, value in change.before.items():
            row = rules.field(key)
            if key not in after and row is not None and row.unset == "keep":
                kept[key] = value
        after = {**after, **kept}
    return _reference(after, name, endpoints) is None


def _declared(stack: Stack, kind: Kind, parent: str, user: str) -> Address | None:
    for resource in stack.resources:
        if resource.kind is kind and resource.name.lower() == user.lower() and (
                len(resource.address.parts) == 2 or parent_name(stack, resource.address).lower() == parent.lower()):
            return resource.address
    return None


def _problem(deleted: Change, kind: Kind, parent: str, user: str, address: Address | None, where: str) -> str:
    account = f"storage account {deleted.name} ({deleted.address})"
    title = _TITLES.get(kind, kind.value)
    named = f"{title} {user}" + (f" ({address})" if address is not None else "") \
        + (f" in Batch account {parent}" if parent and address is None else "")
    if kind is Kind.BATCH_ACCOUNT and "autoStorage" in where:
        return (f"{account} is the auto-storage account of {named}: deleting it would leave the Batch account's "
                "auto-storage pointing at nothing (Azure cannot unlink auto-storage). In the same change, point "
                "its `autoStorage:` at another storage account of the stack or remove the Batch account too — or "
                "keep the storage account.")
    return (f"{account} is still used by {named} (at {where}). In the same change, remove that reference or "
            f"the {title} — or keep the storage account.")
