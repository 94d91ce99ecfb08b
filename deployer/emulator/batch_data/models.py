"""Batch data-plane state: jobs, tasks and job schedules of each Batch account.

Store layout (keys under the account's key, so they go with the account and its resource group;
ids are case-insensitive and case-preserving, as the service's are):

    batchJob          {account key}/jobs/{job id lower}            parent: account key
    batchTask         {job key}/tasks/{task id lower}              parent: job key
    batchJobSchedule  {account key}/jobschedules/{id lower}        parent: account key

Pools, accounts, keys and quotas belong to batch_mgmt (`..batch_mgmt.models`); pools are only read,
except a job's auto pool, created with the job and deleted when its life ends (`auto_pools`).

Time. Nothing runs in a thread; every document keeps timestamps and is *settled* when it is read
or written (`settle_job`, `settle_schedule`): what became due since is written back (so ETags
and lastModified move as the service's do), then the caller sees the result.
- Job transitions take DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS (default 1): deleting -> gone,
  terminating -> completed, disabling -> disabled, enabling -> active (the same for schedules).
  The SDK's `begin_*` pollers poll `get_job` until the transitional state is over.
- Tasks: `active` when added. While the job is active and its pool (batch_mgmt's state) has nodes,
  tasks are scheduled first-come first-served on the pool's task slots (nodes x taskSlotsPerNode,
  capped by the job's maxParallelTasks; requiredSlots honoured): each starts TASK_START_DELAY
  after it was queued (or when a slot frees up) and runs DEPLOY_EMULATOR_TASK_SECONDS (default 5),
  then completes with exit code 0. Task dependencies and other jobs on the same pool are ignored.
- When tasks really run (deployer.emulator.agent; the data directory's execution setting is on),
  none of the above timer applies: the node agent owns task state and writes it here; settling
  a job then applies only the job's own rules, with indexed queries (no task is read).
- A job with onAllTasksComplete=terminatejob completes (terminateReason AllTasksComplete) when all
  its tasks have completed — at once if it has none, as Azure documents. A finite
  constraints.maxWallClockTime completes it with MaxWallClockTimeExpiry.
- Job schedules create jobs on their recurrence (`schedules`: doNotRunUntil, doNotRunAfter,
  startWindow, one active job at a time); their executionInfo.nextRunTime follows the schedule,
  and they complete at doNotRunAfter.

Secrets a client sends (container registry passwords of tasks and job manager / preparation /
release tasks, and everything secret in a job's auto pool specification: batch_mgmt.secrets'
TASK_SECRETS, JOB_SECRETS, SCHEDULE_SECRETS) are stored as salted digests and dropped from every
response, as batch_mgmt does for pools.
"""

from __future__ import annotations

import copy
import heapq
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..agent import settings as agent_settings
from ..batch_mgmt import models as mgmt
from ..batch_mgmt import secrets
from ..core import ApiError, Doc, StaleWrite, Store, clock
from ..core import etag as etags
from . import auto_pools, errors, pools, schedules

KIND_JOB = "batchJob"
KIND_TASK = "batchTask"
KIND_SCHEDULE = "batchJobSchedule"

TRANSITION_ENV = "DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS"
DEFAULT_TRANSITION_SECONDS = 1.0
TASK_ENV = "DEPLOY_EMULATOR_TASK_SECONDS"
DEFAULT_TASK_SECONDS = 5.0
TASK_START_DELAY = 0.5

MAX_TASKS_PER_COLLECTION = 100
INFINITE = "P10675199DT2H48M5.4775807S"  # TimeSpan.MaxValue, what the service reports for "no limit"
_INFINITE_SECONDS = 10675199 * 86400.0

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCHEDULE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

JOB_CREATE_FIELDS = (
    "displayName",
    "usesTaskDependencies",
    "priority",
    "allowTaskPreemption",
    "maxParallelTasks",
    "constraints",
    "jobManagerTask",
    "jobPreparationTask",
    "jobReleaseTask",
    "commonEnvironmentSettings",
    "poolInfo",
    "onAllTasksComplete",
    "onTaskFailure",
    "networkConfiguration",
    "metadata",
)
JOB_UPDATE_FIELDS = (
    "priority",
    "allowTaskPreemption",
    "maxParallelTasks",
    "constraints",
    "poolInfo",
    "onAllTasksComplete",
    "metadata",
    "networkConfiguration",
)
JOB_RENDER_ORDER = (
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "usesTaskDependencies",
    "constraints",
    "jobManagerTask",
    "jobPreparationTask",
    "jobReleaseTask",
    "commonEnvironmentSettings",
    "poolInfo",
)
TASK_CREATE_FIELDS = (
    "displayName",
    "exitConditions",
    "commandLine",
    "containerSettings",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "affinityInfo",
    "constraints",
    "requiredSlots",
    "userIdentity",
    "multiInstanceSettings",
    "dependsOn",
    "applicationPackageReferences",
)
SPEC_FIELDS = (
    "priority",
    "allowTaskPreemption",
    "maxParallelTasks",
    "displayName",
    "usesTaskDependencies",
    "onAllTasksComplete",
    "onTaskFailure",
    "networkConfiguration",
    "constraints",
    "jobManagerTask",
    "jobPreparationTask",
    "jobReleaseTask",
    "commonEnvironmentSettings",
    "poolInfo",
    "metadata",
)

_ALL_TASKS_COMPLETE = {"noaction", "terminatejob"}
_TASK_FAILURE = {"noaction", "performexitoptionsjobaction"}
_DISABLE_TASKS = {"requeue", "terminate", "wait"}


def transition_seconds() -> float:
    return _env_seconds(TRANSITION_ENV, DEFAULT_TRANSITION_SECONDS)


def task_seconds() -> float:
    return _env_seconds(TASK_ENV, DEFAULT_TASK_SECONDS)


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return max(0.0, float(raw)) if raw else default
    except ValueError:
        return default


# ==============================================================================================
# keys, accounts, preconditions
# ==============================================================================================


def task_key(job: Doc, task_id: str) -> str:
    return f"{job.key}/tasks/{task_id.lower()}"


def account_name(account: Doc) -> str:
    return str(account.body["name"])


@dataclass(frozen=True)
class Conditions:
    """The request's conditional headers (If-Match, If-None-Match, If-(Un)Modified-Since)."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: float | None = None
    if_unmodified_since: float | None = None

    def _modified(self, doc: Doc) -> int:
        return int(doc.body["meta"]["modified"])

    def check_write(self, doc: Doc) -> None:
        """412 ConditionNotMet unless every condition holds for the current document."""
        if not etags.if_match_ok(self.if_match, doc.etag) or not etags.if_none_match_ok(self.if_none_match, doc.etag):
            raise errors.condition_not_met()
        if self.if_unmodified_since is not None and self._modified(doc) > self.if_unmodified_since:
            raise errors.condition_not_met()
        if self.if_modified_since is not None and self._modified(doc) <= self.if_modified_since:
            raise errors.condition_not_met()

    def not_modified(self, doc: Doc) -> bool:
        """For reads: 412 when If-Match / If-Unmodified-Since fail; True (-> 304) when the client's copy is current."""
        if not etags.if_match_ok(self.if_match, doc.etag):
            raise errors.condition_not_met()
        if self.if_unmodified_since is not None and self._modified(doc) > self.if_unmodified_since:
            raise errors.condition_not_met()
        if not etags.if_none_match_ok(self.if_none_match, doc.etag):
            return True
        return self.if_modified_since is not None and self._modified(doc) <= self.if_modified_since


NO_CONDITIONS = Conditions()


# ==============================================================================================
# validation helpers
# ==============================================================================================


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _require_object(payload: Any) -> dict[str, Any]:
    if not _is_dict(payload):
        raise errors.invalid_request_body("The request body must be a JSON object.")
    return payload


def _check_id(value: Any, prop: str = "id", pattern: re.Pattern[str] = _ID) -> str:
    if value is None or value == "":
        raise errors.missing_property(prop)
    if not isinstance(value, str) or not pattern.match(value):
        raise errors.invalid_property(
            prop,
            value,
            "The id can contain any combination of alphanumeric characters including hyphens and "
            "underscores, and cannot contain more than 64 characters.",
        )
    return value


