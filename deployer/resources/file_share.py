"""Azure file shares: canonical forms and diff rules (management API, `.../fileServices/default/shares`).

Canonical form, in the stack's names: `quotaGiB` (REST `shareQuota`), `protocol`
(`enabledProtocols`), `accessTier` and `rootSquash`. The quota, access tier and root squash change
in place and are left alone when the stack does not set them (Azure picks them); the protocol is
fixed at creation: changing it replaces the share, and its files are lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, apply_forms, properties
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE

FIELDS: tuple[Field, ...] = (
    Field("quotaGiB", U, unset="keep"),
    Field("protocol", R, key=n.ci, default="SMB"),
    Field("accessTier", U, key=n.ci, unset="keep"),
    Field("rootSquash", U, key=n.ci, unset="keep"),
)

#: stack name -> REST name
REST_NAMES = {"quotaGiB": "shareQuota", "protocol": "enabledProtocols", "accessTier": "accessTier",
              "rootSquash": "rootSquash"}
SERVER_SET = ("id", "name", "type", "etag", "systemData", "lastModifiedTime", "shareUsageBytes", "deleted",
              "deletedTime", "remainingRetentionDays", "version", "leaseStatus", "leaseState", "leaseDuration",
              "accessTierChangeTime", "accessTierStatus", "snapshotTime")
UNMANAGED = ("metadata", "signedIdentifiers")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body = {k: spec[k] for k in REST_NAMES if k in spec}
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = properties(rest)
    body = {name: props[rest_name] for name, rest_name in REST_NAMES.items() if rest_name in props}
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return [f"all files in share {rest.get('name') or ''} are lost".replace("  ", " ")]


RULES = KindRules(
    kind=Kind.FILE_SHARE,
    title="file share",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
)
