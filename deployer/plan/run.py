"""`deploy plan` end to end: load the stack, read live state through the target's clients, diff.

Kept apart from the CLI so apply (which plans first) and tests call the same path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer.plan.model import Plan
from deployer.plan.planner import make_plan
from deployer.stack.model import Stack, load_stack


@dataclass
class PlanRun:
    stack: Stack
    plan: Plan
    stack_sha256: str
    clients: Any


def plan_stack_file(path: Path, target_override: str | None = None) -> PlanRun:
    from deployer.azure.target import clients_for
    from deployer.resources.context import LiveContext
    from deployer.resources.read import read_live

    stack = load_stack(path)
    clients = clients_for(stack.target, stack.base_dir, target_override)
    live = read_live(stack, clients)
    plan = make_plan(stack, live, LiveContext(stack, live, clients))
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
