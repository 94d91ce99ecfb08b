"""Azure Batch CLI extension templates (`az batch pool|job create --template T --parameters P`).

A template is `{parameters, variables, pool|job: {type, apiVersion, properties}}` whose properties
are the Batch service API shape plus the extension's own features: task factories (parametric
sweep and task collection are expanded into the stack's task list; task-per-file needs a storage
listing and is dropped), file groups (the auto-storage container `fgrp-NAME`, which the stack
declares), package references (dropped: they became a generated start task) and application
templates (dropped). Parameter files (`{name: {value: v}}`) apply to every template converted.
"""

from __future__ import annotations

import itertools
from typing import Any

from deployer.convert import batch_api, skeleton
from deployer.convert.expressions import Scope, scope_for, strip_unresolved, unresolved
from deployer.convert.model import Conversion, Path

MAX_SWEEP_TASKS = 10_000
FILE_GROUP_PREFIX = "fgrp-"


def is_template(data: Any) -> bool:
    return isinstance(data, dict) and any(
        isinstance(data.get(k), dict) and "properties" in data[k] for k in ("pool", "job"))


def is_parameters(data: Any) -> bool:
    return (isinstance(data, dict) and bool(data) and not is_template(data)
            and all(isinstance(v, dict) and set(v) <= {"value", "reference"} for v in data.values()))


def convert(conv: Conversion, files: list[tuple[str, dict[str, Any]]], parameters: dict[str, Any]) -> None:
    pools = [(f, d) for f, d in files if "pool" in d]
    jobs = [(f, d) for f, d in files if "job" in d]
    for file, data in [*pools, *jobs]:
        kind = "pool" if "pool" in data else "job"
        scope = scope_for(data, parameters)
        props = scope.resolve(data[kind].get("properties") or {})
        src = f"{file}: {kind}.properties"
        ident = props.get("id")
        if not isinstance(ident, str) or not ident:
            conv.drop(src, (), "the template's id has no value: give it in a parameters file")
            continue
        skeleton.start(conv, ident)
        collection = "pools" if kind == "pool" else "jobs"
        address: Path = ("batchAccounts", "main", collection, ident)
        props = _drop_unresolved(conv, props, src, address)
        for key in ("packageReferences", "applicationTemplateInfo"):
            if key in props:
                props.pop(key)
                conv.drop(f"{src}.{key}", address, _REASONS[key])
        if kind == "pool":
            skeleton.pools(conv)[ident] = batch_api.pool(conv, props, src, address)
        else:
            _job(conv, src, props, address, scope)


_REASONS = {
    "packageReferences": "package references became a start task the CLI extension generated: install the "
                         "packages in the pool's startTask",
    "applicationTemplateInfo": "application templates are the CLI extension's own: put the job's settings here",
    "taskPerFile": "the CLI's task-per-file factory reads a file group the CLI uploaded: write the stack's own "
                   "taskFactory {type: taskPerFile, source: {storage, container, prefix, identityReference}}, "
                   "which lists the container when planning",
}


def _job(conv: Conversion, src: str, props: dict[str, Any], address: Path, scope: Scope) -> None:
    factory = props.pop("taskFactory", None)
    job = batch_api.job(conv, props, src, address, set(skeleton.pools(conv)))
    if job is None:
        return
    tasks: list[dict[str, Any]] = []
    if isinstance(factory, dict):
        kind = factory.get("type")
        here = f"{src}.taskFactory"
        if kind == "parametricSweep":
            tasks = _sweep(conv, here, factory, address)
        elif kind == "taskCollection":
            tasks = [dict(t) for t in factory.get("tasks") or [] if isinstance(t, dict)]
            for i, _ in enumerate(tasks):
                conv.came_from((*address, "tasks", i), f"{here}.tasks.{i}")
        else:
            conv.drop(here, address, _REASONS.get(str(kind), f"task factory {kind!r} is not known"))
    converted = []
    for i, task in enumerate(tasks):
        task = batch_api.task_like(conv, task, conv.source_of((*address, "tasks", i)), (*address, "tasks", i),
                                   str(address[-1]))
        task = _file_groups(conv, task, (*address, "tasks", i))
        if "packageReferences" in task:
            task.pop("packageReferences")
            conv.drop(f"{conv.source_of((*address, 'tasks', i))}.packageReferences", address,
                      _REASONS["packageReferences"])
        if isinstance(task.get("multiInstanceSettings"), dict):
            mis = task["multiInstanceSettings"]
            if isinstance(mis.get("commonResourceFiles"), list):
                mis["commonResourceFiles"] = [_file_group(conv, r) for r in mis["commonResourceFiles"]]
        converted.append(task)
    if converted:
        job["tasks"] = converted
    skeleton.jobs(conv)[str(address[-1])] = job


