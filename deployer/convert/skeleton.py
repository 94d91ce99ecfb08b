"""The parts of a stack every conversion needs: name, target, one Batch account and its
auto-storage account. Source formats that name accounts (Shipyard credentials, ARM) fill in the
names; the others get names derived from the stack name."""

from __future__ import annotations

import re
from typing import Any

from deployer.convert.model import Conversion

ACCOUNT = "main"
STORAGE = "data"


def stack_name(hint: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = "s-" + name if name else "converted"
    return name[:40].rstrip("-")


def account_name(prefix: str, hint: str) -> str:
    """A valid account name (3-24 lowercase letters and digits); Azure wants it globally unique,
    so the comment above it says to pick your own."""
    return (prefix + re.sub(r"[^a-z0-9]", "", hint.lower()))[:24].ljust(3, "0")


def start(conv: Conversion, name_hint: str, location: str | None = None) -> None:
    if conv.stack:
        return
    name = stack_name(name_hint)
    conv.stack.update({
        "stack": name,
        "target": {"kind": "local", "resourceGroup": f"rg-{name}", "location": location or "westeurope"},
    })


def batch_account(conv: Conversion, name: str | None = None) -> dict[str, Any]:
    accounts = conv.stack.setdefault("batchAccounts", {})
    if ACCOUNT not in accounts:
        accounts[ACCOUNT] = {"name": name or account_name("ba", conv.stack["stack"])}
    elif name:
        accounts[ACCOUNT]["name"] = name
    account: dict[str, Any] = accounts[ACCOUNT]
    return account


def storage_account(conv: Conversion, logical: str = STORAGE, name: str | None = None) -> dict[str, Any]:
    accounts = conv.stack.setdefault("storageAccounts", {})
    if logical not in accounts:
        accounts[logical] = {"name": name or account_name("st", conv.stack["stack"]),
                             "sku": "Standard_LRS", "kind": "StorageV2"}
    elif name:
        accounts[logical]["name"] = name
    account: dict[str, Any] = accounts[logical]
    return account


def auto_storage(conv: Conversion, logical: str = STORAGE) -> None:
    storage_account(conv, logical)
    batch_account(conv)["autoStorage"] = logical


def add_container(conv: Conversion, name: str, logical: str = STORAGE) -> None:
    containers = storage_account(conv, logical).setdefault("containers", [])
    if name not in containers:
        containers.append(name)


def pools(conv: Conversion) -> dict[str, Any]:
    result: dict[str, Any] = batch_account(conv).setdefault("pools", {})
    return result


def jobs(conv: Conversion) -> dict[str, Any]:
    result: dict[str, Any] = batch_account(conv).setdefault("jobs", {})
    return result


def order(conv: Conversion) -> None:
    """Put the top-level sections in the order the example stacks use, pools before jobs."""
    wanted = ["stack", "target", "vars", "networks", "storageAccounts", "identities", "batchAccounts"]
    conv.stack = {k: conv.stack[k] for k in [*wanted, *conv.stack] if k in conv.stack}
    for account in conv.stack.get("batchAccounts", {}).values():
        keys = [k for k in account if k not in ("pools", "jobs")] + [k for k in ("pools", "jobs") if k in account]
        for k in keys:
            account[k] = account.pop(k)
