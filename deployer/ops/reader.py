"""The live read `deploy status`, `wait` and `logs` share: what a stack owns, through Batch's efficient queries.

Requests per read (measured by bench/ops_requests.py):

* 1 — the resource group's Batch accounts (management API), once per `StackReader`; only the
  accounts the stack declares and owns are read further;
* per account, in parallel: 1 pool list (`$filter` on the stack's pool ids, `$select` of the
  fields shown), 1 node-count list (`GET /nodecounts`, same filter: node states by count),
  1 job list and 1 job-schedule list (`$filter` on ids, `$select`);
* per job (and per schedule's current job): 1 task count (`GET /jobs/{id}/taskcounts`) — a job
  of 100,000 tasks costs the same one request; tasks are never listed to count them;
* only when something failed: the failed tasks (`$filter=executionInfo/result eq 'failure'`,
  `$select`, first N) and a pool's failed nodes (`$filter` on the node state, first N), plus two
  requests per named task for its stderr tail (file properties, then one byte range).

A pool, job or schedule whose id the stack declares but which carries no ownership marker of this
stack is reported as `not-owned` and nothing more of it is read.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from deployer.errors import AzureError
from deployer.resources.ownership import owner
from deployer.resources.read import _call, owned_by, rest
from deployer.stack.model import Address, DesiredResource, Kind, Stack

POOL_SELECT = [
    "id", "state", "allocationState", "allocationStateTransitionTime", "vmSize", "currentDedicatedNodes",
    "currentLowPriorityNodes", "targetDedicatedNodes", "targetLowPriorityNodes", "enableAutoScale",
    "autoScaleRun", "resizeErrors", "metadata",
]
JOB_SELECT = ["id", "state", "stateTransitionTime", "poolInfo", "executionInfo", "metadata"]
SCHEDULE_SELECT = ["id", "state", "executionInfo", "metadata"]
TASK_SELECT = ["id", "state", "executionInfo"]
NODE_SELECT = ["id", "state", "startTaskInfo", "errors"]
FAILED_TASKS = "executionInfo/result eq 'failure'"
FAILED_NODES = "state eq 'starttaskfailed' or state eq 'unusable'"
#: ids per `$filter` (`id eq 'a' or id eq 'b' …`): keeps request URLs short
IDS_PER_FILTER = 20
#: bytes read from the end of a file for its last lines
TAIL_BYTES = 8192

FOUND, MISSING, NOT_OWNED = "found", "missing", "not-owned"


# ------------------------------------------------------------------------------------------------
# what one read returns
# ------------------------------------------------------------------------------------------------


@dataclass
class FailedTask:
    id: str
    exit_code: int | None = None
    failure: dict[str, Any] | None = None  # failureInfo: category, code, message
    stderr: list[str] | None = None  # the last lines of stderr.txt, when read
    stderr_error: str | None = None  # why they could not be read

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "exitCode": self.exit_code}
        if self.failure:
            out["failureInfo"] = {k: self.failure.get(k) for k in ("category", "code", "message")
                                  if self.failure.get(k) is not None}
        if self.stderr is not None:
            out["stderrTail"] = self.stderr
        if self.stderr_error:
            out["stderrError"] = self.stderr_error
        return out


@dataclass
class PoolStatus:
    address: str
    id: str
    presence: str = MISSING
    allocation_state: str | None = None
    dedicated: tuple[int, int] = (0, 0)  # (current, target)
    spot: tuple[int, int] = (0, 0)
    auto_scale: bool = False
    auto_scale_run: dict[str, Any] | None = None
    node_states: dict[str, int] = field(default_factory=dict)  # non-zero counts, dedicated + spot
    resize_errors: list[dict[str, str]] = field(default_factory=list)
    node_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def steady(self) -> bool:
        return self.presence == FOUND and str(self.allocation_state).lower() == "steady"

    @property
    def problems(self) -> list[str]:
        """What is wrong with the pool's allocation, one line each (empty: nothing)."""
        out = [f"{e.get('code')}: {e.get('message')}" for e in self.resize_errors]
        for state in ("startTaskFailed", "unusable"):
            if self.node_states.get(state):
                out.append(f"{self.node_states[state]} node(s) {state}")
        for node in self.node_errors:
            if node.get("code") or node.get("message"):
                out.append(f"node {node['id']} ({node['state']}): {node.get('code')}: {node.get('message')}")
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": self.address, "id": self.id, "presence": self.presence}
        if self.presence != FOUND:
            return out
        out.update({
            "allocationState": self.allocation_state,
            "dedicatedNodes": {"current": self.dedicated[0], "target": self.dedicated[1]},
            "spotNodes": {"current": self.spot[0], "target": self.spot[1]},
            "nodeStates": dict(self.node_states),
            "autoScale": self.auto_scale,
            "resizeErrors": self.resize_errors,
            "nodeErrors": self.node_errors,
            "problems": self.problems,
        })
        if self.auto_scale_run is not None:
            out["autoScaleRun"] = self.auto_scale_run
        return out


