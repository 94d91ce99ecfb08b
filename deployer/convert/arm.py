"""ARM templates (and Bicep compiled to ARM JSON) holding Microsoft.Batch resources → a stack.

Storage accounts, their blob containers, virtual networks, Batch accounts and their pools map to
the stack's sections (the management API's pool properties are the stack's own names);
parameters come from defaults and parameter files; every other resource type is dropped.
"""

from __future__ import annotations

from typing import Any

from deployer.convert import skeleton
from deployer.convert.expressions import scope_for, strip_unresolved, unresolved
from deployer.convert.model import Conversion, Path

STORAGE_PROPS = ("minimumTlsVersion", "allowBlobPublicAccess", "accessTier", "allowSharedKeyAccess",
                 "publicNetworkAccess")
BATCH_PROPS = ("poolAllocationMode", "publicNetworkAccess", "allowedAuthenticationModes", "networkProfile",
               "keyVaultReference")


def is_arm(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("resources"), list | dict) and (
        "deploymentTemplate" in str(data.get("$schema", "")) or "contentVersion" in data)


Flat = list[tuple[int | str, dict[str, Any], str, str]]


def _resources(resources: Any, parent: tuple[str, str] | None = None) -> Flat:
    """Flatten nested resources into (index, resource, full type, full name)."""
    items = resources.items() if isinstance(resources, dict) else enumerate(resources or [])
    out = []
    for i, res in items:
        if not isinstance(res, dict):
            continue
        rtype, name = str(res.get("type", "")), res.get("name", "")
        if parent and "/" not in rtype:  # a nested child: "pools" inside a Batch account
            rtype = f"{parent[0]}/{rtype}"
            if isinstance(name, str) and not name.startswith("["):
                name = f"{parent[1]}/{name}"
        out.append((i, res, rtype, name))
        if res.get("resources"):
            out += [(f"{i}.resources.{j}", r, t, n) for j, r, t, n in _resources(res["resources"], (rtype, name))]
    return out


