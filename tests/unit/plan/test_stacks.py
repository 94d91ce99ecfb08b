"""The rule tables against the stack schema, and the example stacks end to end: planned from
nothing (every resource created), then "applied" (a test writer turns the desired state into the
REST JSON Azure would return, with the deployer's markers and fingerprints) and planned again —
which must be empty (DESIGN.md principle 4)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.plan import Action, Plan, PlanTarget, StaticContext, diff_resource
from deployer.plan.render import render_json, render_markdown, render_text
from deployer.resources import RULES_BY_KIND, rules_for
from deployer.resources import normalize as n
from deployer.resources.ownership import marker_place, with_markers
from deployer.resources.rules import KindRules, Node, fingerprint_for_field, fingerprint_paths
from deployer.stack.model import Address, DesiredResource, Kind, Stack, load_stack
from deployer.stack.schema import schema as load_schema

REPO = Path(__file__).resolve().parents[3]
STACKS = sorted((REPO / "stacks").glob("*.yaml"))

# --- the tables cover the stack format ------------------------------------------------------------

SCHEMA_DEFS = {
    Kind.POOL: ("pool", {"changeStrategy", "protect", "resourceTags"}),  # resourceTags: read as `tags`
    Kind.JOB: ("job", {"protect", "tasks", "taskFactory"}),  # tasks: deployer.resources.tasks
    Kind.JOB_SCHEDULE: ("jobSchedule", {"protect", "tasks", "taskFactory"}),  # the task file
    Kind.BATCH_ACCOUNT: ("batchAccount", {"name", "protect", "applications", "pools", "jobs", "jobSchedules"}),
    Kind.APPLICATION: ("application", {"versions"}),  # compared as `packages` (version and zip content)
    Kind.STORAGE_ACCOUNT: ("storageAccount", {"name", "protect", "containers", "fileShares"}),
    Kind.CONTAINER: ("blobContainer", {"name", "upload"}),  # `upload` is its own kind
    Kind.UPLOAD: ("containerUpload", {"from", "pattern", "prefix"}),  # compared as `blobs` (name → MD5)
    Kind.FILE_SHARE: ("fileShare", set()),
    Kind.NETWORK: ("network", {"name", "protect", "securityGroups"}),  # security groups are their own kind
    Kind.SECURITY_GROUP: ("securityGroup", {"name", "rules"}),
    Kind.IDENTITY: ("managedIdentity", {"name"}),  # rules compared as `securityRules` by name
}


@pytest.mark.parametrize("kind", list(SCHEMA_DEFS), ids=lambda k: k.value)
def test_every_stack_property_has_a_rule(kind: Kind) -> None:
    definition, stack_only = SCHEMA_DEFS[kind]
    properties = set(load_schema()["$defs"][definition]["properties"])
    rows = set(rules_for(kind).tree.children)
    assert properties - stack_only - rows == set()


def _secret_names(node: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[str]:
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and sub.get("$ref") == "#/$defs/secretRef":
                yield name
        for key, sub in node.items():
            if key == "$ref" and isinstance(sub, str) and sub.startswith("#/$defs/"):
                target = sub.rsplit("/", 1)[-1]
                if target not in seen:
                    yield from _secret_names(defs[target], defs, seen | {target})
            else:
                yield from _secret_names(sub, defs, seen)
    elif isinstance(node, list):
        for item in node:
            yield from _secret_names(item, defs, seen)


def test_every_secret_a_pool_takes_is_a_sensitive_row() -> None:
    defs = load_schema()["$defs"]
    secrets = set(_secret_names(defs["pool"], defs))
    sensitive = {row.path.rsplit(".", 1)[-1] for row in rules_for(Kind.POOL).fields if row.sensitive}
    assert secrets and secrets <= sensitive


@pytest.mark.parametrize("rules", list(RULES_BY_KIND.values()), ids=lambda r: r.kind.value)
def test_tables_are_well_formed(rules: KindRules) -> None:
    for row in rules.fields:
        if row.removal is not n.MISSING:
            assert len(row.parts) == 1, f"{row.path}: removal values belong to top-level fields"
        if row.default is not n.MISSING and row.key is not n.exact and isinstance(row.default, str):
            assert row.key(row.default) == row.key(row.default)
    assert rules.tree.children  # compiles, every top-level row has an effect
    written = {".".join(path) for path in fingerprint_paths(rules)}
    assert {row.path.replace("[]", ".[]") for row in rules.fields if row.write_only} == written


# --- the example stacks end to end ------------------------------------------------------------------

SUB = "00000000-0000-0000-0000-000000000000"
SECRETS = {"env:HPC_SMB_PASSWORD": "smb-pa55", "env:SMB_PASSWORD": "smb-pa55"}


def context_for(stack: Stack) -> StaticContext:
    """What a planner derives from the stack and the target: ids, names, endpoints, keys."""
    rg = stack.target.resource_group or "rg"
    base = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers"
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    endpoints: dict[str, str] = {}
    keys: dict[str, str] = {}
    for resource in stack.resources:
        address = str(resource.address)
        if resource.kind == Kind.STORAGE_ACCOUNT:
            ids[address] = f"{base}/Microsoft.Storage/storageAccounts/{resource.name}"
            names[address] = resource.name
            keys[address] = f"key-of-{resource.name}=="
            for service in ("blob", "file"):
                endpoints[f"{address}:{service}"] = f"https://{resource.name}.{service}.core.windows.net/"
        elif resource.kind == Kind.NETWORK:
            for logical, subnet in resource.spec.get("subnets", {}).items():
                ids[f"{address}.subnets.{logical}"] = (f"{base}/Microsoft.Network/virtualNetworks/{resource.name}"
                                                       f"/subnets/{subnet.get('name', logical)}")
        elif resource.kind == Kind.APPLICATION:
            account = stack.get(Address(resource.address.parts[:2]))
            assert account is not None
            ids[address] = f"{base}/Microsoft.Batch/batchAccounts/{account.name}/applications/{resource.name}"
    return StaticContext(stack_name=stack.name, location=stack.target.location, ids=ids, storage_names=names,
                         endpoints=endpoints, keys=keys, secrets=SECRETS)


def _rest_form(value: Any, node: Node, path: tuple[str | int, ...], recorded: dict[str, str],
               rules: KindRules) -> Any:
    """Canonical desired -> the REST shape a writer sends; write-only values leave only a fingerprint."""
    rule = node.rule
    if rule is not None and rule.write_only:
        secret = value.value if isinstance(value, n.Secret) else value
        recorded[n.format_path(path)] = fingerprint_for_field(rules, path, secret)
        return n.MISSING
    if isinstance(value, dict):
        out = {k: _rest_form(v, node.child(k), (*path, k), recorded, rules) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not n.MISSING}
        if rule is not None and rule.form is n.name_value_map:
            return [{"name": k, "value": v} for k, v in out.items()]
        if rule is not None and rule.form is not None:  # a keyed list
            return list(out.values())
        return out
    if isinstance(value, list):
        if rule is not None and rule.form is n.id_set:
            return {ident: {"principalId": "p", "clientId": "c"} for ident in value}
        return [_rest_form(v, node.child(0), (*path, i), recorded, rules) for i, v in enumerate(value)]
    assert not n.is_marker(value), f"{n.format_path(path)}: {value!r} left in a desired state with a full context"
    return value


def simulate_apply(resource: DesiredResource, context: StaticContext) -> dict[str, Any]:
    """The live JSON Azure returns after the deployer created `resource`: REST shape, the deployer's
    marker and fingerprints, Azure's own spellings and defaults, server-set fields."""
    rules = rules_for(resource.kind)
    desired = rules.canonical_desired(resource.spec, context, resource.address)
    recorded: dict[str, str] = {}
    body = _rest_form(copy.deepcopy(desired), rules.tree, (), recorded, rules)
    kind = resource.kind
    if kind == Kind.POOL:
        body["vmSize"] = body["vmSize"].upper()
        body.setdefault("interNodeCommunication", "Disabled")
        body.setdefault("taskSchedulingPolicy", {"nodeFillType": "Spread", "jobDefaultOrder": "None"})
        body.setdefault("taskSlotsPerNode", 1)
        image = body["deploymentConfiguration"]["virtualMachineConfiguration"]["imageReference"]
        image.setdefault("version", "latest")
        body.update(provisioningState="Succeeded", allocationState="Steady", currentDedicatedNodes=2,
                    currentLowPriorityNodes=0)
        identity = body.pop("identity", None)
        rest: dict[str, Any] = {"name": resource.name, "etag": 'W/"0x1"', "properties": body}
        if identity:
            rest["identity"] = identity
    elif kind in (Kind.JOB, Kind.JOB_SCHEDULE):
        rest = _data_plane_job(body) if kind == Kind.JOB else {
            **body, "jobSpecification": _data_plane_job(body["jobSpecification"])}
        rest.update(id=resource.name, eTag="0x8D4", state="active")
    elif kind == Kind.STORAGE_ACCOUNT:
        top = {k: body.pop(k) for k in ("location", "kind", "tags") if k in body}
        rest = {"name": resource.name, **top, "sku": {"name": body.pop("sku"), "tier": "Standard"},
                "properties": {**body, "provisioningState": "Succeeded"}}
    elif kind == Kind.NETWORK:
        subnets = [{"name": name, "properties": {**s, "serviceEndpoints": [{"service": e} for e in
                                                                           s.get("serviceEndpoints", [])]}}
                   for name, s in body.get("subnets", {}).items()]
        rest = {"name": resource.name, "location": body["location"], "tags": body.get("tags", {}),
                "properties": {"addressSpace": {"addressPrefixes": body["addressSpace"]}, "subnets": subnets}}
    elif kind == Kind.FILE_SHARE:
        names = {"quotaGiB": "shareQuota", "protocol": "enabledProtocols"}
        rest = {"name": resource.name, "properties": {names.get(k, k): v for k, v in body.items()}}
    elif kind == Kind.APPLICATION:
        packages = body.pop("packages", {})
        recorded = {version: None for version in packages}  # contents not compared: no files here
        rest = {"name": resource.name, "properties": body, "_deployer": {"packages": recorded}}
    else:  # Batch accounts and containers: ARM top level, properties below
        top = {k: body.pop(k) for k in ("location", "identity", "tags") if k in body}
        rest = {"name": resource.name, **top, "properties": body}
    if marker_place(kind) is not None:
        rest = with_markers(kind, rest, context.stack_name, recorded)
    return json.loads(json.dumps(rest))


