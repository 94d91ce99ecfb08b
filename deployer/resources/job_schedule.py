"""Batch job schedules: canonical forms and diff rules (data-plane shape, `BatchJobSchedule`).

Canonical form: `schedule` (times compared as instants, intervals as durations), `jobSpecification`
in the canonical form of a job (`pool` for `poolInfo.poolId`, maps for metadata and environment
settings), and metadata without the deployer's markers.

The data plane updates a schedule's `schedule`, `jobSpecification` and `metadata` in place (jobs
already created keep their old specification); only `displayName` forces replacement.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.resources import job
from deployer.resources import normalize as n
from deployer.resources.ownership import is_reserved, split_reserved
from deployer.resources.rules import (
    DiffContext,
    Effect,
    Field,
    KindRules,
    apply_forms,
    insert_fingerprints,
    prefixed,
    resolve_secrets,
)
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE

FIELDS: tuple[Field, ...] = (
    Field("displayName", R),
    Field("schedule", U),
    Field("schedule.doNotRunUntil", key=n.datetime_key),
    Field("schedule.doNotRunAfter", key=n.datetime_key),
    Field("schedule.startWindow", key=n.duration),
    Field("schedule.recurrenceInterval", key=n.duration),
    Field("jobSpecification", U),
    *prefixed("jobSpecification", job.JOB_SPEC_FIELDS, effect=None),
    Field("metadata", U, form=n.name_value_map, default={}),
)

SERVER_SET = (
    "id", "url", "eTag", "lastModified", "creationTime", "state", "stateTransitionTime", "previousState",
    "previousStateTransitionTime", "executionInfo", "stats",
)


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    # tasks / taskFactory reach the schedule's jobs through the task file (deployer.apply.schedule_tasks)
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items()
                            if k not in ("protect", "jobSpecification", "tasks", "taskFactory")}
    body = resolve_secrets(body, context)
    if isinstance(body.get("metadata"), Mapping):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if not is_reserved(str(k))}
    if isinstance(spec.get("jobSpecification"), Mapping):
        body["jobSpecification"] = job.desired_body(spec["jobSpecification"], context)
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(rest)
    metadata, _, fingerprints = split_reserved(body.get("metadata"))
    body["metadata"] = metadata
    if isinstance(body.get("jobSpecification"), Mapping):
        body["jobSpecification"], _ = job.live_body(body["jobSpecification"])
    return insert_fingerprints(apply_forms(body, RULES.tree) or {}, fingerprints, RULES)


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["deleting a job schedule deletes the jobs it created and their tasks"]


RULES = KindRules(
    kind=Kind.JOB_SCHEDULE,
    title="job schedule",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)


def made_by_schedule(job: Mapping[str, Any], schedules: Mapping[str, Any]) -> bool:
    """Whether a live job was made by one of these job schedules. Batch names a schedule's jobs
    `{scheduleId}:job-{n}` and the job body holds no link to its schedule (2025-06-01), so the id is
    the evidence; such a job goes with its schedule (deleting the schedule deletes its jobs)."""
    head, sep, tail = str(job.get("id") or "").rpartition(":job-")
    if not sep or not tail.isdigit():
        return False
    return head.lower() in {str((body or {}).get("id") or key).lower() for key, body in schedules.items()}
