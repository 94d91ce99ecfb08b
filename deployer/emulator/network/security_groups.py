"""Microsoft.Network networkSecurityGroups: state and rules (the model beside the VNets').

One document per group (kind "networkSecurityGroup", keyed by its ARM id, parent: the group),
holding its `securityRules` (a PUT restates them all). Checked as the provider does:
- each rule: priority 100-4096, direction Inbound|Outbound, access Allow|Deny, protocol
  Tcp|Udp|Icmp|Esp|Ah|* — SecurityRuleInvalid<Field>; priorities unique per direction —
  SecurityRuleParameterPriorityAlreadyTaken;
- a group a subnet names (`networkSecurityGroup.id`) must exist — InvalidResourceReference
  (checked by the VNet model on every VNet write);
- a group in use by a subnet cannot be deleted — InUseNetworkSecurityGroupCannotBeDeleted.
Rendered with Azure's six `defaultSecurityRules` and the `subnets` that use the group.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..core import Doc, Store, etag, ids
from ..resources.models import (
    list_in_scope,
    require_group,
    require_in_group,
    subscription_key,
)
from . import errors
from .models import put_body

KIND = "networkSecurityGroup"
PROVIDER = "Microsoft.Network"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules"
DIRECTIONS = ("Inbound", "Outbound")
ACCESS = ("Allow", "Deny")
PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "Ah", "*")
_RULE_SERVER_SET = {"provisioningState", "etag", "id", "type"}
# name, priority, direction, access, source, destination (all ports, any protocol)
_DEFAULTS = (
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
)


def nsg_id(sub: str, rg: str, name: str) -> str:
    return ids.arm_id(sub, rg, PROVIDER, "networkSecurityGroups", name)


def get_nsg(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    return store.get(KIND, ids.key_of(nsg_id(sub, rg, name)))


def get_by_id(store: Store, resource_id: str) -> Doc | None:
    return store.get(KIND, ids.key_of(resource_id))


def require_nsg(store: Store, sub: str, rg: str, name: str) -> Doc:
    return require_in_group(store, get_nsg(store, sub, rg, name), sub, rg, lambda: errors.nsg_not_found(name, rg))


def list_nsgs(store: Store, sub: str, rg: str | None = None) -> list[Doc]:
    return list_in_scope(store, KIND, sub, rg)


def _rules(rid: str, rules: Any) -> list[dict[str, Any]]:
    if not isinstance(rules, list) or not all(isinstance(r, dict) and r.get("name") for r in rules):
        raise errors.invalid_request("Every security rule needs a name.")
    out: list[dict[str, Any]] = []
    taken: dict[tuple[str, int], str] = {}
    for rule in rules:
        name = str(rule["name"])
        props = {k: v for k, v in (rule.get("properties") or {}).items() if k not in _RULE_SERVER_SET}
        where = f"{rid}/securityRules/{name}"
        priority = props.get("priority")
        if not isinstance(priority, int) or isinstance(priority, bool) or not 100 <= priority <= 4096:
            raise errors.rule_invalid(where, "priority", priority, "an integer from 100 to 4096")
        for field, allowed in (("direction", DIRECTIONS), ("access", ACCESS), ("protocol", PROTOCOLS)):
            value = props.get(field)
            match = next((a for a in allowed if isinstance(value, str) and a.lower() == value.lower()), None)
            if match is None:
                raise errors.rule_invalid(where, field, value, ", ".join(allowed))
            props[field] = match
        key = (props["direction"], priority)
        if key in taken:
            raise errors.rule_priority_taken(where, priority, props["direction"], taken[key])
        taken[key] = name
        out.append({"name": name, "properties": props})
    return out


def create_or_update(store: Store, sub: str, rg: str, name: str, payload: Any) -> tuple[Doc, bool]:
    group = require_group(store, sub, rg)
    payload, location, props = put_body(payload)
    rid = nsg_id(sub, group.body["name"], name)
    with store.transaction():
        cur = store.get(KIND, ids.key_of(rid))
        if cur is not None and cur.body["location"] != location:
            raise errors.location_conflict(name, cur.body["location"], location, rg)
        body = {
            "id": cur.body["id"] if cur else rid,
            "name": cur.body["name"] if cur else name,
            "location": location,
            "tags": payload.get("tags") or None,
            "resourceGuid": cur.body["resourceGuid"] if cur else str(uuid.uuid4()),
            "securityRules": _rules(rid, props.get("securityRules") or []),
            "etag": str(uuid.uuid4()),
        }
        doc = store.put(KIND, ids.key_of(rid), body, parent=group.key)
    return doc, cur is None


def users(store: Store, doc: Doc) -> list[str]:
    """The subnets (ids) that name this group."""
    from .models import KIND as VNET_KIND

    sub = doc.body["id"].split("/")[2]
    found = []
    for vnet in store.list(VNET_KIND, prefix=subscription_key(sub) + "/"):
        for subnet in vnet.body["subnets"]:
            ref = (subnet["properties"].get("networkSecurityGroup") or {}).get("id")
            if isinstance(ref, str) and ref.lower() == doc.body["id"].lower():
                found.append(f"{vnet.body['id']}/subnets/{subnet['name']}")
    return found


def delete(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    with store.transaction():
        cur = get_nsg(store, sub, rg, name)
        if cur is None:
            require_group(store, sub, rg)
            return None
        in_use = users(store, cur)
        if in_use:
            raise errors.nsg_in_use(cur.body["id"], in_use)
        store.delete(KIND, cur.key)
    return cur


def _render_rule(doc: Doc, rule: dict[str, Any], default: bool = False) -> dict[str, Any]:
    section = "defaultSecurityRules" if default else "securityRules"
    return {"name": rule["name"], "id": f"{doc.body['id']}/{section}/{rule['name']}",
            "etag": etag.weak(doc.body["etag"]), "type": RULE_TYPE,
            "properties": {"provisioningState": "Succeeded", **rule["properties"]}}


def render(store: Store, doc: Doc, state: str = "Succeeded") -> dict[str, Any]:
    b = doc.body
    defaults = [{"name": n, "properties": {"description": "", "protocol": "*", "sourcePortRange": "*",
                                           "destinationPortRange": "*", "sourceAddressPrefix": src,
                                           "destinationAddressPrefix": dst, "access": access,
                                           "priority": priority, "direction": direction}}
                for n, priority, direction, access, src, dst in _DEFAULTS]
    out: dict[str, Any] = {"name": b["name"], "id": b["id"], "etag": etag.weak(b["etag"]), "type": NSG_TYPE,
                           "location": b["location"]}
    if b.get("tags"):
        out["tags"] = b["tags"]
    out["properties"] = {
        "provisioningState": state,
        "resourceGuid": b["resourceGuid"],
        "securityRules": [_render_rule(doc, r) for r in b["securityRules"]],
        "defaultSecurityRules": [_render_rule(doc, r, default=True) for r in defaults],
        "subnets": [{"id": s} for s in users(store, doc)],
    }
    return out
