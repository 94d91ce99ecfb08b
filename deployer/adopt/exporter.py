"""`deploy export`: the stack YAML for live resources (networks, storage and Batch accounts with
their containers, file shares, pools, jobs and job schedules) of one resource group.

    text = export_stack(clients, "rg-media", stack_name="media", target={...}, account="bamedia")

Live REST JSON is turned into the stack format by the schema itself: the stack uses Azure's REST
property names, so each resource keeps the keys its schema definition has (following `$ref`s,
recursively) and drops what Azure sets (ids, states, quotas, timestamps); references become
logical names (`autoStorage: data`, `pool: p1`). The result is then validated, and any value the
schema still refuses (an Azure default the stack format cannot write) is left out with a comment
naming it, so the stack always validates. Ownership markers and fingerprints are never exported.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from deployer.resources.job_schedule import made_by_schedule
from deployer.resources.ownership import RESERVED_PREFIX

#: fields Azure reports with a value the stack never needs to say (its default)
_AZURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "job": {"maxParallelTasks": -1, "onTaskFailure": "noaction", "usesTaskDependencies": False,
            "allowTaskPreemption": False, "onAllTasksComplete": "noaction"},
}
#: job constraints Azure reports when none were set (unlimited wall clock, no retries)
_UNLIMITED = "P10675199DT2H48M5.4775807S"


@cache
def _schema() -> dict[str, Any]:
    import json

    from deployer.stack.schema import schema_text

    return dict(json.loads(schema_text()))


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in node and seen < 20:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        node = {**_schema()["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _object_schemas(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The object schemas a value may match: the node, its allOf/anyOf/oneOf/then branches."""
    node = _resolve(node)
    out = [node]
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or []:
            out += _object_schemas(branch)
            if isinstance(branch, Mapping) and isinstance(branch.get("then"), Mapping):
                out += _object_schemas(branch["then"])
    return out


def fit(value: Any, node: Mapping[str, Any]) -> Any:
    """`value` with every key the schema `node` does not have removed, recursively."""
    schemas = _object_schemas(node)
    if isinstance(value, Mapping):
        props: dict[str, Any] = {}
        extra: Any = None
        for schema in schemas:
            props.update(schema.get("properties") or {})
            if isinstance(schema.get("additionalProperties"), Mapping):
                extra = schema["additionalProperties"]
        out = {}
        for key, item in value.items():
            if str(key).startswith(RESERVED_PREFIX) or item is None:
                continue
            child = props.get(key, extra)
            if child is None:
                continue
            fitted = fit(item, child)
            if fitted not in (None, {}, []):
                out[str(key)] = fitted
        return out
    if isinstance(value, list):
        items: Any = None
        for schema in schemas:
            if isinstance(schema.get("items"), Mapping):
                items = schema["items"]
        return [fit(v, items) if items is not None else v for v in value]
    return value