TASK_COUNT_KEYS = ("active", "running", "completed", "succeeded", "failed")


@dataclass
class JobStatus:
    address: str
    id: str
    kind: str  # "job" | "jobSchedule"
    presence: str = MISSING
    state: str | None = None
    pool: str | None = None
    job_id: str | None = None  # the job whose tasks are counted (a schedule's current job)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TASK_COUNT_KEYS, 0))
    terminate_reason: str | None = None
    failed_tasks: list[FailedTask] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Nothing left to wait for: the job completed, or has no active and no running task."""
        if self.presence != FOUND:
            return True
        if self.kind == "jobSchedule":
            return self.job_id is None or not (self.counts["active"] or self.counts["running"])
        return str(self.state).lower() == "completed" or not (self.counts["active"] or self.counts["running"])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": self.address, "id": self.id, "kind": self.kind, "presence": self.presence}
        if self.presence != FOUND:
            return out
        out.update({"state": self.state, "pool": self.pool})
        if self.kind == "jobSchedule":
            out["currentJob"] = self.job_id
        if self.terminate_reason:
            out["terminateReason"] = self.terminate_reason
        out["taskCounts"] = dict(self.counts)
        out["failedTasks"] = [t.to_dict() for t in self.failed_tasks]
        return out


@dataclass
class Snapshot:
    stack: str
    target: str
    pools: list[PoolStatus]
    jobs: list[JobStatus]
    read_at: float = field(default_factory=time.time)

    @property
    def done(self) -> bool:
        return all(p.steady or p.presence != FOUND for p in self.pools) and all(j.done for j in self.jobs)

    @property
    def failed(self) -> bool:
        return any(p.problems for p in self.pools) or any(j.counts["failed"] for j in self.jobs)

    def totals(self) -> dict[str, int]:
        return {k: sum(j.counts[k] for j in self.jobs) for k in TASK_COUNT_KEYS}

    def to_dict(self) -> dict[str, Any]:
        from deployer.ops import FORMAT_VERSION

        return {
            "formatVersion": FORMAT_VERSION,
            "kind": "status",
            "stack": self.stack,
            "target": self.target,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.read_at)),
            "pools": [p.to_dict() for p in self.pools],
            "jobs": [j.to_dict() for j in self.jobs],
            "summary": {
                "pools": len(self.pools),
                "steadyPools": sum(1 for p in self.pools if p.steady),
                "poolsWithProblems": sum(1 for p in self.pools if p.problems),
                "tasks": self.totals(),
                "done": self.done,
                "ok": not self.failed,
            },
        }


# ------------------------------------------------------------------------------------------------
# the reader
# ------------------------------------------------------------------------------------------------


@dataclass
class Account:
    """A Batch account of the stack and the selected pools, jobs and schedules inside it."""

    resource: DesiredResource
    live: dict[str, Any] | None = None
    pools: list[DesiredResource] = field(default_factory=list)
    jobs: list[DesiredResource] = field(default_factory=list)
    schedules: list[DesiredResource] = field(default_factory=list)

    @property
    def endpoint(self) -> str | None:
        props = (self.live or {}).get("properties") or {}
        return props.get("accountEndpoint")


def selection(stack: Stack, only: Sequence[str] | None) -> set[Address]:
    """The addresses `--only` names (each with everything below it); all of the stack without it."""
    from deployer.plan.run import parse_only

    if not only:
        return {r.address for r in stack.resources}
    chosen = parse_only(stack, only)
    return {r.address for r in stack.resources if any(a.contains(r.address) for a in chosen)}


class StackReader:
    """Reads the status of a stack's pools, jobs and schedules; one instance per command run
    (the Batch account list is read once and kept, so each later poll skips it)."""

    def __init__(self, stack: Stack, clients: Any, only: Sequence[str] | None = None, *,
                 parallelism: int = 16) -> None:
        self.stack = stack
        self.clients = clients
        self.selected = selection(stack, only)
        self.parallelism = parallelism
        self._accounts: list[Account] | None = None
        self._final: dict[str, JobStatus] = {}  # completed jobs: their counts no longer change

    # -- accounts --------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        if self._accounts is None:
            self._accounts = self._read_accounts()
        return self._accounts

    def _read_accounts(self) -> list[Account]:
        wanted: dict[Address, Account] = {}
        for resource in self.stack.resources:
            if resource.address not in self.selected or resource.kind not in (Kind.POOL, Kind.JOB, Kind.JOB_SCHEDULE):
                continue
            account_address = Address(resource.address.parts[:2])
            account = wanted.get(account_address)
            if account is None:
                declared = self.stack.get(account_address)
                assert declared is not None  # the model builds children under their account
                account = wanted[account_address] = Account(declared)
            {Kind.POOL: account.pools, Kind.JOB: account.jobs, Kind.JOB_SCHEDULE: account.schedules}[
                resource.kind].append(resource)
        if not wanted:
            return []
        live = {str(a.get("name", "")).lower(): a for a in self._list_accounts()}
        for account in wanted.values():
            found = live.get(account.resource.name.lower())
            if found is not None and owned_by(found, self.stack.name):
                account.live = found
        return list(wanted.values())

    def _list_accounts(self) -> list[dict[str, Any]]:
        from azure.core.exceptions import ResourceNotFoundError

        rg = str(self.stack.target.resource_group)

        def listed() -> list[dict[str, Any]]:
            try:
                return [rest(a) for a in self.clients.batch_mgmt.batch_account.list_by_resource_group(rg)]
            except ResourceNotFoundError:  # no resource group: nothing is deployed
                return []

        return list(_call("Batch accounts", listed))

    def data(self, account: Account) -> Any:
        if not account.endpoint:
            raise AzureError(f"{account.resource.address}: Batch account {account.resource.name} is not deployed")
        return self.clients.batch_data(account.endpoint)

    # -- one read --------------------------------------------------------------------------------

    def read(self, *, failed_tasks: int = 5, stderr_lines: int = 5, node_errors: int = 3) -> Snapshot:
        """Everything selected, now. `failed_tasks` names up to that many failed tasks per job
        (0: none, fewer requests: what `wait` polls with); `stderr_lines` of each one's stderr."""
        pools: list[PoolStatus] = []
        jobs: list[JobStatus] = []
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="ops") as executor:
            futures = [executor.submit(self._read_account, executor, account, failed_tasks, stderr_lines,
                                       node_errors) for account in self.accounts()]
            for future in futures:
                account_pools, account_jobs = future.result()
                pools += account_pools
                jobs += account_jobs
        return Snapshot(self.stack.name, self.stack.target.kind, pools, jobs)

    def _read_account(self, executor: ThreadPoolExecutor, account: Account, failed_tasks: int,
                      stderr_lines: int, node_errors: int) -> tuple[list[PoolStatus], list[JobStatus]]:
        pools = [PoolStatus(str(r.address), r.name) for r in account.pools]
        jobs = [JobStatus(str(r.address), r.name, "job") for r in account.jobs]
        jobs += [JobStatus(str(r.address), r.name, "jobSchedule") for r in account.schedules]
        if account.live is None or not account.endpoint:
            return pools, jobs
        data = self.data(account)
        name = account.resource.name
        pool_ids = [p.id for p in pools]
        job_ids = [j.id for j in jobs if j.kind == "job"]
        schedule_ids = [j.id for j in jobs if j.kind == "jobSchedule"]
        listed = {
            "pools": executor.submit(_list_by_ids, f"pools of {name}", pool_ids, "id",
                                     lambda f: data.list_pools(filter=f, select=POOL_SELECT)),
            "counts": executor.submit(_list_by_ids, f"node counts of {name}", pool_ids, "poolId",
                                      lambda f: data.list_pool_node_counts(filter=f)),
            "jobs": executor.submit(_list_by_ids, f"jobs of {name}", job_ids, "id",
                                    lambda f: data.list_jobs(filter=f, select=JOB_SELECT)),
            "schedules": executor.submit(_list_by_ids, f"job schedules of {name}", schedule_ids, "id",
                                         lambda f: data.list_job_schedules(filter=f, select=SCHEDULE_SELECT)),
        }
        live_pools = _by_id(listed["pools"].result())
        node_counts = {str(c.get("poolId", "")).lower(): c for c in listed["counts"].result()}
        live_jobs = _by_id(listed["jobs"].result())
        live_schedules = _by_id(listed["schedules"].result())
        follow_ups = []
        for pool in pools:
            found = live_pools.get(pool.id.lower())
            _fill_pool(pool, found, node_counts.get(pool.id.lower()), self.stack.name)
            if pool.presence == FOUND and node_errors and (
                    pool.node_states.get("startTaskFailed") or pool.node_states.get("unusable")):
                follow_ups.append(executor.submit(self._node_errors, data, pool, node_errors))
        for job in jobs:
            found = (live_jobs if job.kind == "job" else live_schedules).get(job.id.lower())
            kind = Kind.JOB if job.kind == "job" else Kind.JOB_SCHEDULE
            _fill_job(job, found, kind, self.stack.name)
            if job.presence == FOUND and job.job_id:
                follow_ups.append(executor.submit(self._counts, data, job, failed_tasks, stderr_lines))
        for future in follow_ups:
            future.result()
        return pools, jobs

    def _node_errors(self, data: Any, pool: PoolStatus, limit: int) -> None:
        pool.node_errors = read_node_errors(data, pool.id, limit)

    def _counts(self, data: Any, job: JobStatus, failed_tasks: int, stderr_lines: int) -> None:
        job_id = str(job.job_id)
        final = self._final.get(job_id.lower())
        if final is not None and not failed_tasks:
            job.counts = dict(final.counts)
            return
        counts = rest(_call(f"task counts of job {job_id}", lambda: data.get_job_task_counts(job_id)))
        raw = counts.get("taskCounts") or {}
        job.counts = {k: int(raw.get(k) or 0) for k in TASK_COUNT_KEYS}
        if job.kind == "job" and str(job.state).lower() == "completed":
            self._final[job_id.lower()] = job
        if failed_tasks and job.counts["failed"]:
            job.failed_tasks = self.failed_tasks(data, job_id, failed_tasks, stderr_lines)

    def failed_tasks(self, data: Any, job_id: str, limit: int | None, stderr_lines: int = 0) -> list[FailedTask]:
        """The job's failed tasks (first `limit`, all with None), each with its stderr's last lines."""
        def listed() -> list[dict[str, Any]]:
            pages = data.list_tasks(job_id, filter=FAILED_TASKS, select=TASK_SELECT,
                                    **({"max_results": limit} if limit else {}))
            return [rest(t) for t in (itertools.islice(pages, limit) if limit else pages)]

        out = []
        for task in _call(f"failed tasks of job {job_id}", listed):
            info = task.get("executionInfo") or {}
            failed = FailedTask(str(task.get("id")), info.get("exitCode"), info.get("failureInfo"))
            if stderr_lines:
                try:
                    failed.stderr = tail(data, job_id, failed.id, "stderr.txt", stderr_lines)
                except AzureError as exc:
                    failed.stderr_error = str(exc)
            out.append(failed)
        return out


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def id_filters(ids: Sequence[str], prop: str = "id") -> list[str]:
    """`$filter` texts naming `ids` (IDS_PER_FILTER per text): `id eq 'a' or id eq 'b'`."""
    return [" or ".join(f"{prop} eq {_quote(i)}" for i in ids[start:start + IDS_PER_FILTER])
            for start in range(0, len(ids), IDS_PER_FILTER)]


