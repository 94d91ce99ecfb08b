"""Job schedules that fire: the jobs a schedule creates on its recurrence, on the emulator clock.

Like the rest of the data plane nothing runs in a thread: when a schedule is settled (read or
written) or an account's jobs are listed, every run that became due since is fired, each job
created at the time it was due. The service's rules (Batch "Schedule jobs", `Schedule` in the
REST reference):

* the first run is at `doNotRunUntil` (or when the schedule was created); then one every
  `recurrenceInterval`; without an interval, one run only;
* no run after `doNotRunAfter` (the schedule completes then: `models._settled_schedule_body`);
* one job of a schedule at a time: a run due while the previous job is still active waits for it
  to complete, and is skipped when that does not happen within `startWindow` of its due time
  (also when nobody looked at the emulator for longer: a run is created at most `startWindow`
  after it was due, default unlimited);
* jobs are named `{schedule id}:job-{n}` and carry the schedule's `jobSpecification`; its job
  manager task is added as the job's first task (it then runs like any task of the job).

State kept in the schedule's `meta`: `runs` (jobs created), `nextDue` (the next run's due time,
None when there is none), `recentJob` (the last job's id).
"""

from __future__ import annotations

import copy
from typing import Any

from ..core import Doc, Store, clock

_FOREVER = float("inf")


def _seconds(value: Any) -> float | None:
    from deployer.emulator.batch_mgmt import models as mgmt

    return mgmt.parse_duration(value) if value else None


def _job_end(store: Store, account: Doc, job_id: str, now: float) -> float | None:
    """When the schedule's previous job completed (-inf when it is gone), None while active."""
    from deployer.emulator.batch_data import models

    job = models.get_job(store, account, job_id, now)
    if job is None:
        return -_FOREVER
    meta = job.body["meta"]
    if meta["state"] == "completed":
        return float(meta.get("endTime") or meta.get("stateTime") or now)
    return None


def _create_job(store: Store, account: Doc, schedule: Doc, number: int, at: float) -> str:
    from deployer.emulator.batch_data import models

    sid = schedule.body["id"]
    job_id = f"{sid}:job-{number}"
    spec = copy.deepcopy(schedule.body["jobSpecification"])
    key = models.JOBS.key(account, job_id)
    store.delete_prefix(key + "/")
    body = models._new_job_body(job_id, spec, at)
    body["jobScheduleId"] = sid
    job = store.put(models.KIND_JOB, key, body, parent=account.key)
    manager = spec.get("jobManagerTask")
    if isinstance(manager, dict) and manager.get("id"):
        task = {k: copy.deepcopy(v) for k, v in manager.items()
                if k in models.TASK_CREATE_FIELDS and k != "id" and v is not None}
        store.put(models.KIND_TASK, models.task_key(job, manager["id"]),
                  models._new_task_body(manager["id"], task, at), parent=job.key)
    return job_id


def fire(store: Store, account: Doc, schedule: Doc, now: float | None = None) -> Doc:
    """Create the jobs of every run of `schedule` due by `now`; the schedule as written back."""
    now = clock.now() if now is None else now
    if schedule.body["meta"].get("state") != "active" or _next(schedule) > now:
        return schedule  # nothing due: no transaction
    with store.transaction():  # one writer at a time: a run is never fired twice
        current = store.get(schedule.kind, schedule.key)
        return _fire(store, account, current, now) if current is not None else schedule


def _next(schedule: Doc) -> float:
    meta, plan = schedule.body["meta"], schedule.body.get("schedule") or {}
    if "nextDue" in meta:
        return _FOREVER if meta["nextDue"] is None else float(meta["nextDue"])
    return clock.parse_iso(plan["doNotRunUntil"]) if plan.get("doNotRunUntil") else float(meta["created"])


def _fire(store: Store, account: Doc, schedule: Doc, now: float) -> Doc:
    body = schedule.body
    meta = body["meta"]
    if meta.get("state") != "active":
        return schedule
    plan = body.get("schedule") or {}
    every = _seconds(plan.get("recurrenceInterval"))
    window = _seconds(plan.get("startWindow")) or _FOREVER
    first = clock.parse_iso(plan["doNotRunUntil"]) if plan.get("doNotRunUntil") else meta["created"]
    last = clock.parse_iso(plan["doNotRunAfter"]) if plan.get("doNotRunAfter") else _FOREVER
    due = meta.get("nextDue", first)
    runs = int(meta.get("runs") or 0)
    recent = meta.get("recentJob")
    created = False
    while due is not None and due <= now and due <= last:
        ended = _job_end(store, account, recent, now) if recent else -_FOREVER
        if ended is None:  # the previous job is still active
            if now > due + window:
                due = due + every if every else None  # this run's window passed
                continue
            break
        at = max(due, ended)
        if at > due + window:
            due = due + every if every else None
            continue
        runs += 1
        recent = _create_job(store, account, schedule, runs, at)
        created = True
        due = due + every if every else None
    if not created and due == meta.get("nextDue", first):
        return schedule
    fresh = copy.deepcopy(body)
    fresh["meta"].update(runs=runs, nextDue=due, recentJob=recent)
    return store.put(schedule.kind, schedule.key, fresh, parent=schedule.parent, expect=schedule.etag)


def fire_all(store: Store, account: Doc, now: float | None = None) -> None:
    """Fire every schedule of an account (before its jobs are listed)."""
    from deployer.emulator.batch_data import models

    for doc in store.list(models.KIND_SCHEDULE, parent=account.key):
        models.settle_schedule(store, account, doc, now)


def without_orphans(store: Store, account: Doc, jobs: list[Doc]) -> list[Doc]:
    """Jobs, less those whose schedule was deleted (deleting a schedule deletes its jobs): those
    are deleted now, with their tasks."""
    from deployer.emulator.batch_data import models

    out = []
    for job in jobs:
        sid = job.body.get("jobScheduleId")
        if sid and store.get(models.KIND_SCHEDULE, models.SCHEDULES.key(account, str(sid))) is None:
            with store.transaction():
                store.delete_prefix(job.key + "/")
                store.delete(job.kind, job.key)
            continue
        out.append(job)
    return out


def recent_job(schedule: Doc) -> str | None:
    job = schedule.body["meta"].get("recentJob")
    return str(job) if job else None
