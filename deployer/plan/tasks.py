"""A job's tasks planned one by one: the `TaskPlan` a job's `Change` carries.

Per task id (tasks are a set keyed by id, case-insensitively):

* `add` (`+`) — in the stack, not in the job: added to the live job, nothing else touched;
* `replace` (`-/+`) — its definition changed: Batch tasks are immutable (but for constraints), so
  that one task is deleted and added again with the same id. Loud: a completed task runs again, a
  running one is stopped and started over;
* `update` (`~`) — only its constraints changed: updated in place (a completed task's constraints
  no longer matter: it is left, noted);
* `delete` (`-`) — in the job, no longer in the stack, and not running: deleted;
* `keep` — no longer in the stack but running now: left alone so its work is not lost (the plan
  says so); the next plan offers to delete it again once it has ended.

`TaskPlan.read` says whether the plan had to list the job's tasks (the digest recorded on the job
moved); a plan whose digest matched reads no task and has only `unchanged`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.plan.model import FieldChange
from deployer.resources import normalize as n
from deployer.resources import tasks as t

__all__ = ["ACTIONS", "TaskChange", "TaskPlan", "all_new", "diff_tasks", "unchanged"]

#: the fields of a task change shown per task in the JSON plan
ACTIONS = ("add", "replace", "update", "delete", "keep")


@dataclass(frozen=True)
class TaskChange:
    """One task that is replaced or updated: which fields differ, and what to say about it."""

    id: str
    fields: tuple[FieldChange, ...] = ()
    state: str = ""  # the live task's state (active, running, completed...)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "fields": [f.to_dict() for f in self.fields]}
        if self.state:
            out["state"] = self.state
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskChange:
        fields = tuple(FieldChange(str(f.get("path", "")), f.get("before"), f.get("after"),
                                   bool(f.get("forcesReplacement")), bool(f.get("sensitive")))
                       for f in data.get("fields") or [] if isinstance(f, Mapping))
        return cls(str(data.get("id", "")), fields, str(data.get("state", "")), str(data.get("note", "")))


@dataclass(frozen=True)
class TaskPlan:
    """What happens to a job's tasks. `total` is the number of tasks the stack declares."""

    total: int = 0
    add: tuple[str, ...] = ()
    replace: tuple[TaskChange, ...] = ()
    update: tuple[TaskChange, ...] = ()
    delete: tuple[str, ...] = ()
    keep: tuple[TaskChange, ...] = ()
    unchanged: int = 0
    read: bool = False  # whether the job's tasks were listed to make this plan
    digest: str = ""  # of the stack's tasks: recorded on the job once they are all in
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("add", "replace", "update", "delete", "keep", "warnings"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def is_change(self) -> bool:
        return bool(self.add or self.replace or self.update or self.delete)

    def counts(self) -> dict[str, int]:
        return {"add": len(self.add), "replace": len(self.replace), "update": len(self.update),
                "delete": len(self.delete), "keep": len(self.keep), "unchanged": self.unchanged}

    def summary(self) -> str:
        """`tasks: 1 to add, 2 to replace` (or `tasks: 50 unchanged`)."""
        c = self.counts()
        words = {"add": "to add", "replace": "to replace", "update": "to update in place",
                 "delete": "to delete", "keep": "left running", "unchanged": "unchanged"}
        parts = [f"{c[k]} {words[k]}" for k in ("add", "replace", "update", "delete", "keep") if c[k]]
        if c["unchanged"] or not parts:
            parts.append(f"{c['unchanged']} unchanged")
        return "tasks: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "read": self.read,
            "digest": self.digest,
            "counts": self.counts(),
            "add": list(self.add),
            "replace": [c.to_dict() for c in self.replace],
            "update": [c.to_dict() for c in self.update],
            "delete": list(self.delete),
            "keep": [c.to_dict() for c in self.keep],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskPlan:
        def changes(name: str) -> tuple[TaskChange, ...]:
            return tuple(TaskChange.from_dict(c) for c in data.get(name) or [] if isinstance(c, Mapping))

        counts = data.get("counts") or {}
        return cls(
            total=int(data.get("total") or 0),
            add=tuple(str(i) for i in data.get("add") or []),
            replace=changes("replace"), update=changes("update"),
            delete=tuple(str(i) for i in data.get("delete") or []), keep=changes("keep"),
            unchanged=int(counts.get("unchanged") or 0) if isinstance(counts, Mapping) else 0,
            read=bool(data.get("read")), digest=str(data.get("digest") or ""),
            warnings=tuple(str(w) for w in data.get("warnings") or []),
        )


def all_new(tasks: Iterable[Mapping[str, Any]], digest: str = "") -> TaskPlan:
    """Every task is added (a job created, or replaced)."""
    ids = tuple(t.task_id(task) for task in tasks)
    return TaskPlan(total=len(ids), add=ids, digest=digest)


def unchanged(total: int, digest: str) -> TaskPlan:
    return TaskPlan(total=total, unchanged=total, digest=digest)


def diff_tasks(desired: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]], digest: str,
               resolve: Any = None) -> TaskPlan:
    """Compare the stack's tasks with the job's listed tasks (REST JSON with `id` and `state`).

    `resolve(task)` turns a desired task into what the writer would send (secrets and storage
    references resolved); without it the stack form is compared as written."""
    from deployer.plan.diff import compare_tree

    remaining: dict[str, Mapping[str, Any]] = {t.key(str(task.get("id", ""))): task for task in live}
    add: list[str] = []
    replace: list[TaskChange] = []
    update: list[TaskChange] = []
    same = 0
    total = 0
    for task in desired:
        total += 1
        ident = t.task_id(task)
        found = remaining.pop(t.key(ident), None)
        if found is None:
            add.append(ident)
            continue
        wanted = t.canonical(resolve(task) if resolve is not None else task)
        diffs = compare_tree(wanted, t.canonical(found), t.TREE)
        if not diffs:
            same += 1
            continue
        state = str(found.get("state") or "").casefold()
        fields = tuple(FieldChange(path, before, after, forces_replacement=effect == "replace",
                                   sensitive=sensitive) for path, before, after, effect, sensitive in diffs)
        if any(f.forces_replacement for f in fields):
            note = {"completed": "already completed: it runs again",
                    "running": "running now: it is stopped and runs again",
                    "preparing": "starting now: it is stopped and runs again"}.get(state, "")
            replace.append(TaskChange(ident, fields, state, note))
        elif state == "completed":
            same += 1  # constraints of a completed task no longer matter: not updated (Batch refuses)
        else:
            update.append(TaskChange(ident, fields, state))
    delete: list[str] = []
    keep: list[TaskChange] = []
    for found in remaining.values():
        ident = str(found.get("id", ""))
        state = str(found.get("state") or "").casefold()
        if state in ("running", "preparing"):
            keep.append(TaskChange(ident, (), state, "running now: left alone; deleted by a later apply once ended"))
        else:
            delete.append(ident)
    warnings = []
    rerun = [c.id for c in replace if c.state == "completed"]
    stopped = [c.id for c in replace if c.state in ("running", "preparing")]
    if rerun:
        warnings.append(f"{len(rerun)} completed task(s) run again because their definition changed: "
                        + _first(rerun))
    if stopped:
        warnings.append(f"{len(stopped)} running task(s) are stopped and run again: " + _first(stopped))
    if keep:
        warnings.append(f"{len(keep)} task(s) no longer in the stack are running: left alone until they end: "
                        + _first([c.id for c in keep]))
    return TaskPlan(total=total, add=tuple(add), replace=tuple(replace), update=tuple(update), delete=tuple(delete),
                    keep=tuple(keep), unchanged=same, read=True, digest=digest, warnings=tuple(warnings))


