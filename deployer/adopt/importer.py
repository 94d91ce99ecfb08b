"""`deploy import`: make a stack own live resources it declares, after showing how they differ.

    found = find_imports(stack, clients, "batchAccounts.main.pools.p1", azure_id)   # or all_=True
    print(found.report())            # per resource: what the stack and Azure disagree on
    adopt(found)                     # write the ownership markers (tags / metadata), nothing else

Only kinds that carry markers are imported (networks, storage and Batch accounts: ARM tags;
pools, jobs, job schedules: metadata); containers, file shares and applications follow their
account. Write-only values Azure never returns (secrets, a job's tasks) cannot be compared: a
job's tasks are compared by listing them; other write-only values are recorded as the stack's
and the report says so, so that the next plan does not replace the resource for a value it
cannot see.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from deployer.errors import UsageError
from deployer.plan.model import Action, Change, Plan, PlanTarget
from deployer.resources.ownership import Ownership, marker_place, ownership, with_markers
from deployer.stack.model import Address, DesiredResource, Kind, Stack

MARKED = (Kind.NETWORK, Kind.STORAGE_ACCOUNT, Kind.BATCH_ACCOUNT, Kind.POOL, Kind.JOB, Kind.JOB_SCHEDULE)

#: the ARM resource type path of each kind, below `/providers/` (jobs and schedules have no ARM
#: resource: the same shape under the Batch account names them, or their data-plane URL)
_TYPES = {
    Kind.NETWORK: ("Microsoft.Network", "virtualNetworks"),
    Kind.STORAGE_ACCOUNT: ("Microsoft.Storage", "storageAccounts"),
    Kind.BATCH_ACCOUNT: ("Microsoft.Batch", "batchAccounts"),
    Kind.POOL: ("Microsoft.Batch", "batchAccounts", "pools"),
    Kind.JOB: ("Microsoft.Batch", "batchAccounts", "jobs"),
    Kind.JOB_SCHEDULE: ("Microsoft.Batch", "batchAccounts", "jobSchedules"),
}


@dataclass
class Adoption:
    """One resource to adopt: the diff as if the stack owned it, and what could not be compared."""

    resource: DesiredResource
    live: dict[str, Any]
    change: Change
    recorded: dict[str, str] = field(default_factory=dict)  # write-only fingerprints to record
    unverified: list[str] = field(default_factory=list)  # write-only paths taken on trust
    notes: list[str] = field(default_factory=list)


@dataclass
class Imports:
    stack: Stack
    clients: Any
    context: Any
    adoptions: list[Adoption]
    skipped: list[str] = field(default_factory=list)  # why resources were not taken (already owned...)

    def report(self) -> str:
        """What will be adopted and, for each, where the stack and Azure disagree."""
        from deployer.plan.render import render_text

        lines: list[str] = []
        for note in self.skipped:
            lines.append(f"# {note}")
        for item in self.adoptions:
            r = item.resource
            if item.change.action is Action.NO_OP:
                lines.append(f"# {r.address} ({r.kind.value} {r.name}): the stack and Azure agree")
            else:
                lines.append(f"# {r.address} ({r.kind.value} {r.name}): the stack and Azure disagree; "
                             f"after the import, `deploy apply` would make this change:")
                plan = Plan(self.stack.name, PlanTarget.from_target(self.stack.target), (item.change,))
                body = render_text(plan).splitlines()[2:-1]  # no heading, no summary
                lines += [line for line in body if line.strip()]
            for path in item.unverified:
                lines.append(f"#   {path}: write-only, Azure does not return it: recorded as the stack's value "
                             "(change it in the stack to have apply send it again)")
            lines += [f"#   {note}" for note in item.notes]
        return "\n".join(lines) + ("\n" if lines else "")


def find_imports(stack: Stack, clients: Any, address: str | None, azure_id: str | None = None, *,
                 all_: bool = False) -> Imports:
    """The resources to adopt: `address` (with its Azure id checked), or with `all_` every declared
    resource that exists unowned — inside the account or resource group `azure_id` names, if given."""
    from deployer.apply.context import ApplyContext
    from deployer.plan.planner import find_live
    from deployer.plan.run import require_secrets
    from deployer.resources.read import read_live

    if not all_ and not address:
        raise UsageError("name the resource to import (an address such as batchAccounts.main.pools.p1), or --all")
    live = read_live(stack, clients)
    context = ApplyContext(stack, live, clients)
    require_secrets(stack, context)
    found = Imports(stack, clients, context, [])
    if all_:
        scope = _scope(stack, clients, address, azure_id)
        for resource in stack.resources:
            if resource.kind not in MARKED or (scope is not None and not scope.contains(resource.address)):
                continue
            body = find_live(stack, resource, live)
            if body is None:
                continue
            state = ownership(resource.kind, body, stack.name)
            if state is Ownership.OTHER_STACK:
                found.skipped.append(f"{resource.address}: belongs to another stack, not imported")
            elif state is Ownership.UNMARKED:
                found.adoptions.append(_adoption(stack, clients, context, resource, body))
        if not found.adoptions and not found.skipped:
            found.skipped.append("nothing to import: every declared resource that exists is already managed")
        return found
    resource = _declared(stack, str(address))
    body = find_live(stack, resource, live)
    if body is None:
        raise UsageError(f"{resource.address}: {resource.kind.value} {resource.name} does not exist in resource group "
                         f"{stack.target.resource_group}: nothing to import (`deploy apply` creates it)")
    if azure_id:
        check_id(stack, clients, resource, azure_id)
    state = ownership(resource.kind, body, stack.name)
    if state is Ownership.OWNED:
        found.skipped.append(f"{resource.address}: already managed by stack {stack.name}")
    elif state is Ownership.OTHER_STACK:
        from deployer.resources.ownership import owner

        raise UsageError(f"{resource.address}: {resource.kind.value} {resource.name} belongs to stack "
                         f"{owner(resource.kind, body)}; import refuses to take it over (destroy it there, or "
                         "remove it from that stack first)")
    else:
        found.adoptions.append(_adoption(stack, clients, context, resource, body))
    return found


def _declared(stack: Stack, text: str) -> DesiredResource:
    resource = stack.get(Address.parse(text.strip()))
    if resource is None:
        known = ", ".join(str(r.address) for r in stack.resources if r.kind in MARKED)
        raise UsageError(f"{text}: no such resource in stack {stack.name} (declare it first; it has: {known})")
    if resource.kind not in MARKED:
        account = Address(resource.address.parts[:2])
        raise UsageError(f"{text}: a {resource.kind.value} belongs to its account: import {account} instead")
    return resource


def _scope(stack: Stack, clients: Any, address: str | None, azure_id: str | None) -> Address | None:
    """`--all` narrowed to an account (by address or Azure id) or the whole resource group."""
    if address:
        return _declared(stack, address).address
    if not azure_id:
        return None
    parts = _id_parts(azure_id)
    _check_group(stack, clients, parts, azure_id)
    if "providers" not in [p.lower() for p in parts]:
        return None  # the resource group itself
    for resource in stack.resources:
        if resource.kind in (Kind.BATCH_ACCOUNT, Kind.STORAGE_ACCOUNT, Kind.NETWORK) \
                and _matches(expected_id(stack, clients, resource), azure_id):
            return resource.address
    raise UsageError(f"{azure_id}: no account or network of stack {stack.name} has this id")


def expected_id(stack: Stack, clients: Any, resource: DesiredResource) -> str:
    """The Azure resource id of a declared resource (jobs and schedules: under their account)."""
    base = f"/subscriptions/{clients.subscription_id}/resourceGroups/{stack.target.resource_group}/providers/"
    types = _TYPES[resource.kind]
    if len(types) == 2:
        return base + f"{types[0]}/{types[1]}/{resource.name}"
    account = stack.get(Address(resource.address.parts[:2]))
    return base + f"{types[0]}/{types[1]}/{account.name if account else resource.address.parts[1]}/" \
                  f"{types[2]}/{resource.name}"


def check_id(stack: Stack, clients: Any, resource: DesiredResource, azure_id: str) -> None:
    """AZURE_ID must name the resource the stack pairs with `resource` (by name, in its group)."""
    expected = expected_id(stack, clients, resource)
    if _matches(expected, azure_id):
        return
    if resource.kind in (Kind.JOB, Kind.JOB_SCHEDULE) and "://" in azure_id:  # a data-plane URL
        collection = "jobs" if resource.kind is Kind.JOB else "jobschedules"
        path = azure_id.split("://", 1)[1].split("?", 1)[0].rstrip("/").lower()
        if path.endswith(f"/{collection}/{resource.name.lower()}"):
            return
    raise UsageError(f"{azure_id} is not {resource.address}: the stack pairs it with {expected} "
                     "(set the resource's name in the stack to the one you want to import)")


def _matches(expected: str, given: str) -> bool:
    return expected.strip("/").lower() == given.strip().strip("/").lower()


def _id_parts(azure_id: str) -> list[str]:
    parts = [p for p in azure_id.strip().split("/") if p]
    if len(parts) < 4 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        raise UsageError(f"{azure_id}: not an Azure resource id (/subscriptions/…/resourceGroups/…)")
    return parts


def _check_group(stack: Stack, clients: Any, parts: list[str], azure_id: str) -> None:
    if parts[1].lower() != str(clients.subscription_id).lower() \
            or parts[3].lower() != str(stack.target.resource_group).lower():
        raise UsageError(f"{azure_id} is outside the stack's target (subscription {clients.subscription_id}, "
                         f"resource group {stack.target.resource_group})")


def _adoption(stack: Stack, clients: Any, context: Any, resource: DesiredResource,
              body: dict[str, Any]) -> Adoption:
    from deployer.apply.rest import to_rest
    from deployer.plan.diff import diff_resource
    from deployer.resources import rules_for

    rules = rules_for(resource.kind)
    recorded: dict[str, str] = {}
    to_rest(rules.canonical_desired(resource.spec, context, resource.address), rules, recorded,
            where=str(resource.address))
    item = Adoption(resource, body, diff_resource(rules, resource, body, context))
    item.recorded = recorded
    item.unverified = sorted(recorded)
    if resource.kind is Kind.JOB:
        _compare_tasks(stack, context, item)
    # The diff before recording: what will differ once the markers (and fingerprints) are there.
    marked = with_markers(resource.kind, body, stack.name, item.recorded)
    item.change = replace(diff_resource(rules, resource, marked, context), etag=None)
    if item.change.action is Action.NO_OP:  # as if applied: later differences are drift (plan --refresh-only)
        from deployer.plan.drift import APPLIED, applied_digest

        item.recorded[APPLIED] = applied_digest(rules.canonical_desired(resource.spec, context, resource.address))
    return item


def _compare_tasks(stack: Stack, context: Any, item: Adoption) -> None:
    """A job's tasks are write-once and not part of the job: list them and compare id and command."""
    from deployer.resources import job as job_kind
    from deployer.resources.read import _list

    account = stack.get(Address(item.resource.address.parts[:2]))
    data = context.batch_data(account.name if account else item.resource.address.parts[1])
    live_tasks = {str(t.get("id")): str(t.get("commandLine") or "")
                  for t in _list(f"tasks of job {item.resource.name}", lambda: data.list_tasks(item.resource.name))}
    want = {str(t.get("id")): str(t.get("commandLine") or "") for t in item.resource.spec.get("tasks") or []}
    if not want:
        if live_tasks:
            item.notes.append(f"tasks: the job has {len(live_tasks)} tasks and the stack lists none (tasks are added "
                              "once: the stack need not list them; a job with tasks in the stack is replaced)")
    elif live_tasks == want:
        item.recorded["tasks"] = job_kind.tasks_fingerprint(item.resource.spec)
        if want:
            item.notes.append(f"tasks: the {len(want)} tasks match the stack's (id and command line)")
    else:
        missing = sorted(set(want) - set(live_tasks))
        extra = sorted(set(live_tasks) - set(want))
        changed = sorted(k for k in set(want) & set(live_tasks) if want[k] != live_tasks[k])
        what = "; ".join(part for part in (
            f"not in Azure: {', '.join(missing)}" if missing else "",
            f"not in the stack: {', '.join(extra)}" if extra else "",
            f"other command line: {', '.join(changed)}" if changed else "") if part)
        item.notes.append(f"tasks differ from the stack's ({what}): apply replaces the job to add them")
    item.unverified = [p for p in item.unverified if p != "tasks"]


