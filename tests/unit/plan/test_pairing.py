"""The planner pairs every child with live resources inside its own parent (issue 10).

Table-driven: the live state is what applying stack `before` leaves (`simulate_apply`), the plan is
made for stack `after`; the expected changes are (address, action) of everything not a no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer.plan.graph import build_graph
from deployer.plan.planner import make_plan
from deployer.resources.read import LiveAccount, LiveState, LiveStorage
from deployer.stack.model import Address, Kind, Stack, build_model
from tests.unit.plan.test_stacks import context_for, simulate_apply

IMAGE = {"virtualMachineConfiguration": {
    "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
    "nodeAgentSkuId": "batch.node.ubuntu 22.04"}}
POOL = {"vmSize": "Standard_D2s_v3", "deploymentConfiguration": IMAGE}


def stack(storage: dict[str, Any], batch: dict[str, Any], networks: dict[str, Any] | None = None) -> Stack:
    data = {"stack": "pairs", "target": {"kind": "local", "resourceGroup": "rg", "location": "westeurope"},
            "storageAccounts": storage, "batchAccounts": batch, "networks": networks or {}}
    return build_model(yaml.safe_load(yaml.safe_dump(data)), "stack.yaml", Path("."))


def live_after_apply(applied: Stack) -> LiveState:
    context = context_for(applied)
    live = LiveState()
    parents: dict[Address, str] = {}
    for resource in applied.resources:
        body = simulate_apply(resource, context)
        if resource.kind is Kind.NETWORK:
            live.networks[resource.name.lower()] = body
        elif resource.kind is Kind.STORAGE_ACCOUNT:
            live.storage[resource.name] = LiveStorage(body)
            parents[resource.address] = resource.name
        elif resource.kind is Kind.BATCH_ACCOUNT:
            live.batch[resource.name] = LiveAccount(body)
            parents[resource.address] = resource.name
        else:
            parent = parents[Address(resource.address.parts[:2])]
            holder: Any = live.storage.get(parent) or live.batch[parent]
            items = {Kind.CONTAINER: "containers", Kind.FILE_SHARE: "shares", Kind.APPLICATION: "applications",
                     Kind.POOL: "pools", Kind.JOB: "jobs", Kind.JOB_SCHEDULE: "schedules"}[resource.kind]
            key = resource.name.lower() if resource.kind in (Kind.JOB, Kind.JOB_SCHEDULE) else resource.name
            getattr(holder, items)[key] = body
    return live


def batch(**accounts: dict[str, Any]) -> dict[str, Any]:
    return {logical: {"name": f"ba{logical}01", **spec} for logical, spec in accounts.items()}


SMALL = {"pools": {"small": POOL}, "jobs": {"hello": {"pool": "small"}}}
SCHEDULED = {"pools": {"small": POOL},
             "jobSchedules": {"nightly": {"schedule": {"recurrenceInterval": "PT1H"},
                                          "jobSpecification": {"pool": "small"}}}}
APP = {"applications": {"tool": {"allowUpdates": True}}}
ST = {"one": {"name": "stone01", "sku": "Standard_LRS", "containers": ["input", "output"],
              "fileShares": {"scratch": {"quotaGiB": 5}}},
      "two": {"name": "sttwo01", "sku": "Standard_LRS", "containers": ["logs"]}}
SWAPPED = {"one": {**ST["one"], "name": "sttwo01"}, "two": {**ST["two"], "name": "stone01"}}
MOVED_CHILDREN = {"one": {"name": "stone01", "sku": "Standard_LRS", "containers": ["input"]},
                  "two": {"name": "sttwo01", "sku": "Standard_LRS", "containers": ["logs", "output"],
                          "fileShares": {"scratch": {"quotaGiB": 5}}}}

NETS = {"a": {"name": "vnet-a", "addressSpace": ["10.1.0.0/16"],
              "subnets": {"nodes": {"addressPrefix": "10.1.0.0/24"}}},
        "b": {"name": "vnet-b", "addressSpace": ["10.2.0.0/16"]}}
NETS_MOVED = {"a": {"name": "vnet-a", "addressSpace": ["10.1.0.0/16"]},
              "b": {"name": "vnet-b", "addressSpace": ["10.2.0.0/16"],
                    "subnets": {"nodes": {"addressPrefix": "10.2.0.0/24"}}}}

CASES = [
    # (id, stack applied, stack planned, expected non-no-op changes)
    ("nothing changed", stack(ST, batch(a=SMALL, b={})), stack(ST, batch(a=SMALL, b={})), set()),
    ("pool and job moved", stack(ST, batch(a=SMALL, b={})), stack(ST, batch(a={}, b=SMALL)), {
        ("batchAccounts.a.pools.small", "delete"), ("batchAccounts.a.jobs.hello", "delete"),
        ("batchAccounts.b.pools.small", "create"), ("batchAccounts.b.jobs.hello", "create")}),
    ("schedule moved", stack(ST, batch(a=SCHEDULED, b={})), stack(ST, batch(a={}, b=SCHEDULED)), {
        ("batchAccounts.a.pools.small", "delete"), ("batchAccounts.a.jobSchedules.nightly", "delete"),
        ("batchAccounts.b.pools.small", "create"), ("batchAccounts.b.jobSchedules.nightly", "create")}),
    ("application moved", stack(ST, batch(a=APP, b={})), stack(ST, batch(a={}, b=APP)), {
        ("batchAccounts.a.applications.tool", "delete"), ("batchAccounts.b.applications.tool", "create")}),
    ("container and share moved", stack(ST, batch()), stack(MOVED_CHILDREN, batch()), {
        ("storageAccounts.one.containers.output", "delete"), ("storageAccounts.one.fileShares.scratch", "delete"),
        ("storageAccounts.two.containers.output", "create"), ("storageAccounts.two.fileShares.scratch", "create")}),
    ("storage account names swapped", stack(ST, batch()), stack(SWAPPED, batch()), {
        ("storageAccounts.one.containers.input", "create"), ("storageAccounts.one.containers.output", "create"),
        ("storageAccounts.one.fileShares.scratch", "create"), ("storageAccounts.one.containers.logs", "delete"),
        ("storageAccounts.two.containers.logs", "create"), ("storageAccounts.two.containers.input", "delete"),
        ("storageAccounts.two.containers.output", "delete"), ("storageAccounts.two.fileShares.scratch", "delete")}),
    ("an account renamed to a logical name that was an Azure name", stack(ST, batch()),
     stack({"stone01": {**ST["one"], "name": "stnew01"}, "two": ST["two"]}, batch()), {
        ("storageAccounts.stone01", "create"), ("storageAccounts.stone01~undeclared", "delete"),
        ("storageAccounts.stone01.containers.input", "create"), ("storageAccounts.stone01.containers.output", "create"),
        ("storageAccounts.stone01.fileShares.scratch", "create")}),
    ("subnet moved: both networks change", stack(ST, batch(), NETS), stack(ST, batch(), NETS_MOVED), {
        ("networks.a", "update"), ("networks.b", "update")}),
    ("account dropped: deleted with what it holds", stack(ST, batch(a=SMALL, b={})), stack(ST, batch(b=SMALL)), {
        ("batchAccounts.baa01", "delete"), ("batchAccounts.b.pools.small", "create"),
        ("batchAccounts.b.jobs.hello", "create")}),
]


@pytest.mark.parametrize(("applied", "planned", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_children_pair_within_their_parent(applied: Stack, planned: Stack, expected: set[tuple[str, str]]) -> None:
    plan = make_plan(planned, live_after_apply(applied), context_for(planned))
    assert {(str(c.address), c.action.value) for c in plan.actionable} == expected
    build_graph(plan, planned).order()  # one step per address, no cycle


def test_a_moved_child_says_where_it_went() -> None:
    plan = make_plan(stack(ST, batch(a={}, b=SMALL)), live_after_apply(stack(ST, batch(a=SMALL, b={}))),
                     context_for(stack(ST, batch(a={}, b=SMALL))))
    deleted = {str(c.address): c for c in plan.actionable if c.action.value == "delete"}
    pool = deleted["batchAccounts.a.pools.small"]
    assert pool.reason == ("pool small is no longer in Batch account baa01: the stack now declares it in "
                           "batchAccounts.b.pools.small")
    assert pool.warnings[0].startswith("pool small is deleted from Batch account baa01 and created in "
                                       "batchAccounts.b.pools.small")
