"""`deploy plan` end to end: load the stack, read live state through the target's clients, diff.

Kept apart from the CLI so apply (which plans first) and tests call the same path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer.plan.model import Action, Plan
from deployer.plan.planner import make_plan
from deployer.stack.model import Address, Kind, Stack, load_stack


@dataclass
class PlanRun:
    stack: Stack
    plan: Plan
    stack_sha256: str
    clients: Any


def plan_stack_file(path: Path, target_override: str | None = None) -> PlanRun:
    from deployer.azure.target import clients_for
    from deployer.resources.context import LiveContext
    from deployer.resources.read import annotate_running_tasks, read_live

    stack = load_stack(path)
    clients = clients_for(stack.target, stack.base_dir, target_override)
    live = read_live(stack, clients)
    context = LiveContext(stack, live, clients)
    plan = make_plan(stack, live, context, target_override)
    destructive = [c for c in plan.changes
                   if c.kind is Kind.POOL and c.action in (Action.DELETE, Action.REPLACE, Action.DRAIN)]
    if destructive:  # say how many running tasks each destroys: read only for these pools
        accounts = {r.address: r.name for r in stack.of_kind(Kind.BATCH_ACCOUNT)}
        annotate_running_tasks(live, clients, [
            (accounts.get(Address(c.address.parts[:2]), c.address.parts[1]), c.name) for c in destructive])
        plan = make_plan(stack, live, context, target_override)
    return PlanRun(stack, plan, file_sha256(path), clients)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved_plan_text(run: PlanRun, stack_file: Path) -> str:
    """A saved plan: the plan's JSON plus what apply checks before using it (the stack file's
    hash; the live ETags are in each change)."""
    document = run.plan.to_dict()
    document["stackFile"] = str(stack_file)
    document["stackSha256"] = run.stack_sha256
    return json.dumps(document, indent=2) + "\n"
