"""Batch jobs: canonical forms and diff rules (data-plane shape, `BatchJob` as a dict).

Canonical form: the job's REST properties, with `pool` (the pool id, the stack's name for
`poolInfo.poolId`), metadata and environment settings as maps, the deployer's markers removed.
A job's tasks are not part of it: they are a set keyed by id, planned one by one
(`deployer.resources.tasks`, `deployer.plan.tasks`); the job records the digest of the task set it
was given in its metadata (`deployer.fingerprint.tasks`), so a plan reads tasks only when it moved.

What changes where follows the Batch data plane's job update: priority, constraints,
maxParallelTasks, allowTaskPreemption, onAllTasksComplete and metadata change in place (but
onAllTasksComplete cannot go back from terminatejob to noaction); anything else replaces the job.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources import tasks
from deployer.resources.ownership import is_reserved, split_reserved
from deployer.resources.rules import (
    TASK_COMMON,
    TASK_CONSTRAINTS,
    DiffContext,
    Effect,
    Field,
    KindRules,
    annotation,
    apply_forms,
    insert_fingerprints,
    prefixed,
    resolve_secrets,
)
from deployer.stack.model import Address, Kind

U, R = Effect.UPDATE, Effect.REPLACE


def on_all_tasks_complete(before: Any, after: Any) -> Effect:
    """Batch refuses to change onAllTasksComplete from terminatejob back to noaction."""
    return R if n.ci(before) == "terminatejob" and n.ci(after) == "noaction" else U


def _application_id(ref: Mapping[str, Any]) -> Any:
    ident = ref.get("applicationId")
    return ident.rstrip("/").rsplit("/", 1)[-1] if isinstance(ident, str) else None


def _last_segment(value: Any) -> Any:
    return value.rstrip("/").rsplit("/", 1)[-1].casefold() if isinstance(value, str) else value


_OUTPUT_FILES: tuple[Field, ...] = (
    Field("outputFiles[].destination.container.containerUrl", key=n.url_without_query),
    Field("outputFiles[].destination.container.identityReference.resourceId", key=n.arm_id),
    Field("outputFiles[].uploadOptions.uploadCondition", key=n.ci),
)

JOB_MANAGER_TASK: tuple[Field, ...] = (
    *TASK_COMMON,
    *TASK_CONSTRAINTS,
    *_OUTPUT_FILES,
    Field("requiredSlots", default=1),
    Field("killJobOnCompletion", default=True),
    Field("runExclusive", default=True),
    Field("allowLowPriorityNode", default=True),
    Field("applicationPackageReferences", form=n.keyed_by(_application_id, fold=n.ci)),
    Field("applicationPackageReferences.*.applicationId", key=_last_segment),
    Field("authenticationTokenSettings.access", key=n.ci, unordered=True),
)

JOB_PREPARATION_TASK: tuple[Field, ...] = (
    *TASK_COMMON,
    *TASK_CONSTRAINTS,
    Field("id", default="jobpreparation"),
    Field("waitForSuccess", default=True),
    Field("rerunOnNodeRebootAfterSuccess", default=True),
)

JOB_RELEASE_TASK: tuple[Field, ...] = (
    *TASK_COMMON,
    Field("id", default="jobrelease"),
    Field("maxWallClockTime", key=n.duration, default="PT15M"),
    Field("retentionTime", key=n.duration, default="P7D"),
)

#: The rows of a job's own properties; a job schedule's `jobSpecification` reuses them.
JOB_SPEC_FIELDS: tuple[Field, ...] = (
    Field("displayName", R),
    Field("pool", R, key=n.ci),
    Field("priority", U, default=0),
    Field("maxParallelTasks", U, default=-1),
    Field("allowTaskPreemption", U, default=False),
    Field("constraints", U),
    Field("constraints.maxWallClockTime", key=n.duration, default="P10675199DT2H48M5.4775807S"),
    Field("constraints.maxTaskRetryCount", default=0),
    Field("onAllTasksComplete", on_all_tasks_complete, key=n.ci, default="noaction"),
    Field("onTaskFailure", R, key=n.ci, default="noaction"),
    Field("usesTaskDependencies", R, default=False),
    Field("commonEnvironmentSettings", R, form=n.name_value_map),
    Field("jobManagerTask", R),
    *prefixed("jobManagerTask", JOB_MANAGER_TASK),
    Field("jobPreparationTask", R),
    *prefixed("jobPreparationTask", JOB_PREPARATION_TASK),
    Field("jobReleaseTask", R),
    *prefixed("jobReleaseTask", JOB_RELEASE_TASK),
    Field("metadata", U, form=n.name_value_map, default={}),
)

FIELDS: tuple[Field, ...] = (
    *JOB_SPEC_FIELDS,
    Field("autoPool", R, key=n.canonical_json, write_only=True,
          note="an auto pool (deployer.resources.auto_pool): compared by the fingerprint recorded at creation"),
)

SERVER_SET = (
    "id", "url", "eTag", "lastModified", "creationTime", "state", "stateTransitionTime", "previousState",
    "previousStateTransitionTime", "executionInfo", "stats", "jobScheduleId",
)
UNMANAGED = ("networkConfiguration", "poolInfo")


def desired_body(spec: Mapping[str, Any], context: DiffContext) -> dict[str, Any]:
    """A job (or job specification) in the stack's form, with references resolved."""
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items()
                            if k not in ("protect", "tasks", "taskFactory")}
    body = resolve_secrets(body, context)
    if isinstance(body.get("metadata"), Mapping):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if not is_reserved(str(k))}
    for name in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask"):
        if isinstance(body.get(name), dict):
            body[name] = _desired_task(body[name], context)
    return body


