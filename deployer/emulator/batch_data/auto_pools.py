"""Auto pools: the pool Batch creates for a job whose `poolInfo` holds an `autoPoolSpecification`.

What the service documents (BatchAutoPoolSpecification, BatchPoolLifetimeOption):
- poolLifetimeOption `job`: the service creates the pool when it creates the job, with an id it
  assigns — `autoPoolIdPrefix` (up to 20 characters) followed by a unique part — and the pool
  spec given inline (data-plane PoolSpecification names). The pool is an ordinary pool of the
  account: the management and data-plane pool APIs list it, and the job's tasks run on it (GET job
  answers its id in `executionInfo.poolId`; `poolInfo` keeps the specification).
- When the job's lifetime ends (it completes — all tasks done, terminated, wall clock — or is
  deleted) and keepAlive is false, the service deletes the pool; keepAlive true leaves it to the
  user.
- poolLifetimeOption `jobschedule` may be applied only to job schedules (400 on a job). The
  emulator's schedules create no jobs, and the service creates such a pool "when it creates the
  first job on the schedule": so a schedule never gets one here.

The pool is created through batch_mgmt's `create_or_replace_pool` (one set of pool rules for all
planes), from the specification as the client sent it (its secrets are digested by batch_mgmt as
for any pool), in the job's creating transaction: a pool the service would refuse refuses the job.
The job remembers it in `meta["autoPool"]` = {"poolId", "keepAlive", "released"}.

    create_for_job(store, account, pool_info)  -> meta["autoPool"] value, or None (no auto pool)
    pool_id_of(job_body)                       -> the pool the job runs on (poolId or auto pool)
    release(store, account_key, before, after) -> delete the auto pool if the job's life just ended
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..batch_mgmt import links
from ..batch_mgmt import models as mgmt
from ..core import ApiError, Store
from . import errors, pools

SPEC_PATH = "poolInfo.autoPoolSpecification"
MAX_PREFIX = 20
_PREFIX = re.compile(r"^[A-Za-z0-9_-]*$")
_LIFETIMES = {"job", "jobschedule"}


def _checked(spec: Any) -> dict[str, Any]:
    """The auto pool specification of a job, validated as the service does (400s)."""
    if not isinstance(spec, dict):
        raise errors.invalid_property(SPEC_PATH, spec, "autoPoolSpecification must be an object.")
    lifetime = spec.get("poolLifetimeOption")
    if lifetime is None:
        raise errors.missing_property(f"{SPEC_PATH}.poolLifetimeOption")
    where = f"{SPEC_PATH}.poolLifetimeOption"
    if not isinstance(lifetime, str) or lifetime.lower() not in _LIFETIMES:
        raise errors.invalid_property(where, lifetime, "The value must be job or jobschedule.")
    if lifetime.lower() == "jobschedule":
        raise errors.invalid_property(where, lifetime, "jobschedule may be applied only to job schedules, not to jobs.")
    prefix = spec.get("autoPoolIdPrefix")
    if prefix is not None and (not isinstance(prefix, str) or len(prefix) > MAX_PREFIX or not _PREFIX.match(prefix)):
        raise errors.invalid_property(
            f"{SPEC_PATH}.autoPoolIdPrefix", prefix,
            f"The prefix can contain alphanumeric characters, hyphens and underscores, up to {MAX_PREFIX} characters.",
        )
    keep = spec.get("keepAlive")
    if keep is not None and not isinstance(keep, bool):
        raise errors.invalid_property(f"{SPEC_PATH}.keepAlive", keep, "The value must be a boolean.")
    if not isinstance(spec.get("pool"), dict):
        raise errors.missing_property(f"{SPEC_PATH}.pool")
    return spec


def new_pool_id(prefix: str | None) -> str:
    """A service-assigned id: the prefix, then a unique part (at most 20 + 1 + 36 characters)."""
    unique = str(uuid.uuid4()).upper()
    return f"{prefix}_{unique}" if prefix else unique


def create_for_job(store: Store, account: Any, pool_info: dict[str, Any]) -> dict[str, Any] | None:
    """Create the job's auto pool (inside the caller's transaction); what the job records of it."""
    raw = pool_info.get("autoPoolSpecification")
    if raw is None:
        return None
    spec = _checked(raw)
    body = spec["pool"]
    props = pools.update_to_mgmt(account, body)
    props["scaleSettings"] = pools.scale_settings(body)
    payload: dict[str, Any] = {"properties": props}
    if isinstance(body.get("resourceTags"), dict):
        payload["tags"] = body["resourceTags"]
    pool_id = new_pool_id(spec.get("autoPoolIdPrefix"))
    mgmt.create_or_replace_pool(
        store, account, pool_id, payload, if_none_match="*",
        check_subnet=lambda sid: links.subnet_exists(store, sid),
    )
    return {"poolId": pool_id, "keepAlive": bool(spec.get("keepAlive", False)), "released": False}


def pool_id_of(job_body: dict[str, Any]) -> str | None:
    """The id of the pool a job's tasks run on: its poolId, or the auto pool created for it."""
    named = (job_body.get("poolInfo") or {}).get("poolId")
    if named:
        return str(named)
    auto = (job_body.get("meta") or {}).get("autoPool") or {}
    return str(auto["poolId"]) if auto.get("poolId") else None


def _ended(body: dict[str, Any] | None) -> bool:
    return body is None or body["meta"]["state"] == "completed"


def release(store: Store, account_key: str, before: dict[str, Any], after: dict[str, Any] | None) -> None:
    """When a job's lifetime has just ended (`before` -> `after`, None: deleted), delete its auto
    pool unless keepAlive; `after`'s meta records that it was (so a later deletion does not again)."""
    auto = before["meta"].get("autoPool")
    if not auto or auto.get("released") or auto.get("keepAlive") or _ended(before) or not _ended(after):
        return
    if after is not None:
        after["meta"]["autoPool"] = {**auto, "released": True}
    account = store.get(mgmt.KIND_ACCOUNT, account_key)
    if account is None:
        return
    try:
        mgmt.begin_delete_pool(store, account, str(auto["poolId"]))
    except ApiError as exc:  # the user deleted it already: nothing left to do
        if exc.status != 404:
            raise
