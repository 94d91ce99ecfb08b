"""`deploy apply` and `deploy destroy` without the command line: guards, saved plans, destroy plans.

* `check_guards(plan, stack, allow_data_loss)` — the data-loss guard (deleting or replacing a
  storage account, file share or blob container needs `--allow-data-loss`) and `protect: true`
  (never deleted or replaced, whatever the flags);
* `read_saved_plan(path)` / `load_saved_plan(saved, override)` — a saved plan (`deploy plan --out`)
  with its stack rendered from the variables saved in it, refused when the rendered stack changed
  since or when live state moved on (any change's live ETag differs now: "stale plan");
* `destroy_plan(stack, clients, ...)` — the deletion of everything the stack owns, and nothing
  else; refuses to delete an account that still holds something the stack does not own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer.errors import ApplyError, UsageError
from deployer.plan.model import Action, Change, Plan, PlanTarget
from deployer.plan.run import PlanRun, parse_only, plan_stack
from deployer.stack.model import Address, Kind, Stack, load_stack

#: kinds whose deletion loses stored data
DATA_KINDS = (Kind.STORAGE_ACCOUNT, Kind.FILE_SHARE, Kind.CONTAINER)
DESTRUCTIVE = (Action.DELETE, Action.REPLACE)


class GuardError(ApplyError):
    """The plan deletes or replaces something a guard protects."""


def check_guards(plan: Plan, stack: Stack, *, allow_data_loss: bool) -> None:
    protected = []
    data = []
    for change in plan.actionable:
        if change.action not in DESTRUCTIVE:
            continue
        resource = stack.get(change.address)
        if resource is not None and resource.protect:
            protected.append(f"{change.address} ({change.action.value})")
        if change.kind in DATA_KINDS:
            data.append(f"{change.address} ({change.action.value})")
    if protected:
        raise GuardError("refusing to delete or replace protected resources (protect: true): "
                         + ", ".join(protected) + ". Remove `protect: true` from the stack first.")
    if data and not allow_data_loss:
        raise GuardError("this plan destroys stored data: " + ", ".join(data)
                         + ". Pass --allow-data-loss to proceed.")


@dataclass
class SavedPlan:
    run: PlanRun  # the stack, clients and live state read now (its plan is the fresh one)
    plan: Plan  # the plan as saved


MAX_PLAN_BYTES = 256 * 1024 * 1024  # a saved plan of a 1,000-pool stack is a few MB


def is_saved_plan(path: Path) -> bool:
    """A saved plan is JSON; a stack is YAML, possibly a template starting with `{% import %}`."""
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() in (".yaml", ".yml"):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(200).decode("utf-8", "replace").lstrip()
    except OSError:
        return False
    return head.startswith("{") and not head.startswith(("{%", "{{", "{#"))


@dataclass(frozen=True)
class SavedPlanFile:
    """A saved plan as read from disk, with its stack loaded the way the plan was made."""

    path: Path
    document: dict[str, Any]
    plan: Plan
    stack: Stack


def read_saved_plan(path: Path) -> SavedPlanFile:
    """Read a saved plan and load its stack with the variables the plan was made with; refuse
    it when the stack (as rendered: templates, variables and env values included) changed."""
    from deployer.errors import StackError
    from deployer.stack.loader import read_bounded

    try:
        document = json.loads(read_bounded(path, MAX_PLAN_BYTES, str(path), "saved plan").decode("utf-8"))
    except StackError as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc.diagnostics[0].message}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc}") from None
    if not isinstance(document, dict) or not document.get("stackFile") or not document.get("stackSha256"):
        raise UsageError(f"{path} is not a saved plan (no stackFile / stackSha256): save one with `deploy plan --out`")
    plan = Plan.from_dict(document, str(path))
    variables = document.get("variables") or {}
    if not isinstance(variables, dict):
        raise UsageError(f"{path}: `variables` must be a mapping; save the plan again with `deploy plan --out`")
    stack_file = str(document["stackFile"])
    stack_path = Path(stack_file)
    if not stack_path.is_absolute() and not stack_path.exists():
        stack_path = path.parent / stack_file
    if not stack_path.is_file():
        raise ApplyError(f"stale plan: its stack file {stack_file} is gone")
    rendered_for = document.get("renderedForTarget")
    if rendered_for is not None and not isinstance(rendered_for, str):
        raise UsageError(f"{path}: `renderedForTarget` must be a target kind; save the plan again with "
                         "`deploy plan --out`")
    stack = load_stack(stack_path, variables=variables, target=rendered_for)
    if stack.source_sha256 != document["stackSha256"]:
        raise ApplyError(f"stale plan: {stack_file} (rendered with the plan's variables and today's environment) "
                         "changed since the plan was made; plan again")
    return SavedPlanFile(path, document, plan, stack)


def load_saved_plan(saved: SavedPlanFile, target_override: str | None, clients: Any = None) -> SavedPlan:
    """The saved plan, checked against live state now (a fresh plan is made to compare ETags)."""
    plan, document, stack = saved.plan, saved.document, saved.stack
    if clients is None:
        from deployer.azure.target import clients_for

        clients = clients_for(stack.target, stack.base_dir, target_override or document["target"].get("kind"))
    fresh = plan_stack(stack, clients, target_override)
    now = {c.address: c for c in fresh.plan.changes}
    moved = []
    for change in plan.actionable:
        current = now.get(change.address)
        current_etag = current.etag if current is not None else None
        if current is None and change.action in (Action.DELETE,):
            moved.append(f"{change.address} (gone)")
        elif current_etag != change.etag:
            moved.append(str(change.address))
    if moved:
        raise ApplyError("stale plan: live state moved on since it was made (" + ", ".join(moved)
                         + "); plan again")
    return SavedPlan(fresh, plan)


# --- destroy --------------------------------------------------------------------------------------


def destroy_plan(stack: Stack, clients: Any, target_override: str | None = None,
                 only: Sequence[str] | None = None, *, force: bool = False) -> PlanRun:
    """Delete every resource the stack owns (declared or not), and nothing else.

    With `only`, the named resources and what depends on them (a pool's jobs). Without `force`,
    an account about to be deleted that holds something the stack does not own, or that another
    stack file with the same stack name declared (`deployer.plan.identity`), is refused."""
    from deployer.plan.diff import diff_resource
    from deployer.plan.identity import check_identity
    from deployer.plan.planner import find_live, make_plan
    from deployer.plan.references import check_references
    from deployer.resources import rules_for
    from deployer.resources.context import LiveContext
    from deployer.resources.ownership import Ownership, ownership
    from deployer.resources.read import read_live

    live = read_live(stack, clients)
    context = LiveContext(stack, live, clients)
    changes: dict[Address, Change] = {}
    for resource in stack.resources:
        found = find_live(stack, resource, live)
        if found is None:
            continue
        owner_kind = resource.kind
        holder: dict[str, Any] | None = found
        if ownership(owner_kind, found, stack.name) is Ownership.INHERITED:
            account = stack.get(Address(resource.address.parts[:2]))
            holder = find_live(stack, account, live) if account is not None else None
            owner_kind = account.kind if account is not None else owner_kind
        if holder is None or ownership(owner_kind, holder, stack.name) is not Ownership.OWNED:
            continue
        changes[resource.address] = diff_resource(rules_for(resource.kind), None, found, context,
                                                  address=resource.address, name=resource.name)
    for change in make_plan(stack, live, context, target_override).changes:
        if change.action == Action.DELETE and change.address not in changes:
            changes[change.address] = change
    selected = list(changes.values())
    if only:
        wanted = parse_only(stack, only)
        keep = {c.address for c in selected if any(a.contains(c.address) for a in wanted)}
        for change in selected:  # what depends on a selected resource goes first, with it
            declared = stack.get(change.address)
            if declared is not None and any(d in keep for d in declared.depends_on) and change.kind in (
                    Kind.JOB, Kind.JOB_SCHEDULE, Kind.POOL, Kind.APPLICATION):
                keep.add(change.address)
        selected = [c for c in selected if c.address in keep]
    chosen = Plan(stack.name, PlanTarget.from_target(stack.target), tuple(selected))
    check_references(chosen, stack, live)  # a storage account still in use stays, --force or not
    check_identity(chosen, stack, live, force=force)
    if not force:
        foreign = _foreign_content(stack, live, selected)
        if foreign:
            raise ApplyError("refusing to destroy: " + "; ".join(foreign)
                             + ". Delete those first, or pass --force to delete them with the account.")
    target = PlanTarget.from_target(stack.target)
    if target_override:
        from dataclasses import replace

        target = replace(target, kind=target_override)
    return PlanRun(stack, Plan(stack.name, target, tuple(selected)), stack.source_sha256, clients, live)


def _auto_pools_of_owned_jobs(stack: Stack, jobs: dict[str, dict[str, Any]]) -> set[str]:
    """The (lower-cased) ids of the pools Batch created for the stack's jobs' autoPoolSpecification."""
    from deployer.resources.ownership import Ownership, ownership

    return {str(body["executionInfo"]["poolId"]).lower() for body in jobs.values()
            if (body.get("poolInfo") or {}).get("autoPoolSpecification")
            and (body.get("executionInfo") or {}).get("poolId")
            and ownership(Kind.JOB, body, stack.name) is Ownership.OWNED}


def _foreign_content(stack: Stack, live: Any, changes: Sequence[Change]) -> list[str]:
    """What a Batch account about to be deleted holds without this stack's marker. (Containers,
    shares and applications carry no marker: they belong to the stack that owns their account.)"""
    from deployer.resources.job_schedule import made_by_schedule
    from deployer.resources.ownership import Ownership, ownership
    out = []
    for change in changes:
        if change.kind == Kind.BATCH_ACCOUNT:
            account = live.batch.get(change.name)
            if account is None:
                continue
            held = []
            auto_pools = _auto_pools_of_owned_jobs(stack, account.jobs)
            for label, kind, items in (("pool", Kind.POOL, account.pools), ("job", Kind.JOB, account.jobs),
                                       ("job schedule", Kind.JOB_SCHEDULE, account.schedules)):
                for key, body in items.items():
                    name = str(body.get("name") or body.get("id") or key)
                    if kind == Kind.JOB and made_by_schedule(body, account.schedules):
                        continue  # made by a schedule: goes with it
                    if kind == Kind.POOL and name.lower() in auto_pools:
                        continue  # made by Batch for a job of the stack: goes with it
                    if ownership(kind, body, stack.name) is not Ownership.OWNED:
                        held.append(f"{label} {name}")
            if held:
                out.append(f"Batch account {change.name} holds what stack {stack.name} does not own: "
                           + ", ".join(sorted(held)))
    return out
