"""A job's tasks as a set keyed by id: the desired tasks (streamed), their digest, the rules that
compare one task, and the `$select` that reads them.

Why a digest and a listing, not a fingerprint per task: Batch tasks carry no metadata, and a job's
metadata cannot hold 100,000 fingerprints. So the job records one digest of its whole task set
(metadata `deployer.fingerprint.tasks`, written after the tasks are in). A plan computes the digest
of the stack's tasks; when it matches, no task is read at all. When it moved (or the job says
`pending`: a run stopped half way), the plan lists the job's tasks once with `$select` of the
fields below and compares each task field by field through this table, so it can say which tasks
are new, gone, changed and how. The listing is the truth; the digest only decides whether to look.

Batch tasks are immutable except their constraints: a change to `constraints` updates the task in
place, any other change replaces that one task (delete, then add with the same id).

Tasks are generated lazily (`iter_tasks`): plain `tasks` first, then the job's `taskFactory`
(`deployer.stack.factories`), so 100,000 tasks are never all in memory as request bodies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.rules import (
    RESOURCE_FILES,
    USER_IDENTITY,
    Effect,
    Field,
    Node,
    apply_forms,
    compile_fields,
)

U, R = Effect.UPDATE, Effect.REPLACE

#: the metadata fingerprint (`deployer.fingerprint.<this>`) holding the digest of a job's tasks
DIGEST_KEY = "tasks"

#: One task's rules. Every top-level field but `constraints` replaces the task when it changes.
TASK_FIELDS: tuple[Field, ...] = (
    Field("displayName", R),
    Field("commandLine", R),
    Field("resourceFiles", R),
    *RESOURCE_FILES,
    Field("environmentSettings", R, form=n.name_value_map),
    replace(USER_IDENTITY[0], effect=R),  # default: a non-admin auto user of the task
    *USER_IDENTITY[1:],
    Field("containerSettings", R),
    Field("containerSettings.workingDirectory", key=n.ci, default="taskWorkingDirectory"),
    Field("containerSettings.registry.registryServer", key=n.ci, default="docker.io"),
    Field("containerSettings.registry.password", ignore=True),  # Azure never returns it
    Field("outputFiles", R),
    Field("outputFiles[].destination.container.containerUrl", key=n.url_without_query),
    Field("outputFiles[].uploadOptions.uploadCondition", key=n.ci),
    # constraints change in place; a field the stack leaves out keeps what Batch chose (the job's
    # retry count, the service's retention) instead of planning a phantom update
    Field("constraints", U, unset="keep"),
    Field("constraints.maxWallClockTime", key=n.duration, unset="keep"),
    Field("constraints.retentionTime", key=n.duration, unset="keep"),
    Field("constraints.maxTaskRetryCount", unset="keep"),
    Field("requiredSlots", R, default=1),
    Field("dependsOn", R),
    Field("exitConditions", R),
    Field("multiInstanceSettings", R),
    Field("multiInstanceSettings.numberOfInstances", default=1),
    Field("applicationPackageReferences", R),
    Field("affinityInfo", R),
    Field("authenticationTokenSettings", R),
    Field("authenticationTokenSettings.access", key=n.ci, unordered=True),
)

TREE: Node = compile_fields(TASK_FIELDS)

#: What a plan reads of each task when it must look: its definition and its state, nothing else.
SELECT: tuple[str, ...] = ("id", "state", *dict.fromkeys(f.path.split(".", 1)[0].split("[", 1)[0]
                                                          for f in TASK_FIELDS))

#: the top-level task fields the table knows (the rest of a listed task is server-set)
MANAGED = frozenset(SELECT) - {"id", "state"}


def iter_tasks(spec: Mapping[str, Any], base_dir: Path | None = None, context: Any = None) -> Iterator[dict[str, Any]]:
    """The job's desired tasks in the stack's form, one at a time: `tasks`, then its factory
    (`context.list_blobs(storage, container, prefix)` lists a taskPerFile factory's blobs)."""
    for task in spec.get("tasks") or ():
        if isinstance(task, Mapping):
            yield dict(task)
    factory = spec.get("taskFactory")
    if isinstance(factory, Mapping):
        from deployer.stack.factories import generate

        yield from generate(factory, base_dir, getattr(context, "list_blobs", None))


def canonical(task: Mapping[str, Any]) -> Any:
    """One task (desired, stack form; or listed, REST form) in canonical form, without its id."""
    body = {k: v for k, v in task.items() if k in MANAGED}
    return apply_forms(body, TREE)


class Digest:
    """The digest of a task set, fed one task at a time. A set: the order of the tasks does not
    matter (the sum of the tasks' hashes, modulo 2**256, with their count)."""

    def __init__(self) -> None:
        self._sum = 0
        self.count = 0

    def add(self, task: Mapping[str, Any]) -> None:
        text = key(task_id(task)) + "\x00" + n.canonical_json(n.display(canonical(task)))
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")) % (1 << 256)
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.count}:{self._sum:064x}"


def digest_of(spec: Mapping[str, Any], base_dir: Path | None = None, context: Any = None) -> tuple[str, int]:
    """(digest, number of tasks) of a job spec's desired tasks, streamed."""
    digest = Digest()
    for task in iter_tasks(spec, base_dir, context):
        digest.add(task)
    return digest.hexdigest(), digest.count


def matches(recorded: str | None, digest: str) -> bool:
    """Whether the fingerprint a job recorded is of this digest (`pending` matches nothing)."""
    return bool(recorded) and n.fingerprint_matches(digest, str(recorded))


#: Stretching of the task-set fingerprint: none (one PBKDF2 round = a salted SHA-256).
TASKS_FINGERPRINT_ITERATIONS = 1


def record(digest: str) -> str:
    """The value to record in the job's metadata for a digest: salted but not stretched, unlike the
    fingerprints of secret values. The digest is of the stack's own task list, where a secret can
    only appear as its reference (`{secret: env:NAME}`, never resolved here), and every command
    line, setting and URL in it is readable from the live tasks anyway: stretching protects a
    low-entropy *secret* from guessing, here it protected nothing and cost a 20,000-round
    derivation per job on every plan (25 s of a 5,000-job no-change plan). Fingerprints recorded
    earlier keep their own round count and still verify."""
    return n.fingerprint(digest, iterations=TASKS_FINGERPRINT_ITERATIONS)


def task_id(task: Mapping[str, Any]) -> str:
    return str(task.get("id", ""))


def key(task_id: str) -> str:
    """Batch task ids are case-insensitive within a job."""
    return task_id.casefold()