WHOLE_ITEMS = ("resourceFiles", "outputFiles", "commonResourceFiles", "environmentSettings")


def _drop_unresolved(conv: Conversion, props: dict[str, Any], src: str, address: Path) -> dict[str, Any]:
    """Report every setting whose expression has no value, and remove it; inside a file or
    environment list the whole item goes (half an output file is not valid)."""
    cut: dict[tuple[str | int, ...], str] = {}
    for path, bad in unresolved(props):
        root = path
        for n in range(len(path) - 1, 0, -1):
            if path[n - 1] in WHOLE_ITEMS and isinstance(path[n], int):
                root = path[:n + 1]
                break
        cut.setdefault(root, bad.why)
    for root, why in cut.items():
        conv.drop(f"{src}.{'.'.join(map(str, root))}", address, why)
    for root in sorted(cut, key=lambda p: [(x, "") if isinstance(x, int) else (-1, x) for x in p], reverse=True):
        parent: Any = props
        for part in root[:-1]:
            parent = parent[part]
        if isinstance(parent, list):
            parent.pop(int(root[-1]))
            if not parent:  # the list only held what was dropped
                holder: Any = props
                for part in root[:-2]:
                    holder = holder[part]
                holder.pop(root[-2], None)
        else:
            parent.pop(root[-1], None)
    result: dict[str, Any] = strip_unresolved(props)
    return result


def _sweep(conv: Conversion, src: str, factory: dict[str, Any], address: Path) -> list[dict[str, Any]]:
    ranges = []
    for p in factory.get("parameterSets") or []:
        start, end, step = p.get("start"), p.get("end"), p.get("step", 1)
        if not all(isinstance(x, int) for x in (start, end, step)) or step == 0:
            conv.drop(src, address, "a parameter set without integer start, end and step (a parameter without "
                      "a value?): no tasks could be generated")
            return []
        ranges.append(range(start, end + (1 if step > 0 else -1), step))
    count = 1
    for r in ranges:
        count *= len(r)
    if count > MAX_SWEEP_TASKS:
        conv.drop(src, address, f"the sweep makes {count} tasks, more than a stack should list "
                  f"({MAX_SWEEP_TASKS}): generate them with Jinja2 templating")
        return []
    repeat = dict(factory.get("repeatTask") or {})
    if "packageReferences" in repeat:  # reported once, not once per generated task
        repeat.pop("packageReferences")
        conv.drop(f"{src}.repeatTask.packageReferences", address, _REASONS["packageReferences"])
    tasks = []
    for i, combo in enumerate(itertools.product(*ranges)):
        task = {"id": str(i), **_substitute(repeat, combo)}
        tasks.append(task)
        conv.came_from((*address, "tasks", i), f"{src}.repeatTask")
    return tasks


def _substitute(value: Any, combo: tuple[int, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, combo) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, combo) for v in value]
    if isinstance(value, str):
        text = value
        for n, x in enumerate(combo):
            text = text.replace(f"{{{n}}}", str(x))
        return text.replace("{{", "{").replace("}}", "}")
    return value


def _file_groups(conv: Conversion, task: dict[str, Any], address: Path) -> dict[str, Any]:
    if isinstance(task.get("resourceFiles"), list):
        task["resourceFiles"] = [_file_group(conv, r) for r in task["resourceFiles"]]
    outputs = task.get("outputFiles")
    if isinstance(outputs, list):
        for out in outputs:
            dest = out.get("destination") if isinstance(out, dict) else None
            group = dest.get("autoStorage") if isinstance(dest, dict) else None
            if isinstance(group, dict) and group.get("fileGroup"):
                container = FILE_GROUP_PREFIX + str(group["fileGroup"]).lower()
                skeleton.auto_storage(conv)
                skeleton.add_container(conv, container)
                target = {"storage": skeleton.STORAGE, "container": container}
                if group.get("path"):
                    target["path"] = group["path"]
                out["destination"] = {"container": target}
    return task


def _file_group(conv: Conversion, r: Any) -> Any:
    """`{source: {fileGroup, prefix}}` → the auto-storage container `fgrp-NAME` (declared in the stack)."""
    if not isinstance(r, dict) or not isinstance(r.get("source"), dict):
        return r
    source = r["source"]
    out = {k: v for k, v in r.items() if k != "source"}
    if source.get("fileGroup"):
        container = FILE_GROUP_PREFIX + str(source["fileGroup"]).lower()
        skeleton.auto_storage(conv)
        skeleton.add_container(conv, container)
        out["autoStorageContainerName"] = container
        if source.get("prefix"):
            out["blobPrefix"] = source["prefix"]
    elif source.get("url"):
        out["httpUrl"] = source["url"]
    elif source.get("containerUrl"):
        out["storageContainerUrl"] = source["containerUrl"]
    return out
