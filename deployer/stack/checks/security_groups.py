"""Network security groups: subnets attach groups of their own network, and a pool's subnet
group lets Batch manage its nodes.

The rules Batch needs (learn.microsoft.com/azure/batch/batch-virtual-network and
simplified-compute-node-communication):
- every pool: outbound TCP 443 to the BatchNodeManagement service tag (simplified node
  communication: the nodes call Batch);
- a pool with targetNodeCommunicationMode Classic also: inbound TCP 29876-29877 from
  BatchNodeManagement (Batch calls the nodes; Azure's default rules deny that inbound).
A rule set is evaluated as Azure does: the first rule by priority that matches the traffic
decides, then Azure's default rules (allow outbound to Internet, deny other inbound).
"""

from __future__ import annotations

from typing import Any

from deployer.stack.checks.view import Node, StackView, mapping, sequence

DOCS = "see https://learn.microsoft.com/azure/batch/batch-virtual-network"


def check(view: StackView) -> None:
    location = str(mapping(view.data.get("target")).get("location") or "")
    groups: dict[tuple[str, str], tuple[Node, list[dict[str, Any]]]] = {}
    for network in view.networks():
        declared = mapping(network.value.get("securityGroups"))
        for name, group in declared.items():
            groups[(network.name, name)] = (network, [r for r in sequence(mapping(group).get("rules"))
                                                      if isinstance(r, dict)])
        for subnet_name, subnet in mapping(network.value.get("subnets")).items():
            ref = mapping(subnet).get("securityGroup")
            if isinstance(ref, str) and ref not in declared:
                view.error((*network.path, "subnets", subnet_name, "securityGroup"),
                           f"security group {ref!r} is not one of network {network.name}'s securityGroups"
                           + (f" ({', '.join(sorted(declared))})" if declared else ""))
    for _account, pool in view.pools():
        subnet_ref = mapping(pool.value.get("networkConfiguration")).get("subnet")
        if not isinstance(subnet_ref, str) or "." not in subnet_ref:
            continue
        net, subnet = subnet_ref.split(".", 1)
        declared_net = mapping(mapping(view.data.get("networks")).get(net))
        group_name = mapping(mapping(declared_net.get("subnets")).get(subnet)).get("securityGroup")
        if not isinstance(group_name, str) or (net, group_name) not in groups:
            continue
        _, rules = groups[(net, group_name)]
        where = (*pool.path, "networkConfiguration", "subnet")
        if decide(rules, "Outbound", 443, "BatchNodeManagement", location) == "Deny":
            view.error(where, f"security group {group_name} of subnet {subnet_ref} denies outbound TCP 443 to "
                       "BatchNodeManagement: the pool's nodes cannot reach Batch and stay unusable; add an "
                       f"Outbound Allow rule for it at a lower priority number ({DOCS})")
        mode = str(pool.value.get("targetNodeCommunicationMode") or "").lower()
        if mode == "classic" and decide(rules, "Inbound", 29876, "BatchNodeManagement", location) != "Allow":
            view.error(where, f"security group {group_name} of subnet {subnet_ref} does not allow inbound TCP "
                       "29876-29877 from BatchNodeManagement, which a Classic-communication pool needs; add an "
                       f"Inbound Allow rule (or use targetNodeCommunicationMode: Simplified) ({DOCS})")


def decide(rules: list[dict[str, Any]], direction: str, port: int, tag: str, location: str) -> str:
    """Allow or Deny for TCP `port` between the nodes and service tag `tag`, in `direction`."""
    ordered = sorted((r for r in rules if str(r.get("direction", "")).lower() == direction.lower()
                      and isinstance(r.get("priority"), int)), key=lambda r: r["priority"])
    for rule in ordered:
        if str(rule.get("protocol", "*")).lower() not in ("tcp", "*"):
            continue
        if not _port_matches(str(rule.get("destinationPortRange", "*")), port):
            continue
        remote = rule.get("sourceAddressPrefix" if direction == "Inbound" else "destinationAddressPrefix", "*")
        if not _tag_matches(str(remote), tag, location):
            continue
        return "Allow" if str(rule.get("access", "")).lower() == "allow" else "Deny"
    return "Deny" if direction == "Inbound" else "Allow"  # Azure's default rules


def _port_matches(spec: str, port: int) -> bool:
    for part in spec.split(","):
        part = part.strip()
        if part == "*":
            return True
        low, _, high = part.partition("-")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _tag_matches(prefix: str, tag: str, location: str) -> bool:
    """Whether a rule's address prefix covers a service tag's addresses (public Azure addresses)."""
    p = prefix.strip().lower()
    return p in ("*", "internet", tag.lower(), f"{tag.lower()}.{location.lower()}")
