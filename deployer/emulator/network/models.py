"""Microsoft.Network state and rules: virtual networks and their subnets.

A VNet is one document (kind "virtualNetwork", keyed by its ARM id, parent: the group) holding its
subnets, because that is how the network resource provider treats them: a subnet has no life of
its own — it is listed inside the VNet's body, a VNet PUT restates the whole set, and the VNet and
all its subnets share one etag (`W/"{guid}"`, a new guid on every write). So every rule about
address prefixes is checked on the whole VNet after any change:

- prefixes are CIDR networks (no host bits) — InvalidAddressPrefixFormat / NetcfgInvalidIPAddressPrefix;
- the VNet's address spaces do not overlap each other — VnetAddressSpacesOverlap;
- each subnet lies inside one address space — NetcfgSubnetRangeOutsideVnet;
- subnets do not overlap — NetcfgSubnetRangesOverlap.

Batch pools name subnets by id; `find_subnet(store, subnet_id)` resolves one.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any

from ..core import Doc, Store, etag, ids
from ..resources.models import list_in_scope, require_group, require_in_group, required_location
from . import errors

KIND = "virtualNetwork"
PROVIDER = "Microsoft.Network"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# 1-80 characters: word characters, '.', '-'; first and last a word character ('_' included).
_NAME = re.compile(r"^\w(?:[\w.-]{0,78}\w)?$")
# Set by the service, never taken from a request body.
_SERVER_SET = {"provisioningState", "resourceGuid", "subnets", "virtualNetworkPeerings", "etag", "id", "type"}
_SUBNET_SERVER_SET = {"provisioningState", "ipConfigurations", "purpose", "etag", "id", "type"}


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def vnet_id(sub: str, rg: str, name: str) -> str:
    return ids.arm_id(sub, rg, PROVIDER, "virtualNetworks", name)


def get_vnet(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    return store.get(KIND, ids.key_of(vnet_id(sub, rg, name)))


def require_vnet(store: Store, sub: str, rg: str, name: str) -> Doc:
    return require_in_group(store, get_vnet(store, sub, rg, name), sub, rg, lambda: errors.vnet_not_found(name, rg))


def list_vnets(store: Store, sub: str, rg: str | None = None) -> list[Doc]:
    return list_in_scope(store, KIND, sub, rg)


def find_subnet(store: Store, subnet_id: str) -> tuple[Doc, dict[str, Any]] | None:
    """(VNet document, subnet entry) for a subnet's ARM id, or None."""
    vnet_key, sep, name = ids.key_of(subnet_id).rpartition("/subnets/")
    doc = store.get(KIND, vnet_key) if sep else None
    subnet = _find(doc.body["subnets"], name) if doc else None
    return (doc, subnet) if doc and subnet else None


