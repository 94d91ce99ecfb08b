"""Storage accounts: canonical forms and diff rules (management API, `Microsoft.Storage/storageAccounts`).

Canonical form, in the stack's names: `location`, `sku` (the SKU name), `kind`, `accessTier`,
`minimumTlsVersion`, `allowSharedKeyAccess`, `publicNetworkAccess`, `allowBlobPublicAccess` and
`tags` (without the deployer's markers). The account's location is the target's. Everything else
Azure returns (endpoints, encryption, network rules...) is not managed by the stack.

The name and the location force replacement — and replacing an account loses its data. The SKU
changes in place within a performance tier (Standard_LRS to Standard_GRS); between Standard and
Premium it cannot, and forces replacement. The kind upgrades in place to StorageV2 (from Storage
or BlobStorage); any other change of kind forces replacement. The rest changes in place.
`accessTier`, `allowSharedKeyAccess` and `publicNetworkAccess` are left as they are when the stack
does not set them (Azure picks them).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import split_reserved
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, apply_forms, properties
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE


def sku_change(before: Any, after: Any) -> Effect:
    """Within Standard or within Premium a SKU converts in place; across them it cannot."""
    tier = [str(v).split("_", 1)[0].casefold() for v in (before, after)]
    return U if tier[0] == tier[1] else R


def kind_change(before: Any, after: Any) -> Effect:
    """Storage and BlobStorage upgrade in place to StorageV2; nothing else converts."""
    upgrade = n.ci(after) == "storagev2" and n.ci(before) in ("storage", "blobstorage")
    return U if upgrade else R


FIELDS: tuple[Field, ...] = (
    Field("location", R, key=n.location),
    Field("sku", sku_change, key=n.ci, default="Standard_LRS"),
    Field("kind", kind_change, key=n.ci, default="StorageV2"),
    Field("accessTier", U, key=n.ci, unset="keep"),
    Field("minimumTlsVersion", U, key=n.ci, default="TLS1_2"),
    Field("allowSharedKeyAccess", U, default=True, unset="keep"),
    Field("publicNetworkAccess", U, key=n.ci, unset="keep"),
    Field("allowBlobPublicAccess", U, default=False),
    Field("tags", U, default={}),
)

MANAGED_PROPERTIES = ("accessTier", "minimumTlsVersion", "allowSharedKeyAccess", "publicNetworkAccess",
                      "allowBlobPublicAccess")
SERVER_SET = ("id", "name", "type", "etag", "systemData", "provisioningState", "creationTime", "primaryEndpoints",
              "secondaryEndpoints", "primaryLocation", "secondaryLocation", "statusOfPrimary", "statusOfSecondary",
              "keyCreationTime", "geoReplicationStats", "lastGeoFailoverTime", "accountMigrationInProgress",
              "isSkuConversionBlocked", "blobRestoreStatus", "storageAccountSkuConversionStatus")
#: what the stack format cannot express (extended location, identity, encryption, network rules,
#: HNS, SFTP, key and SAS policies, routing...): left as Azure has it
UNMANAGED = ("extendedLocation", "identity", "encryption", "networkAcls", "isHnsEnabled", "isSftpEnabled",
             "keyPolicy", "sasPolicy", "routingPreference", "supportsHttpsTrafficOnly", "defaultToOAuthAuthentication",
             "isLocalUserEnabled", "enableExtendedGroups", "allowSharedKeyAccessForServices",
             "geoPriorityReplicationStatus", "largeFileSharesState", "dnsEndpointType", "customDomain")
STACK_ONLY = ("name", "protect", "containers", "fileShares")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items() if k not in STACK_ONLY}
    body["location"] = context.location
    if isinstance(body.get("tags"), Mapping):
        body["tags"], _, _ = split_reserved(body["tags"])
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = properties(rest)
    body: dict[str, Any] = {k: props[k] for k in MANAGED_PROPERTIES if k in props}
    sku = rest.get("sku")
    body["sku"] = sku.get("name") if isinstance(sku, Mapping) else sku
    body["kind"] = rest.get("kind")
    body["location"] = rest.get("location")
    body["tags"], _, _ = split_reserved(rest.get("tags") or {})
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    name = rest.get("name") or "the account"
    return [f"all data in storage account {name} is lost: blobs, file shares, queues and tables"]


RULES = KindRules(
    kind=Kind.STORAGE_ACCOUNT,
    title="storage account",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
)
