"""Microsoft.Storage state and rules: storage accounts, blob containers, file shares.

Store layout (keys follow core.ids: the ARM id lower-cased; parents make deletes cascade):

    storageAccount  key_of(account id)                                     parent: group key
    blobContainer   {account key}/blobservices/default/containers/{name}   parent: account key
    fileShare       {account key}/fileservices/default/shares/{name}       parent: account key
    blob, blobBlock, lease   under the container's key (deployer.emulator.blob.models)

so deleting an account (or its resource group) is one `delete_prefix`. Containers are the same
documents for the management API (`blob_containers.*`) and the blob service (`/blob/{account}/...`).

Account names are global across subscriptions, as in Azure; `find_account(store, name)` is how the
blob service, and Batch (auto-storage, application packages), reach an account from its name:

    acct = find_account(store, "stdata")           # Doc | None
    key = account_key(acct)                        # key1's value (base64 of 64 random bytes)
    url = blob_endpoint(req.base_url, "stdata")    # https://{host}/blob/stdata/
    container = ensure_container(store, acct, "app-packages")

Endpoints are computed from the request's host when rendered, never stored.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from typing import Any

from ..core import Doc, Store, clock, etag, ids
from ..resources.models import list_in_scope, require_group, require_in_group, required_location
from . import errors, leases

ACCOUNT_KIND = "storageAccount"
CONTAINER_KIND = "blobContainer"
SHARE_KIND = "fileShare"

PROVIDER = "Microsoft.Storage"
ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"
CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
SHARE_TYPE = "Microsoft.Storage/storageAccounts/fileServices/shares"

KINDS = ("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage")
SKUS = (
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS",
    "Premium_LRS", "Premium_ZRS", "StandardV2_LRS", "StandardV2_GRS", "StandardV2_ZRS", "StandardV2_GZRS",
    "PremiumV2_LRS", "PremiumV2_ZRS",
)  # fmt: skip
ACCESS_TIERS = ("Hot", "Cool", "Cold", "Premium")
TLS_VERSIONS = ("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3")
KEY_NAMES = ("key1", "key2")

# Regions a geo-redundant account replicates to (Azure's region pairs; unknown regions get none).
_PAIRS = {
    "eastus": "westus", "westus": "eastus", "eastus2": "centralus", "centralus": "eastus2",
    "westus2": "westcentralus", "westcentralus": "westus2", "westus3": "eastus",
    "northcentralus": "southcentralus", "southcentralus": "northcentralus",
    "northeurope": "westeurope", "westeurope": "northeurope", "uksouth": "ukwest", "ukwest": "uksouth",
    "francecentral": "francesouth", "germanywestcentral": "germanynorth", "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest", "norwayeast": "norwaywest", "eastasia": "southeastasia",
    "southeastasia": "eastasia", "japaneast": "japanwest", "japanwest": "japaneast",
    "australiaeast": "australiasoutheast", "australiasoutheast": "australiaeast", "centralindia": "southindia",
    "canadacentral": "canadaeast", "canadaeast": "canadacentral", "brazilsouth": "southcentralus",
    "koreacentral": "koreasouth",
}  # fmt: skip

# Fields Azure sets and a request cannot: dropped from PUT / PATCH bodies.
_SERVER_SET = {
    "provisioningState", "creationTime", "primaryEndpoints", "primaryLocation", "statusOfPrimary",
    "secondaryLocation", "statusOfSecondary", "secondaryEndpoints", "keyCreationTime", "lastGeoFailoverTime",
    "privateEndpointConnections", "geoReplicationStats", "blobRestoreStatus", "accountMigrationInProgress",
}  # fmt: skip

_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
# Containers and shares: 3-63 lower-case letters, digits and single hyphens, no hyphen at either end.
_CHILD_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")


# -- endpoints ----------------------------------------------------------------------------------


def blob_endpoint(base_url: str, name: str) -> str:
    """The account's blob endpoint on this emulator: `{scheme}://{host}/blob/{name}/`."""
    return f"{base_url.rstrip('/')}/blob/{name}/"


