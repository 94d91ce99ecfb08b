"""Batch applications: canonical forms and diff rules (management API, `.../applications`).

Canonical form: `displayName`, `allowUpdates`, `defaultVersion` and `versions`, the sorted list of
package versions. Azure's application JSON does not list its packages: a reader attaches them as
the `versions` annotation (`{"_deployer": {"versions": [...]}}`, one list call per application);
without it the versions are not compared. Everything changes in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, annotation, apply_forms
from deployer.stack.model import Address, Kind

U = Effect.UPDATE

FIELDS: tuple[Field, ...] = (
    Field("displayName", U),
    Field("allowUpdates", U, default=True),
    Field("defaultVersion", U),
    Field("versions", U, unordered=True),
)

SERVER_SET = ("id", "name", "type", "etag", "systemData")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: spec[k] for k in ("displayName", "allowUpdates", "defaultVersion") if k in spec}
    versions = spec.get("versions")
    if isinstance(versions, Mapping):
        body["versions"] = sorted(str(v) for v in versions)
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = rest.get("properties")
    body: dict[str, Any] = dict(props) if isinstance(props, Mapping) else {}
    versions = annotation(rest, "versions")
    body["versions"] = sorted(str(v) for v in versions) if isinstance(versions, list) else n.NotRead("versions")
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["its application packages are deleted; pools that reference it fail to start new nodes"]


RULES = KindRules(
    kind=Kind.APPLICATION,
    title="application",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)
