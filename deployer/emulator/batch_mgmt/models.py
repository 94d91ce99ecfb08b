"""Microsoft.Batch management state: Batch accounts, pools, applications and application packages.

Store layout (keys are lower-cased ARM ids; `parent` gives the cascade):

    batchAccount             key_of(account id)                    parent: resource group key
    batchPool                {account key}/pools/{pool}            parent: account key
    batchApplication         {account key}/applications/{app}      parent: account key
    batchApplicationPackage  {application key}/versions/{version}  parent: application key

Deleting an account removes every document whose key starts with `{account key}/`: its pools,
applications and packages, and whatever the data plane keeps under it — key data-plane documents
(jobs, schedules, tasks, nodes...) as `{account key}/...` (e.g. `account_doc.key + "/jobs/" + id`)
and they go with the account (and with its resource group).

For the data plane (`batch_data`), read-only helpers:

    account_by_name(store, name)         -> Doc | None     (the account behind /batch/{name})
    account_keys(doc)                    -> {"primary": ..., "secondary": ...}
    shared_key_allowed(doc) / aad_allowed(doc) / auth_modes(doc)
    account_quotas(doc)                  -> {"poolQuota": 20, "activeJobAndJobScheduleQuota": 20, ...}
    account_endpoint(host, name)         -> "{host}/batch/{name}"
    pools_of(store, account_doc)         -> [Doc]          (deleted pools dropped)
    pool_of(store, account_doc, pool_id) -> Doc | None
    pool_state(doc, now)                 -> PoolState      (THE function for allocation state,
                                            node counts, resize errors, deletion, autoscale run)
    pool_properties(doc)                 -> the stored ARM `properties` (defaults filled, secrets
                                            as salted digests: never put them in a response)
    readable_properties(doc)             -> a copy of them fit for a response (secrets dropped)
    doc.body["meta"]["created"|"modified"] -> creation / last-modified time (epoch seconds)
    render_pool(doc) / render_account(doc, host) -> the ARM resources (secrets dropped)
    applications_of(store, account_doc) / packages_of(store, app_doc)

and the writes both planes share (they keep one set of rules): `create_or_replace_pool`,
`update_pool`, `stop_resize`, `disable_autoscale`, `begin_delete_pool`. The pool's properties are
stored in ARM's shape (management API names: nodeAgentSkuId, fixedScale/autoScale, ...); the data
plane translates. Write-only secrets (mount keys, passwords, SSH private keys, extension
protectedSettings: `secrets.POOL_SECRETS`) are stored as salted digests, never in clear, and
dropped from every response.

Time-based state is never advanced by a thread: a resize stores its start and end timestamps and
`pool_state` computes where it is. The duration comes from DEPLOY_EMULATOR_RESIZE_SECONDS (default
2), read when the resize (or deletion) starts. Quotas of new accounts: Azure's example values (20
each), overridable with DEPLOY_EMULATOR_BATCH_QUOTAS="poolQuota=100,dedicatedCoreQuota=500,...".
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from ..core import Doc, Store, clock, ids
from ..core.select import select as core_select
from ..resources.models import list_in_scope, normalize_location, require_group, require_in_group
from . import errors, links
from . import secrets as pool_secrets
from .formula import evaluate

PROVIDER = "Microsoft.Batch"
ACCOUNT_TYPE = "Microsoft.Batch/batchAccounts"
POOL_TYPE = "Microsoft.Batch/batchAccounts/pools"
APPLICATION_TYPE = "Microsoft.Batch/batchAccounts/applications"
PACKAGE_TYPE = "Microsoft.Batch/batchAccounts/applications/versions"

KIND_ACCOUNT = "batchAccount"
KIND_POOL = "batchPool"
KIND_APPLICATION = "batchApplication"
KIND_PACKAGE = "batchApplicationPackage"

RESIZE_ENV = "DEPLOY_EMULATOR_RESIZE_SECONDS"
DEFAULT_RESIZE_SECONDS = 2.0
QUOTAS_ENV = "DEPLOY_EMULATOR_BATCH_QUOTAS"
DEFAULT_QUOTAS = {
    "dedicatedCoreQuota": 20,
    "lowPriorityCoreQuota": 20,
    "poolQuota": 20,
    "activeJobAndJobScheduleQuota": 20,
}
DEFAULT_AUTH_MODES = ["SharedKey", "AAD", "TaskAuthenticationToken"]
VM_FAMILIES = (
    "standardA0_A7Family",
    "standardAv2Family",
    "standardDv2Family",
    "standardDv3Family",
    "standardDSv3Family",
    "standardDav4Family",
    "standardDDv4Family",
    "standardDv5Family",
    "standardEv3Family",
    "standardESv3Family",
    "standardFSv2Family",
    "standardNCFamily",
)
PACKAGE_URL_LIFETIME = 4 * 3600.0  # storageUrlExpiry: Azure hands out a SAS valid for a few hours

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_POOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_APP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_VERSION_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


# ==============================================================================================
# small helpers
# ==============================================================================================


def resize_seconds() -> float:
    """Seconds a resize (or a pool deletion) takes: DEPLOY_EMULATOR_RESIZE_SECONDS, default 2."""
    raw = os.environ.get(RESIZE_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_RESIZE_SECONDS
    except ValueError:
        return DEFAULT_RESIZE_SECONDS


def _quotas() -> dict[str, int]:
    quotas = dict(DEFAULT_QUOTAS)
    for part in os.environ.get(QUOTAS_ENV, "").split(","):
        name, _, value = part.partition("=")
        match = next((k for k in quotas if k.lower() == name.strip().lower()), None)
        if match:
            try:
                quotas[match] = max(0, int(value))
            except ValueError:
                pass
    return quotas


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_duration(text: Any) -> float | None:
    """Seconds of an ISO 8601 duration (`PT15M`, `P1DT2H`, `PT30S`); None if it is not one."""
    if not isinstance(text, str):
        return None
    m = _DURATION.match(text.strip())
    if not m or text.strip().upper() in ("P", "PT"):
        return None
    d, h, mi, s = (float(m.group(g) or 0) for g in ("d", "h", "m", "s"))
    return d * 86400 + h * 3600 + mi * 60 + s


def vcpus(vm_size: str) -> int:
    """vCPUs of a VM size: the shipped catalog, else the number in the size's name, else 1."""
    from deployer.stack.catalog import vcpus as catalog_vcpus

    known = catalog_vcpus(vm_size or "")
    if known:
        return known
    m = re.match(r"^(?:standard|basic)_[a-z]+?(\d+)", (vm_size or "").strip().lower())
    return max(1, int(m.group(1))) if m else 1


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


def _is_dict(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict)


# ==============================================================================================
# accounts
# ==============================================================================================


def account_id(sub: str, rg: str, name: str) -> str:
    return ids.arm_id(sub, rg, PROVIDER, "batchAccounts", name)


def account_key(sub: str, rg: str, name: str) -> str:
    return ids.key_of(account_id(sub, rg, name))


def get_account(store: Store, sub: str, rg: str, name: str) -> Doc | None:
    return store.get(KIND_ACCOUNT, account_key(sub, rg, name))


def require_account(store: Store, sub: str, rg: str, name: str) -> Doc:
    """The account, or 404 (ResourceGroupNotFound for a missing group, else ResourceNotFound)."""
    return require_in_group(
        store, get_account(store, sub, rg, name), sub, rg, lambda: errors.account_not_found(name, rg)
    )


def account_by_name(store: Store, name: str) -> Doc | None:
    """The account whose endpoint is `{host}/batch/{name}` (names are unique in the emulator)."""
    wanted = name.lower()
    for doc in store.list(KIND_ACCOUNT):
        if doc.body["name"].lower() == wanted:
            return doc
    return None