def _data_plane_job(body: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in body.items() if k != "pool"}
    out["poolInfo"] = {"poolId": body["pool"]}
    return out


@pytest.mark.parametrize("path", STACKS, ids=lambda p: p.stem)
def test_an_example_stack_from_nothing_then_again_after_apply(path: Path) -> None:
    stack = load_stack(path)
    context = context_for(stack)
    target = PlanTarget.from_target(stack.target)
    first = Plan(stack.name, target, tuple(diff_resource(rules_for(r.kind), r, None, context) for r in stack.resources))
    assert all(c.action == Action.CREATE for c in first.changes)
    assert first.summary() == f"Plan: {len(stack.resources)} to add, 0 to change, 0 to replace, 0 to destroy."
    renderings = (render_text(first), render_json(first), render_markdown(first))
    for secret in SECRETS.values():
        assert all(secret not in text for text in renderings)
    assert Plan.from_json(render_json(first)) == first

    second = Plan(stack.name, target, tuple(
        diff_resource(rules_for(r.kind), r, simulate_apply(r, context), context) for r in stack.resources))
    assert [(str(c.address), [f.path for f in c.fields], c.warnings) for c in second.actionable] == []
    assert all(not c.warnings for c in second.changes)
    assert render_text(second).endswith("No changes. Live state matches the stack.\n")


def test_a_rotated_secret_in_an_example_stack_is_one_change() -> None:
    stack = load_stack(REPO / "stacks" / "hpc.yaml")
    context = context_for(stack)
    pool = next(r for r in stack.resources if r.kind == Kind.POOL)
    live = simulate_apply(pool, context)
    rotated = StaticContext(**{**context.__dict__, "secrets": {"env:HPC_SMB_PASSWORD": "rotated"}})
    change = diff_resource(rules_for(Kind.POOL), pool, live, rotated)
    assert change.action == Action.REPLACE
    assert [(f.path, f.sensitive) for f in change.fields] == [
        ("mountConfiguration.projects.cifsMountConfiguration.password", True)]
    for text in (render_text(Plan("hpc", PlanTarget("azure"), (change,))), change.to_dict().__repr__()):
        assert "rotated" not in text and "smb-pa55" not in text
