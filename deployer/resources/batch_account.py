"""Batch accounts: canonical forms and diff rules (management API, `Microsoft.Batch/batchAccounts`).

Canonical form: `location`, `identity`, `tags` (without the deployer's markers) and the account's
`properties` flattened to the top. `autoStorage: data` in the stack becomes
`autoStorage.storageAccountId`, the id of that stack storage account (through the `DiffContext`);
the account's location is the target's.

Azure fixes `location`, `poolAllocationMode` and `keyVaultReference` at creation: changing them
replaces the account, and with it every pool, job and application in it. Auto-storage, allowed
authentication modes, network access, identity and tags change in place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import split_reserved
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, apply_forms, resolve_secrets
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE

_ACCESS = ("accountAccess", "nodeManagementAccess")

FIELDS: tuple[Field, ...] = (
    Field("location", R, key=n.location),
    Field("poolAllocationMode", R, key=n.ci, default="BatchService"),
    Field("keyVaultReference", R),
    Field("keyVaultReference.id", key=n.arm_id),
    Field("keyVaultReference.url", key=n.url),
    # Azure cannot unlink auto-storage: a stack that drops it leaves the link alone.
    Field("autoStorage", U, unset="keep"),
    Field("autoStorage.storageAccountId", key=n.arm_id),
    Field("autoStorage.authenticationMode", key=n.ci, default="StorageKeys"),
    Field("autoStorage.nodeIdentityReference.resourceId", key=n.arm_id),
    Field("autoStorage.lastKeySync", ignore=True),
    Field("allowedAuthenticationModes", U, key=n.ci, unordered=True, unset="keep"),
    Field("publicNetworkAccess", U, key=n.ci, default="Enabled"),
    Field("networkProfile", U, unset="keep"),
    *(row for access in _ACCESS for row in (
        Field(f"networkProfile.{access}.defaultAction", key=n.ci),
        Field(f"networkProfile.{access}.ipRules", unordered=True),
        Field(f"networkProfile.{access}.ipRules[].action", key=n.ci),
    )),
    Field("identity", U, default={}),
    Field("identity.type", key=n.ci, default="None"),
    Field("identity.userAssignedIdentities", form=n.id_set, key=n.arm_id, unordered=True),
    Field("identity.principalId", ignore=True),
    Field("identity.tenantId", ignore=True),
    Field("tags", U, default={}),
)

SERVER_SET = (
    "id", "name", "type", "etag", "systemData", "accountEndpoint", "nodeManagementEndpoint",
    "provisioningState", "privateEndpointConnections", "dedicatedCoreQuota", "lowPriorityCoreQuota",
    "dedicatedCoreQuotaPerVMFamily", "dedicatedCoreQuotaPerVMFamilyEnforced", "poolQuota",
    "activeJobAndJobScheduleQuota",
)
UNMANAGED = ("encryption",)
STACK_ONLY = ("name", "protect", "applications", "pools", "jobs", "jobSchedules")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items() if k not in STACK_ONLY}
    body = resolve_secrets(body, context)
    body["location"] = context.location
    auto = body.get("autoStorage")
    if isinstance(auto, str):
        auto = {"storageAccount": auto}
    if isinstance(auto, Mapping):
        settings = {k: v for k, v in auto.items() if k != "storageAccount"}
        account = Address(("storageAccounts", str(auto.get("storageAccount"))))
        settings["storageAccountId"] = context.resource_id(account) or n.Unknown(f"id of {account}")
        body["autoStorage"] = settings
    if isinstance(body.get("tags"), Mapping):
        body["tags"], _, _ = split_reserved(body["tags"])
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = rest.get("properties")
    body: dict[str, Any] = dict(props) if isinstance(props, Mapping) else {}
    for name in ("location", "identity"):
        if name in rest:
            body[name] = rest[name]
    body["tags"], _, _ = split_reserved(rest.get("tags") or {})
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["deleting the Batch account deletes every pool (with its nodes), job, job schedule and "
            "application package in it"]


RULES = KindRules(
    kind=Kind.BATCH_ACCOUNT,
    title="Batch account",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
)
