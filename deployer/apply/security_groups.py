"""The REST body of a network security group (deployer.resources.security_group), with the
deployer's ownership tags."""

from __future__ import annotations

from typing import Any

from deployer.stack.model import DesiredResource, Kind


def group_body(writers: Any, resource: DesiredResource) -> dict[str, Any]:
    body, recorded = writers.body(resource)
    rules = [{"name": name, "properties": {"sourceAddressPrefix": "*", "sourcePortRange": "*",
                                           "destinationAddressPrefix": "*", "destinationPortRange": "*", **rule}}
             for name, rule in (body.get("securityRules") or {}).items()]
    rest = {"location": body.get("location"), "tags": body.get("tags") or {}, "properties": {"securityRules": rules}}
    return writers.marked(Kind.SECURITY_GROUP, rest, recorded)