def file_endpoint(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/file/{name}/"


# -- accounts -----------------------------------------------------------------------------------


def account_id(sub: str, rg: str, name: str) -> str:
    return ids.arm_id(sub, rg, PROVIDER, "storageAccounts", name)


def valid_account_name(name: str) -> bool:
    return bool(_ACCOUNT_NAME.match(name))


def find_account(store: Store, name: str) -> Doc | None:
    """The account with this name in any subscription and group (names are global), or None."""
    for doc in store.list(ACCOUNT_KIND):
        if doc.body["name"] == name:
            return doc
    return None


def account_by_id(store: Store, resource_id: str) -> Doc | None:
    """The account an ARM id names (e.g. a Batch account's autoStorage.storageAccountId), or None."""
    return store.get(ACCOUNT_KIND, ids.key_of(resource_id))


def get_account(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    return store.get(ACCOUNT_KIND, ids.key_of(account_id(sub, rg, name)))


def require_account(store: Store, sub: str, rg: str, name: str) -> Doc:
    """The account, or 404 (ResourceGroupNotFound when the group itself is missing)."""
    return require_in_group(
        store, get_account(store, sub, rg, name), sub, rg, lambda: errors.account_not_found(name, rg)
    )


def require_parent(store: Store, sub: str, rg: str, name: str) -> Doc:
    """The account a nested resource (container, share) lives in, or ARM's ParentResourceNotFound."""
    return require_in_group(store, get_account(store, sub, rg, name), sub, rg, lambda: errors.parent_not_found(name))


def account_key(doc: Doc, key_name: str = "key1") -> str:
    """The value of one of the account's two keys (base64, as Azure generates them)."""
    for key in doc.body["keys"]:
        if key["keyName"] == key_name:
            return str(key["value"])
    raise KeyError(key_name)


def account_keys(doc: Doc) -> list[str]:
    return [str(k["value"]) for k in doc.body["keys"]]


def render_keys(doc: Doc) -> dict[str, Any]:
    return {
        "keys": [
            {"keyName": k["keyName"], "value": k["value"], "permissions": "Full", "creationTime": k["creationTime"]}
            for k in doc.body["keys"]
        ]
    }


def _new_key(name: str) -> dict[str, str]:
    return {"keyName": name, "value": base64.b64encode(os.urandom(64)).decode(), "creationTime": clock.iso()}


def check_name(store: Store, name: str) -> dict[str, Any]:
    """checkNameAvailability's answer."""
    if not valid_account_name(name):
        return {"nameAvailable": False, "reason": "AccountNameInvalid", "message": errors.name_invalid_message(name)}
    if find_account(store, name) is not None:
        return {"nameAvailable": False, "reason": "AlreadyExists", "message": errors.name_taken_message(name)}
    return {"nameAvailable": True}


def _sku(value: Any) -> dict[str, str]:
    name = value.get("name") if isinstance(value, dict) else None
    if name not in SKUS:
        raise errors.invalid_values("sku.name")
    return {"name": name, "tier": "Premium" if name.startswith("Premium") else "Standard"}


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.invalid_values("tags")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _clean_properties(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.invalid_values("properties")
    props = {k: v for k, v in value.items() if k not in _SERVER_SET and v is not None}
    if "accessTier" in props and props["accessTier"] not in ACCESS_TIERS:
        raise errors.invalid_values("accessTier")
    if "minimumTlsVersion" in props and props["minimumTlsVersion"] not in TLS_VERSIONS:
        raise errors.invalid_values("minimumTlsVersion")
    return props


def _encryption(value: Any, now: str) -> dict[str, Any]:
    """Encryption as Azure reports it: blob and file always on, each with lastEnabledTime."""
    enc: dict[str, Any] = dict(value) if isinstance(value, dict) else {}
    services = dict(enc.get("services") or {})
    for svc in ("blob", "file"):
        entry = {"keyType": "Account", "enabled": True, **(services.get(svc) or {})}
        entry.setdefault("lastEnabledTime", now)
        services[svc] = entry
    enc["services"] = services
    enc.setdefault("keySource", "Microsoft.Storage")
    return enc


def _defaults(kind: str, sku: dict[str, str], location: str, now: str) -> dict[str, Any]:
    """What Azure fills in on a new account (StorageAccountCreate.json / GetProperties.json)."""
    props: dict[str, Any] = {
        "keyCreationTime": {"key1": now, "key2": now},
        "privateEndpointConnections": [],
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"},
        "supportsHttpsTrafficOnly": True,
        "encryption": _encryption(None, now),
        "provisioningState": "Succeeded",
        "creationTime": now,
        "primaryLocation": location,
        "statusOfPrimary": "available",
    }
    if kind in ("StorageV2", "BlobStorage"):
        props["accessTier"] = "Premium" if sku["tier"] == "Premium" else "Hot"
    return props


def _geo(props: dict[str, Any], sku: dict[str, str], location: str) -> None:
    """Secondary location for geo-redundant SKUs (GRS, RAGRS, GZRS, RAGZRS)."""
    geo = "GRS" in sku["name"] or "GZRS" in sku["name"]
    pair = _PAIRS.get(location)
    if geo and pair:
        props["secondaryLocation"], props["statusOfSecondary"] = pair, "available"
    else:
        props.pop("secondaryLocation", None)
        props.pop("statusOfSecondary", None)


def create_or_update_account(store: Store, sub: str, rg: str, name: str, payload: Any) -> tuple[Doc, bool]:
    """PUT semantics: a new account, or the existing one updated with what the body says."""
    if not valid_account_name(name):
        raise errors.account_name_invalid(name)
    group = require_group(store, sub, rg)
    if not isinstance(payload, dict):
        payload = {}
    location = required_location(payload)
    sku = _sku(payload.get("sku"))
    kind = payload.get("kind")
    if kind not in KINDS:
        raise errors.invalid_values("kind")
    props = _clean_properties(payload.get("properties"))
    rid = account_id(sub, group.body["name"], name)
    with store.transaction():
        other = find_account(store, name)
        if other is not None and other.key != ids.key_of(rid):
            same_sub = ids.parse_arm_id(other.body["id"]).get("subscription", "").lower() == sub.lower()
            raise errors.account_in_another_group(name) if same_sub else errors.account_taken(name)
        now = clock.iso()
        if other is None:
            body: dict[str, Any] = {
                "id": rid,
                "name": name,
                "keys": [_new_key(k) for k in KEY_NAMES],
                "properties": _defaults(kind, sku, location, now),
            }
            for key in body["keys"]:
                key["creationTime"] = now
        else:
            body = dict(other.body)
            if body["location"] != location:
                raise errors.location_conflict(name, body["location"], location, rg)
        merged = {**body["properties"], **props}
        if "encryption" in props:
            merged["encryption"] = _encryption(props["encryption"], now)
        _geo(merged, sku, location)
        body.update(location=location, sku=sku, kind=kind, tags=_tags(payload.get("tags")), properties=merged)
        for extra in ("identity", "extendedLocation"):
            if payload.get(extra) is not None:
                body[extra] = payload[extra]
        doc = store.put(ACCOUNT_KIND, ids.key_of(rid), body, parent=group.key)
    return doc, other is None


def update_account(store: Store, sub: str, rg: str, name: str, payload: Any) -> Doc:
    """PATCH semantics: sku, kind, tags, identity and the properties named replace stored ones."""
    if not isinstance(payload, dict):
        payload = {}
    with store.transaction():
        cur = require_account(store, sub, rg, name)
        body = dict(cur.body)
        if payload.get("sku") is not None:
            body["sku"] = _sku(payload["sku"])
        if payload.get("kind") is not None:
            if payload["kind"] not in KINDS:
                raise errors.invalid_values("kind")
            body["kind"] = payload["kind"]
        if "tags" in payload:
            body["tags"] = _tags(payload["tags"])
        if payload.get("identity") is not None:
            body["identity"] = payload["identity"]
        props = _clean_properties(payload.get("properties"))
        merged = {**body["properties"], **props}
        if "encryption" in props:
            merged["encryption"] = _encryption(props["encryption"], clock.iso())
        _geo(merged, body["sku"], body["location"])
        body["properties"] = merged
        return store.put(ACCOUNT_KIND, cur.key, body, parent=cur.parent)


def regenerate_key(store: Store, sub: str, rg: str, name: str, key_name: Any) -> Doc:
    if key_name not in KEY_NAMES:
        raise errors.invalid_values("keyName")
    with store.transaction():
        cur = require_account(store, sub, rg, name)
        body = dict(cur.body)
        body["keys"] = [_new_key(k["keyName"]) if k["keyName"] == key_name else k for k in body["keys"]]
        created = {k["keyName"]: k["creationTime"] for k in body["keys"]}
        body["properties"] = {**body["properties"], "keyCreationTime": created}
        return store.put(ACCOUNT_KIND, cur.key, body, parent=cur.parent)


def delete_account(store: Store, sub: str, rg: str, name: str) -> bool:
    """Delete the account with its containers, shares, blobs and leases; False if it did not exist."""
    with store.transaction():
        cur = get_account(store, sub, rg, name)
        if cur is None:
            require_group(store, sub, rg)
            return False
        store.delete_prefix(cur.key + "/")
        store.delete(ACCOUNT_KIND, cur.key)
    return True


def list_accounts(store: Store, sub: str, rg: str | None = None) -> list[Doc]:
    return list_in_scope(store, ACCOUNT_KIND, sub, rg)


def render_account(doc: Doc, base_url: str) -> dict[str, Any]:
    """The StorageAccount resource as the resource provider returns it (GetProperties shape)."""
    b = doc.body
    props = dict(b["properties"])
    endpoints: dict[str, str] = {}
    if b["kind"] != "FileStorage":
        endpoints["blob"] = blob_endpoint(base_url, b["name"])
    if b["kind"] != "BlockBlobStorage":
        endpoints["file"] = file_endpoint(base_url, b["name"])
    props["primaryEndpoints"] = endpoints
    out: dict[str, Any] = {
        "sku": b["sku"],
        "kind": b["kind"],
        "id": b["id"],
        "name": b["name"],
        "type": ACCOUNT_TYPE,
        "location": b["location"],
        "tags": b.get("tags") or {},
        "properties": props,
    }
    for extra in ("identity", "extendedLocation"):
        if b.get(extra) is not None:
            out[extra] = b[extra]
    return out


# -- blob containers ----------------------------------------------------------------------------


def child_name_problem(name: str) -> str | None:
    """Why a container or share name is invalid (Azure's message), or None."""
    if not 3 <= len(name) <= 63:
        return errors.NAME_LENGTH
    if not _CHILD_NAME.match(name):
        return errors.NAME_CHARS
    return None


def container_key(account: Doc | str, name: str) -> str:
    base = account if isinstance(account, str) else account.key
    return f"{base}/blobservices/default/containers/{name.lower()}"


def get_container(store: Store, account: Doc | str, name: str) -> Doc | None:
    return store.get(CONTAINER_KIND, container_key(account, name))


def list_containers(store: Store, account: Doc | str, prefix: str = "") -> list[Doc]:
    base = account if isinstance(account, str) else account.key
    docs = store.list(CONTAINER_KIND, parent=base)
    return [d for d in docs if d.body["name"].startswith(prefix)] if prefix else docs


def _container_body(name: str, metadata: dict[str, str] | None, public_access: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "metadata": dict(metadata or {}),
        "publicAccess": public_access,  # None | "blob" | "container" (the data plane's spelling)
        "defaultEncryptionScope": "$account-encryption-key",
        "denyEncryptionScopeOverride": False,
    }


def create_container(
    store: Store, account: Doc, name: str, *, metadata: dict[str, str] | None = None, public_access: str | None = None
) -> tuple[Doc, bool]:
    """Create a container (its name already validated): (doc, True), or (the existing one, False)."""
    with store.transaction():
        cur = get_container(store, account, name)
        if cur is not None:
            return cur, False
        body = _container_body(name, metadata, public_access)
        return store.put(CONTAINER_KIND, container_key(account, name), body, parent=account.key), True


def ensure_container(store: Store, account: Doc, name: str) -> Doc:
    """The container, created if missing (for services that store blobs, e.g. Batch packages)."""
    return create_container(store, account, name)[0]


def update_container(store: Store, doc: Doc, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Doc:
    new = store.update(CONTAINER_KIND, doc.key, change)
    if new is None:
        raise errors.container_not_found()
    return new


def delete_container(store: Store, account: Doc | str, name: str) -> bool:
    """Delete a container with its blobs, blocks and leases; False if it did not exist."""
    key = container_key(account, name)
    with store.transaction():
        if store.get(CONTAINER_KIND, key) is None:
            return False
        store.delete_prefix(key + "/")
        store.delete(CONTAINER_KIND, key)
        leases.drop(store, key)
    return True


_ARM_ACCESS = {None: "None", "blob": "Blob", "container": "Container"}


def render_container(account: Doc, doc: Doc, lease: leases.Lease) -> dict[str, Any]:
    """BlobContainer as the resource provider returns it."""
    b = doc.body
    props: dict[str, Any] = {
        "deleted": False,
        "remainingRetentionDays": 0,
        "defaultEncryptionScope": b["defaultEncryptionScope"],
        "denyEncryptionScopeOverride": b["denyEncryptionScopeOverride"],
        "publicAccess": _ARM_ACCESS.get(b.get("publicAccess"), "None"),
        "leaseStatus": lease.status.capitalize(),
        "leaseState": lease.state.capitalize(),
        "lastModifiedTime": clock.iso(doc.updated, digits=0),
        "hasImmutabilityPolicy": False,
        "hasLegalHold": False,
    }
    if lease.duration_kind:
        props["leaseDuration"] = lease.duration_kind.capitalize()
    if b.get("metadata"):
        props["metadata"] = b["metadata"]
    return {
        "id": f"{account.body['id']}/blobServices/default/containers/{b['name']}",
        "name": b["name"],
        "type": CONTAINER_TYPE,
        "etag": etag.quoted(doc.etag),
        "properties": props,
    }


def arm_public_access(value: Any) -> str | None:
    """The management API's publicAccess (None | Blob | Container) in the data plane's spelling."""
    if value is None:
        return None
    low = str(value).lower()
    if low not in ("none", "blob", "container"):
        raise errors.invalid_values("publicAccess")
    return None if low == "none" else low


# -- file shares --------------------------------------------------------------------------------

SHARE_PROTOCOLS = ("SMB", "NFS")
ROOT_SQUASH = ("NoRootSquash", "RootSquash", "AllSquash")
SHARE_TIERS = ("TransactionOptimized", "Hot", "Cool", "Premium")
DEFAULT_QUOTA = 5120
MAX_QUOTA = 102400


def share_key(account: Doc | str, name: str) -> str:
    base = account if isinstance(account, str) else account.key
    return f"{base}/fileservices/default/shares/{name.lower()}"


def get_share(store: Store, account: Doc, name: str) -> Doc | None:
    return store.get(SHARE_KIND, share_key(account, name))


def list_shares(store: Store, account: Doc) -> list[Doc]:
    return store.list(SHARE_KIND, parent=account.key)


def _share_props(account: Doc, props: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Validate the writable share properties against the account; returns the merged set."""
    premium = account.body["sku"]["tier"] == "Premium"
    out = dict(current or {})
    if "shareQuota" in props:
        quota = props["shareQuota"]
        if not isinstance(quota, int) or isinstance(quota, bool) or not 1 <= quota <= MAX_QUOTA:
            raise errors.invalid_share_property(f"The share quota {quota!r} is not between 1 and {MAX_QUOTA} GiB.")
        out["shareQuota"] = quota
    if "enabledProtocols" in props:
        proto = props["enabledProtocols"]
        if proto not in SHARE_PROTOCOLS:
            raise errors.invalid_values("enabledProtocols")
        if current is not None and proto != current["enabledProtocols"]:
            raise errors.invalid_share_property("The enabled protocols of a share cannot be changed.")
        if proto == "NFS" and account.body["kind"] != "FileStorage":
            raise errors.nfs_not_supported()
        out["enabledProtocols"] = proto
    out.setdefault("enabledProtocols", "SMB")
    if "rootSquash" in props:
        if props["rootSquash"] not in ROOT_SQUASH:
            raise errors.invalid_values("rootSquash")
        if out["enabledProtocols"] != "NFS":
            raise errors.invalid_share_property("rootSquash applies to NFS shares only.")
        out["rootSquash"] = props["rootSquash"]
    if out["enabledProtocols"] == "NFS":
        out.setdefault("rootSquash", "NoRootSquash")
    if "accessTier" in props:
        tier = props["accessTier"]
        if tier not in SHARE_TIERS or (tier == "Premium") != premium:
            raise errors.invalid_values("accessTier")
        if tier != out.get("accessTier"):
            out["accessTierChangeTime"] = clock.iso(digits=0)
        out["accessTier"] = tier
    if "accessTier" not in out:
        out["accessTier"] = "Premium" if premium else "TransactionOptimized"
        out["accessTierChangeTime"] = clock.iso(digits=0)
    if "metadata" in props:
        out["metadata"] = {str(k): str(v) for k, v in (props["metadata"] or {}).items()}
    out.setdefault("shareQuota", DEFAULT_QUOTA)
    return out


def put_share(store: Store, account: Doc, name: str, props: dict[str, Any], *, patch: bool = False) -> tuple[Doc, bool]:
    """PUT (create or replace the writable properties) or PATCH (merge) a share; (doc, created?)."""
    with store.transaction():
        cur = get_share(store, account, name)
        if patch and cur is None:
            raise errors.share_not_found()
        base = cur.body["properties"] if cur else None
        if not patch and cur is not None:
            # A PUT restates the share: unnamed writable properties return to their defaults.
            keep = {"enabledProtocols", "accessTier", "accessTierChangeTime"}
            base = {k: v for k, v in cur.body["properties"].items() if k in keep}
        body = {"name": cur.body["name"] if cur else name, "properties": _share_props(account, props, base)}
        doc = store.put(SHARE_KIND, share_key(account, name), body, parent=account.key)
    return doc, cur is None


def delete_share(store: Store, account: Doc, name: str) -> bool:
    with store.transaction():
        key = share_key(account, name)
        if store.get(SHARE_KIND, key) is None:
            return False
        store.delete_prefix(key + "/")
        return store.delete(SHARE_KIND, key)


def share_id(account: Doc, name: str) -> str:
    return f"{account.body['id']}/fileServices/default/shares/{name}"


def render_share(account: Doc, doc: Doc, *, only: dict[str, Any] | None = None) -> dict[str, Any]:
    """FileShare as the resource provider returns it; `only` limits properties to those named
    (PUT and PATCH echo what was sent, GET and list return everything)."""
    props = dict(doc.body["properties"])
    props["lastModifiedTime"] = clock.iso(doc.updated, digits=0)
    # Microsoft.Storage's LeaseStatus / LeaseState enums: Unlocked, Available, ... (capitalized)
    props["leaseStatus"] = str(props.get("leaseStatus") or "unlocked").capitalize()
    props["leaseState"] = str(props.get("leaseState") or "available").capitalize()
    if only is not None:
        props = {k: v for k, v in props.items() if k in only}
    out: dict[str, Any] = {
        "id": share_id(account, doc.body["name"]),
        "name": doc.body["name"],
        "type": SHARE_TYPE,
        "etag": etag.quoted(doc.etag),
    }
    if props:
        out["properties"] = props
    return out
