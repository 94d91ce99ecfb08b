"""Network security groups: canonical forms and diff rules (`Microsoft.Network/networkSecurityGroups`).

Canonical form: `location`, `securityRules` (a map from rule name to its settings; Azure's
`defaultSecurityRules` are server-set and never compared) and `tags` (without the deployer's
markers). The location forces replacement; rules and tags change in place. Subnets attach a
group by its id (deployer.resources.network, `subnets.*.networkSecurityGroup`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import split_reserved
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, apply_forms, properties
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE
RULE_KEYS = ("description", "priority", "direction", "access", "protocol", "sourceAddressPrefix",
             "sourcePortRange", "destinationAddressPrefix", "destinationPortRange")

FIELDS: tuple[Field, ...] = (
    Field("location", R, key=n.location),
    Field("securityRules", U, default={}),
    Field("securityRules.*.direction", key=n.ci),
    Field("securityRules.*.access", key=n.ci),
    Field("securityRules.*.protocol", key=n.ci),
    Field("securityRules.*.sourceAddressPrefix", key=n.ci, default="*"),
    Field("securityRules.*.sourcePortRange", default="*"),
    Field("securityRules.*.destinationAddressPrefix", key=n.ci, default="*"),
    Field("securityRules.*.destinationPortRange", default="*"),
    Field("securityRules.*.description", default=""),
    Field("tags", U, default={}),
)
SERVER_SET = ("id", "name", "type", "etag", "provisioningState", "resourceGuid", "defaultSecurityRules",
              "subnets", "networkInterfaces", "flushConnection")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    rules = {str(r["name"]): {k: r[k] for k in RULE_KEYS if k in r}
             for r in spec.get("rules") or [] if isinstance(r, Mapping) and r.get("name")}
    tags, _, _ = split_reserved(spec.get("tags") or {})
    return apply_forms({"location": context.location, "securityRules": rules, "tags": tags}, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = properties(rest)
    rules = {}
    for rule in props.get("securityRules") or []:
        if isinstance(rule, Mapping) and rule.get("name"):
            body = properties(rule) or rule
            rules[str(rule["name"])] = {k: body[k] for k in RULE_KEYS if body.get(k) not in (None, "")}
    tags, _, _ = split_reserved(rest.get("tags") or {})
    return apply_forms({"location": rest.get("location"), "securityRules": rules, "tags": tags}, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["deleting a security group fails while a subnet or network interface uses it"]


RULES = KindRules(
    kind=Kind.SECURITY_GROUP,
    title="security group",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)