def _find(subnets: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((s for s in subnets if s["name"].lower() == name.lower()), None)


def _check_if_match(header: str | None, current: str | None) -> None:
    """If-Match names the etag the caller read (the VNet's, which its subnets share)."""
    if not etag.if_match_ok(header, current):
        raise errors.precondition_failed()


# -- address rules ------------------------------------------------------------------------------


def _network(prefix: Any, resource_id: str) -> Network:
    if not isinstance(prefix, str):
        raise errors.prefix_format(str(prefix), resource_id)
    try:
        return ipaddress.ip_network(prefix, strict=True)
    except ValueError:
        try:
            ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise errors.prefix_format(prefix, resource_id) from None
        raise errors.prefix_not_network(prefix, resource_id) from None


def _subnet_prefixes(subnet: dict[str, Any]) -> list[Any]:
    props = subnet.get("properties") or {}
    if props.get("addressPrefixes"):
        return list(props["addressPrefixes"])
    return [props["addressPrefix"]] if props.get("addressPrefix") else []


def _overlap(a: Network, b: Network) -> bool:
    return a.version == b.version and a.overlaps(b)  # type: ignore[arg-type]


def validate(body: dict[str, Any]) -> None:
    """Every address rule, on a whole VNet body (raises the network provider's 400s)."""
    vid, name = body["id"], body["name"]
    space_prefixes = (body["properties"].get("addressSpace") or {}).get("addressPrefixes") or []
    space = [_network(p, vid) for p in space_prefixes]
    for i, a in enumerate(space):
        for b in space[i + 1 :]:
            if _overlap(a, b):
                raise errors.address_spaces_overlap(name, str(a), str(b))
    seen: list[tuple[str, Network]] = []
    names: set[str] = set()
    for subnet in body["subnets"]:
        sname = subnet["name"]
        if sname.lower() in names:
            raise errors.duplicate_subnet(vid, sname)
        names.add(sname.lower())
        sid = f"{vid}/subnets/{sname}"
        prefixes = _subnet_prefixes(subnet)
        if not prefixes:
            raise errors.subnet_prefix_missing(sid)
        for net in (_network(p, sid) for p in prefixes):
            if not any(net.version == s.version and net.subnet_of(s) for s in space):  # type: ignore[arg-type]
                raise errors.subnet_outside_vnet(sname, name)
            for other, other_net in seen:
                if _overlap(net, other_net):
                    raise errors.subnets_overlap(sname, other, name)
            seen.append((sname, net))


def _check_references(store: Store, body: dict[str, Any]) -> None:
    """A subnet's networkSecurityGroup must exist (security_groups.py): InvalidResourceReference."""
    from .security_groups import get_by_id

    for subnet in body["subnets"]:
        ref = (subnet["properties"].get("networkSecurityGroup") or {})
        target = ref.get("id") if isinstance(ref, dict) else None
        if target is not None and (not isinstance(target, str) or get_by_id(store, target) is None):
            raise errors.invalid_reference(str(target), f"{body['id']}/subnets/{subnet['name']}")


# -- writes -------------------------------------------------------------------------------------


def _subnet_entry(name: str, value: Any) -> dict[str, Any]:
    if not valid_name(name):
        raise errors.invalid_name(name)
    props = (value or {}).get("properties") if isinstance(value, dict) else None
    if props is not None and not isinstance(props, dict):
        raise errors.invalid_request("Subnet properties must be an object.")
    return {"name": name, "properties": {k: v for k, v in (props or {}).items() if k not in _SUBNET_SERVER_SET}}


def put_body(payload: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A network resource's PUT body (a non-object one reads as empty), its location (required) and
    its properties (an object, empty when absent), checked as Azure does for VNets and NSGs alike."""
    if not isinstance(payload, dict):
        payload = {}
    location = required_location(payload)
    props = payload.get("properties") or {}
    if not isinstance(props, dict):
        raise errors.invalid_request("Properties must be an object.")
    return payload, location, props


def _save(store: Store, key: str, body: dict[str, Any], parent: str) -> Doc:
    validate(body)
    _check_references(store, body)
    body["etag"] = str(uuid.uuid4())
    return store.put(KIND, key, body, parent=parent)


def create_or_update_vnet(
    store: Store, sub: str, rg: str, name: str, payload: Any, if_match: str | None = None
) -> tuple[Doc, bool]:
    """PUT semantics: the body restates the VNet, its subnets included (absent subnets go)."""
    if not valid_name(name):
        raise errors.invalid_name(name)
    group = require_group(store, sub, rg)
    payload, location, props = put_body(payload)
    subnets = props.get("subnets") or []
    if not isinstance(subnets, list) or not all(isinstance(s, dict) and s.get("name") for s in subnets):
        raise errors.invalid_request("Every subnet needs a name.")
    rid = vnet_id(sub, group.body["name"], name)
    with store.transaction():
        cur = store.get(KIND, ids.key_of(rid))
        _check_if_match(if_match, cur.body["etag"] if cur else None)
        if cur is not None and cur.body["location"] != location:
            raise errors.location_conflict(name, cur.body["location"], location, rg)
        body: dict[str, Any] = {
            "id": cur.body["id"] if cur else rid,
            "name": cur.body["name"] if cur else name,
            "location": location,
            "tags": payload.get("tags") or None,
            "resourceGuid": cur.body["resourceGuid"] if cur else str(uuid.uuid4()),
            "properties": {k: v for k, v in props.items() if k not in _SERVER_SET},
            "subnets": [_subnet_entry(s["name"], s) for s in subnets],
        }
        doc = _save(store, ids.key_of(rid), body, group.key)
    return doc, cur is None


def _change(store: Store, sub: str, rg: str, name: str, change: Callable[[dict[str, Any]], None]) -> Doc:
    with store.transaction():
        cur = require_vnet(store, sub, rg, name)
        body = {**cur.body, "subnets": [dict(s) for s in cur.body["subnets"]]}
        change(body)
        return _save(store, cur.key, body, cur.parent)


def update_tags(store: Store, sub: str, rg: str, name: str, payload: Any) -> Doc:
    tags = payload.get("tags") if isinstance(payload, dict) else None
    return _change(store, sub, rg, name, lambda body: body.update(tags=tags or None))


def delete_vnet(store: Store, sub: str, rg: str, name: str, if_match: str | None = None) -> Doc | None:
    """Delete the VNet (and so its subnets); the deleted document, or None if there was none."""
    with store.transaction():
        cur = get_vnet(store, sub, rg, name)
        if cur is None:
            require_group(store, sub, rg)
            return None
        _check_if_match(if_match, cur.body["etag"])
        store.delete_prefix(cur.key + "/")
        store.delete(KIND, cur.key)
    return cur


def put_subnet(
    store: Store, sub: str, rg: str, vnet: str, name: str, payload: Any, if_match: str | None = None
) -> tuple[Doc, bool]:
    entry = _subnet_entry(name, payload)
    created = False

    def change(body: dict[str, Any]) -> None:
        nonlocal created
        current = _find(body["subnets"], name)
        _check_if_match(if_match, None if current is None else body["etag"])
        if current is None:
            created = True
            body["subnets"].append(entry)
        else:
            current["properties"] = entry["properties"]

    return _change(store, sub, rg, vnet, change), created


def delete_subnet(store: Store, sub: str, rg: str, vnet: str, name: str, if_match: str | None = None) -> bool:
    """Remove a subnet from its VNet; False if it was not there."""
    with store.transaction():
        cur = require_vnet(store, sub, rg, vnet)
        if _find(cur.body["subnets"], name) is None:
            return False
        _check_if_match(if_match, cur.body["etag"])
        kept = [s for s in cur.body["subnets"] if s["name"].lower() != name.lower()]
        _save(store, cur.key, {**cur.body, "subnets": kept}, cur.parent)
    return True


# -- rendering ----------------------------------------------------------------------------------


def render_subnet(doc: Doc, subnet: dict[str, Any], state: str = "Succeeded") -> dict[str, Any]:
    props = {
        "provisioningState": state,
        "delegations": [],
        "privateEndpointNetworkPolicies": "Disabled",
        "privateLinkServiceNetworkPolicies": "Enabled",
        **subnet["properties"],
    }
    return {
        "name": subnet["name"],
        "id": f"{doc.body['id']}/subnets/{subnet['name']}",
        "etag": etag.weak(doc.body["etag"]),
        "properties": props,
        "type": SUBNET_TYPE,
    }


def render_vnet(doc: Doc, state: str = "Succeeded") -> dict[str, Any]:
    """The VirtualNetwork resource as the network provider returns it, subnets embedded."""
    b = doc.body
    props: dict[str, Any] = {
        "provisioningState": state,
        "resourceGuid": b["resourceGuid"],
        "addressSpace": {"addressPrefixes": []},
        "privateEndpointVNetPolicies": "Disabled",
        **b["properties"],
        "subnets": [render_subnet(doc, s, state) for s in b["subnets"]],
        "virtualNetworkPeerings": [],
        "enableDdosProtection": bool(b["properties"].get("enableDdosProtection", False)),
    }
    out: dict[str, Any] = {
        "name": b["name"],
        "id": b["id"],
        "etag": etag.weak(b["etag"]),
        "type": VNET_TYPE,
        "location": b["location"],
    }
    if b.get("tags"):
        out["tags"] = b["tags"]
    out["properties"] = props
    return out


def subnet_of(doc: Doc, name: str) -> dict[str, Any] | None:
    return _find(doc.body["subnets"], name)