def account_keys(doc: Doc) -> dict[str, str]:
    """{"primary", "secondary"}: the base64 keys shared-key requests are signed with."""
    keys = doc.body["keys"]
    return {"primary": keys["primary"], "secondary": keys["secondary"]}


def account_quotas(doc: Doc) -> dict[str, int]:
    """{"dedicatedCoreQuota", "lowPriorityCoreQuota", "poolQuota", "activeJobAndJobScheduleQuota"}."""
    return dict(doc.body["quotas"])


def auth_modes(doc: Doc) -> list[str]:
    modes = doc.body["properties"].get("allowedAuthenticationModes")
    return list(DEFAULT_AUTH_MODES if modes is None else modes)


def shared_key_allowed(doc: Doc) -> bool:
    """Whether the data plane accepts SharedKey requests (and listKeys works)."""
    return doc.body["properties"].get("poolAllocationMode", "BatchService") == "BatchService" and "sharedkey" in {
        m.lower() for m in auth_modes(doc)
    }


def aad_allowed(doc: Doc) -> bool:
    return "aad" in {m.lower() for m in auth_modes(doc)}


def account_endpoint(host: str, name: str) -> str:
    """The account's `accountEndpoint` as ARM reports it: no scheme, computed from the request host."""
    return f"{host}/batch/{name}"


def auto_storage_id(doc: Doc) -> str | None:
    auto = doc.body["properties"].get("autoStorage")
    return auto.get("storageAccountId") if auto else None


def _validate_account_name(name: str) -> None:
    if not ACCOUNT_NAME.match(name):
        raise errors.account_name_invalid(name)


def _auto_storage(value: Any, check_storage: Callable[[str], bool], now: float) -> dict[str, Any] | None:
    if value is None:
        return None
    if not _is_dict(value):
        raise errors.invalid_request_body("properties.autoStorage must be an object.")
    sid = value.get("storageAccountId")
    if not isinstance(sid, str) or not sid:
        raise errors.invalid_request_body("properties.autoStorage.storageAccountId is required.")
    parsed = ids.parse_arm_id(sid)
    if not sid.startswith("/subscriptions/") or "resourceGroup" not in parsed or "name" not in parsed:
        raise errors.linked_invalid_property_id(sid, "properties.autoStorage.storageAccountId")
    if parsed.get("type", "").lower() != "microsoft.storage/storageaccounts" or not check_storage(sid):
        raise errors.storage_account_not_found(sid)
    out: dict[str, Any] = {"storageAccountId": sid, "lastKeySync": clock.iso(now)}
    for k in ("authenticationMode", "nodeIdentityReference"):
        if value.get(k) is not None:
            out[k] = value[k]
    return out


