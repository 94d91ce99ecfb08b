"""Virtual networks: canonical forms and diff rules (management API, `Microsoft.Network/virtualNetworks`).

Canonical form, in the stack's names: `location`, `addressSpace` (the address prefixes, as a set),
`subnets` (a map from the subnet's Azure name to `addressPrefix`, `serviceEndpoints` as a set of
service names and `privateEndpointNetworkPolicies`) and `tags` (without the deployer's markers).
The location forces replacement; address space, subnets and tags change in place.
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

FIELDS: tuple[Field, ...] = (
    Field("location", R, key=n.location),
    Field("addressSpace", U, key=n.ci, unordered=True),
    Field("subnets", U, default={}),
    Field("subnets.*.addressPrefix", key=n.ci),
    Field("subnets.*.addressPrefixes", key=n.ci, unordered=True),
    Field("subnets.*.serviceEndpoints", key=n.ci, unordered=True),
    Field("subnets.*.privateEndpointNetworkPolicies", key=n.ci, default="Disabled"),
    Field("subnets.*.networkSecurityGroup", key=n.ci, unset="keep"),  # the attached group's id
    Field("tags", U, default={}),
)

SERVER_SET = ("id", "name", "type", "etag", "provisioningState", "resourceGuid", "systemData")
UNMANAGED = ("dhcpOptions", "enableDdosProtection", "virtualNetworkPeerings", "encryption", "bgpCommunities",
             "flowTimeoutInMinutes", "ipAllocations", "privateEndpointVNetPolicies", "extendedLocation")
STACK_ONLY = ("name", "protect")


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items() if k not in STACK_ONLY}
    body["location"] = context.location
    subnets = body.get("subnets")
    if isinstance(subnets, Mapping):
        body["subnets"] = {str(s.get("name") or logical): _desired_subnet(s, context, address)
                           for logical, s in subnets.items() if isinstance(s, Mapping)}
    if isinstance(body.get("tags"), Mapping):
        body["tags"], _, _ = split_reserved(body["tags"])
    return apply_forms(body, RULES.tree) or {}


def _desired_subnet(subnet: Mapping[str, Any], context: DiffContext, network: Address) -> dict[str, Any]:
    """A subnet's `securityGroup` (a logical name) becomes the group's id, `networkSecurityGroup`."""
    out = {k: v for k, v in subnet.items() if k not in ("name", "securityGroup")}
    if subnet.get("securityGroup"):
        group = network.child("securityGroups", str(subnet["securityGroup"]))
        out["networkSecurityGroup"] = context.resource_id(group) or n.Unknown(f"id of {group}")
    return out


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = properties(rest)
    body: dict[str, Any] = {"location": rest.get("location")}
    space = props.get("addressSpace")
    body["addressSpace"] = space.get("addressPrefixes") if isinstance(space, Mapping) else None
    subnets: dict[str, Any] = {}
    for subnet in props.get("subnets") or []:
        if not isinstance(subnet, Mapping) or not subnet.get("name"):
            continue
        sub = properties(subnet) or subnet
        entry = {k: sub.get(k) for k in ("addressPrefix", "addressPrefixes", "privateEndpointNetworkPolicies")}
        if isinstance(sub.get("networkSecurityGroup"), Mapping):
            entry["networkSecurityGroup"] = sub["networkSecurityGroup"].get("id")
        endpoints = sub.get("serviceEndpoints") or []
        entry["serviceEndpoints"] = [e.get("service") if isinstance(e, Mapping) else e for e in endpoints]
        subnets[str(subnet["name"])] = entry
    body["subnets"] = subnets
    body["tags"], _, _ = split_reserved(rest.get("tags") or {})
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["deleting a network fails while pools or other resources use its subnets"]


RULES = KindRules(
    kind=Kind.NETWORK,
    title="network",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
)