def adopt(found: Imports) -> list[Address]:
    """Write the ownership markers (and fingerprints) on every resource of `found`; nothing else."""
    done = []
    for item in found.adoptions:
        _mark(found, item)
        done.append(item.resource.address)
    return done


def _mark(found: Imports, item: Adoption) -> None:
    stack, clients = found.stack, found.clients
    r = item.resource
    rg = str(stack.target.resource_group)
    place = marker_place(r.kind)
    if place == "tags":
        tags = with_markers(r.kind, {"tags": copy.deepcopy(item.live.get("tags") or {})}, stack.name,
                            item.recorded, stack_file=stack.file_id)["tags"]
        if r.kind is Kind.NETWORK:
            _write(f"tags of network {r.name}", lambda: clients.network.virtual_networks.update_tags(
                rg, r.name, {"tags": tags}))
        elif r.kind is Kind.STORAGE_ACCOUNT:
            _write(f"tags of storage account {r.name}", lambda: clients.storage.storage_accounts.update(
                rg, r.name, {"tags": tags}))
        else:
            _write(f"tags of Batch account {r.name}", lambda: clients.batch_mgmt.batch_account.update(
                rg, r.name, {"tags": tags}))
        return
    account = stack.get(Address(r.address.parts[:2]))
    account_name = account.name if account else r.address.parts[1]
    if r.kind is Kind.POOL:
        props = item.live.get("properties") or {}
        marked = with_markers(Kind.POOL, {"properties": {"metadata": copy.deepcopy(props.get("metadata") or [])}},
                              stack.name, item.recorded)
        _write(f"metadata of pool {r.name}", lambda: clients.batch_mgmt.pool.update(rg, account_name, r.name, marked))
        return
    from azure.batch import models

    data = found.context.batch_data(account_name)
    metadata = with_markers(r.kind, {"metadata": copy.deepcopy(item.live.get("metadata") or [])}, stack.name,
                            item.recorded)["metadata"]
    if r.kind is Kind.JOB:
        _write(f"metadata of job {r.name}", lambda: data.update_job(
            r.name, models.BatchJobUpdateOptions({"metadata": metadata})))
    else:
        _write(f"metadata of job schedule {r.name}", lambda: data.update_job_schedule(
            r.name, models.BatchJobScheduleUpdateOptions({"metadata": metadata})))


def _write(what: str, call: Any) -> None:
    from azure.core.exceptions import AzureError as SdkError
    from azure.core.exceptions import HttpResponseError

    from deployer.errors import AzureError

    try:
        call()
    except HttpResponseError as exc:
        code = getattr(getattr(exc, "error", None), "code", None) or exc.status_code
        raise AzureError(f"writing the ownership marker ({what}) failed: {code}: "
                         f"{(exc.message or '').strip().splitlines()[0] if exc.message else 'no details'}") from None
    except SdkError as exc:
        raise AzureError(f"writing the ownership marker ({what}) failed: {exc}") from None


def addresses(items: Sequence[Adoption]) -> list[str]:
    return [str(i.resource.address) for i in items]