def _defs(name: str) -> Mapping[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


def _logical(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", name) or "r"
    if not base[0].isalpha():
        base = "r" + base
    base = base[:60]
    key, i = base, 2
    while key in taken:
        key, i = f"{base}{i}", i + 1
    taken.add(key)
    return key


def _metadata(items: Any) -> dict[str, Any]:
    """Azure's [{name, value}] list as the stack's name → value map, without the deployer's entries."""
    return {str(m.get("name")): m.get("value") for m in items or []
            if not str(m.get("name", "")).startswith(RESERVED_PREFIX)}


def export_stack(clients: Any, resource_group: str, *, stack_name: str, target: Mapping[str, Any],
                 account: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The stack document for the live resources of `resource_group` (only Batch account `account`
    and its auto-storage account when given), and the notes on what was left out."""
    from deployer.errors import UsageError
    from deployer.resources.read import LiveAccount, LiveStorage, _read_storage

    live = read_group(clients, resource_group)
    notes: list[str] = []
    batch: dict[str, LiveAccount] = live.batch
    if account is not None:
        batch = {k: v for k, v in live.batch.items() if k.lower() == account.lower()}
        if not batch:
            raise UsageError(f"Batch account {account} not found in resource group {resource_group} "
                             f"(it has: {', '.join(live.batch) or 'none'})")
    linked = {_auto_storage_name(b.account) for b in batch.values()} - {None}
    storage: dict[str, LiveStorage] = live.storage if account is None else {
        k: v for k, v in live.storage.items() if k in linked}
    for item in storage.values():
        _read_storage(clients, resource_group, item)
    doc: dict[str, Any] = {"stack": stack_name, "target": dict(target)}
    taken: set[str] = set()
    location = str(target.get("location") or "")
    subnets: dict[str, str] = {}  # subnet id (lower-cased) -> NETWORK.SUBNET logical name
    if account is None and live.networks:
        doc["networks"] = {}
        for key, vnet in live.networks.items():
            logical = _logical(str(vnet.get("name", key)), taken)
            doc["networks"][logical] = _network(vnet)
            for subnet in (vnet.get("properties") or {}).get("subnets") or []:
                if subnet.get("id"):
                    subnets[str(subnet["id"]).lower()] = f"{logical}.{subnet.get('name')}"
    storage_keys: dict[str, str] = {}
    if storage:
        doc["storageAccounts"] = {}
        for name, item in storage.items():
            key = storage_keys[name] = _logical(name, taken)
            doc["storageAccounts"][key] = _storage(item, location)
    if batch:
        doc["batchAccounts"] = {}
        for name, account_item in batch.items():
            doc["batchAccounts"][_logical(name, taken)] = _batch(account_item, location, storage_keys, notes, subnets)
    return _validated(doc, notes), notes


def read_group(clients: Any, resource_group: str) -> Any:
    """Everything in the resource group: networks, storage accounts, Batch accounts with their
    pools, applications, jobs and schedules (containers and shares: `_read_storage`, when exported)."""
    from concurrent.futures import ThreadPoolExecutor

    from deployer.errors import UsageError
    from deployer.resources.read import LiveAccount, LiveState, LiveStorage, _call, _list, _read_batch

    if not _call("resource group", lambda: clients.resource.resource_groups.check_existence(resource_group)):
        raise UsageError(f"resource group {resource_group} does not exist")
    state = LiveState()
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="export") as pool:
        networks = pool.submit(_list, "virtual networks", lambda: clients.network.virtual_networks.list(resource_group))
        storage = pool.submit(_list, "storage accounts",
                              lambda: clients.storage.storage_accounts.list_by_resource_group(resource_group))
        batch = pool.submit(_list, "Batch accounts",
                            lambda: clients.batch_mgmt.batch_account.list_by_resource_group(resource_group))
        state.networks = {str(v.get("name", "")).lower(): v for v in networks.result()}
        state.storage = {a["name"]: LiveStorage(a) for a in storage.result()}
        inner = []
        for account in batch.result():
            found = state.batch[account["name"]] = LiveAccount(account)
            inner.extend(_read_batch(pool, clients, resource_group, found))
        for future in inner:
            future.result()
    return state


def _network(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = rest.get("properties") or {}
    subnets = {}
    for subnet in props.get("subnets") or []:
        sp = subnet.get("properties") or {}
        body: dict[str, Any] = {"addressPrefix": sp.get("addressPrefix")}
        if sp.get("serviceEndpoints"):
            body["serviceEndpoints"] = [e.get("service") for e in sp["serviceEndpoints"]]
        subnets[str(subnet.get("name"))] = body
    out = {"name": rest.get("name"), "addressSpace": (props.get("addressSpace") or {}).get("addressPrefixes") or [],
           "subnets": subnets}
    return dict(fit(out, _defs("network")))


def _storage(item: Any, location: str) -> dict[str, Any]:
    rest = item.account
    props = dict(rest.get("properties") or {})
    body: dict[str, Any] = {"name": rest.get("name"), "sku": (rest.get("sku") or {}).get("name"),
                            "kind": rest.get("kind"), **props}
    if rest.get("location") and str(rest["location"]).lower() != location.lower():
        body["location"] = rest["location"]
    if rest.get("tags"):
        body["tags"] = {k: v for k, v in rest["tags"].items() if not k.startswith(RESERVED_PREFIX)}
    containers: list[Any] = []
    for name, container in sorted(item.containers.items()):
        cp = container.get("properties") or {}
        meta = {k: v for k, v in (cp.get("metadata") or {}).items() if not k.startswith(RESERVED_PREFIX)}
        access = cp.get("publicAccess")
        if meta or (access and access != "None"):
            containers.append({"name": name, **({"metadata": meta} if meta else {}),
                               **({"publicAccess": access} if access and access != "None" else {})})
        else:
            containers.append(name)
    if containers:
        body["containers"] = containers
    shares = {}
    for name, share in sorted(item.shares.items()):
        sp = share.get("properties") or {}
        shares[name] = {"quotaGiB": sp.get("shareQuota"), "accessTier": sp.get("accessTier"),
                        "protocol": sp.get("enabledProtocols")}
    if shares:
        body["fileShares"] = shares
    return dict(fit(body, _defs("storageAccount")))


def _auto_storage_name(rest: Mapping[str, Any]) -> str | None:
    auto = (rest.get("properties") or {}).get("autoStorage") or {}
    account_id = str(auto.get("storageAccountId") or "")
    return account_id.rstrip("/").rsplit("/", 1)[-1] if account_id else None


def _batch(item: Any, location: str, storage_keys: Mapping[str, str], notes: list[str],
           subnets: Mapping[str, str]) -> dict[str, Any]:
    rest = item.account
    props = dict(rest.get("properties") or {})
    body: dict[str, Any] = {"name": rest.get("name"), **props}
    auto = _auto_storage_name(rest)
    body.pop("autoStorage", None)
    if auto is not None:
        if auto in storage_keys:
            body["autoStorage"] = storage_keys[auto]
        else:
            notes.append(f"Batch account {rest.get('name')}: auto-storage account {auto} is not exported")
    if rest.get("location") and str(rest["location"]).lower() != location.lower():
        body["location"] = rest["location"]
    if rest.get("tags"):
        body["tags"] = {k: v for k, v in rest["tags"].items() if not k.startswith(RESERVED_PREFIX)}
    if (rest.get("identity") or {}).get("type") not in (None, "None"):
        body["identity"] = rest["identity"]
    out = dict(fit(body, _defs("batchAccount")))
    pools = {}
    for pool in item.pools.values():
        pp = dict(pool.get("properties") or {})
        pp["metadata"] = _metadata(pp.get("metadata"))
        network = dict(pp.get("networkConfiguration") or {})
        logical = subnets.get(str(network.get("subnetId") or "").lower())
        if logical:  # a subnet of a network exported with it: its logical name, as a stack writes it
            network.pop("subnetId")
            pp["networkConfiguration"] = {"subnet": logical, **network}
        if (pool.get("identity") or {}).get("type") not in (None, "None"):
            pp["identity"] = pool["identity"]
        pools[str(pool.get("name"))] = fit(pp, _defs("pool"))
    if pools:
        out["pools"] = pools
    jobs = {}
    for job in item.jobs.values():
        if made_by_schedule(job, item.schedules):
            continue  # made by a job schedule: the schedule is exported instead
        jobs[str(job.get("id"))] = _job(job)
    if jobs:
        out["jobs"] = jobs
    schedules = {}
    for schedule in item.schedules.values():
        body = dict(schedule)
        spec = dict(body.get("jobSpecification") or {})
        pool_id = (spec.pop("poolInfo", None) or {}).get("poolId")
        if pool_id:
            spec["pool"] = pool_id
        body["jobSpecification"] = spec
        body["metadata"] = _metadata(body.get("metadata"))
        schedules[str(schedule.get("id"))] = fit(body, _defs("jobSchedule"))
    if schedules:
        out["jobSchedules"] = schedules
    return out


def _job(rest: Mapping[str, Any]) -> Any:
    body = copy.deepcopy(dict(rest))
    pool_id = (body.pop("poolInfo", None) or {}).get("poolId")
    if pool_id:
        body["pool"] = pool_id
    body["metadata"] = _metadata(body.get("metadata"))
    for key, default in _AZURE_DEFAULTS["job"].items():
        if body.get(key) == default:
            body.pop(key)
    constraints = dict(body.get("constraints") or {})
    if constraints.get("maxWallClockTime") == _UNLIMITED:
        constraints.pop("maxWallClockTime")
    if constraints.get("maxTaskRetryCount") == 0:
        constraints.pop("maxTaskRetryCount")
    body["constraints"] = constraints
    return fit(body, _defs("job"))


def _validated(doc: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Drop, one by one, the values the schema refuses (with a note each), so the stack validates."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    for _ in range(200):
        errors = sorted(validator.iter_errors(doc), key=lambda e: len(e.absolute_path), reverse=True)
        if not errors:
            return doc
        path = list(errors[0].absolute_path)
        if not path:
            return doc
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        where = ".".join(str(p) for p in path)
        notes.append(f"{where}: left out, the stack format does not accept Azure's value ({errors[0].message})")
        del parent[path[-1]]
    return doc


def to_yaml(doc: Mapping[str, Any], notes: list[str]) -> str:
    import yaml

    head = ["# Written by `deploy export` from live resources; `deploy schema` prints the format's JSON Schema."]
    head += [f"# note: {note}" for note in notes]
    return "\n".join(head) + "\n" + yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=100)


def write_stack(path: Path, text: str) -> None:
    from deployer.errors import UsageError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
