"""A plan never deletes, unasked, an account or network another stack file declared.

Ownership is by stack name (`deployer.stack`); two files with the same `stack:` name — a copy for
another environment, a file split in two — each see the other's accounts as "owned but no longer
declared", and applying one would delete the other's Batch account with every pool, job and
package in it. Apply records the declaring file on what it writes (`deployer.stackFile`,
`deployer.stack.identity`); here, a delete of a network or account recorded by another file gets a
warning in the plan, and `check_identity` refuses the run (plan, apply, destroy) unless `--force`,
naming the other file and everything the deletes take with them. A resource recorded before the
tag existed (none recorded) keeps the old behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.errors import PlanError
from deployer.plan.model import Action, Change, Plan
from deployer.resources.ownership import declared_by
from deployer.resources.read import LiveState
from deployer.stack.model import Kind, Stack

__all__ = ["check_identity", "declared_elsewhere", "identity_warning"]

_TOP = (Kind.NETWORK, Kind.STORAGE_ACCOUNT, Kind.BATCH_ACCOUNT)
_TITLES = {Kind.NETWORK: "network", Kind.STORAGE_ACCOUNT: "storage account", Kind.BATCH_ACCOUNT: "Batch account"}


def declared_elsewhere(stack: Stack, kind: Kind, live: Mapping[str, Any] | None) -> str | None:
    """The other stack file a live network or account was declared by, or None (this file, or
    not recorded, or this stack's file is unknown)."""
    if kind not in _TOP or live is None or not stack.file_id:
        return None
    recorded = declared_by(kind, live)
    return recorded if recorded and recorded != stack.file_id else None


def identity_warning(stack: Stack, other: str) -> str:
    return (f"declared by stack file {other}, not {stack.file_id} (both are `stack: {stack.name}`): "
            "the other file may still use it; refused without --force")


def check_identity(plan: Plan, stack: Stack, live: LiveState | None, *, force: bool) -> None:
    """Refuse a plan that deletes a network or account another stack file declared."""
    if force or live is None:
        return
    by_file: dict[str, list[str]] = {}
    for change in plan.actionable:
        if change.action is not Action.DELETE or change.kind not in _TOP:
            continue
        found = _live(live, change)
        other = declared_elsewhere(stack, change.kind, found)
        if other is not None and found is not None:
            by_file.setdefault(other, []).append(_describe(change, live))
    if not by_file:
        return
    parts = [f"stack file {other} declared {'; '.join(what)}" for other, what in sorted(by_file.items())]
    others = " and ".join(sorted(by_file))
    raise PlanError(
        f"refusing to delete what another stack file declared: {stack.file_id} and {others} both say "
        f"`stack: {stack.name}`, and this plan deletes the other's resources — " + "; ".join(parts) + ". "
        f"If {stack.file_id} really replaces {others}, pass --force; otherwise give one of the files another "
        "`stack:` name.")


def _live(live: LiveState, change: Change) -> Mapping[str, Any] | None:
    if change.kind is Kind.NETWORK:
        return live.networks.get(change.name.lower())
    if change.kind is Kind.STORAGE_ACCOUNT:
        storage = live.storage.get(change.name)
        return storage.account if storage is not None else None
    batch = live.batch.get(change.name)
    return batch.account if batch is not None else None


def _describe(change: Change, live: LiveState) -> str:
    """`Batch account ba1 (batchAccounts.ba1) with pool p1, job j1`: the account and what goes with it."""
    held: list[str] = []
    if change.kind is Kind.BATCH_ACCOUNT:
        batch = live.batch.get(change.name)
        if batch is not None:
            for label, items in (("application", batch.applications), ("pool", batch.pools),
                                 ("job", batch.jobs), ("job schedule", batch.schedules)):
                held += [f"{label} {body.get('name') or body.get('id') or key}" for key, body in items.items()]
    elif change.kind is Kind.STORAGE_ACCOUNT:
        storage = live.storage.get(change.name)
        if storage is not None:
            held += [f"container {name}" for name in storage.containers]
            held += [f"file share {name}" for name in storage.shares]
    else:
        network = live.networks.get(change.name.lower()) or {}
        subnets = (network.get("properties") or {}).get("subnets") or []
        held += [f"subnet {s.get('name')}" for s in subnets if isinstance(s, Mapping)]
    what = f"{_TITLES[change.kind]} {change.name} ({change.address})"
    return what + (" with " + ", ".join(held) if held else "")
