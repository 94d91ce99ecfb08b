"""Blob containers: canonical forms and diff rules (management API, `.../blobServices/default/containers`).

Canonical form: `publicAccess` and `metadata` (a map). Both change in place; the name is the
identity (a new name is a new container). Deleting or replacing a container loses its blobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import split_reserved
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, apply_forms, properties
from deployer.stack.model import Address, Kind

U = Effect.UPDATE

FIELDS: tuple[Field, ...] = (
    Field("publicAccess", U, key=n.ci, default="None"),
    Field("metadata", U, form=n.name_value_map, default={}),
)

SERVER_SET = ("id", "name", "type", "etag", "systemData", "lastModifiedTime", "leaseStatus", "leaseState",
              "leaseDuration", "hasImmutabilityPolicy", "hasLegalHold", "deleted", "deletedTime",
              "remainingRetentionDays", "version", "immutableStorageWithVersioning")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body = {k: spec[k] for k in ("publicAccess", "metadata") if k in spec}
    if isinstance(body.get("metadata"), Mapping):
        body["metadata"], _, _ = split_reserved(body["metadata"])
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = properties(rest) or rest
    body = {k: props[k] for k in ("publicAccess", "metadata") if k in props}
    if "metadata" in body:
        body["metadata"], _, _ = split_reserved(body["metadata"] or {})
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return [f"all blobs in container {rest.get('name') or ''} are lost".replace("  ", " ")]


RULES = KindRules(
    kind=Kind.CONTAINER,
    title="container",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)