def _desired_task(task: dict[str, Any], context: DiffContext) -> dict[str, Any]:
    refs = task.get("applicationPackageReferences")
    if isinstance(refs, list):
        task["applicationPackageReferences"] = [
            {("applicationId" if k == "application" else k): v for k, v in ref.items()}
            if isinstance(ref, Mapping) else ref for ref in refs
        ]
    for output in task.get("outputFiles") or []:
        container = (output.get("destination") or {}).get("container") if isinstance(output, Mapping) else None
        if isinstance(container, dict) and isinstance(container.get("storage"), str):
            account = Address(("storageAccounts", container.pop("storage")))
            name = container.pop("container", "")
            sas = container.pop("sas", None)
            endpoint = context.storage_endpoint(account, "blob")
            url = endpoint.rstrip("/") + "/" + name if endpoint else None
            if url is None:
                container["containerUrl"] = n.Unknown(f"URL of {account}.containers.{name}")
            elif isinstance(sas, Mapping):
                container["containerUrl"] = n.Secret(f"a SAS for {account}.containers.{name}",
                                                     _write_sas(url, account, name, str(sas.get("expiry")), context))
            else:
                container["containerUrl"] = url
    return task


def _write_sas(url: str, account: Address, container: str, expiry: str, context: DiffContext) -> str | None:
    """`url` with a service SAS made now from the account's key: the container only, write only,
    valid for `expiry` (ISO 8601) from now. None when the key cannot be read. Only the apply path
    calls this (job tasks are compared by their spec's fingerprint, never by this URL)."""
    import datetime

    key = context.storage_account_key(account)
    name = context.storage_account_name(account)
    ticks = n.duration_ticks(expiry)
    if not key or not name or ticks is None:
        return None
    from azure.storage.blob import generate_container_sas

    token = generate_container_sas(
        name, container, account_key=key, permission="w",
        expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(microseconds=ticks // 10),
    )
    revealed = getattr(context, "revealed", None)
    if isinstance(revealed, set):
        revealed.add(token)  # scrubbed from progress lines and errors like any secret
    return f"{url}?{token}"


def stack_spelling(value: Any) -> Any:
    """Service-API JSON with the stack's spelling of names the two Batch APIs spell differently: a
    user identity's `username` (service) is the stack's (and the management API's) `userName`."""
    if isinstance(value, Mapping):
        out = {k: stack_spelling(v) for k, v in value.items()}
        identity = out.get("userIdentity")
        if isinstance(identity, dict) and "username" in identity:
            identity["userName"] = identity.pop("username")
        return out
    if isinstance(value, list):
        return [stack_spelling(v) for v in value]
    return value


def live_body(rest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A job's REST JSON in the stack's form, and the fingerprints recorded in its metadata."""
    body = stack_spelling(dict(rest))
    metadata, _, fingerprints = split_reserved(body.get("metadata"))
    body["metadata"] = metadata
    pool_info = body.get("poolInfo")
    if isinstance(pool_info, Mapping) and pool_info.get("poolId") and len(pool_info) == 1:
        body["pool"] = body.pop("poolInfo")["poolId"]
    return body, fingerprints


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    return apply_forms(desired_body(spec, context), RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    body, fingerprints = live_body(rest)
    return insert_fingerprints(apply_forms(body, RULES.tree) or {}, fingerprints, RULES)


def recorded_digest(rest: Mapping[str, Any]) -> str | None:
    """The task-set fingerprint a job's metadata records (`pending` while tasks are being added)."""
    _, _, fingerprints = split_reserved(rest.get("metadata"))
    return fingerprints.get(tasks.DIGEST_KEY)


def tasks_fingerprint(spec: Mapping[str, Any], base_dir: Any = None) -> str:
    """The fingerprint a writer records (`deployer.fingerprint.tasks`) once a job's tasks are in
    (salted, not stretched: deployer.resources.tasks.record says why)."""
    return tasks.record(tasks.digest_of(spec, base_dir)[0])


def loss(rest: Mapping[str, Any]) -> list[str]:
    counts = annotation(rest, "taskCounts")
    if isinstance(counts, Mapping):
        running, active = int(counts.get("running") or 0), int(counts.get("active") or 0)
        return [f"the job's tasks are deleted: {running} running, {active} waiting to run"]
    state = str(rest.get("state") or "").casefold()
    if state in ("completed", "terminating"):
        return []
    return ["the job's tasks are deleted, running ones stopped (task counts not read)"]


RULES = KindRules(
    kind=Kind.JOB,
    title="job",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
)
