"""Task factories (`jobs.*.taskFactory`): substitutions that name no parameter, ids Batch refuses,
ids generated twice or repeating one of the job's `tasks`, a merge task without task dependencies,
a `taskPerFile` source that names no storage account of the stack.

The factory's tasks are streamed once (`deployer.stack.factories.validate_factory`), never
all held: a 100,000-task sweep validates in constant memory for its bodies.
"""

from __future__ import annotations

from deployer.stack.checks.naming import task_ids
from deployer.stack.checks.view import StackView, mapping
from deployer.stack.factories import validate_factory


def check(view: StackView) -> None:
    storage = set(mapping(view.data.get("storageAccounts")))
    for account in view.batch_accounts():
        for schedule in view.children(account, "jobSchedules"):
            has_tasks = schedule.value.get("tasks") or schedule.value.get("taskFactory")
            if has_tasks and not account.value.get("autoStorage"):
                view.error((*schedule.path, "tasks" if schedule.value.get("tasks") else "taskFactory"),
                           "a job schedule's tasks reach its jobs through a task file in the Batch account's "
                           "auto-storage: set autoStorage on the Batch account")
            for name in ("tasks", "taskFactory"):
                found = _secret(schedule.value.get(name), (*schedule.path, name))
                if found is not None:
                    view.error(found, "a job schedule's tasks are stored in a task file in auto-storage: "
                               "no secret reference here (give the job manager or the pool the secret instead)")
        for job in [*view.children(account, "jobs"), *view.children(account, "jobSchedules")]:
            factory = job.value.get("taskFactory")
            if not isinstance(factory, dict):
                continue
            where = (*job.path, "taskFactory")
            source = factory.get("source")
            if factory.get("type") == "taskPerFile" and isinstance(source, dict) \
                    and isinstance(source.get("storage"), str) and source["storage"] not in storage:
                view.error((*where, "source", "storage"),
                           f"no storage account {source['storage']!r} in this stack (it has: "
                           f"{', '.join(sorted(storage)) or 'none'})")
            owner = mapping(job.value.get("jobSpecification")) if "jobSpecification" in job.value else job.value
            problems = validate_factory(factory, view.base_dir, list(task_ids(view, job)),
                                        uses_dependencies=owner.get("usesTaskDependencies") is True)
            for problem in problems:
                view.error((*job.path, *_parts(problem.where)), str(problem))


def _secret(value: object, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The path of the first `{secret: ...}` in a value, or None."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return path
        for key, item in value.items():
            found = _secret(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _secret(item, (*path, index))
            if found is not None:
                return found
    return None


def _parts(where: str) -> tuple[str | int, ...]:
    """`taskFactory.parameterSets[0].end` as a document path."""
    out: list[str | int] = []
    for part in where.split("."):
        name, *indexes = part.replace("]", "").split("[")
        out.append(name)
        out += [int(i) for i in indexes if i.isdigit()]
    return tuple(out)