def _list_by_ids(what: str, ids: Sequence[str], prop: str,
                 call: Callable[[str], Iterable[Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for text in id_filters(ids, prop):
        out += _call(what, lambda text=text: [rest(item) for item in call(text)])  # type: ignore[misc]
    return out


def _by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("id", "")).lower(): item for item in items}


def _presence(kind: Kind, live: dict[str, Any] | None, stack: str) -> str:
    if live is None:
        return MISSING
    return FOUND if owner(kind, live) == stack else NOT_OWNED


def _error_entry(error: dict[str, Any]) -> dict[str, str]:
    return {"code": str(error.get("code") or ""), "message": str(error.get("message") or "")}


def _fill_pool(pool: PoolStatus, live: dict[str, Any] | None, counts: dict[str, Any] | None, stack: str) -> None:
    pool.presence = _presence(Kind.POOL, live, stack)
    if live is None or pool.presence != FOUND:
        return
    pool.allocation_state = live.get("allocationState")
    pool.dedicated = (int(live.get("currentDedicatedNodes") or 0), int(live.get("targetDedicatedNodes") or 0))
    pool.spot = (int(live.get("currentLowPriorityNodes") or 0), int(live.get("targetLowPriorityNodes") or 0))
    pool.auto_scale = bool(live.get("enableAutoScale"))
    run = live.get("autoScaleRun")
    if run:
        pool.auto_scale_run = {"timestamp": run.get("timestamp"), "results": run.get("results"),
                               "error": _error_entry(run["error"]) if run.get("error") else None}
    pool.resize_errors = [_error_entry(e) for e in live.get("resizeErrors") or []]
    states: dict[str, int] = {}
    for bucket in ("dedicated", "lowPriority"):
        for state, n in ((counts or {}).get(bucket) or {}).items():
            if state != "total" and isinstance(n, int) and n:
                states[state] = states.get(state, 0) + n
    pool.node_states = states


def _fill_job(job: JobStatus, live: dict[str, Any] | None, kind: Kind, stack: str) -> None:
    job.presence = _presence(kind, live, stack)
    if live is None or job.presence != FOUND:
        return
    job.state = live.get("state")
    info = live.get("executionInfo") or {}
    if kind is Kind.JOB:
        job.pool = (live.get("poolInfo") or {}).get("poolId")
        job.job_id = job.id
        job.terminate_reason = info.get("terminateReason")
    else:
        recent = info.get("recentJob") or {}
        job.job_id = recent.get("id")


def read_node_errors(data: Any, pool_id: str, limit: int) -> list[dict[str, Any]]:
    """The first `limit` nodes of a pool in `starttaskfailed` or `unusable`, with their error."""
    nodes = _call(f"failed nodes of pool {pool_id}", lambda: [rest(n) for n in itertools.islice(
        data.list_nodes(pool_id, filter=FAILED_NODES, select=NODE_SELECT, max_results=limit), limit)])
    out = []
    for node in nodes:
        info = node.get("startTaskInfo") or {}
        failure = info.get("failureInfo") or {}
        errors = node.get("errors") or [{}]
        entry: dict[str, Any] = {"id": node.get("id"), "state": node.get("state")}
        if failure:
            entry.update(code=failure.get("code"), message=failure.get("message"), exitCode=info.get("exitCode"))
        else:
            entry.update(code=errors[0].get("code"), message=errors[0].get("message"))
        out.append(entry)
    return out


def tail(data: Any, job_id: str, task_id: str, path: str, lines: int, max_bytes: int = TAIL_BYTES) -> list[str]:
    """The last `lines` lines of a task's file: its size (file properties), then one byte range."""
    size = file_size(data, job_id, task_id, path)
    if size is None:
        raise AzureError(f"task {task_id} of job {job_id} has no file {path}")
    if size == 0:
        return []
    start = max(0, size - max_bytes)
    text = read_range(data, job_id, task_id, path, start, size - 1).decode("utf-8", errors="replace")
    found = text.splitlines()
    if start > 0 and found:
        found = found[1:]  # the first line is cut
    return found[-lines:] if lines else found


class TaskNotStartedError(AzureError):
    """The task has no directory yet: Batch answers 409 (TaskNotStarted) about its files until it
    started on a node (the HEAD of get-task-file-properties carries no body: the status says it)."""


def file_size(data: Any, job_id: str, task_id: str, path: str) -> int | None:
    """The size of a task's file in bytes (get-task-file-properties); None when there is no such file.
    Raises TaskNotStartedError while the task has not started on a node."""
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

    not_started = False

    def properties() -> Any:
        nonlocal not_started
        try:
            return data.get_task_file_properties(job_id, task_id, path)
        except ResourceNotFoundError:
            return None
        except ResourceExistsError:  # 409 TaskNotStarted
            not_started = True
            return None

    found = _call(f"file {path} of task {task_id} (job {job_id})", properties)
    if not_started:
        raise TaskNotStartedError(f"task {task_id} of job {job_id} has not started yet: it has no files")
    return None if found is None else int(getattr(found, "content_length", None) or 0)


def read_range(data: Any, job_id: str, task_id: str, path: str, first: int, last: int) -> bytes:
    """Bytes `first`..`last` (inclusive) of a task's file (get-task-file with ocp-range)."""
    return bytes(_call(f"file {path} of task {task_id} (job {job_id})", lambda: b"".join(
        data.download_task_file(job_id, task_id, path, ocp_range=f"bytes={first}-{last}"))))