def _int(payload: dict[str, Any], prop: str, lo: int, hi: int, *, path: str | None = None) -> None:
    if prop not in payload or payload[prop] is None:
        return
    v = payload[prop]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise errors.invalid_property(path or prop, v, f"The value must be an integer between {lo} and {hi}.")


def _enum(payload: dict[str, Any], prop: str, allowed: set[str], *, path: str | None = None) -> None:
    if prop not in payload or payload[prop] is None:
        return
    v = payload[prop]
    if not isinstance(v, str) or v.lower() not in allowed:
        raise errors.invalid_property(path or prop, v, f"The value must be one of: {', '.join(sorted(allowed))}.")
    payload[prop] = v.lower()


def _pool_info(value: Any, path: str = "poolInfo") -> dict[str, Any]:
    if not _is_dict(value) or not (value.get("poolId") or value.get("autoPoolSpecification")):
        raise errors.missing_property(path)
    if value.get("poolId") and value.get("autoPoolSpecification"):
        raise errors.invalid_property(path, "", "poolId and autoPoolSpecification are mutually exclusive.")
    if value.get("poolId") is not None and not isinstance(value["poolId"], str):
        raise errors.invalid_property(f"{path}.poolId", value["poolId"], "The pool id must be a string.")
    return copy.deepcopy(value)


