"""Apply a job's `TaskPlan` through the Batch data plane: add, replace, update, delete tasks.

Adding goes through the SDK's `create_tasks` (it chunks into add-collection requests of 100 and
sends them on `max_concurrency` threads, retrying server errors and treating `TaskExists` as
added). The desired tasks are streamed from the stack (`deployer.resources.tasks.iter_tasks`) and
handed to the SDK a window at a time, so 100,000 request bodies are never held at once. Ids are
stable, so a run stopped half way and applied again adds only what is missing (the plan listed
the job's tasks because the job still said `pending`).

Order: deletions (removed and replaced tasks) first, then constraint updates, then additions
(new and replaced tasks); the caller records the job's task digest only after all of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deployer.errors import ApplyError
from deployer.resources import tasks as t

#: tasks handed to one `create_tasks` call: 50 add requests of 100 at `CONCURRENCY` at a time
WINDOW = 5000
CONCURRENCY = 8

Progress = Callable[[str], None]


def rest_body(task: Mapping[str, Any], context: Any, where: str) -> dict[str, Any]:
    """A stack task as the REST body Batch takes: secrets revealed, storage references resolved,
    durations in ISO 8601."""
    from deployer.apply.rest import iso_durations, reveal
    from deployer.resources import job as job_kind
    from deployer.resources.rules import resolve_secrets

    resolved = job_kind._desired_task(resolve_secrets(copy.deepcopy(dict(task)), context), context)

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return reveal(value, where)

    return dict(iso_durations(plain(resolved)))


def _windows(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    window: list[Any] = []
    for item in items:
        window.append(item)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


def add_tasks(data: Any, job_id: str, tasks: Iterable[Mapping[str, Any]], context: Any, where: str,
              progress: Progress | None = None, total: int | None = None,
              prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> int:
    """Add tasks (stack form, streamed) to a job through the SDK's `create_tasks`; returns how many.
    `prepare` finishes a task's body at apply time (`numberOfInstances: pool`)."""
    from azure.batch import models

    from deployer.apply.rest import for_service

    added = 0
    for window in _windows(tasks, WINDOW):
        bodies = []
        for task in window:
            body = rest_body(task, context, f"{where}.tasks.{t.task_id(task)}")
            body = prepare(body) if prepare is not None else body
            bodies.append(models.BatchTaskCreateOptions(for_service(body, "BatchTaskCreateOptions")))
        _add_window(data, job_id, bodies, where)
        added += len(bodies)
        del bodies
        if progress is not None:
            progress(f"tasks added: {added}" + (f" of {total}" if total else ""))
    return added


def _add_window(data: Any, job_id: str, bodies: list[Any], where: str) -> None:
    """One window of tasks, each exactly once: the SDK resends a chunk after a server error, not after
    a dropped connection (an add-collection is a POST); then the job's ids are listed once
    (`$select=id`) and only the missing tasks of the window are sent again (deployer.apply.idempotent)."""
    from azure.batch import models

    from deployer.apply.idempotent import settle

    wanted = {t.key(str(b["id"])) for b in bodies}
    present: set[str] = set()

    def send() -> None:
        todo = [b for b in bodies if t.key(str(b["id"])) not in present]
        try:
            data.create_tasks(job_id, todo, max_concurrency=CONCURRENCY)
        except models.CreateTasksError as exc:
            failures = [f for f in (getattr(exc, "failure_tasks", None) or [])
                        if getattr(getattr(f, "error", None), "code", "") != "TaskExists"]
            errors = list(getattr(exc, "errors", None) or [])
            if not failures and errors and isinstance(errors[0], Exception):
                raise errors[0] from None  # the transport's own error: settle() knows how uncertain it is
            raise ApplyError(f"{where}: {_describe(exc)}") from None

    def landed() -> bool | None:
        present.clear()
        present.update(t.key(str(task.id)) for task in data.list_tasks(job_id, select=["id"]))
        return True if wanted <= present else None

    settle(send, landed)


def _describe(exc: Any) -> str:
    failures = list(getattr(exc, "failure_tasks", None) or [])
    if failures:
        first = failures[0]
        error = getattr(first, "error", None)
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return (f"task {getattr(first, 'task_id', '?')} was refused: {getattr(error, 'code', '')} "
                f"{getattr(error, 'message', '')}".rstrip() + more)
    errors = list(getattr(exc, "errors", None) or [])
    return f"adding tasks failed: {errors[0] if errors else exc}"


def apply_task_plan(data: Any, job_id: str, plan: Any, spec: Mapping[str, Any], context: Any, where: str,
                    base_dir: Any = None, progress: Progress | None = None,
                    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Make a job's `TaskPlan` real: delete, update in place, then add (new and replaced tasks)."""
    from azure.batch import models
    from azure.core.exceptions import ResourceNotFoundError

    gone = [*plan.delete, *(c.id for c in plan.replace)]

    def delete(task_id: str) -> None:
        try:
            data.delete_task(job_id, task_id)
        except ResourceNotFoundError:
            pass

    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="tasks") as pool:
        list(pool.map(delete, gone))
    if gone and progress is not None:
        progress(f"tasks deleted: {len(gone)}")
    wanted_updates = {t.key(c.id) for c in plan.update}
    wanted_adds = {t.key(i) for i in plan.add} | {t.key(c.id) for c in plan.replace}
    if not wanted_updates and not wanted_adds:
        return
    updates: list[tuple[str, dict[str, Any]]] = []

    def chosen() -> Iterator[dict[str, Any]]:
        for task in t.iter_tasks(spec, base_dir, context):
            folded = t.key(t.task_id(task))
            if folded in wanted_updates:
                updates.append((t.task_id(task), task))
            if folded in wanted_adds:
                yield task

    add_tasks(data, job_id, chosen(), context, where, progress, total=len(wanted_adds), prepare=prepare)
    for task_id, task in updates:
        body = rest_body(task, context, f"{where}.tasks.{task_id}")
        data.replace_task(job_id, task_id, models.BatchTask({"constraints": body.get("constraints") or {}}))