def convert(conv: Conversion, file: str, template: dict[str, Any], parameters: dict[str, Any]) -> None:
    scope = scope_for(template, parameters)
    storage_by_name: dict[str, str] = {}
    resources = _resources(template.get("resources"))
    order = {"Microsoft.Storage/storageAccounts": 0, "Microsoft.Network/networkSecurityGroups": 0,
             "Microsoft.Network/virtualNetworks": 1, "Microsoft.Batch/batchAccounts": 1}
    groups: dict[str, dict[str, Any]] = {}  # security group name (lower) → its stack form
    batch = [scope.resolve(r.get("name")) for _, r, t, _ in resources if t.lower() == "microsoft.batch/batchaccounts"]
    if batch and isinstance(batch[0], str):
        skeleton.start(conv, batch[0])
    for index, res, rtype, _raw_name in sorted(resources, key=lambda r: order.get(r[2], 2)):
        src = f"{file}: resources.{index}"
        res = scope.resolve(res)
        bad_name = unresolved(res.get("name"))
        if bad_name:
            conv.drop(src, (), f"the resource's name: {bad_name[0][1].why}")
            continue
        name = str(res.get("name", ""))
        props = res.get("properties") or {}
        for path, bad in unresolved(props):
            conv.drop(f"{src}.properties.{'.'.join(map(str, path))}", (), bad.why)
        props = strip_unresolved(props)
        skeleton.start(conv, name.split("/")[0], res.get("location") if isinstance(res.get("location"), str)
                       and res["location"].isalnum() else None)
        short = rtype.lower()
        if short == "microsoft.storage/storageaccounts":
            logical = _logical(name)
            acct = skeleton.storage_account(conv, logical, name)
            sku = (res.get("sku") or {}).get("name")
            if sku:
                acct["sku"] = sku
            if res.get("kind"):
                acct["kind"] = res["kind"]
            acct.update({k: props[k] for k in STORAGE_PROPS if k in props})
            storage_by_name[name.lower()] = logical
            _rest(conv, src, props, STORAGE_PROPS, ("storageAccounts", logical))
        elif short == "microsoft.storage/storageaccounts/blobservices/containers":
            account, container = name.split("/")[0], name.split("/")[-1]
            owner = storage_by_name.get(account.lower())
            if owner is None:
                conv.drop(src, (), f"a container of storage account {account!r}, which this template does not create")
                continue
            skeleton.add_container(conv, container, owner)
        elif short == "microsoft.network/networksecuritygroups":
            rules = [{"name": r.get("name"), **{k: v for k, v in (r.get("properties") or {}).items()
                                                 if k not in ("provisioningState",)}}
                     for r in props.get("securityRules") or [] if isinstance(r, dict)]
            groups[name.lower()] = {"name": name, "source": src, **({"rules": rules} if rules else {})}
            conv.came_from(("securityGroups", name), f"{src}.properties")
            _rest(conv, src, props, ("securityRules",), ())
        elif short == "microsoft.network/virtualnetworks":
            prefixes = (props.get("addressSpace") or {}).get("addressPrefixes") or []
            net: dict[str, Any] = {"name": name, "addressSpace": list(prefixes)}
            subnets = {}
            attached: dict[str, Any] = {}
            for sub in props.get("subnets") or []:
                sub_props = sub.get("properties") or {}
                entry: dict[str, Any] = {"addressPrefix": sub_props.get("addressPrefix")}
                group_ref = (sub_props.get("networkSecurityGroup") or {}).get("id")
                group = groups.get(str(group_ref).rsplit("/", 1)[-1].lower()) if group_ref else None
                if group is not None:
                    group["attached"] = True
                    logical_group = _logical(group["name"])
                    attached[logical_group] = group
                    entry["securityGroup"] = logical_group
                elif group_ref:
                    conv.drop(f"{src}.properties.subnets.{sub.get('name')}.networkSecurityGroup", (),
                              "the security group is not created by this template")
                subnets[_logical(sub.get("name", "subnet"))] = entry
            if subnets:
                net["subnets"] = subnets
            if attached:
                net["securityGroups"] = {k: {f: v for f, v in g.items() if f not in ("attached", "source")}
                                         for k, g in attached.items()}
            conv.stack.setdefault("networks", {})[_logical(name)] = net
            _rest(conv, src, props, ("addressSpace", "subnets"), ("networks", _logical(name)))
        elif short == "microsoft.batch/batchaccounts":
            acct = skeleton.batch_account(conv, name)
            auto = (props.get("autoStorage") or {}).get("storageAccountId")
            if auto:
                linked = storage_by_name.get(str(auto).rsplit("/", 1)[-1].lower())
                if linked:
                    acct["autoStorage"] = linked
                else:
                    conv.drop(f"{src}.properties.autoStorage", ("batchAccounts", "main"),
                              "the auto-storage account is not created by this template")
            acct.update({k: props[k] for k in BATCH_PROPS if k in props})
            if res.get("identity"):
                acct["identity"] = res["identity"]
            _rest(conv, src, props, (*BATCH_PROPS, "autoStorage"), ("batchAccounts", "main"))
        elif short == "microsoft.managedidentity/userassignedidentities":
            conv.stack.setdefault("identities", {})[_logical(name)] = {"name": name}
        elif short == "microsoft.batch/batchaccounts/pools":
            pool_id = name.split("/")[-1]
            address: Path = ("batchAccounts", "main", "pools", pool_id)
            conv.came_from(address, f"{src}.properties")
            pool = dict(props)
            if res.get("identity"):
                pool["identity"] = {"type": res["identity"].get("type"),
                                    "userAssignedIdentities": list(res["identity"].get("userAssignedIdentities") or {})}
            skeleton.pools(conv)[pool_id] = pool
        else:
            conv.drop(src, (), f"{rtype or 'this resource'} is not a resource kind the stack format holds")

    for group in groups.values():
        if not group.get("attached"):
            conv.drop(group["source"], (), "a security group no subnet of the template attaches: the stack "
                      "declares security groups under the network whose subnets use them")

def _rest(conv: Conversion, src: str, props: dict[str, Any], known: tuple[str, ...], address: Path) -> None:
    for key in props:
        if key not in known:
            conv.drop(f"{src}.properties.{key}", address, "no equivalent in the stack format")


def _logical(name: str) -> str:
    import re

    text = re.sub(r"[^A-Za-z0-9_-]", "-", name)[:64]
    return text if text[:1].isalpha() else f"r{text}"[:64]