def _first(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")



# --- planning a job's tasks -----------------------------------------------------------------------


def resolver(context: Any) -> Any:
    """`resolve(task)` for `diff_tasks`: the task as the writer sends it (storage references turned
    into URLs); a secret compares by its value, and a field holding one is shown `(sensitive)`."""
    import copy

    from deployer.resources import job as job_kind
    from deployer.resources.rules import resolve_secrets

    def resolve(task: Mapping[str, Any]) -> Any:
        body = job_kind._desired_task(resolve_secrets(copy.deepcopy(dict(task)), context), context)
        return _reveal(body)

    return resolve


def _reveal(value: Any) -> Any:
    if isinstance(value, n.Secret):
        return value.value if value.value is not None else n.NotRead("an unresolved secret")
    if isinstance(value, n.Unknown):
        return n.NotRead(value.what)
    if isinstance(value, Mapping):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


def _has_secret(task: Mapping[str, Any]) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, Mapping):
            return (set(value) == {"secret"}) or any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False
    return walk(task)


def plan_job_tasks(change: Any, spec: Mapping[str, Any], live: Mapping[str, Any] | None, context: Any,
                   base_dir: Any = None, lister: Any = None) -> Any:
    """The job's `Change` with its `TaskPlan`: every task added when the job is created or replaced;
    else nothing read when the recorded digest matches, one `$select` listing when it moved.

    `lister(job_id)` lists the live job's tasks (REST JSON with `id`, `state` and the definition
    fields); without one (no live target) a moved digest is reported, not compared."""
    from dataclasses import replace as dc_replace

    from deployer.plan.model import Action
    from deployer.resources import job as job_kind

    if change.action == Action.DELETE:
        return change
    digest = t.Digest()
    ids: list[str] = []
    for task in t.iter_tasks(spec, base_dir, context):
        digest.add(task)
        ids.append(t.task_id(task))
    hexdigest = digest.hexdigest()
    if live is None or change.action == Action.REPLACE:
        return dc_replace(change, tasks=TaskPlan(total=len(ids), add=tuple(ids), digest=hexdigest))
    recorded = job_kind.recorded_digest(live)
    if t.matches(recorded, hexdigest):
        return dc_replace(change, tasks=unchanged(len(ids), hexdigest))
    del ids
    if lister is None:
        plan = TaskPlan(total=digest.count, unchanged=digest.count, digest=hexdigest,
                        warnings=("the job's tasks differ from what was recorded, but they cannot be read here: "
                                  "not compared",))
        return dc_replace(change, tasks=plan, warnings=(*change.warnings, *plan.warnings))
    listed = lister(str(live.get("id") or change.name))
    plan = diff_tasks(t.iter_tasks(spec, base_dir, context), listed, hexdigest, resolver(context))
    if any(_has_secret(task) for task in spec.get("tasks") or ()):
        plan = _redact(plan)
    warnings = (*change.warnings, *plan.warnings)
    state = str(live.get("state") or "").casefold()
    if plan.add and state in ("completed", "terminating", "disabled", "disabling"):
        warnings = (*warnings, f"the job is {state}: Batch refuses new tasks; re-open it (or delete it) first")
    if change.action == Action.NO_OP and (plan.is_change or recorded == PENDING_MARK):
        reason = (f"job {change.name}: {plan.summary()}" if plan.is_change
                  else f"job {change.name}: its tasks were being added when a run stopped; all are in: "
                       "record that")
        return dc_replace(change, action=Action.UPDATE, reason=reason, tasks=plan, warnings=warnings)
    if plan.is_change:
        return dc_replace(change, reason=f"{change.reason}; {plan.summary()}", tasks=plan, warnings=warnings)
    return dc_replace(change, tasks=plan, warnings=warnings)


