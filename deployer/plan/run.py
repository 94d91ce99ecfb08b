"""`deploy plan` end to end: load the stack, read live state through the target's clients, diff.

Kept apart from the CLI so apply (which plans first) and tests call the same path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    live: Any = None  # the LiveState the plan was made from
    secrets_compared: bool = True  # False: planned with --no-secrets (deployer.plan.nosecrets)


def plan_stack_file(path: Path, target_override: str | None = None,
                    only: Sequence[str] | None = None) -> PlanRun:
    from deployer.azure.target import clients_for

    stack = load_stack(path)
    clients = clients_for(stack.target, stack.base_dir, target_override)
    return plan_stack(stack, clients, target_override, only)


def plan_stack(stack: Stack, clients: Any, target_override: str | None = None,
               only: Sequence[str] | None = None, *, secrets: bool = True) -> PlanRun:
    """Plan a loaded stack through `clients`; `only` (addresses) narrows the plan to those
    resources and what they need; `secrets=False` resolves none (`deploy plan --no-secrets`)."""
    from deployer.plan.references import check_references
    from deployer.resources.context import LiveContext
    from deployer.resources.read import annotate_running_tasks, read_live

    live = read_live(stack, clients)
    if secrets:
        context = LiveContext(stack, live, clients)
        require_secrets(stack, context)
    else:
        from deployer.plan.nosecrets import NoSecretsContext

        context = NoSecretsContext(stack, live, clients)
    plan = make_plan(stack, live, context, target_override)
    destructive = [c for c in plan.changes
                   if c.kind is Kind.POOL and c.action in (Action.DELETE, Action.REPLACE, Action.DRAIN)]
    if destructive:  # say how many running tasks each destroys: read only for these pools
        accounts = {r.address: r.name for r in stack.of_kind(Kind.BATCH_ACCOUNT)}
        annotate_running_tasks(live, clients, [
            (accounts.get(Address(c.address.parts[:2]), c.address.parts[1]), c.name) for c in destructive])
        plan = make_plan(stack, live, context, target_override)
    if only:
        plan = narrow(plan, stack, only)
    check_references(plan, stack, live)
    warnings = stack.warnings  # validate's: seen where the plan is reviewed, not only in validate
    if (target_override or stack.target.kind) == "azure":
        from deployer.plan.images import supported_image_warnings
        from deployer.stack.checks.lifecycle import today

        warnings += supported_image_warnings(stack, live, clients, today())
    plan = replace(plan, validation=warnings)
    return PlanRun(stack, plan, stack.source_sha256, clients, live, secrets_compared=secrets)


def require_secrets(stack: Stack, context: Any) -> None:
    """Resolve every secret reference of the stack once, before anything is planned or applied:
    a missing variable, file or vault secret is a StackError at the place that asked for it."""
    from deployer.errors import AzureError, SecretUnavailable, StackError

    problems = []
    seen: dict[str, str | None] = {}
    for ref in stack.secrets:
        if ref.reference not in seen:
            try:
                context.require_secret(ref.reference)
                seen[ref.reference] = None
            except (SecretUnavailable, AzureError) as exc:
                seen[ref.reference] = str(exc)
        problem = seen[ref.reference]
        if problem is not None:
            problems.append(ref.diagnostic(problem))
    if problems:
        raise StackError(problems)


def parse_only(stack: Stack, only: Sequence[str]) -> list[Address]:
    """`--only` values as addresses; one that names nothing in the stack is a usage error."""
    from deployer.errors import UsageError

    out = []
    for text in only:
        address = Address.parse(text.strip())
        if not any(address.contains(r.address) for r in stack.resources):
            known = ", ".join(str(r.address) for r in stack.resources)
            raise UsageError(f"--only {text}: no such resource in stack {stack.name} (it has: {known})")
        out.append(address)
    return out


def needed(stack: Stack, selected: Sequence[Address]) -> set[Address]:
    """The resources `selected` names (an address names itself and everything below it) and,
    transitively, everything they depend on."""
    wanted = {r.address for r in stack.resources if any(a.contains(r.address) for a in selected)}
    frontier = list(wanted)
    while frontier:
        resource = stack.get(frontier.pop())
        for dependency in resource.depends_on if resource is not None else ():
            if dependency not in wanted:
                wanted.add(dependency)
                frontier.append(dependency)
    return wanted


def narrow(plan: Plan, stack: Stack, only: Sequence[str]) -> Plan:
    selected = parse_only(stack, only)
    keep = needed(stack, selected)
    changes = tuple(c for c in plan.changes
                    if c.address in keep or any(a.contains(c.address) for a in selected))
    return replace(plan, changes=changes)


def saved_plan_text(run: PlanRun, stack_file: Path) -> str:
    """A saved plan: the plan's JSON plus what apply needs to use it — the --var-file/--var
    values the stack was rendered with (variables, unlike secret references, are not secret),
    the `--target` it was rendered with, the hash of the rendered stack, and the live ETags (in
    each change)."""
    document = run.plan.to_dict()
    document["stackFile"] = str(stack_file)
    document["stackSha256"] = run.stack_sha256
    document["variables"] = dict(run.stack.variables)
    if run.stack.rendered_for is not None:
        document["renderedForTarget"] = run.stack.rendered_for
    document["secretsCompared"] = run.secrets_compared
    return json.dumps(document, indent=2) + "\n"
