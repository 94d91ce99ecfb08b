"""`deploy outputs`: what later pipeline steps need, read live, per logical name. Never a secret.

    networks.N                  id, name; subnets.S.id
    storageAccounts.S           id, name, blobEndpoint
    batchAccounts.B             id, name, accountEndpoint (https URL)
    batchAccounts.B.pools.P     id (the Batch pool id), resourceId

`--format env` prints `NAME=value` lines for `$GITHUB_ENV`: NETWORK_N_ID, NETWORK_N_SUBNET_S_ID,
STORAGE_S_ID, STORAGE_S_NAME, STORAGE_S_BLOB_ENDPOINT, BATCH_B_ID, BATCH_B_NAME, BATCH_B_ENDPOINT,
BATCH_B_POOL_P_ID, BATCH_B_POOL_P_RESOURCE_ID (logical names upper-cased, other characters `_`).
Only resources the stack owns are read (ownership tags and metadata); keys, connection strings
and SAS tokens are never asked for. Requests: one list per declared collection (networks, storage
accounts, Batch accounts), one pool list per Batch account with pools.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deployer.ops.reader import selection
from deployer.resources.ownership import owner
from deployer.resources.read import _list, owned_by
from deployer.stack.model import Kind, Stack


@dataclass
class Outputs:
    stack: str
    target: str
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # address -> output -> value
    env: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def add(self, address: str, env_prefix: str, name: str, env_suffix: str, value: Any) -> None:
        if value in (None, ""):
            return
        self.values.setdefault(address, {})[name] = str(value)
        self.env[f"{env_prefix}_{env_suffix}"] = str(value)

    def to_dict(self) -> dict[str, Any]:
        from deployer.ops import FORMAT_VERSION

        return {"formatVersion": FORMAT_VERSION, "kind": "outputs", "stack": self.stack, "target": self.target,
                "outputs": self.values, "env": self.env, "missing": self.missing}


def env_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).strip("_").upper() for p in parts)


def read_outputs(stack: Stack, clients: Any, only: Sequence[str] | None = None) -> Outputs:
    wanted = selection(stack, only)
    rg = str(stack.target.resource_group)
    result = Outputs(stack.name, stack.target.kind)
    chosen = [r for r in stack.resources if r.address in wanted]
    kinds = {r.kind for r in chosen}

    def listed(kind: Kind, what: str, call: Any) -> dict[str, dict[str, Any]]:
        if kind not in kinds and not (kind is Kind.BATCH_ACCOUNT and Kind.POOL in kinds):
            return {}
        from azure.core.exceptions import ResourceNotFoundError

        def items() -> Any:
            try:
                return list(call())
            except ResourceNotFoundError:  # no resource group yet
                return []

        return {str(i.get("name", "")).lower(): i for i in _list(what, items) if owned_by(i, stack.name)}

    networks = listed(Kind.NETWORK, "virtual networks", lambda: clients.network.virtual_networks.list(rg))
    storage = listed(Kind.STORAGE_ACCOUNT, "storage accounts",
                     lambda: clients.storage.storage_accounts.list_by_resource_group(rg))
    batch = listed(Kind.BATCH_ACCOUNT, "Batch accounts",
                   lambda: clients.batch_mgmt.batch_account.list_by_resource_group(rg))
    # the top-level kinds: where their live ones were listed, and the first word of their env names
    top: dict[Kind, tuple[dict[str, dict[str, Any]], str]] = {
        Kind.NETWORK: (networks, "network"), Kind.STORAGE_ACCOUNT: (storage, "storage"),
        Kind.BATCH_ACCOUNT: (batch, "batch")}
    pools_of: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in chosen:
        address, logical = str(resource.address), resource.address.parts[1]
        if resource.kind in top:
            found, word = top[resource.kind]
            live = found.get(resource.name.lower())
            if live is None:
                result.missing.append(address)
                continue
            prefix = env_name(word, logical)
            result.add(address, prefix, "id", "ID", live.get("id"))
            result.add(address, prefix, "name", "NAME", live.get("name"))
            if resource.kind is Kind.NETWORK:
                subnets = {str(s.get("name", "")).lower(): s
                           for s in (live.get("properties") or {}).get("subnets") or []}
                for sub_logical, sub_spec in (resource.spec.get("subnets") or {}).items():
                    sub = subnets.get(str((sub_spec or {}).get("name") or sub_logical).lower())
                    if sub is not None:
                        result.add(f"{address}.subnets.{sub_logical}", env_name(prefix, "subnet", sub_logical),
                                   "id", "ID", sub.get("id"))
            elif resource.kind is Kind.STORAGE_ACCOUNT:
                endpoints = (live.get("properties") or {}).get("primaryEndpoints") or {}
                result.add(address, prefix, "blobEndpoint", "BLOB_ENDPOINT", endpoints.get("blob"))
            else:  # a Batch account
                endpoint = (live.get("properties") or {}).get("accountEndpoint")
                result.add(address, prefix, "accountEndpoint", "ENDPOINT", f"https://{endpoint}" if endpoint else None)
        elif resource.kind is Kind.POOL:
            account = stack.get(resource.address.parts[0] + "." + logical)
            account_name = account.name if account is not None else logical
            if account_name.lower() not in batch:
                result.missing.append(address)
                continue
            if account_name not in pools_of:
                pools_of[account_name] = {
                    str(p.get("name", "")).lower(): p for p in _list(
                        f"pools of {account_name}",
                        lambda name=account_name: clients.batch_mgmt.pool.list_by_batch_account(  # type: ignore[misc]
                            rg, name))}
            live = pools_of[account_name].get(resource.name.lower())
            if live is None or owner(Kind.POOL, live) != stack.name:
                result.missing.append(address)
                continue
            prefix = env_name("batch", logical, "pool", resource.address.parts[-1])
            result.add(address, prefix, "id", "ID", live.get("name"))
            result.add(address, prefix, "resourceId", "RESOURCE_ID", live.get("id"))
    return result


def print_outputs(outputs: Outputs, fmt: str) -> None:
    if fmt == "json":
        from deployer.console import write_json

        write_json(outputs.to_dict())
        return
    if fmt == "env":
        sys.stdout.write("".join(f"{name}={value}\n" for name, value in outputs.env.items()))
        sys.stdout.flush()
        return
    from rich.table import Table

    from deployer.console import err
    from deployer.ops.status import print_wide

    table = Table(box=None, pad_edge=False)
    for column in ("address", "output", "value"):
        table.add_column(column)
    for address, values in outputs.values.items():
        for name, value in values.items():
            table.add_row(address, name, value)
    print_wide(table)
    if outputs.missing:
        err().print("not deployed (or not owned by the stack): " + ", ".join(outputs.missing), markup=False)