#: what a job records while its tasks are being added (`deployer.apply.writers.PENDING`)
PENDING_MARK = "pending"


def _redact(plan: TaskPlan) -> TaskPlan:
    from dataclasses import replace as dc_replace

    from deployer.resources.normalize import SENSITIVE

    def clean(change: TaskChange) -> TaskChange:
        fields = tuple(FieldChange(f.path, SENSITIVE if f.before is not None else None,
                                   SENSITIVE if f.after is not None else None, f.forces_replacement, True)
                       if f.path.startswith("environmentSettings") or f.path.startswith("containerSettings")
                       else f for f in change.fields)
        return dc_replace(change, fields=fields)

    return dc_replace(plan, replace=tuple(clean(c) for c in plan.replace),
                      update=tuple(clean(c) for c in plan.update))


def plan_schedule_tasks(change: Any, spec: Mapping[str, Any], live: Mapping[str, Any] | None, context: Any,
                        base_dir: Any = None) -> Any:
    """A job schedule's change, saying whether its task file (`deployer.apply.schedule_tasks`) must
    be uploaded again: the digest recorded on the schedule no longer matches the stack's tasks."""
    from dataclasses import replace as dc_replace

    from deployer.plan.model import Action
    from deployer.resources import job as job_kind

    if change.action in (Action.DELETE,) or not (spec.get("tasks") or spec.get("taskFactory")):
        return change
    digest, total = t.digest_of(spec, base_dir, context)
    what = f"task file of {total} task(s) for each job it creates"
    if live is None or change.action == Action.REPLACE:
        return dc_replace(change, reason=f"{change.reason}; {what}: uploaded")
    if t.matches(job_kind.recorded_digest(live), digest):
        return change
    reason = f"its {what} changed: uploaded again (jobs already created keep theirs)"
    if change.action == Action.NO_OP:
        return dc_replace(change, action=Action.UPDATE, reason=f"job schedule {change.name}: {reason}")
    return dc_replace(change, reason=f"{change.reason}; {reason}")