def _auth_modes(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise errors.invalid_request_body("properties.allowedAuthenticationModes must be a list of strings.")
    canon = {"sharedkey": "SharedKey", "aad": "AAD", "taskauthenticationtoken": "TaskAuthenticationToken"}
    out = []
    for mode in value:
        if mode.lower() not in canon:
            raise errors.invalid_parameter(
                f"The authentication mode '{mode}' is invalid; use SharedKey, AAD or TaskAuthenticationToken.",
                "properties.allowedAuthenticationModes",
            )
        out.append(canon[mode.lower()])
    return out


def _tags(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not _is_dict(value):
        raise errors.invalid_request_body("tags must be an object of string names to string values.")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def create_account(
    store: Store, sub: str, rg: str, name: str, payload: Any, check_storage: Callable[[str], bool]
) -> tuple[Doc, bool]:
    """PUT (BatchAccount_Create): (document, created?). An existing account is updated in place."""
    _validate_account_name(name)
    if not _is_dict(payload):
        raise errors.invalid_request_body("The request body must be a JSON object.")
    location = payload.get("location")
    if not isinstance(location, str) or not location.strip():
        raise errors.location_required()
    location = normalize_location(location)
    props = payload.get("properties") or {}
    if not _is_dict(props):
        raise errors.invalid_request_body("properties must be an object.")
    now = clock.now()
    with store.transaction():
        group = require_group(store, sub, rg)
        current = get_account(store, sub, rg, name)
        if current is None:
            other = account_by_name(store, name)
            if other is not None:
                raise errors.account_name_taken(name)
        elif current.body["location"] != location:
            raise errors.location_conflict(name, current.body["location"], location, rg)
        mode = props.get("poolAllocationMode") or "BatchService"
        if mode not in ("BatchService", "UserSubscription"):
            raise errors.invalid_parameter(f"The pool allocation mode '{mode}' is invalid.", "poolAllocationMode")
        p: dict[str, Any] = {
            "poolAllocationMode": mode,
            "publicNetworkAccess": props.get("publicNetworkAccess") or "Enabled",
            "autoStorage": _auto_storage(props.get("autoStorage"), check_storage, now),
            "encryption": props.get("encryption") or {"keySource": "Microsoft.Batch"},
            "allowedAuthenticationModes": (
                _auth_modes(props["allowedAuthenticationModes"])
                if props.get("allowedAuthenticationModes") is not None
                else list(DEFAULT_AUTH_MODES)
            ),
        }
        for k in ("keyVaultReference", "networkProfile"):
            if props.get(k) is not None:
                p[k] = props[k]
        body: dict[str, Any] = {
            "id": current.body["id"] if current else account_id(sub, group.body["name"], name),
            "name": current.body["name"] if current else name,
            "location": location,
            "tags": _tags(payload.get("tags")),
            "identity": payload.get("identity") or {"type": "None"},
            "properties": p,
            "quotas": current.body["quotas"] if current else _quotas(),
            "keys": current.body["keys"] if current else {"primary": _new_key(), "secondary": _new_key()},
        }
        doc = store.put(KIND_ACCOUNT, account_key(sub, rg, name), body, parent=group.key)
    return doc, current is None


def update_account(
    store: Store, sub: str, rg: str, name: str, payload: Any, check_storage: Callable[[str], bool]
) -> Doc:
    """PATCH (BatchAccount_Update): what the request names replaces the stored value."""
    if not _is_dict(payload):
        payload = {}
    props = payload.get("properties") or {}
    if not _is_dict(props):
        raise errors.invalid_request_body("properties must be an object.")
    with store.transaction():
        current = require_account(store, sub, rg, name)
        body = copy.deepcopy(current.body)
        p = body["properties"]
        if "autoStorage" in props:
            p["autoStorage"] = _auto_storage(props["autoStorage"], check_storage, clock.now())
        if "allowedAuthenticationModes" in props and props["allowedAuthenticationModes"] is not None:
            p["allowedAuthenticationModes"] = _auth_modes(props["allowedAuthenticationModes"])
        for k in ("publicNetworkAccess", "networkProfile", "encryption"):
            if k in props and props[k] is not None:
                p[k] = props[k]
        if "tags" in payload:
            body["tags"] = _tags(payload["tags"])
        if payload.get("identity") is not None:
            body["identity"] = payload["identity"]
        return store.put(KIND_ACCOUNT, current.key, body, parent=current.parent)


def delete_account(store: Store, sub: str, rg: str, name: str) -> Doc:
    """Delete the account and everything keyed under it (pools, applications, data-plane state)."""
    with store.transaction():
        current = require_account(store, sub, rg, name)
        store.delete_prefix(current.key + "/")
        store.delete(KIND_ACCOUNT, current.key)
    return current


def list_accounts(store: Store, sub: str, rg: str | None = None) -> list[Doc]:
    return list_in_scope(store, KIND_ACCOUNT, sub, rg)


def regenerate_key(store: Store, sub: str, rg: str, name: str, key_name: Any) -> Doc:
    which = str(key_name or "").lower()
    if which not in ("primary", "secondary"):
        raise errors.invalid_parameter(f"The key name '{key_name}' is invalid; use Primary or Secondary.", "keyName")
    with store.transaction():
        current = require_account(store, sub, rg, name)
        if not shared_key_allowed(current):
            raise errors.shared_key_disabled(current.body["name"])
        body = copy.deepcopy(current.body)
        body["keys"][which] = _new_key()
        return store.put(KIND_ACCOUNT, current.key, body, parent=current.parent)


def sync_auto_storage_keys(store: Store, sub: str, rg: str, name: str) -> Doc:
    with store.transaction():
        current = require_account(store, sub, rg, name)
        body = copy.deepcopy(current.body)
        if body["properties"].get("autoStorage"):
            body["properties"]["autoStorage"]["lastKeySync"] = clock.iso()
        return store.put(KIND_ACCOUNT, current.key, body, parent=current.parent)


def render_account(doc: Doc, host: str) -> dict[str, Any]:
    """The BatchAccount resource as ARM returns it (shape of BatchAccountGet.json)."""
    b = doc.body
    p = b["properties"]
    q = b["quotas"]
    props: dict[str, Any] = {
        "accountEndpoint": account_endpoint(host, b["name"]),
        "provisioningState": "Succeeded",
        "poolAllocationMode": p["poolAllocationMode"],
    }
    if p.get("keyVaultReference"):
        props["keyVaultReference"] = p["keyVaultReference"]
    props["publicNetworkAccess"] = p["publicNetworkAccess"]
    if p.get("networkProfile"):
        props["networkProfile"] = p["networkProfile"]
    if p.get("autoStorage"):
        props["autoStorage"] = dict(p["autoStorage"])
    props["encryption"] = p["encryption"]
    if p["poolAllocationMode"] == "BatchService":
        props["dedicatedCoreQuota"] = q["dedicatedCoreQuota"]
        props["lowPriorityCoreQuota"] = q["lowPriorityCoreQuota"]
        props["dedicatedCoreQuotaPerVMFamily"] = [
            {"name": fam, "coreQuota": q["dedicatedCoreQuota"]} for fam in VM_FAMILIES
        ]
        props["dedicatedCoreQuotaPerVMFamilyEnforced"] = False
    props["poolQuota"] = q["poolQuota"]
    props["activeJobAndJobScheduleQuota"] = q["activeJobAndJobScheduleQuota"]
    props["allowedAuthenticationModes"] = auth_modes(doc)
    out: dict[str, Any] = {
        "id": b["id"],
        "name": b["name"],
        "type": ACCOUNT_TYPE,
        "identity": _render_identity(b.get("identity") or {"type": "None"}, b["id"]),
        "location": b["location"],
    }
    if b.get("tags") is not None:
        out["tags"] = b["tags"]
    out["properties"] = props
    return out


def render_keys(doc: Doc) -> dict[str, str]:
    keys = account_keys(doc)
    return {"accountName": doc.body["name"], "primary": keys["primary"], "secondary": keys["secondary"]}


# ==============================================================================================
# pools: state over time
# ==============================================================================================


@dataclass(frozen=True)
class PoolState:
    """A pool at one moment, computed from its stored timestamps (see `pool_state`)."""

    provisioning_state: str  # "Succeeded" | "Deleting"
    provisioning_state_transition_time: float
    allocation_state: str  # "Steady" | "Resizing"
    allocation_state_transition_time: float
    current_dedicated: int
    current_low_priority: int
    target_dedicated: int  # what the current (or last) resize aims at
    target_low_priority: int
    resize_timeout: str
    node_deallocation_option: str
    resize_start: float | None  # None: the pool never resized
    resize_errors: list[dict[str, Any]] = field(default_factory=list)  # [{"code", "message"}], Steady only
    auto_scale: bool = False
    auto_scale_evaluation_time: float | None = None
    auto_scale_results: str | None = None
    auto_scale_error: dict[str, Any] | None = None
    deleting: bool = False
    gone: bool = False  # deletion finished: treat the pool as absent

    @property
    def current_nodes(self) -> int:
        return self.current_dedicated + self.current_low_priority


def pool_state(doc: Doc, now: float | None = None) -> PoolState:
    """Where a pool is at `now` (default: the emulator clock): THE rule for both planes.

    A resize runs from its start to start + DEPLOY_EMULATOR_RESIZE_SECONDS (as read when it
    began): `Resizing` with the node counts it started from, then `Steady` with the counts it
    could reach (the target, less what the account's core quotas refused: those show as resize
    errors AccountCoreQuotaReached / AccountLowPriorityCoreQuotaReached). A stopped resize is
    `Steady` at once with the counts it started from. A deleted pool is `Deleting` until its
    deletion time, then `gone`.
    """
    now = clock.now() if now is None else now
    meta = doc.body["meta"]
    created = meta["created"]
    r = meta.get("resize")
    if r is None:
        alloc, alloc_time = "Steady", created
        cur = (0, 0)
        tgt = (0, 0)
        errs: list[dict[str, Any]] = []
        timeout, dealloc, start = "PT15M", "Requeue", None
    else:
        start = r["start"]
        timeout, dealloc = r["resizeTimeout"], r["nodeDeallocationOption"]
        tgt = (r["target"][0], r["target"][1])
        stopped = r.get("stoppedAt")
        if stopped is not None and stopped < r["done"]:
            alloc, alloc_time = ("Steady", stopped) if now >= stopped else ("Resizing", start)
            cur = (r["from"][0], r["from"][1])
            errs = []
        elif now < r["done"]:
            alloc, alloc_time = "Resizing", start
            cur = (r["from"][0], r["from"][1])
            errs = []
        else:
            alloc, alloc_time = "Steady", r["done"]
            cur = (r["allowed"][0], r["allowed"][1])
            errs = list(r.get("errors") or [])
    deleting = meta.get("delete")
    prov, prov_time, gone = "Succeeded", meta.get("provisioned", created), False
    if deleting is not None:
        prov, prov_time = "Deleting", deleting["start"]
        gone = now >= deleting["done"]
    auto = meta.get("autoScale")
    eval_time = results = auto_error = None
    if auto is not None:
        interval = auto.get("interval") or 900.0
        t0 = auto["evaluatedAt"]
        eval_time = t0 + math.floor(max(0.0, now - t0) / interval) * interval if interval > 0 else t0
        results = auto.get("results")
        auto_error = auto.get("error")
    return PoolState(
        provisioning_state=prov,
        provisioning_state_transition_time=prov_time,
        allocation_state=alloc,
        allocation_state_transition_time=alloc_time,
        current_dedicated=cur[0],
        current_low_priority=cur[1],
        target_dedicated=tgt[0],
        target_low_priority=tgt[1],
        resize_timeout=timeout,
        node_deallocation_option=dealloc,
        resize_start=start,
        resize_errors=errs,
        auto_scale=auto is not None,
        auto_scale_evaluation_time=eval_time,
        auto_scale_results=results,
        auto_scale_error=auto_error,
        deleting=deleting is not None,
        gone=gone,
    )


# ==============================================================================================
# pools: documents
# ==============================================================================================


def pool_key(account_key_: str, pool_name: str) -> str:
    return f"{account_key_}/pools/{pool_name.lower()}"


def _purge(store: Store, doc: Doc) -> None:
    """Drop a pool whose deletion finished (and anything the data plane keyed under it)."""
    with store.transaction():
        store.delete_prefix(doc.key + "/")
        store.delete(KIND_POOL, doc.key, expect=doc.etag)


def _live(store: Store, doc: Doc | None, now: float) -> Doc | None:
    if doc is None:
        return None
    if pool_state(doc, now).gone:
        try:
            _purge(store, doc)
        except Exception:  # noqa: BLE001 - somebody else purged or rewrote it: read again next time
            pass
        return None
    if _autoscale_due(doc, now) is not None and doc.key not in _evaluating.keys:
        return _reevaluate_autoscale(store, doc, now)
    return doc


# -- periodic autoscale ------------------------------------------------------------------------
#
# Azure evaluates an autoscale formula when it is set and then every `evaluationInterval`. The
# emulator has no background thread (see core.clock): an evaluation that fell due is made when
# the pool is next read — by any API read of it, or by the node agent, which reads the pool of
# every job with queued tasks on each pass — at the latest due time on the interval grid, with
# the metrics of now (the pending tasks of the pool's jobs). Its target starts a resize as a
# formula change does.
#
# ETag: an evaluation is the service moving the pool, not a new version of what its owner wrote
# (like nodes changing state), so it keeps the pool's ETag and `lastModified`. An If-Match update
# made from an earlier read, or a saved plan (which compares ETags of the pools it changes, and
# never compares node targets under autoScale), does not go stale from autoscale alone.


class _Evaluating(threading.local):
    """Pools whose formula this thread is evaluating (reading the metrics reads the pool again)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()


_evaluating = _Evaluating()


def _autoscale_due(doc: Doc, now: float) -> float | None:
    """The latest evaluation time that fell due since the last evaluation, or None."""
    meta = doc.body["meta"]
    auto = meta.get("autoScale")
    if auto is None or meta.get("delete") is not None or "autoScale" not in doc.body["properties"]["scaleSettings"]:
        return None
    interval = float(auto.get("interval") or 900.0)
    last = float(auto["evaluatedAt"])
    if interval <= 0 or now < last + interval:
        return None
    return last + math.floor((now - last) / interval) * interval


def _reevaluate_autoscale(store: Store, doc: Doc, now: float) -> Doc:
    """Evaluate the formula again (once per due time, whoever reads first), keeping the ETag."""
    from ..core import StaleWrite

    account = store.get(KIND_ACCOUNT, doc.parent)
    if account is None:
        return doc
    try:
        with store.transaction():
            current = store.get(KIND_POOL, doc.key)
            if current is None:
                return doc
            due = _autoscale_due(current, now)
            if due is None:
                return current
            props = current.body["properties"]
            _evaluating.keys.add(current.key)
            try:
                resize, auto, _ = _plan_resize(store, account, current.key, props, current, now)
            finally:
                _evaluating.keys.discard(current.key)
            meta = copy.deepcopy(current.body["meta"])
            meta["resize"] = resize
            if auto is not None:
                auto["evaluatedAt"] = due
                meta["autoScale"] = auto
            return store.put(KIND_POOL, current.key, {**current.body, "meta": meta}, parent=current.parent,
                             expect=current.etag, keep_etag=True)
    except StaleWrite:
        return store.get(KIND_POOL, doc.key) or doc


def pool_of(store: Store, account: Doc, pool_name: str, now: float | None = None) -> Doc | None:
    """One pool of an account (None if absent or its deletion has finished)."""
    now = clock.now() if now is None else now
    return _live(store, store.get(KIND_POOL, pool_key(account.key, pool_name)), now)


def pools_of(store: Store, account: Doc, now: float | None = None) -> list[Doc]:
    """The account's pools, ordered by name (lower-cased), finished deletions dropped."""
    now = clock.now() if now is None else now
    out = []
    for doc in store.list(KIND_POOL, parent=account.key):
        live = _live(store, doc, now)
        if live is not None:
            out.append(live)
    return out


def pool_properties(doc: Doc) -> dict[str, Any]:
    """The pool's stored ARM `properties` (defaults filled in, secrets as digests; no server-set
    fields). Not for responses: render through `render_pool` or `readable_properties`."""
    return doc.body["properties"]


def readable_properties(doc: Doc) -> dict[str, Any]:
    """A copy of the pool's `properties` fit for a response: write-only values dropped."""
    return _readable(doc.body["properties"])


# -- normalization -----------------------------------------------------------------------------

_READ_ONLY = {
    "lastModified",
    "creationTime",
    "provisioningState",
    "provisioningStateTransitionTime",
    "allocationState",
    "allocationStateTransitionTime",
    "currentDedicatedNodes",
    "currentLowPriorityNodes",
    "autoScaleRun",
    "resizeOperationStatus",
}
EMPTY_POOL_ONLY = (
    "vmSize",
    "displayName",
    "deploymentConfiguration",
    "networkConfiguration",
    "mountConfiguration",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "userAccounts",
    "interNodeCommunication",
    "upgradePolicy",
)


def _scale(value: Any) -> dict[str, Any]:
    if value is None or value == {}:
        return {"fixedScale": {"resizeTimeout": "PT15M", "targetDedicatedNodes": 0, "targetLowPriorityNodes": 0}}
    if not _is_dict(value):
        raise errors.invalid_property("scaleSettings", "scaleSettings must be an object.")
    fixed, auto = value.get("fixedScale"), value.get("autoScale")
    if fixed is not None and auto is not None:
        raise errors.invalid_property("scaleSettings", "fixedScale and autoScale are mutually exclusive.")
    if auto is not None:
        if not _is_dict(auto) or not isinstance(auto.get("formula"), str) or not auto["formula"].strip():
            raise errors.missing_property("scaleSettings.autoScale.formula")
        interval = auto.get("evaluationInterval") or "PT15M"
        secs = parse_duration(interval)
        if secs is None or not 300 <= secs <= 168 * 3600:
            raise errors.invalid_property(
                "scaleSettings.autoScale.evaluationInterval",
                "The evaluation interval must be an ISO 8601 duration between 5 minutes and 168 hours.",
            )
        return {"autoScale": {"formula": auto["formula"], "evaluationInterval": interval}}
    fixed = fixed if fixed is not None else {}
    if not _is_dict(fixed):
        raise errors.invalid_property("scaleSettings.fixedScale", "fixedScale must be an object.")
    out: dict[str, Any] = {"resizeTimeout": fixed.get("resizeTimeout") or "PT15M"}
    secs = parse_duration(out["resizeTimeout"])
    if secs is None or secs < 300:
        raise errors.invalid_property(
            "scaleSettings.fixedScale.resizeTimeout", "The resize timeout must be at least 5 minutes (PT5M)."
        )
    for k in ("targetDedicatedNodes", "targetLowPriorityNodes"):
        v = fixed.get(k, 0)
        if v is None:
            v = 0
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise errors.invalid_property(f"scaleSettings.fixedScale.{k}", "The value must be a non-negative integer.")
        out[k] = v
    if fixed.get("nodeDeallocationOption"):
        out["nodeDeallocationOption"] = fixed["nodeDeallocationOption"]
    return {"fixedScale": out}


def _deployment(value: Any) -> Any:
    if not _is_dict(value):
        return value
    out = copy.deepcopy(value)
    vmc = out.get("virtualMachineConfiguration")
    if _is_dict(vmc):
        image = vmc.get("imageReference")
        if (
            _is_dict(image)
            and image.get("publisher")
            and not image.get("version")
            and not any(image.get(k) for k in ("id", "sharedGalleryImageId", "communityGalleryImageId"))
        ):
            image["version"] = "latest"
    return out


def _network(value: Any) -> Any:
    if not _is_dict(value):
        return value
    out = copy.deepcopy(value)
    out.setdefault("dynamicVnetAssignmentScope", "none")
    out.setdefault("enableAcceleratedNetworking", False)
    return out


def _normalize(props: dict[str, Any]) -> dict[str, Any]:
    """A pool's properties with the defaults Azure fills in (request fields kept as sent)."""
    out = {k: copy.deepcopy(v) for k, v in props.items() if k not in _READ_ONLY and v is not None}
    out["scaleSettings"] = _scale(props.get("scaleSettings"))
    if "deploymentConfiguration" in out:
        out["deploymentConfiguration"] = _deployment(out["deploymentConfiguration"])
    if "networkConfiguration" in out:
        out["networkConfiguration"] = _network(out["networkConfiguration"])
    out.setdefault("interNodeCommunication", "Disabled")
    slots = out.setdefault("taskSlotsPerNode", 1)
    if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 256:
        raise errors.invalid_property("taskSlotsPerNode", "taskSlotsPerNode must be between 1 and 256.")
    policy = out.get("taskSchedulingPolicy")
    out["taskSchedulingPolicy"] = {"nodeFillType": "Spread", **(policy if _is_dict(policy) else {})}
    for k in ("metadata", "applicationPackages", "userAccounts", "mountConfiguration"):
        if k in out and not isinstance(out[k], list):
            raise errors.invalid_property(k, f"{k} must be a list.")
        if k in out and not out[k]:
            del out[k]  # an empty list removes the property
    for item in out.get("metadata", []):
        if not _is_dict(item) or not isinstance(item.get("name"), str) or not item["name"]:
            raise errors.invalid_property("metadata", "Every metadata item needs a non-empty name.")
    if out.get("startTask") == {}:
        del out["startTask"]
    return out


def _same(prop: str, a: Any, b: Any) -> bool:
    if prop == "vmSize":
        return str(a or "").lower() == str(b or "").lower()
    return bool(a == b)


# -- secrets -----------------------------------------------------------------------------------


def _readable(props: dict[str, Any]) -> dict[str, Any]:
    """The properties as returned: the secrets (see `secrets.POOL_SECRETS`) dropped, and
    fixedScale.nodeDeallocationOption, which is write-only too (it only steers the resize)."""
    out = pool_secrets.strip(props, pool_secrets.POOL_SECRETS)
    fixed = (out.get("scaleSettings") or {}).get("fixedScale")
    if _is_dict(fixed):
        fixed.pop("nodeDeallocationOption", None)
    return out


def _sealed(props: dict[str, Any], salt: bytes) -> dict[str, Any]:
    """Stored properties with any secret kept in clear by an older emulator digested, too."""
    return pool_secrets.seal(props, pool_secrets.POOL_SECRETS, salt)


# -- resizes -----------------------------------------------------------------------------------


def _committed(doc: Doc, now: float) -> tuple[int, int]:
    """Nodes a pool holds or is about to hold (for the account's core quotas)."""
    st = pool_state(doc, now)
    if st.gone:
        return (0, 0)
    r = doc.body["meta"].get("resize")
    if st.allocation_state == "Resizing" and r is not None and not r.get("stoppedAt"):
        return (max(st.current_dedicated, r["allowed"][0]), max(st.current_low_priority, r["allowed"][1]))
    return (st.current_dedicated, st.current_low_priority)


def pool_metrics(store: Store, account: Doc, name: str, doc: Doc | None, now: float) -> dict[str, float]:
    """What an autoscale formula reads of a pool now: its node counts and its jobs' task counts."""
    st = pool_state(doc, now) if doc is not None else None
    dedicated, low = (st.current_dedicated, st.current_low_priority) if st is not None else (0, 0)
    return {"$CurrentDedicatedNodes": dedicated, "$CurrentLowPriorityNodes": low,
            **links.pool_task_metrics(store, account, name, now)}


def _desired(props: dict[str, Any], now: float,
             metrics: Callable[[], dict[str, float]]) -> tuple[int, int, str, str, dict[str, Any] | None]:
    """(dedicated, lowPriority, resizeTimeout, nodeDeallocationOption, autoScale record) the settings
    ask for now (an autoscale formula is evaluated with the time and `metrics()`, read only then)."""
    scale = props["scaleSettings"]
    if "autoScale" in scale:
        auto = scale["autoScale"]
        result = evaluate(auto["formula"], metrics(), now)
        record = {
            "evaluatedAt": now,
            "interval": parse_duration(auto.get("evaluationInterval")) or 900.0,
            "results": result.results,
            "dedicated": result.dedicated,
            "lowPriority": result.low_priority,
        }
        return result.dedicated, result.low_priority, "PT15M", result.deallocation, record
    fixed = scale["fixedScale"]
    return (
        fixed.get("targetDedicatedNodes", 0),
        fixed.get("targetLowPriorityNodes", 0),
        fixed.get("resizeTimeout", "PT15M"),
        fixed.get("nodeDeallocationOption") or "Requeue",
        None,
    )


def _plan_resize(
    store: Store,
    account: Doc,
    pool_key_: str,
    props: dict[str, Any],
    old: Doc | None,
    now: float,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
    """(resize record, autoScale record, changed?) for new scale settings.

    A new resize starts only when the target differs from where the pool is heading; the node
    counts it can reach are fixed now, against the account's core quotas (vCPUs of the vmSize
    times nodes, summed over the account's pools).
    """
    name = pool_key_.rsplit("/", 1)[-1]  # the pool's name, lower case
    ded, low, timeout, dealloc, auto = _desired(props, now, lambda: pool_metrics(store, account, name, old, now))
    old_resize = old.body["meta"].get("resize") if old else None
    if old is not None:
        st = pool_state(old, now)
        heading = (
            (old_resize["target"][0], old_resize["target"][1])
            if st.allocation_state == "Resizing" and old_resize is not None
            else (st.current_dedicated, st.current_low_priority)
        )
        current = (st.current_dedicated, st.current_low_priority)
    else:
        heading = current = (0, 0)
    if (ded, low) == heading:
        return old_resize, auto, False
    if (ded, low) == current and old_resize is None:
        return None, auto, False
    quotas = account.body["quotas"]
    cores = vcpus(props.get("vmSize", ""))
    used_d = used_l = 0
    for other in store.list(KIND_POOL, parent=account.key):
        if other.key == pool_key_:
            continue
        d, low_used = _committed(other, now)
        other_cores = vcpus(other.body["properties"].get("vmSize", ""))
        used_d += d * other_cores
        used_l += low_used * other_cores
    errs: list[dict[str, Any]] = []
    allowed_d = min(ded, max(0, (quotas["dedicatedCoreQuota"] - used_d) // cores))
    allowed_l = min(low, max(0, (quotas["lowPriorityCoreQuota"] - used_l) // cores))
    if allowed_d < ded:
        errs.append(_core_quota_error("AccountCoreQuotaReached", "VM core quota", "DedicatedCoreQuota",
                                      quotas["dedicatedCoreQuota"], used_d + ded * cores))
    if allowed_l < low:
        errs.append(_core_quota_error("AccountLowPriorityCoreQuotaReached", "VM low priority core quota",
                                      "LowPriorityCoreQuota", quotas["lowPriorityCoreQuota"], used_l + low * cores))
    record = {
        "start": now,
        "done": now + resize_seconds(),
        "from": list(current),
        "target": [ded, low],
        "allowed": [allowed_d, allowed_l],
        "errors": errs,
        "resizeTimeout": timeout,
        "nodeDeallocationOption": dealloc,
        "stoppedAt": None,
    }
    return record, auto, True


# -- application package references ------------------------------------------------------------


def _check_package_refs(store: Store, account: Doc, refs: list[Any]) -> None:
    bad: list[str] = []
    for ref in refs:
        if not _is_dict(ref) or not isinstance(ref.get("id"), str) or not ref["id"]:
            bad.append(str(ref))
            continue
        name = application_name_of(ref["id"])
        app = store.get(KIND_APPLICATION, application_key(account.key, name))
        version = ref.get("version") or (app.body["properties"].get("defaultVersion") if app else None)
        pkg = store.get(KIND_PACKAGE, package_key(app.key, version)) if app and version else None
        if pkg is None or pkg.body.get("state") != "Active":
            bad.append(f"{ref['id']}" + (f":{ref['version']}" if ref.get("version") else ""))
    if bad:
        raise errors.invalid_application_package_references(bad)


def application_name_of(ref_id: str) -> str:
    """The application a pool's package reference names: an ARM id `.../applications/{name}` or a bare name."""
    parts = [p for p in ref_id.split("/") if p]
    lower = [p.lower() for p in parts]
    if "applications" in lower:
        i = len(lower) - 1 - lower[::-1].index("applications")
        if i + 1 < len(parts):
            return parts[i + 1]
    return parts[-1] if parts else ref_id


# -- writes ------------------------------------------------------------------------------------

SubnetCheck = Callable[[str], bool]


def _validate_new(
    store: Store, account: Doc, props: dict[str, Any], old_props: dict[str, Any] | None, check_subnet: SubnetCheck
) -> None:
    if "vmSize" not in props or not isinstance(props.get("vmSize"), str) or not props["vmSize"]:
        raise errors.missing_property("vmSize")
    if "deploymentConfiguration" not in props:
        raise errors.missing_property("deploymentConfiguration")
    subnet = (props.get("networkConfiguration") or {}).get("subnetId")
    old_subnet = ((old_props or {}).get("networkConfiguration") or {}).get("subnetId")
    if subnet and subnet != old_subnet and not check_subnet(subnet):
        raise errors.subnet_not_found(subnet)
    refs = props.get("applicationPackages") or []
    if refs and refs != (old_props or {}).get("applicationPackages"):
        _check_package_refs(store, account, refs)


def _check_empty_only(old: Doc, old_props: dict[str, Any], new_props: dict[str, Any], now: float) -> None:
    """PropertyCannotBeUpdated when a pool with nodes would change a property only an empty pool
    may change. Both sides hold secrets as digests: the same password again is no change."""
    st = pool_state(old, now)
    if st.current_nodes == 0:
        return
    for prop in EMPTY_POOL_ONLY:
        if not _same(prop, old_props.get(prop), new_props.get(prop)):
            raise errors.property_cannot_be_updated(prop)


def _write_pool(
    store: Store,
    account: Doc,
    key: str,
    body_id: str,
    name: str,
    props: dict[str, Any],
    old: Doc | None,
    now: float,
    tags: Any,
    identity: Any,
    *,
    scale_changed: bool,
) -> Doc:
    meta = copy.deepcopy(old.body["meta"]) if old else {"created": now, "provisioned": now}
    if scale_changed or old is None:
        resize, auto, _ = _plan_resize(store, account, key, props, old, now)
        meta["resize"] = resize
        if auto is not None:
            meta["autoScale"] = auto
        elif "fixedScale" in props["scaleSettings"]:
            meta.pop("autoScale", None)
    meta["modified"] = now
    body: dict[str, Any] = {"id": body_id, "name": name, "properties": props, "meta": meta}
    if tags is not None:
        body["tags"] = _tags(tags)
    if identity is not None:
        body["identity"] = identity
    return store.put(KIND_POOL, key, body, parent=account.key, expect=old.etag if old else None)


def create_or_replace_pool(
    store: Store,
    account: Doc,
    name: str,
    payload: Any,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    check_subnet: SubnetCheck = lambda _sid: True,
) -> tuple[Doc, bool]:
    """PUT (Pool_Create): create, or replace an existing pool's properties; (doc, created?).

    If-Match / If-None-Match are checked against the pool's etag (`*` = any existing pool):
    412 ConditionNotMet. A replaced property that needs an empty pool fails while it has nodes.
    """
    from ..core import etag as etags

    if not _POOL_NAME.match(name):
        raise errors.invalid_pool_name(name)
    if not _is_dict(payload):
        raise errors.invalid_request_body("The request body must be a JSON object.")
    raw = payload.get("properties")
    if raw is None:
        raw = {}
    if not _is_dict(raw):
        raise errors.invalid_request_body("properties must be an object.")
    props = _normalize(raw)
    now = clock.now()
    key = pool_key(account.key, name)
    with store.transaction():
        old = pool_of(store, account, name, now)
        current_tag = old.etag if old else None
        if not etags.if_match_ok(if_match, current_tag) or not etags.if_none_match_ok(if_none_match, current_tag):
            raise errors.condition_not_met()
        if old is not None and pool_state(old, now).deleting:
            raise errors.pool_being_deleted(old.body["name"])
        salt = pool_secrets.salt_of(store)
        props = pool_secrets.digest(props, pool_secrets.POOL_SECRETS, salt)  # never stored in clear
        old_props = _sealed(old.body["properties"], salt) if old else None
        _validate_new(store, account, props, old_props, check_subnet)
        if old is None or old_props is None:
            quota = account.body["quotas"]["poolQuota"]
            if len(pools_of(store, account, now)) >= quota:
                raise errors.pool_quota_reached(quota)
            stale = store.get(KIND_POOL, key)  # a finished deletion not purged yet
            if stale is not None:
                _purge(store, stale)
            body_id = f"{account.body['id']}/pools/{name}"
            doc = _write_pool(
                store,
                account,
                key,
                body_id,
                name,
                props,
                None,
                now,
                payload.get("tags"),
                payload.get("identity"),
                scale_changed=True,
            )
            return doc, True
        _check_empty_only(old, old_props, props, now)
        scale_changed = props["scaleSettings"] != old_props["scaleSettings"]
        doc = _write_pool(
            store,
            account,
            key,
            old.body["id"],
            old.body["name"],
            props,
            old,
            now,
            payload.get("tags"),
            payload.get("identity"),
            scale_changed=scale_changed,
        )
        return doc, False


def update_pool(
    store: Store,
    account: Doc,
    name: str,
    payload: Any,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    check_subnet: SubnetCheck = lambda _sid: True,
) -> Doc:
    """PATCH (Pool_Update): each property present replaces the stored one (`startTask: {}` and
    empty lists remove it); properties only an empty pool may change fail while it has nodes."""
    from ..core import etag as etags

    if not _is_dict(payload):
        raise errors.invalid_request_body("The request body must be a JSON object.")
    raw = payload.get("properties") or {}
    if not _is_dict(raw):
        raise errors.invalid_request_body("properties must be an object.")
    now = clock.now()
    with store.transaction():
        old = require_pool(store, account, name, now)
        if not etags.if_match_ok(if_match, old.etag) or not etags.if_none_match_ok(if_none_match, old.etag):
            raise errors.condition_not_met()
        if pool_state(old, now).deleting:
            raise errors.pool_being_deleted(old.body["name"])
        # Secrets are digested before they meet the stored ones: what the request names comes in
        # digested, what it omits keeps the stored digests, and equal secrets compare equal.
        salt = pool_secrets.salt_of(store)
        old_props = _sealed(old.body["properties"], salt)
        sent = pool_secrets.digest(raw, pool_secrets.POOL_SECRETS, salt)
        merged = copy.deepcopy(old_props)
        for k, v in sent.items():
            if k in _READ_ONLY:
                continue
            if v is None:
                continue
            merged[k] = v
        props = _normalize(merged)
        _validate_new(store, account, props, old_props, check_subnet)
        _check_empty_only(old, old_props, props, now)
        scale_changed = "scaleSettings" in raw and props["scaleSettings"] != old_props["scaleSettings"]
        tags = payload["tags"] if "tags" in payload else old.body.get("tags")
        identity = payload["identity"] if payload.get("identity") is not None else old.body.get("identity")
        return _write_pool(
            store,
            account,
            old.key,
            old.body["id"],
            old.body["name"],
            props,
            old,
            now,
            tags,
            identity,
            scale_changed=scale_changed,
        )


def require_pool(store: Store, account: Doc, name: str, now: float | None = None) -> Doc:
    doc = pool_of(store, account, name, now)
    if doc is None:
        raise errors.pool_not_found(name)
    return doc


def _change_pool(store: Store, account: Doc, name: str, change: Callable[[dict[str, Any], float], None]) -> Doc:
    """Write `change(body, now)` to a pool that is not being deleted (409 PoolBeingDeleted if it is)."""
    now = clock.now()
    with store.transaction():
        old = require_pool(store, account, name, now)
        if pool_state(old, now).deleting:
            raise errors.pool_being_deleted(old.body["name"])
        body = copy.deepcopy(old.body)
        change(body, now)
        body["meta"]["modified"] = now
        return store.put(KIND_POOL, old.key, body, parent=old.parent, expect=old.etag)


def stop_resize(store: Store, account: Doc, name: str) -> Doc:
    """Stop a running resize: the pool is Steady at once, with the nodes it had."""

    def change(body: dict[str, Any], now: float) -> None:
        r = body["meta"].get("resize")
        if r is not None and now < r["done"] and not r.get("stoppedAt"):
            r["stoppedAt"] = now

    return _change_pool(store, account, name, change)


def disable_autoscale(store: Store, account: Doc, name: str) -> Doc:
    """Switch an autoscale pool to fixedScale at the target the formula last gave (no resize)."""

    def change(body: dict[str, Any], _now: float) -> None:
        scale = body["properties"]["scaleSettings"]
        if "autoScale" in scale:
            auto = body["meta"].get("autoScale") or {}
            body["properties"]["scaleSettings"] = {
                "fixedScale": {
                    "resizeTimeout": "PT15M",
                    "targetDedicatedNodes": int(auto.get("dedicated", 0)),
                    "targetLowPriorityNodes": int(auto.get("lowPriority", 0)),
                }
            }
            body["meta"].pop("autoScale", None)

    return _change_pool(store, account, name, change)


def begin_delete_pool(store: Store, account: Doc, name: str) -> tuple[Doc, float]:
    """Mark a pool Deleting; it disappears after DEPLOY_EMULATOR_RESIZE_SECONDS. (doc, seconds)."""
    now = clock.now()
    with store.transaction():
        old = require_pool(store, account, name, now)
        body = copy.deepcopy(old.body)
        if body["meta"].get("delete") is None:
            secs = resize_seconds()
            body["meta"]["delete"] = {"start": now, "done": now + secs}
        secs = max(0.0, body["meta"]["delete"]["done"] - now)
        doc = store.put(KIND_POOL, old.key, body, parent=old.parent)
        if secs <= 0:
            _purge(store, doc)
        return doc, secs


def render_pool(doc: Doc, now: float | None = None) -> dict[str, Any]:
    """The Pool resource as ARM returns it (shape of PoolGet.json / PoolCreate_*.json)."""
    from ..core import etag as etags

    now = clock.now() if now is None else now
    st = pool_state(doc, now)
    b = doc.body
    meta = b["meta"]
    p = _readable(b["properties"])
    props: dict[str, Any] = {}
    if "displayName" in p:
        props["displayName"] = p.pop("displayName")
    props["lastModified"] = clock.iso(meta["modified"])
    props["creationTime"] = clock.iso(meta["created"])
    props["provisioningState"] = st.provisioning_state
    props["provisioningStateTransitionTime"] = clock.iso(st.provisioning_state_transition_time)
    props["allocationState"] = st.allocation_state
    props["allocationStateTransitionTime"] = clock.iso(st.allocation_state_transition_time)
    props["vmSize"] = str(p.pop("vmSize", "")).upper()
    if "deploymentConfiguration" in p:
        props["deploymentConfiguration"] = p.pop("deploymentConfiguration")
    props["currentDedicatedNodes"] = st.current_dedicated
    props["currentLowPriorityNodes"] = st.current_low_priority
    props["scaleSettings"] = p.pop("scaleSettings")
    if st.auto_scale and st.auto_scale_evaluation_time is not None:
        run: dict[str, Any] = {"evaluationTime": clock.iso(st.auto_scale_evaluation_time)}
        if st.auto_scale_results is not None:
            run["results"] = st.auto_scale_results
        if st.auto_scale_error:
            run["error"] = st.auto_scale_error
        props["autoScaleRun"] = run
    props.update(p)  # the rest, as stored (interNodeCommunication, taskSlotsPerNode, metadata, ...)
    if st.resize_start is not None:
        ros: dict[str, Any] = {"targetDedicatedNodes": st.target_dedicated}
        if st.target_low_priority:
            ros["targetLowPriorityNodes"] = st.target_low_priority
        ros["resizeTimeout"] = st.resize_timeout
        ros["nodeDeallocationOption"] = st.node_deallocation_option
        ros["startTime"] = clock.iso(st.resize_start)
        if st.allocation_state == "Steady" and st.resize_errors:
            ros["errors"] = st.resize_errors
        props["resizeOperationStatus"] = ros
    out: dict[str, Any] = {"id": b["id"], "name": b["name"], "type": POOL_TYPE, "etag": etags.weak(doc.etag)}
    if b.get("identity") is not None:
        out["identity"] = _render_identity(b["identity"], b["id"])
    if b.get("tags") is not None:
        out["tags"] = b["tags"]
    out["properties"] = props
    return out


def _render_identity(identity: Any, resource_id: str) -> Any:
    """A managed identity as ARM returns it: the principal and client ids Azure assigns filled in."""
    if not _is_dict(identity):
        return identity
    out = copy.deepcopy(identity)
    if "systemassigned" in str(out.get("type", "")).lower():
        out.setdefault("principalId", str(uuid.uuid5(uuid.NAMESPACE_URL, "principal:" + resource_id.lower())))
        out.setdefault("tenantId", str(uuid.uuid5(uuid.NAMESPACE_URL, "tenant:emulator")))
    users = out.get("userAssignedIdentities")
    if _is_dict(users):
        for rid, value in list(users.items()):
            value = dict(value) if _is_dict(value) else {}
            value.setdefault("principalId", str(uuid.uuid5(uuid.NAMESPACE_URL, "principal:" + rid.lower())))
            value.setdefault("clientId", str(uuid.uuid5(uuid.NAMESPACE_URL, "client:" + rid.lower())))
            users[rid] = value
    return out


def select(item: dict[str, Any], select_text: str | None) -> dict[str, Any]:
    """`$select=properties/allocationState,...`: id, name and type plus the selected paths."""
    return core_select(item, select_text, always=("id", "name", "type"))


# ==============================================================================================
# applications and packages
# ==============================================================================================


def application_key(account_key_: str, name: str) -> str:
    return f"{account_key_}/applications/{name.lower()}"


def package_key(app_key: str, version: str) -> str:
    return f"{app_key}/versions/{version.lower()}"


def _require_auto_storage(account: Doc) -> None:
    if not auto_storage_id(account):
        raise errors.auto_storage_required(account.body["name"])


def get_application(store: Store, account: Doc, name: str) -> Doc | None:
    return store.get(KIND_APPLICATION, application_key(account.key, name))


def require_application(store: Store, account: Doc, name: str) -> Doc:
    doc = get_application(store, account, name)
    if doc is None:
        raise errors.application_not_found(name)
    return doc


def applications_of(store: Store, account: Doc) -> list[Doc]:
    return store.list(KIND_APPLICATION, parent=account.key)


def packages_of(store: Store, app: Doc) -> list[Doc]:
    return store.list(KIND_PACKAGE, parent=app.key)


def _app_props(raw: Any, store: Store, app_key: str, current: dict[str, Any]) -> dict[str, Any]:
    props = dict(current)
    if not _is_dict(raw):
        return props
    if "displayName" in raw and raw["displayName"] is not None:
        props["displayName"] = raw["displayName"]
    if "allowUpdates" in raw and raw["allowUpdates"] is not None:
        props["allowUpdates"] = bool(raw["allowUpdates"])
    if "defaultVersion" in raw and raw["defaultVersion"] is not None:
        version = raw["defaultVersion"]
        if version == "":
            props.pop("defaultVersion", None)
        else:
            pkg = store.get(KIND_PACKAGE, package_key(app_key, str(version)))
            if pkg is None:
                raise errors.application_package_not_found(app_key.rsplit("/", 1)[-1], str(version))
            props["defaultVersion"] = pkg.body["version"]
    return props


def create_application(store: Store, account: Doc, name: str, payload: Any) -> tuple[Doc, bool]:
    """PUT (Application_Create): create, or update an existing application; (doc, created?)."""
    if not _APP_NAME.match(name):
        raise errors.invalid_application_name(name)
    _require_auto_storage(account)
    raw = (payload or {}).get("properties") if _is_dict(payload) else None
    key = application_key(account.key, name)
    with store.transaction():
        current = store.get(KIND_APPLICATION, key)
        base = current.body["properties"] if current else {"allowUpdates": True}
        props = _app_props(raw, store, key, base)
        body = {
            "id": current.body["id"] if current else f"{account.body['id']}/applications/{name}",
            "name": current.body["name"] if current else name,
            "properties": props,
            "tags": _tags(payload.get("tags"))
            if _is_dict(payload) and "tags" in payload
            else (current.body.get("tags") if current else None),
        }
        return store.put(KIND_APPLICATION, key, body, parent=account.key), current is None


def update_application(store: Store, account: Doc, name: str, payload: Any) -> Doc:
    """PATCH (Application_Update): displayName, allowUpdates, defaultVersion (an existing version)."""
    raw = payload.get("properties") if _is_dict(payload) else None
    with store.transaction():
        current = require_application(store, account, name)
        body = copy.deepcopy(current.body)
        body["properties"] = _app_props(raw, store, current.key, body["properties"])
        if _is_dict(payload) and "tags" in payload:
            body["tags"] = _tags(payload["tags"])
        return store.put(KIND_APPLICATION, current.key, body, parent=current.parent)


def delete_application(store: Store, account: Doc, name: str) -> bool:
    with store.transaction():
        current = get_application(store, account, name)
        if current is None:
            raise errors.application_not_found(name)
        store.delete_prefix(current.key + "/")
        return store.delete(KIND_APPLICATION, current.key)


def render_application(doc: Doc) -> dict[str, Any]:
    from ..core import etag as etags

    b = doc.body
    out: dict[str, Any] = {"id": b["id"], "name": b["name"], "type": APPLICATION_TYPE, "etag": etags.weak(doc.etag)}
    if b.get("tags") is not None:
        out["tags"] = b["tags"]
    out["properties"] = dict(b["properties"])
    return out


def package_container(app_name: str, account_key_: str) -> str:
    """The auto-storage container of an application's packages: `app-{name}-{hash}` (a valid container name)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", app_name.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-") or "app"
    digest = hashlib.sha1(f"{account_key_}/{app_name.lower()}".encode()).hexdigest()
    return f"app-{slug[:20]}-{digest}"[:63].rstrip("-")


def create_package(store: Store, account: Doc, app_name: str, version: str,
                   payload: Any = None) -> tuple[Doc, bool]:
    """PUT (ApplicationPackage_Create): a Pending package with a blob to upload to; (doc, created?).
    Again on an existing version: a fresh upload URL (and the tags sent, if any)."""
    if not _VERSION_NAME.match(version):
        raise errors.invalid_application_name(version, "version")
    tags = _tags(payload.get("tags")) if _is_dict(payload) and "tags" in payload else None
    _require_auto_storage(account)
    now = clock.now()
    with store.transaction():
        app = require_application(store, account, app_name)
        key = package_key(app.key, version)
        current = store.get(KIND_PACKAGE, key)
        if current is not None:
            body = copy.deepcopy(current.body)
            body["urlIssuedAt"] = now
            if tags is not None:
                body["tags"] = tags
            return store.put(KIND_PACKAGE, key, body, parent=app.key), False
        blob = f"{app.body['name'].lower()}-{version.lower()}-{uuid.uuid4()}"
        body = {
            "id": f"{app.body['id']}/versions/{version}",
            "name": version,
            "application": app.body["name"],
            "version": version,
            "state": "Pending",
            "storageAccountId": auto_storage_id(account),
            "container": package_container(app.body["name"], account.key),
            "blob": blob,
            "urlIssuedAt": now,
        }
        if tags is not None:
            body["tags"] = tags
        return store.put(KIND_PACKAGE, key, body, parent=app.key), True


def require_package(store: Store, account: Doc, app_name: str, version: str) -> tuple[Doc, Doc]:
    """(application, package), or 404 ApplicationNotFound / ApplicationPackageNotFound."""
    app = require_application(store, account, app_name)
    pkg = store.get(KIND_PACKAGE, package_key(app.key, version))
    if pkg is None:
        raise errors.application_package_not_found(app.body["name"], version)
    return app, pkg


def activate_package(
    store: Store, account: Doc, app_name: str, version: str, payload: Any, uploaded: Callable[[Doc], bool]
) -> Doc:
    """POST .../activate {"format": "zip"}: Pending -> Active once something was uploaded."""
    fmt = payload.get("format") if _is_dict(payload) else None
    if not isinstance(fmt, str) or not fmt:
        raise errors.missing_property("format")
    if fmt.lower() != "zip":
        raise errors.invalid_package_format(fmt)
    with store.transaction():
        app, pkg = require_package(store, account, app_name, version)
        if pkg.body["state"] == "Active" and not app.body["properties"].get("allowUpdates", True):
            raise errors.package_not_updatable(app.body["name"], pkg.body["version"])
        if not uploaded(pkg):
            raise errors.package_not_uploaded(app.body["name"], pkg.body["version"])
        body = copy.deepcopy(pkg.body)
        body["state"] = "Active"
        body["format"] = fmt.lower()
        body["lastActivationTime"] = clock.now()
        return store.put(KIND_PACKAGE, pkg.key, body, parent=pkg.parent)


def delete_package(store: Store, account: Doc, app_name: str, version: str) -> None:
    with store.transaction():
        app, pkg = require_package(store, account, app_name, version)
        store.delete(KIND_PACKAGE, pkg.key)
        if str(app.body["properties"].get("defaultVersion", "")).lower() == version.lower():
            body = copy.deepcopy(app.body)
            body["properties"].pop("defaultVersion", None)
            store.put(KIND_APPLICATION, app.key, body, parent=app.parent)


def render_package(doc: Doc, storage_url: str | None) -> dict[str, Any]:
    """The ApplicationPackage resource; `storage_url` is the SAS URL the route computed (or None)."""
    from ..core import etag as etags

    b = doc.body
    props: dict[str, Any] = {"state": b["state"]}
    if b.get("format"):
        props["format"] = b["format"]
    if storage_url:
        props["storageUrl"] = storage_url
        props["storageUrlExpiry"] = clock.iso(b["urlIssuedAt"] + PACKAGE_URL_LIFETIME)
    if b.get("lastActivationTime") is not None:
        props["lastActivationTime"] = clock.iso(b["lastActivationTime"])
    out = {"id": b["id"], "name": b["name"], "type": PACKAGE_TYPE, "etag": etags.weak(doc.etag), "properties": props}
    if b.get("tags") is not None:
        out["tags"] = b["tags"]
    return out


def _core_quota_error(code: str, what: str, quota_code: str, quota: int, requested: int) -> dict[str, Any]:
    """A resize error as Azure reports a core quota overrun (the resize stops at what fits)."""
    return {
        "code": code,
        "message": f"The specified account has reached {what}",
        "details": [{"code": quota_code, "message": str(quota)}, {"code": "RequestedCores", "message": str(requested)}],
    }