def _metadata(value: Any, path: str = "metadata") -> list[dict[str, str]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise errors.invalid_property(path, value, "metadata must be a list of name/value pairs.")
    out = []
    for item in value:
        if not _is_dict(item) or not isinstance(item.get("name"), str) or not item["name"]:
            raise errors.invalid_property(path, item, "Every metadata item needs a non-empty name.")
        out.append({"name": item["name"], "value": "" if item.get("value") is None else str(item["value"])})
    return out or None


def _job_constraints(value: Any, path: str = "constraints") -> dict[str, Any]:
    c = dict(value) if _is_dict(value) else {}
    _int(c, "maxTaskRetryCount", -1, 2**31 - 1, path=f"{path}.maxTaskRetryCount")
    out = {
        "maxWallClockTime": c.get("maxWallClockTime") or INFINITE,
        "maxTaskRetryCount": c.get("maxTaskRetryCount") or 0,
    }
    if mgmt.parse_duration(out["maxWallClockTime"]) is None:
        raise errors.invalid_property(
            f"{path}.maxWallClockTime", out["maxWallClockTime"], "The value must be an ISO 8601 duration."
        )
    return out


def _validate_job_fields(p: dict[str, Any], prefix: str = "") -> None:
    _int(p, "priority", -1000, 1000, path=prefix + "priority")
    if p.get("maxParallelTasks") is not None:
        v = p["maxParallelTasks"]
        if isinstance(v, bool) or not isinstance(v, int) or (v != -1 and v < 1):
            raise errors.invalid_property(
                prefix + "maxParallelTasks", v, "maxParallelTasks must be -1 (no limit) or greater than 0."
            )
    _enum(p, "onAllTasksComplete", _ALL_TASKS_COMPLETE, path=prefix + "onAllTasksComplete")
    _enum(p, "onTaskFailure", _TASK_FAILURE, path=prefix + "onTaskFailure")
    for flag in ("allowTaskPreemption", "usesTaskDependencies"):
        if p.get(flag) is not None and not isinstance(p[flag], bool):
            raise errors.invalid_property(prefix + flag, p[flag], "The value must be a boolean.")


def _set_or_drop(body: dict[str, Any], key: str, value: Any) -> None:
    """Store `value` under `key`, or drop the key when the value is empty."""
    if value:
        body[key] = value
    else:
        body.pop(key, None)


def _job_spec(payload: dict[str, Any], prefix: str = "", fields: tuple[str, ...] = JOB_CREATE_FIELDS) -> dict[str, Any]:
    """A job's properties as the service stores them: defaults filled in, unknown fields dropped.

    The same for a new job and a schedule's jobSpecification (`prefix` "jobSpecification.")."""
    p = {k: copy.deepcopy(payload[k]) for k in fields if payload.get(k) is not None}
    _validate_job_fields(p, prefix)
    p["poolInfo"] = _pool_info(payload.get("poolInfo"), prefix + "poolInfo")
    p.setdefault("priority", 0)
    p.setdefault("maxParallelTasks", -1)
    p.setdefault("allowTaskPreemption", False)
    p.setdefault("usesTaskDependencies", False)
    p["constraints"] = _job_constraints(p.get("constraints"), prefix + "constraints")
    p.setdefault("onAllTasksComplete", "noaction")
    p.setdefault("onTaskFailure", "noaction")
    _set_or_drop(p, "metadata", _metadata(p.get("metadata"), prefix + "metadata"))
    return p


# ==============================================================================================
# jobs: state
# ==============================================================================================


def _new_meta(now: float, **extra: Any) -> dict[str, Any]:
    """The bookkeeping a new job, schedule or task starts with: active since `now`."""
    return {
        "created": now,
        "modified": now,
        "state": "active",
        "stateTime": now,
        "prevState": None,
        "prevStateTime": None,
        **extra,
    }


def _render_head(doc: Doc, url: str) -> dict[str, Any]:
    """What the service says first of a job, schedule or task: id, url, ETag, times and states."""
    b, m = doc.body, doc.body["meta"]
    out: dict[str, Any] = {"id": b["id"]}
    if b.get("displayName"):
        out["displayName"] = b["displayName"]
    out["url"] = url
    out["eTag"] = doc.etag
    out["lastModified"] = clock.iso(m["modified"])
    out["creationTime"] = clock.iso(m["created"])
    out["state"] = m["state"]
    out["stateTransitionTime"] = clock.iso(m["stateTime"])
    if m.get("prevState"):
        out["previousState"] = m["prevState"]
        out["previousStateTransitionTime"] = clock.iso(m["prevStateTime"])
    return out


def _set_state(meta: dict[str, Any], state: str, at: float) -> None:
    if meta.get("state") == state:
        return
    meta["prevState"], meta["prevStateTime"] = meta.get("state"), meta.get("stateTime")
    meta["state"], meta["stateTime"] = state, at
    meta["modified"] = max(meta.get("modified", at), at)


def _complete(meta: dict[str, Any], at: float, reason: str) -> None:
    _set_state(meta, "completed", at)
    meta["endTime"] = at
    meta["terminateReason"] = reason
    meta["pending"] = None


def _due_body(doc: Doc, now: float) -> tuple[dict[str, Any] | None, bool]:
    """A copy of a job's or schedule's body with the transition under way (`meta["pending"]`)
    finished if it is due by `now` (None: the document is gone), and whether one was."""
    body = copy.deepcopy(doc.body)
    meta = body["meta"]
    pending = meta.get("pending")
    if not pending or pending["at"] > now:
        return body, False
    if pending["state"] is None:
        return None, True
    if pending["state"] == "completed":
        _complete(meta, pending["at"], pending.get("reason") or "UserTerminate")
    else:
        _set_state(meta, pending["state"], pending["at"])
        meta["pending"] = None
    return body, True


TaskWrites = list[tuple[Doc, dict[str, Any]]]
# document -> (settled body or None once gone, task writes, changed?); called again inside the
# write's transaction on the document as it is there
SettledBody = Callable[[Doc], tuple[dict[str, Any] | None, TaskWrites, bool]]


def _settle(store: Store, doc: Doc, settled_body: SettledBody) -> Doc | None:
    """Write back what became due for a job or schedule (and its tasks); None once it is gone."""
    for _ in range(5):
        body, writes, changed = settled_body(doc)
        if not changed:
            return doc
        try:
            with store.transaction():
                current = store.get(doc.kind, doc.key)
                if current is None:
                    return None
                if current.etag != doc.etag:
                    doc = current
                    continue
                body, writes, changed = settled_body(current)
                if current.kind == KIND_JOB:  # its life may just have ended: so may its auto pool's
                    auto_pools.release(store, current.parent, current.body, body)
                if body is None:
                    store.delete_prefix(doc.key + "/")
                    store.delete(doc.kind, doc.key)
                    return None
                for t, tbody in writes:
                    store.put(KIND_TASK, t.key, tbody, parent=t.parent, expect=t.etag)
                if body != current.body:
                    return store.put(doc.kind, doc.key, body, parent=doc.parent, expect=current.etag)
                return current
        except StaleWrite:
            fresh = store.get(doc.kind, doc.key)
            if fresh is None:
                return None
            doc = fresh
    return doc


@dataclass(frozen=True)
class _Collection:
    """Jobs or job schedules of an account: keyed by lower-cased id, settled whenever read."""

    kind: str
    segment: str  # the key segment under the account's key
    settle: Callable[[Store, Doc, Doc, float | None], Doc | None]
    not_found: Callable[[], ApiError]
    conflict: Callable[[str], ApiError]  # a request the current state does not allow

    def key(self, account: Doc, item_id: str) -> str:
        return f"{account.key}/{self.segment}/{item_id.lower()}"

    def get(self, store: Store, account: Doc, item_id: str, now: float | None = None) -> Doc | None:
        doc = store.get(self.kind, self.key(account, item_id))
        return self.settle(store, account, doc, now) if doc is not None else None

    def require(self, store: Store, account: Doc, item_id: str, now: float | None = None) -> Doc:
        doc = self.get(store, account, item_id, now)
        if doc is None:
            raise self.not_found()
        return doc

    def list(self, store: Store, account: Doc, now: float | None = None) -> list[Doc]:
        now = clock.now() if now is None else now
        settled = (self.settle(store, account, doc, now) for doc in store.list(self.kind, parent=account.key))
        return [doc for doc in settled if doc is not None]


@dataclass(frozen=True)
class _Transition:
    """A state change of a job or schedule: it enters `through` at once and settles in `to` (None:
    deleted) after transition_seconds(). In a state of `unchanged` the request is answered with
    the document as it is; in one of `refused`, or outside `only_from` when given, it conflicts."""

    through: str
    to: str | None
    unchanged: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()
    only_from: frozenset[str] | None = None

    def applies(self, state: str, conflict: Callable[[str], ApiError]) -> bool:
        if state in self.unchanged:
            return False
        if state in self.refused or (self.only_from is not None and state not in self.only_from):
            raise conflict(state)
        return True


DELETE = _Transition("deleting", None, refused=frozenset({"deleting"}))
TERMINATE = _Transition(
    "terminating", "completed", unchanged=frozenset({"terminating"}), refused=frozenset({"completed", "deleting"})
)
JOB_DISABLE = _Transition(
    "disabling", "disabled", unchanged=frozenset({"disabling", "disabled"}), only_from=frozenset({"active"})
)
JOB_ENABLE = _Transition(
    "enabling", "active", unchanged=frozenset({"active", "enabling"}), only_from=frozenset({"disabled", "disabling"})
)
SCHEDULE_DISABLE = _Transition(
    "disabled", "disabled", unchanged=frozenset({"disabled"}), only_from=frozenset({"active"})
)
SCHEDULE_ENABLE = _Transition("active", "active", unchanged=frozenset({"active"}), only_from=frozenset({"disabled"}))

# (document, now) -> the document written
Begin = Callable[[Doc, float], Doc]


def _transition(
    store: Store,
    account: Doc,
    collection: _Collection,
    item_id: str,
    transition: _Transition,
    conditions: Conditions,
    *,
    begin: Begin | None = None,
    conflict: Callable[[str], ApiError] | None = None,
) -> Doc:
    """Start `transition` of a job or schedule (`begin`, default `_begin(store, doc, transition, now)`)."""
    now = clock.now()
    with store.transaction():
        doc = collection.require(store, account, item_id, now)
        conditions.check_write(doc)
        if not transition.applies(doc.body["meta"]["state"], conflict or collection.conflict):
            return doc
        if begin is None:
            return _begin(store, doc, transition, now)
        return begin(doc, now)


def _begin(
    store: Store,
    doc: Doc,
    transition: _Transition,
    now: float,
    *,
    delay: float | None = None,
    reason: str | None = None,
    task_change: Callable[[Doc], dict[str, Any] | None] | None = None,
    resume_scheduling: bool = False,
) -> Doc:
    body = copy.deepcopy(doc.body)
    meta = body["meta"]
    _set_state(meta, transition.through, now)
    meta["modified"] = now
    at = now + (transition_seconds() if delay is None else delay)
    meta["pending"] = (
        {"state": transition.to, "at": at, "reason": reason} if transition.through != transition.to else None
    )
    if resume_scheduling:
        meta["schedulingSince"] = at
    if task_change is not None:
        for t in store.list(KIND_TASK, parent=doc.key):
            new = task_change(t)
            if new is not None:
                store.put(KIND_TASK, t.key, new, parent=t.parent, expect=t.etag)
    return store.put(doc.kind, doc.key, body, parent=doc.parent, expect=doc.etag)


def _job_pool(store: Store, account: Doc, job_body: dict[str, Any], now: float) -> Doc | None:
    pool_id = auto_pools.pool_id_of(job_body)
    return mgmt.pool_of(store, account, pool_id, now) if pool_id else None


@dataclass
class _Planned:
    start: float
    end: float
    node: int


def _plan(store: Store, account: Doc, job: Doc, tasks: list[Doc], now: float) -> dict[str, _Planned]:
    """When each queued (active) task starts and ends, if the job's pool has slots for it."""
    meta = job.body["meta"]
    if meta["state"] != "active":
        return {}
    pool = _job_pool(store, account, job.body, now)
    if pool is None:
        return {}
    n_nodes, per_node, since = pools.capacity(pool, now)
    slots = n_nodes * per_node
    limit = job.body.get("maxParallelTasks", -1)
    if limit and limit > 0:
        slots = min(slots, limit)
    if slots <= 0:
        return {}
    earliest = max(since, meta.get("schedulingSince") or meta["created"])
    fill_pack = (
        str(((mgmt.pool_properties(pool).get("taskSchedulingPolicy") or {}).get("nodeFillType")) or "").lower()
        == "pack"
    )

    def node_of(slot: int) -> int:
        return slot // per_node if fill_pack else slot % n_nodes

    # Slots held by running tasks stay busy until they end (on the node they run on, if it is still there).
    busy: dict[int, float] = {}
    for t in sorted((t for t in tasks if t.body["meta"]["state"] == "running"), key=lambda t: t.key):
        m = t.body["meta"]
        own = [s for s in range(slots) if s not in busy and node_of(s) == m.get("nodeIndex")]
        spare = own or [s for s in range(slots) if s not in busy]
        for s in spare[: max(1, int(t.body.get("requiredSlots") or 1))]:
            busy[s] = m.get("end") or now
    free = [(max(earliest, busy.get(s, earliest)), s) for s in range(slots)]
    heapq.heapify(free)
    queued = sorted(
        (t for t in tasks if t.body["meta"]["state"] == "active"),
        key=lambda t: (t.body["meta"].get("queued", t.body["meta"]["created"]), t.key),
    )
    run = task_seconds()
    plan: dict[str, _Planned] = {}
    for t in queued:
        need = max(1, min(int(t.body.get("requiredSlots") or 1), slots))
        taken = [heapq.heappop(free) for _ in range(need)]
        ready = max(t.body["meta"].get("queued", t.body["meta"]["created"]) + TASK_START_DELAY, earliest)
        start = max(ready, max(f for f, _ in taken))
        if start > now:  # everything after this one starts later still: nothing more is due
            for item in taken:
                heapq.heappush(free, item)
            break
        end = start + run
        for _, s in taken:
            heapq.heappush(free, (end, s))
        plan[t.key] = _Planned(start, end, node_of(taken[0][1]))
    return plan


def _task_transitions(
    store: Store, account: Doc, job: Doc, tasks: list[Doc], now: float
) -> list[tuple[Doc, dict[str, Any]]]:
    """(task, new body) for every task whose state changed by `now`."""
    out: list[tuple[Doc, dict[str, Any]]] = []
    plan = _plan(store, account, job, tasks, now)
    pool = _job_pool(store, account, job.body, now) if plan else None
    for t in tasks:
        m = t.body["meta"]
        if m["state"] == "running" and m.get("end") is not None and m["end"] <= now:
            body = copy.deepcopy(t.body)
            _finish_task(body["meta"], m["end"], exit_code=0)
            out.append((t, body))
        elif m["state"] == "active" and t.key in plan:
            p = plan[t.key]
            body = copy.deepcopy(t.body)
            bm = body["meta"]
            _set_state(bm, "running", p.start)
            bm["start"], bm["end"] = p.start, p.end
            ex = bm.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
            ex["startTime"] = p.start
            if pool is not None:
                st = mgmt.pool_state(pool, now)
                bm["node"] = {
                    "poolId": pools.pool_id(pool),
                    "nodeId": pools.node_id(pool, p.node, p.node < st.current_dedicated),
                }
                bm["nodeIndex"] = p.node
            if p.end <= now:
                _finish_task(bm, p.end, exit_code=0)
            out.append((t, body))
    return out


def _finish_task(
    meta: dict[str, Any], at: float, *, exit_code: int | None = None, failure: dict[str, Any] | None = None
) -> None:
    _set_state(meta, "completed", at)
    ex = meta.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
    if meta.get("start") is not None:
        ex["endTime"] = at
    if exit_code is not None:
        ex["exitCode"] = exit_code
    if failure is not None:
        ex["failureInfo"] = failure
        ex["result"] = "failure"
    else:
        ex["result"] = "success"
    meta["end"] = at


TASK_ENDED = {"category": "usererror", "code": "TaskEnded", "message": "Task Was Ended by User Request"}


def _settled_job_body(
    store: Store, account: Doc, doc: Doc, now: float
) -> tuple[dict[str, Any] | None, list[tuple[Doc, dict[str, Any]]], bool]:
    """(new job body or None if gone, task writes, changed?) for a job at `now`.

    Tasks that only pretend to run (no node agent) move by time, and reading a job settles them.
    Only unfinished tasks are read (a completed one never changes again), and none when none can
    move (nothing runs, and the pool has no slot for a queued one): every task added to a job
    reads it, and reading all its tasks each time made adding 10,000 of them quadratic."""
    body, changed = _due_body(doc, now)
    if body is None:
        return None, [], True
    meta = body["meta"]
    if agent_settings.execution_enabled(store):
        return body, [], _settled_by_agent(store, doc.key, body, now) or changed
    writes: TaskWrites = []
    tasks: list[Doc] | None = None  # the unfinished tasks, when read
    if meta["state"] in ("active", "disabling", "disabled", "enabling", "terminating"):
        settled_doc = Doc(doc.kind, doc.key, doc.parent, doc.etag, doc.created, doc.updated, body)
        if _tasks_can_move(store, account, settled_doc, now):
            tasks = _unfinished_tasks(store, doc.key)
            writes = _task_transitions(store, account, settled_doc, tasks, now)
    if meta["state"] == "active":
        if tasks is None:
            all_done = not store.any_state(KIND_TASK, _UNFINISHED, parent=doc.key)
        else:
            after = {t.key: t.body for t in tasks}
            after.update({t.key: b for t, b in writes})
            all_done = all(b["meta"]["state"] == "completed" for b in after.values())
        wall = mgmt.parse_duration(body["constraints"].get("maxWallClockTime")) or _INFINITE_SECONDS
        if body.get("onAllTasksComplete") == "terminatejob" and all_done:
            # a state change moves stateTime forward: the stored maximum and the new ones cover all
            ends = [b["meta"].get("stateTime") or 0.0 for _, b in writes]
            done = store.max_field(KIND_TASK, parent=doc.key, field="$.meta.stateTime") or 0.0
            at = max([meta.get("autoTerminateSince") or meta["created"], done, *ends])
            _complete(meta, min(at, now), "AllTasksComplete")
            changed = True
        elif wall < _INFINITE_SECONDS and meta["created"] + wall <= now:
            _complete(meta, meta["created"] + wall, "MaxWallClockTimeExpiry")
            changed = True
    return body, writes, changed or bool(writes)


_UNFINISHED = ("active", "preparing", "running")


def _unfinished_tasks(store: Store, job_key: str) -> list[Doc]:
    return store.by_state(KIND_TASK, _UNFINISHED, parent=job_key)


def _tasks_can_move(store: Store, account: Doc, job: Doc, now: float) -> bool:
    """Whether a task of `job` (pretending to run) can change state: one is running (it ends by
    time), or the job is active and its pool has a slot to start a queued one (as _plan needs)."""
    if store.any_state(KIND_TASK, ("running",), parent=job.key):
        return True
    if job.body["meta"]["state"] != "active":
        return False
    pool = _job_pool(store, account, job.body, now)
    if pool is None:
        return False
    nodes, per_node, _since = pools.capacity(pool, now)
    return nodes * per_node > 0


def _settled_by_agent(store: Store, job_key: str, body: dict[str, Any], now: float) -> bool:
    """A job whose tasks the node agent runs (deployer.emulator.agent): its tasks' state is the
    agent's, only the job's own rules apply here, with indexed queries (one probe for "any task
    not completed", one MAX for when the last one ended) instead of reading every task."""
    meta = body["meta"]
    if meta["state"] != "active":
        return False
    wall = mgmt.parse_duration(body["constraints"].get("maxWallClockTime")) or _INFINITE_SECONDS
    if body.get("onAllTasksComplete") == "terminatejob" and not store.any_state(KIND_TASK, _UNFINISHED, parent=job_key):
        last = store.max_field(KIND_TASK, parent=job_key, field="$.meta.stateTime") or 0.0
        at = max(meta.get("autoTerminateSince") or meta["created"], last)
        _complete(meta, min(at, now), "AllTasksComplete")
        return True
    if wall < _INFINITE_SECONDS and meta["created"] + wall <= now:
        _complete(meta, meta["created"] + wall, "MaxWallClockTimeExpiry")
        return True
    return False


def settle_job(store: Store, account: Doc, doc: Doc, now: float | None = None) -> Doc | None:
    """The job at `now`, with what became due written back; None once its deletion finished."""
    at = clock.now() if now is None else now

    return _settle(store, doc, lambda current: _settled_job_body(store, account, current, at))


JOBS = _Collection(KIND_JOB, "jobs", settle_job, errors.job_not_found, errors.job_state_conflict)
get_job, require_job = JOBS.get, JOBS.require


def list_jobs(store: Store, account: Doc, now: float | None = None) -> list[Doc]:
    """The account's jobs, after its schedules created the jobs that became due."""
    schedules.fire_all(store, account, now)
    return schedules.without_orphans(store, account, JOBS.list(store, account, now))


def _check_can_create(
    store: Store, account: Doc, item_id: str, now: float, taken: tuple[tuple[_Collection, Callable[[], ApiError]], ...]
) -> None:
    """409 when a job or schedule holds the id already (they share one namespace), or at the quota."""
    for collection, error in taken:
        if collection.get(store, account, item_id, now) is not None:
            raise error()
    _check_quota(store, account, now)


_INACTIVE = ("completed", "deleting")
_LIVE_STATES = ("active", "disabling", "disabled", "enabling", "terminating")  # every other state


def _active_count(store: Store, account: Doc, now: float, *, settled: bool) -> int:
    """Jobs and schedules neither completed nor being deleted. Unsettled, states are counted as
    stored (cheap: SQLite counts index entries); settling only ever ends jobs and schedules, never revives
    one, so the settled count can only be lower."""
    if not settled:  # counted on the state index: no document is decoded
        return sum(store.count_states(c.kind, _LIVE_STATES, parent=account.key) for c in (JOBS, SCHEDULES))
    docs = [*list_jobs(store, account, now), *list_schedules(store, account, now)]
    return sum(1 for d in docs if d.body["meta"]["state"] not in _INACTIVE)


def _check_quota(store: Store, account: Doc, now: float) -> None:
    quota = int(account.body.get("quotas", {}).get("activeJobAndJobScheduleQuota", 100))
    if (_active_count(store, account, now, settled=False) >= quota
            and _active_count(store, account, now, settled=True) >= quota):
        raise errors.active_job_quota_reached(quota)


# ==============================================================================================
# jobs: writes
# ==============================================================================================


def _new_job_body(job_id: str, spec: dict[str, Any], now: float) -> dict[str, Any]:
    meta = _new_meta(
        now,
        pending=None,
        schedulingSince=now,
        autoTerminateSince=now if spec.get("onAllTasksComplete") == "terminatejob" else None,
    )
    return {"id": job_id, **spec, "meta": meta}


def create_job(store: Store, account: Doc, payload: Any) -> Doc:
    """POST /jobs. The pool need not exist (Azure accepts a job for a pool created later)."""
    payload = _require_object(payload)
    job_id = _check_id(payload.get("id"))
    spec = _job_spec(payload)
    now = clock.now()
    with store.transaction():
        _check_can_create(
            store,
            account,
            job_id,
            now,
            ((JOBS, errors.job_exists), (SCHEDULES, errors.job_schedule_with_same_id_exists)),
        )
        key = JOBS.key(account, job_id)
        store.delete_prefix(key + "/")  # tasks of a job deleted earlier with the same id, if any
        auto_pool = auto_pools.create_for_job(store, account, spec["poolInfo"])  # secrets in clear, as sent
        spec = secrets.digest(spec, secrets.JOB_SECRETS, secrets.salt_of(store))
        body = _new_job_body(job_id, spec, now)
        if auto_pool is not None:
            body["meta"]["autoPool"] = auto_pool
        job = store.put(KIND_JOB, key, body, parent=account.key)
        if spec.get("jobManagerTask") and agent_settings.execution_enabled(store):
            _add_job_manager_task(store, job, spec["jobManagerTask"], now)
        return job


JOB_MANAGER_FIELDS = (
    "displayName", "commandLine", "containerSettings", "resourceFiles", "outputFiles", "environmentSettings",
    "constraints", "requiredSlots", "killJobOnCompletion", "userIdentity", "runExclusive",
    "applicationPackageReferences", "allowLowPriorityNode",
)


def _add_job_manager_task(store: Store, job: Doc, spec: dict[str, Any], now: float) -> None:
    """The job manager task, added to the job as it is created (as the service does; it appears
    among the job's tasks). Its meta marks it so its end can terminate the job."""
    task_id = str(spec.get("id") or "jobmanager")
    body = _new_task_body(task_id, {k: copy.deepcopy(spec[k]) for k in JOB_MANAGER_FIELDS if spec.get(k) is not None},
                          now)
    body["meta"]["jobManager"] = True
    store.put(KIND_TASK, task_key(job, task_id), body, parent=job.key)


def _check_job_writable(doc: Doc) -> None:
    state = doc.body["meta"]["state"]
    if state in ("completed", "terminating", "deleting"):
        raise errors.job_state_conflict(state)


def update_job(
    store: Store, account: Doc, job_id: str, payload: Any, *, replace: bool, conditions: Conditions = NO_CONDITIONS
) -> Doc:
    """PATCH (merge: what the request names replaces the stored value) or PUT (every updatable
    property replaced; those omitted go back to their defaults)."""
    payload = _require_object(payload)
    now = clock.now()
    with store.transaction():
        doc = require_job(store, account, job_id, now)
        conditions.check_write(doc)
        _check_job_writable(doc)
        salt = secrets.salt_of(store)
        body = secrets.seal(doc.body, secrets.JOB_SECRETS, salt)
        meta = body["meta"]
        # Digested before they meet the stored ones: the same auto pool again is no change.
        fields = secrets.digest(
            {k: payload[k] for k in JOB_UPDATE_FIELDS if payload.get(k) is not None}, secrets.JOB_SECRETS, salt
        )
        _validate_job_fields(fields)
        if replace:
            if "poolInfo" not in fields:
                raise errors.missing_property("poolInfo")
            fields.setdefault("priority", 0)
            fields.setdefault("maxParallelTasks", -1)
            fields.setdefault("allowTaskPreemption", False)
            fields.setdefault("onAllTasksComplete", "noaction")
            fields.setdefault("constraints", None)
            fields.setdefault("metadata", None)
        if "poolInfo" in fields:
            new_pool = _pool_info(fields["poolInfo"])
            if new_pool != body["poolInfo"] and meta["state"] != "disabled":
                raise errors.pool_change_requires_disabled_job()
            fields["poolInfo"] = new_pool
        if "onAllTasksComplete" in fields:
            if body["onAllTasksComplete"] == "terminatejob" and fields["onAllTasksComplete"] == "noaction":
                raise errors.invalid_property(
                    "onAllTasksComplete",
                    "noaction",
                    "The completion behavior of a job cannot be changed from terminatejob to noaction.",
                )
            if fields["onAllTasksComplete"] == "terminatejob" and body["onAllTasksComplete"] != "terminatejob":
                meta["autoTerminateSince"] = now
        if "constraints" in fields:
            fields["constraints"] = _job_constraints(fields["constraints"])
        if "metadata" in fields:
            md = _metadata(fields["metadata"])
            fields["metadata"] = md
        for k, v in fields.items():
            if v is None:
                body.pop(k, None)
            else:
                body[k] = v
        meta["modified"] = now
        return store.put(KIND_JOB, doc.key, body, parent=doc.parent, expect=doc.etag)


def _end_running(now: float) -> Callable[[Doc], dict[str, Any] | None]:
    def change(t: Doc) -> dict[str, Any] | None:
        if t.body["meta"]["state"] != "running":
            return None
        body = copy.deepcopy(t.body)
        _finish_task(body["meta"], now, failure=dict(TASK_ENDED))
        body["meta"]["modified"] = now
        return body

    return change


def delete_job(store: Store, account: Doc, job_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    return _transition(
        store, account, JOBS, job_id, DELETE, conditions, conflict=lambda _state: errors.job_being_deleted()
    )


def terminate_job(
    store: Store, account: Doc, job_id: str, reason: str | None, *, conditions: Conditions = NO_CONDITIONS
) -> Doc:
    """active/disabled/... -> terminating -> completed (running tasks end; active ones stay active)."""

    def begin(doc: Doc, now: float) -> Doc:
        return _begin(store, doc, TERMINATE, now, reason=reason or "UserTerminate", task_change=_end_running(now))

    return _transition(store, account, JOBS, job_id, TERMINATE, conditions, begin=begin)


def disable_job(
    store: Store, account: Doc, job_id: str, disable_tasks: Any, *, conditions: Conditions = NO_CONDITIONS
) -> Doc:
    """active -> disabling -> disabled; running tasks requeued, terminated or left to finish."""
    if not isinstance(disable_tasks, str) or disable_tasks.lower() not in _DISABLE_TASKS:
        if disable_tasks is None:
            raise errors.missing_property("disableTasks")
        raise errors.invalid_property("disableTasks", disable_tasks, "The value must be requeue, terminate or wait.")
    mode = disable_tasks.lower()

    def begin(doc: Doc, now: float) -> Doc:
        delay = transition_seconds()
        change: Callable[[Doc], dict[str, Any] | None]
        if mode == "terminate":
            change = _end_running(now)
        elif mode == "requeue":

            def change(t: Doc) -> dict[str, Any] | None:
                if t.body["meta"]["state"] != "running":
                    return None
                body = copy.deepcopy(t.body)
                m = body["meta"]
                _set_state(m, "active", now)
                ex = m.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
                ex["requeueCount"] = ex.get("requeueCount", 0) + 1
                ex["lastRequeueTime"] = now
                ex.pop("startTime", None)
                m["queued"], m["start"], m["end"] = now, None, None
                m.pop("node", None)
                m["modified"] = now
                return body
        else:  # wait: the job stays disabling until its running tasks are done
            ends = [
                t.body["meta"].get("end") or now
                for t in store.list(KIND_TASK, parent=doc.key)
                if t.body["meta"]["state"] == "running"
            ]
            delay = max([delay, *[e - now for e in ends]])

            def change(t: Doc) -> dict[str, Any] | None:
                return None

        return _begin(store, doc, JOB_DISABLE, now, delay=delay, task_change=change)

    return _transition(store, account, JOBS, job_id, JOB_DISABLE, conditions, begin=begin)


def enable_job(store: Store, account: Doc, job_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    """disabled/disabling -> enabling -> active (scheduling resumes when it is active again)."""

    def begin(doc: Doc, now: float) -> Doc:
        return _begin(store, doc, JOB_ENABLE, now, resume_scheduling=True)

    return _transition(store, account, JOBS, job_id, JOB_ENABLE, conditions, begin=begin)


# ==============================================================================================
# jobs: rendering
# ==============================================================================================


def job_url(base_url: str, account: Doc, job_id: str) -> str:
    return f"{base_url}/batch/{account_name(account)}/jobs/{job_id}"


def render_job(doc: Doc, base_url: str, account: Doc) -> dict[str, Any]:
    """The job as the service returns it (shape of Jobs_GetJob.json)."""
    b, m = secrets.strip(doc.body, secrets.JOB_SECRETS), doc.body["meta"]
    out = _render_head(doc, job_url(base_url, account, b["id"]))
    for k in JOB_RENDER_ORDER:
        if b.get(k) is not None:
            out[k] = copy.deepcopy(b[k])
    ex: dict[str, Any] = {"startTime": clock.iso(m["created"])}
    if m.get("endTime") is not None:
        ex["endTime"] = clock.iso(m["endTime"])
    pool_id = auto_pools.pool_id_of(doc.body)
    if pool_id:
        ex["poolId"] = pool_id
    if m.get("terminateReason"):
        ex["terminateReason"] = m["terminateReason"]
    out["executionInfo"] = ex
    out["onAllTasksComplete"] = b.get("onAllTasksComplete", "noaction")
    out["onTaskFailure"] = b.get("onTaskFailure", "noaction")
    if b.get("networkConfiguration") is not None:
        out["networkConfiguration"] = copy.deepcopy(b["networkConfiguration"])
    if b.get("metadata"):
        out["metadata"] = copy.deepcopy(b["metadata"])
    return out


# ==============================================================================================
# tasks
# ==============================================================================================


def _task_spec(payload: Any, job: Doc) -> tuple[str, dict[str, Any]]:
    """(id, stored properties) of a task to add; ApiError when it is invalid."""
    payload = _require_object(payload)
    task_id = _check_id(payload.get("id"))
    if not isinstance(payload.get("commandLine"), str) or not payload["commandLine"]:
        raise errors.missing_property("commandLine")
    spec = {k: copy.deepcopy(payload[k]) for k in TASK_CREATE_FIELDS if payload.get(k) is not None}
    _int(spec, "requiredSlots", 1, 256)
    if spec.get("dependsOn") and not job.body.get("usesTaskDependencies"):
        raise errors.task_dependencies_not_specified_on_job()
    return task_id, spec


def _new_task_body(task_id: str, spec: dict[str, Any], now: float) -> dict[str, Any]:
    meta = _new_meta(now, queued=now, start=None, end=None, exec={"retryCount": 0, "requeueCount": 0})
    return {"id": task_id, **spec, "meta": meta}


def _check_job_accepts_tasks(job: Doc) -> None:
    state = job.body["meta"]["state"]
    if state in ("completed", "terminating", "deleting"):
        raise errors.job_state_conflict(state)


def add_task(store: Store, account: Doc, job_id: str, payload: Any) -> tuple[Doc, Doc]:
    """(job, task) of a task added to a job."""
    now = clock.now()
    with store.transaction():
        job = require_job(store, account, job_id, now)
        _check_job_accepts_tasks(job)
        task_id, spec = _task_spec(payload, job)
        spec = secrets.digest(spec, secrets.TASK_SECRETS, secrets.salt_of(store))
        key = task_key(job, task_id)
        if store.get(KIND_TASK, key) is not None:
            raise errors.task_exists()
        return job, store.put(KIND_TASK, key, _new_task_body(task_id, spec, now), parent=job.key)


@dataclass
class AddResult:
    task_id: str | None
    doc: Doc | None = None
    error: Any = None  # ApiError


def add_task_collection(store: Store, account: Doc, job_id: str, payload: Any) -> tuple[Doc, list[AddResult]]:
    """POST /jobs/{id}/addtaskcollection: at most 100 tasks, one result per task (in order)."""
    payload = _require_object(payload)
    values = payload.get("value")
    if values is None:
        raise errors.missing_property("value")
    if not isinstance(values, list):
        raise errors.invalid_property("value", values, "value must be a list of tasks.")
    if len(values) > MAX_TASKS_PER_COLLECTION:
        raise errors.request_body_too_large(
            f"The maximum number of tasks in a single request is {MAX_TASKS_PER_COLLECTION}; {len(values)} were sent."
        )
    now = clock.now()
    results: list[AddResult] = []
    with store.transaction():
        job = require_job(store, account, job_id, now)
        _check_job_accepts_tasks(job)
        added: set[str] = set()  # ids earlier in this request; earlier requests: one lookup per id
        salt = secrets.salt_of(store)
        for raw in values:
            tid = raw.get("id") if _is_dict(raw) and isinstance(raw.get("id"), str) else None
            try:
                task_id, spec = _task_spec(raw, job)
                spec = secrets.digest(spec, secrets.TASK_SECRETS, salt)
                key = task_key(job, task_id)
                if key in added or store.exists(KIND_TASK, key):
                    raise errors.task_exists()
                doc = store.put(KIND_TASK, key, _new_task_body(task_id, spec, now), parent=job.key)
                added.add(key)
                results.append(AddResult(task_id, doc))
            except ApiError as err:
                results.append(AddResult(tid, error=err))
    return job, results


def list_tasks(store: Store, account: Doc, job_id: str, now: float | None = None) -> tuple[Doc, Sequence[Doc]]:
    """The job and its tasks, read lazily: a page of the listing reads only its own tasks."""
    job = require_job(store, account, job_id, clock.now() if now is None else now)
    return job, store.children(KIND_TASK, job.key)


def require_task(store: Store, account: Doc, job_id: str, task_id: str, now: float | None = None) -> tuple[Doc, Doc]:
    now = clock.now() if now is None else now
    job = require_job(store, account, job_id, now)
    doc = store.get(KIND_TASK, task_key(job, task_id))
    if doc is None:
        raise errors.task_not_found()
    return job, doc


def _change_task(
    store: Store,
    account: Doc,
    job_id: str,
    task_id: str,
    conditions: Conditions,
    change: Callable[[dict[str, Any], float], None],
) -> Doc:
    """Write `change(body, now)` to a task that has not completed yet (409 TaskCompleted once it has)."""
    now = clock.now()
    with store.transaction():
        _job, doc = require_task(store, account, job_id, task_id, now)
        conditions.check_write(doc)
        if doc.body["meta"]["state"] == "completed":
            raise errors.task_completed()
        body = copy.deepcopy(doc.body)
        change(body, now)
        body["meta"]["modified"] = now
        return store.put(KIND_TASK, doc.key, body, parent=doc.parent, expect=doc.etag)


def update_task(
    store: Store, account: Doc, job_id: str, task_id: str, payload: Any, *, conditions: Conditions = NO_CONDITIONS
) -> Doc:
    """PUT /jobs/{j}/tasks/{t}: only the constraints of a task can change (until it completes)."""
    payload = _require_object(payload)

    def change(body: dict[str, Any], _now: float) -> None:
        if payload.get("constraints") is None:
            body.pop("constraints", None)
        elif not _is_dict(payload["constraints"]):
            raise errors.invalid_property("constraints", payload["constraints"], "constraints must be an object.")
        else:
            body["constraints"] = copy.deepcopy(payload["constraints"])

    return _change_task(store, account, job_id, task_id, conditions, change)


def delete_task(
    store: Store, account: Doc, job_id: str, task_id: str, *, conditions: Conditions = NO_CONDITIONS
) -> None:
    now = clock.now()
    with store.transaction():
        job, doc = require_task(store, account, job_id, task_id, now)
        conditions.check_write(doc)
        if job.body["meta"]["state"] == "deleting":
            raise errors.job_being_deleted()
        store.delete(KIND_TASK, doc.key)


def terminate_task(
    store: Store, account: Doc, job_id: str, task_id: str, *, conditions: Conditions = NO_CONDITIONS
) -> Doc:
    return _change_task(
        store,
        account,
        job_id,
        task_id,
        conditions,
        lambda body, now: _finish_task(body["meta"], now, failure=dict(TASK_ENDED)),
    )


#: what task counts read of each task: SQLite extracts them, no task is decoded
_COUNTED_FIELDS = ("$.meta.state", "$.requiredSlots", "$.meta.exec.result")


def task_counts(store: Store, job: Doc) -> dict[str, Any]:
    """GET /jobs/{j}/taskcounts: tasks and their slots by state, succeeded and failed apart."""
    counts = {"active": 0, "running": 0, "completed": 0, "succeeded": 0, "failed": 0}
    slots = dict(counts)
    for state, required, result in store.fields(KIND_TASK, _COUNTED_FIELDS, parent=job.key):
        state = state if state in ("active", "running", "completed") else "active"
        need = int(required or 1)
        counts[state] += 1
        slots[state] += need
        if state == "completed":
            outcome = "failed" if result == "failure" else "succeeded"
            counts[outcome] += 1
            slots[outcome] += need
    return {"taskCounts": counts, "taskSlotCounts": slots}


def pool_task_metrics(store: Store, account: Doc, pool_name: str, now: float | None = None) -> dict[str, float]:
    """The task metrics an autoscale formula reads for a pool, now: the tasks of the jobs that
    run on it, by state ($PendingTasks = $ActiveTasks + $RunningTasks)."""
    now = clock.now() if now is None else now
    totals = {"active": 0, "running": 0, "succeeded": 0, "failed": 0}
    for job in list_jobs(store, account, now):
        if str(auto_pools.pool_id_of(job.body) or "").lower() != pool_name.lower():
            continue
        counts = task_counts(store, job)["taskCounts"]
        for state in totals:
            totals[state] += counts[state]
    return {"$ActiveTasks": totals["active"], "$RunningTasks": totals["running"],
            "$PendingTasks": totals["active"] + totals["running"], "$SucceededTasks": totals["succeeded"],
            "$FailedTasks": totals["failed"]}


def task_url(base_url: str, account: Doc, job_id: str, task_id: str) -> str:
    return f"{job_url(base_url, account, job_id)}/tasks/{task_id}"


def render_task(doc: Doc, job: Doc, base_url: str, account: Doc) -> dict[str, Any]:
    """The task as the service returns it (shape of Tasks_GetTask.json)."""
    b, m = secrets.strip(doc.body, secrets.TASK_SECRETS), doc.body["meta"]
    job_id = job.body["id"]
    out = _render_head(doc, task_url(base_url, account, job_id, b["id"]))
    out["commandLine"] = b["commandLine"]
    for k in (
        "exitConditions",
        "containerSettings",
        "resourceFiles",
        "outputFiles",
        "environmentSettings",
        "affinityInfo",
    ):
        if b.get(k) is not None:
            out[k] = copy.deepcopy(b[k])
    out["userIdentity"] = copy.deepcopy(b.get("userIdentity")) or {
        "autoUser": {"scope": "task", "elevationLevel": "nonadmin"}
    }
    if b.get("multiInstanceSettings") is not None:
        out["multiInstanceSettings"] = copy.deepcopy(b["multiInstanceSettings"])
    c = b.get("constraints") or {}
    job_retries = (job.body.get("constraints") or {}).get("maxTaskRetryCount", 0)
    out["constraints"] = {
        "maxWallClockTime": c.get("maxWallClockTime") or INFINITE,
        "retentionTime": c.get("retentionTime") or INFINITE,
        "maxTaskRetryCount": c.get("maxTaskRetryCount") if c.get("maxTaskRetryCount") is not None else job_retries,
    }
    out["requiredSlots"] = b.get("requiredSlots") or 1
    ex_src = m.get("exec") or {}
    ex: dict[str, Any] = {}
    for k in ("startTime", "endTime"):
        if ex_src.get(k) is not None:
            ex[k] = clock.iso(ex_src[k])
    if ex_src.get("exitCode") is not None:
        ex["exitCode"] = ex_src["exitCode"]
    if ex_src.get("failureInfo"):
        ex["failureInfo"] = copy.deepcopy(ex_src["failureInfo"])
    ex["retryCount"] = ex_src.get("retryCount", 0)
    ex["requeueCount"] = ex_src.get("requeueCount", 0)
    if ex_src.get("lastRequeueTime") is not None:
        ex["lastRequeueTime"] = clock.iso(ex_src["lastRequeueTime"])
    if ex_src.get("result"):
        ex["result"] = ex_src["result"]
    out["executionInfo"] = ex
    node = m.get("node")
    if node:
        node_url = f"{pools.pool_url(base_url, account_name(account), node['poolId'])}/nodes/{node['nodeId']}"
        root = f"workitems/{job_id}/job-1/{b['id']}"
        out["nodeInfo"] = {
            "affinityId": f"TVM:{node['nodeId']}",
            "nodeUrl": node_url,
            "poolId": node["poolId"],
            "nodeId": node["nodeId"],
            "taskRootDirectory": root,
            "taskRootDirectoryUrl": f"{node_url}/files/{root}",
        }
    for k in ("dependsOn", "applicationPackageReferences"):
        if b.get(k) is not None:
            out[k] = copy.deepcopy(b[k])
    return out


def pool_usage(
    store: Store, account: Doc, pool_id: str, now: float | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """({node index: running task slots}, {node index: running tasks}) of a pool: the running
    tasks of the whole store (an indexed query: what runs, not every task) on that pool."""
    now = clock.now() if now is None else now
    slots: dict[int, int] = {}
    count: dict[int, int] = {}
    wanted = pool_id.lower()
    prefix = account.key + "/"
    if not agent_settings.execution_enabled(store):
        list_jobs(store, account, now)  # the timer simulation: settle its tasks first
    for t in store.by_state(KIND_TASK, ("running",)):
        m = t.body["meta"]
        node = m.get("node") or {}
        if not t.parent.startswith(prefix) or str(node.get("poolId") or "").lower() != wanted:
            continue
        if m.get("nodeIndex") is not None:
            i = m["nodeIndex"]
            slots[i] = slots.get(i, 0) + int(t.body.get("requiredSlots") or 1)
            count[i] = count.get(i, 0) + 1
    return slots, count


# ==============================================================================================
# job schedules
# ==============================================================================================


def _schedule_config(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not _is_dict(value):
        raise errors.invalid_property("schedule", value, "schedule must be an object.")
    out = {
        k: value[k]
        for k in ("doNotRunUntil", "doNotRunAfter", "startWindow", "recurrenceInterval")
        if value.get(k) is not None
    }
    for k in ("doNotRunUntil", "doNotRunAfter"):
        if k in out:
            try:
                clock.parse_iso(str(out[k]))
            except ValueError:
                raise errors.invalid_property(f"schedule.{k}", out[k], "The value must be an ISO 8601 time.") from None
    for k in ("startWindow", "recurrenceInterval"):
        if k in out:
            secs = mgmt.parse_duration(out[k])
            if secs is None or (k == "recurrenceInterval" and secs < 60):
                raise errors.invalid_property(
                    f"schedule.{k}", out[k], "The value must be an ISO 8601 duration (at least 1 minute)."
                )
    return out


def _job_specification(value: Any) -> dict[str, Any]:
    if not _is_dict(value):
        raise errors.missing_property("jobSpecification")
    return _job_spec(value, "jobSpecification.", SPEC_FIELDS)


def _settled_schedule_body(doc: Doc, now: float) -> tuple[dict[str, Any] | None, TaskWrites, bool]:
    body, changed = _due_body(doc, now)
    if body is None:
        return None, [], True
    meta = body["meta"]
    after = body.get("schedule", {}).get("doNotRunAfter")
    if after and meta["state"] in ("active", "disabled"):
        t = clock.parse_iso(after)
        if t <= now:
            _set_state(meta, "completed", t)
            meta["endTime"] = t
            changed = True
    return body, [], changed


def settle_schedule(store: Store, account: Doc, doc: Doc, now: float | None = None) -> Doc | None:
    """The schedule at `now`, with what became due written back (the jobs it created: `schedules`);
    None once its deletion finished."""
    at = clock.now() if now is None else now
    fired = schedules.fire(store, account, doc, at)  # first: runs due before doNotRunAfter still happen
    return _settle(store, fired, lambda current: _settled_schedule_body(current, at))


SCHEDULES = _Collection(
    KIND_SCHEDULE, "jobschedules", settle_schedule, errors.schedule_not_found, errors.schedule_state_conflict
)
get_schedule, require_schedule, list_schedules = SCHEDULES.get, SCHEDULES.require, SCHEDULES.list


def create_schedule(store: Store, account: Doc, payload: Any) -> Doc:
    payload = _require_object(payload)
    sid = _check_id(payload.get("id"), pattern=_SCHEDULE_ID)
    if payload.get("schedule") is None:
        raise errors.missing_property("schedule")
    schedule = _schedule_config(payload.get("schedule"))
    spec = _job_specification(payload.get("jobSpecification"))
    metadata = _metadata(payload.get("metadata"))
    now = clock.now()
    with store.transaction():
        _check_can_create(
            store, account, sid, now, ((SCHEDULES, errors.schedule_exists), (JOBS, errors.job_with_same_id_exists))
        )
        body: dict[str, Any] = {"id": sid}
        if payload.get("displayName"):
            body["displayName"] = payload["displayName"]
        body["schedule"] = schedule
        body["jobSpecification"] = spec
        if metadata:
            body["metadata"] = metadata
        body["meta"] = _new_meta(now, pending=None, endTime=None)
        body = secrets.digest(body, secrets.SCHEDULE_SECRETS, secrets.salt_of(store))
        return store.put(KIND_SCHEDULE, SCHEDULES.key(account, sid), body, parent=account.key)


def update_schedule(
    store: Store,
    account: Doc,
    schedule_id: str,
    payload: Any,
    *,
    replace: bool,
    conditions: Conditions = NO_CONDITIONS,
) -> Doc:
    payload = _require_object(payload)
    now = clock.now()
    with store.transaction():
        doc = require_schedule(store, account, schedule_id, now)
        conditions.check_write(doc)
        state = doc.body["meta"]["state"]
        if state in ("completed", "terminating", "deleting"):
            raise errors.schedule_state_conflict(state)
        salt = secrets.salt_of(store)
        body = secrets.seal(doc.body, secrets.SCHEDULE_SECRETS, salt)

        def job_specification(value: Any) -> dict[str, Any]:
            return secrets.digest(_job_specification(value), secrets.JOB_SECRETS, salt)

        if replace:
            if payload.get("jobSpecification") is None:
                raise errors.missing_property("jobSpecification")
            body["schedule"] = _schedule_config(payload.get("schedule"))
            body["jobSpecification"] = job_specification(payload["jobSpecification"])
            _set_or_drop(body, "metadata", _metadata(payload.get("metadata")))
        else:
            if payload.get("schedule") is not None:
                body["schedule"] = _schedule_config(payload["schedule"])
            if payload.get("jobSpecification") is not None:
                body["jobSpecification"] = job_specification(payload["jobSpecification"])
            if payload.get("metadata") is not None:
                _set_or_drop(body, "metadata", _metadata(payload["metadata"]))
        body["meta"]["modified"] = now
        return store.put(KIND_SCHEDULE, doc.key, body, parent=doc.parent, expect=doc.etag)


def delete_schedule(store: Store, account: Doc, schedule_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    return _transition(store, account, SCHEDULES, schedule_id, DELETE, conditions)


def terminate_schedule(store: Store, account: Doc, schedule_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    return _transition(store, account, SCHEDULES, schedule_id, TERMINATE, conditions)


def disable_schedule(store: Store, account: Doc, schedule_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    return _transition(store, account, SCHEDULES, schedule_id, SCHEDULE_DISABLE, conditions)


def enable_schedule(store: Store, account: Doc, schedule_id: str, *, conditions: Conditions = NO_CONDITIONS) -> Doc:
    return _transition(store, account, SCHEDULES, schedule_id, SCHEDULE_ENABLE, conditions)


def _next_run(body: dict[str, Any], now: float) -> float | None:
    m = body["meta"]
    if m["state"] != "active":
        return None
    sched = body.get("schedule") or {}
    start = clock.parse_iso(sched["doNotRunUntil"]) if sched.get("doNotRunUntil") else m["created"]
    after = clock.parse_iso(sched["doNotRunAfter"]) if sched.get("doNotRunAfter") else None
    if start > now:
        nxt: float | None = start
    else:
        every = mgmt.parse_duration(sched.get("recurrenceInterval")) if sched.get("recurrenceInterval") else None
        nxt = start + math.ceil((now - start) / every) * every if every else None
    if nxt is not None and after is not None and nxt > after:
        return None
    return nxt


def schedule_url(base_url: str, account: Doc, schedule_id: str) -> str:
    return f"{base_url}/batch/{account_name(account)}/jobschedules/{schedule_id}"


def render_schedule(doc: Doc, base_url: str, account: Doc, now: float | None = None) -> dict[str, Any]:
    now = clock.now() if now is None else now
    b, m = secrets.strip(doc.body, secrets.SCHEDULE_SECRETS), doc.body["meta"]
    out = _render_head(doc, schedule_url(base_url, account, b["id"]))
    out["schedule"] = copy.deepcopy(b.get("schedule") or {})
    out["jobSpecification"] = copy.deepcopy(b["jobSpecification"])
    ex: dict[str, Any] = {}
    nxt = _next_run(b, now)
    if nxt is not None:
        ex["nextRunTime"] = clock.iso(nxt)
    recent = schedules.recent_job(doc)
    if recent is not None:
        ex["recentJob"] = {"id": recent, "url": job_url(base_url, account, recent)}
    if m.get("endTime") is not None:
        ex["endTime"] = clock.iso(m["endTime"])
    out["executionInfo"] = ex
    if b.get("metadata"):
        out["metadata"] = copy.deepcopy(b["metadata"])
    return out


# ==============================================================================================
# what the node agent records (deployer.emulator.agent): node states, preparation/release tasks
# ==============================================================================================

KIND_NODE = "batchNode"  # {pool key}/nodes/{index}, parent: pool key
KIND_PREP = "batchPrepRelease"  # {job key}/preprelease/{node id}, parent: job key


def node_states(store: Store, pool: Doc) -> dict[int, dict[str, Any]]:
    """The agent's record of each node of a pool, by index (one indexed query)."""
    return {int(d.body.get("index", -1)): d.body for d in store.list(KIND_NODE, parent=pool.key)}


def preparation_statuses(store: Store, job: Doc) -> list[dict[str, Any]]:
    """The job's preparation and release task status per node (Job_ListPreparationAndReleaseTaskStatus)."""
    out = []
    for d in store.list(KIND_PREP, parent=job.key):
        b = d.body
        item: dict[str, Any] = {"poolId": b["poolId"], "nodeId": b["nodeId"]}
        for k in ("jobPreparationTaskExecutionInfo", "jobReleaseTaskExecutionInfo"):
            if b.get(k):
                item[k] = copy.deepcopy(b[k])
        out.append(item)
    return out
