"""Task factories: a job's `taskFactory` generates its tasks lazily and deterministically.

The shapes follow the retired Azure Batch CLI extensions (`taskFactory.type`), so their templates
convert as they are:

* `parametricSweep` — `parameterSets: [{start, end, step}]`, the cartesian product of the ranges
  (first set outermost); `{0}` is the first parameter's value, `{1}` the second's, `{0:4}` the
  value zero-padded to 4 digits;
* `repeat` — `count: N` copies of `repeatTask`; `{0}` is the copy's index (0 based);
* `fromFile` — `file: rows.csv` (CSV with a header row) or `rows.jsonl` (JSON Lines, one object a
  line) beside the stack: one task per row, `{column}` substituted by the row's value;
* `taskPerFile` — one task per blob under `source: {storage: LOGICAL, container: NAME, prefix}`
  (listed at plan time); `{url}`, `{filePath}`, `{fileName}`, `{fileNameWithoutExtension}` and
  the blob as a resource file at `filePath`;
* `mergeTask` (any type) — one more task that depends on every generated task (the job needs
  `usesTaskDependencies: true`).

Ids are stable: `repeatTask.id` is a template (`frame-{0:6}`); without one a task's id is its
index in the generated sequence (`0`, `1`, ...), as the CLI extensions did. A re-apply therefore
finds every task it already added, and a run stopped half way resumes with only the missing ones.
`{{` and `}}` are literal braces.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FactoryError", "count", "generate", "substitute", "validate_factory"]

#: Lists blobs for `taskPerFile`: (storage logical name, container, prefix) -> [(name, url)]
BlobLister = Callable[[str, str, str], Sequence[tuple[str, str]]]

_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_]+)(?::(\d+))?\}")
MERGE_DEFAULT_ID = "merge"


class FactoryError(ValueError):
    """A factory that cannot generate its tasks (bad template, unreadable file): `where` is the
    path inside the job (`taskFactory.repeatTask.commandLine`)."""

    def __init__(self, message: str, where: str = "taskFactory") -> None:
        super().__init__(message)
        self.where = where


def substitute(text: str, values: Mapping[str, Any], where: str = "taskFactory") -> str:
    """`{0}`, `{0:4}` (zero-padded), `{name}` replaced from `values`; `{{`/`}}` literal braces."""

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole in ("{{", "}}"):
            return whole[0]
        name, width = match.group(1), match.group(2)
        if name not in values:
            known = ", ".join("{" + k + "}" for k in values) or "none"
            raise FactoryError(f"{whole}: no such parameter (this factory has {known})", where)
        value = values[name]
        if width is not None:
            if isinstance(value, int) and not isinstance(value, bool):
                return f"{value:0{int(width)}d}" if value >= 0 else "-" + f"{-value:0{int(width)}d}"
            return str(value).rjust(int(width), "0")
        return str(value)

    return _FIELD.sub(one, text)


def _fill(template: Any, values: Mapping[str, Any], where: str) -> Any:
    if isinstance(template, str):
        return substitute(template, values, where)
    if isinstance(template, Mapping):
        return {k: _fill(v, values, f"{where}.{k}") for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values, f"{where}[{i}]") for i, v in enumerate(template)]
    return template


def _ranges(factory: Mapping[str, Any]) -> list[range]:
    out = []
    for i, item in enumerate(factory.get("parameterSets") or []):
        where = f"taskFactory.parameterSets[{i}]"
        if not isinstance(item, Mapping):
            raise FactoryError("a parameter set is {start, end, step}", where)
        start, end, step = item.get("start"), item.get("end"), item.get("step", 1)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step)):
            raise FactoryError("start, end and step are integers", where)
        assert isinstance(start, int) and isinstance(end, int) and isinstance(step, int)
        if step == 0:
            raise FactoryError("step cannot be 0", where)
        if (end - start) * step < 0:
            raise FactoryError(f"end {end} cannot be reached from start {start} with step {step}", where)
        out.append(range(start, end + (1 if step > 0 else -1), step))
    if not out:
        raise FactoryError("parametricSweep needs at least one parameter set", "taskFactory.parameterSets")
    return out


def _product(ranges: list[range]) -> Iterator[tuple[int, ...]]:
    if not ranges:
        yield ()
        return
    for head in ranges[0]:
        for rest in _product(ranges[1:]):
            yield (head, *rest)


def _rows(factory: Mapping[str, Any], base_dir: Path | None) -> Iterator[dict[str, Any]]:
    name = factory.get("file")
    if not isinstance(name, str) or not name:
        raise FactoryError("fromFile needs `file`: a CSV or JSON Lines file beside the stack", "taskFactory.file")
    path = (base_dir or Path.cwd()) / name
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise FactoryError(f"cannot read {name}: {exc.strerror or exc}", "taskFactory.file") from None
    with handle:
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise FactoryError(f"{name}:{number}: not JSON: {exc}", "taskFactory.file") from None
                if not isinstance(row, dict):
                    raise FactoryError(f"{name}:{number}: each line is a JSON object", "taskFactory.file")
                yield row
        else:
            yield from csv.DictReader(handle)


def _template(factory: Mapping[str, Any]) -> Mapping[str, Any]:
    template = factory.get("repeatTask")
    if not isinstance(template, Mapping):
        raise FactoryError("the factory needs `repeatTask`: the task each generated task is made from",
                           "taskFactory.repeatTask")
    return template


def _values(factory: Mapping[str, Any], base_dir: Path | None,
            lister: BlobLister | None) -> Iterator[dict[str, Any]]:
    """The substitution values of each generated task, in order."""
    kind = factory.get("type")
    if kind == "parametricSweep":
        for combo in _product(_ranges(factory)):
            yield {str(i): v for i, v in enumerate(combo)}
    elif kind == "repeat":
        number = factory.get("count")
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise FactoryError("repeat needs `count`: how many copies (0 or more)", "taskFactory.count")
        for i in range(number):
            yield {"0": i}
    elif kind == "fromFile":
        for row in _rows(factory, base_dir):
            yield {str(k): ("" if v is None else v) for k, v in row.items()}
    elif kind == "taskPerFile":
        source = factory.get("source") or {}
        if lister is None:
            raise FactoryError("taskPerFile lists blobs: it needs the storage account (plan or apply)",
                               "taskFactory.source")
        for name, url in lister(str(source.get("storage")), str(source.get("container")),
                                str(source.get("prefix") or "")):
            base = name.rsplit("/", 1)[-1]
            yield {"url": url, "filePath": name, "fileName": base,
                   "fileNameWithoutExtension": base.rsplit(".", 1)[0] if "." in base else base}
    else:
        raise FactoryError(f"unknown factory type {kind!r}: parametricSweep, taskPerFile, repeat or fromFile",
                           "taskFactory.type")


def generate(factory: Mapping[str, Any], base_dir: Path | None = None,
             lister: BlobLister | None = None) -> Iterator[dict[str, Any]]:
    """The factory's tasks, one at a time (then its merge task)."""
    template = _template(factory)
    id_template = template.get("id")
    body = {k: v for k, v in template.items() if k != "id"}
    per_file = factory.get("type") == "taskPerFile"
    count = 0
    ids: list[str] = []
    for index, values in enumerate(_values(factory, base_dir, lister)):
        task = _fill(copy.deepcopy(body), values, "taskFactory.repeatTask")
        task_id = (substitute(id_template, values, "taskFactory.repeatTask.id") if isinstance(id_template, str)
                   else str(index))
        if per_file:
            files = list(task.get("resourceFiles") or [])
            blob = {"httpUrl": values["url"], "filePath": values["filePath"]}
            identity = (factory.get("source") or {}).get("identityReference")
            if identity:
                blob["identityReference"] = copy.deepcopy(identity)
            files.append(blob)
            task["resourceFiles"] = files
        count += 1
        if factory.get("mergeTask") is not None and isinstance(id_template, str):
            ids.append(task_id)
        yield {"id": task_id, **task}
    merge = factory.get("mergeTask")
    if isinstance(merge, Mapping):
        yield merge_task(merge, count, ids if isinstance(id_template, str) else None)


def merge_task(merge: Mapping[str, Any], count: int, ids: list[str] | None) -> dict[str, Any]:
    """The merge task: it depends on every generated task (a range when ids are the indexes)."""
    task = {"id": MERGE_DEFAULT_ID, **copy.deepcopy(dict(merge))}
    if count:
        task["dependsOn"] = ({"taskIdRanges": [{"start": 0, "end": count - 1}]} if ids is None
                             else {"taskIds": ids})
    return task


def count(factory: Mapping[str, Any], base_dir: Path | None = None) -> int | None:
    """How many tasks the factory makes without making them (None when it needs a listing)."""
    kind = factory.get("type")
    merge = 1 if isinstance(factory.get("mergeTask"), Mapping) else 0
    if kind == "parametricSweep":
        total = 1
        for r in _ranges(factory):
            total *= len(r)
        return total + merge
    if kind == "repeat":
        number = factory.get("count")
        return (number + merge) if isinstance(number, int) else None
    if kind == "fromFile":
        return sum(1 for _ in _rows(factory, base_dir)) + merge
    return None


def validate_factory(factory: Mapping[str, Any], base_dir: Path | None = None,
                     explicit_ids: Sequence[str] = (), *, uses_dependencies: bool = False) -> list[FactoryError]:
    """Problems of a factory, found without making its tasks: the template is filled once with the
    first task's values (a substitution naming no parameter fails the same for every task); the
    ids are then streamed, only the id template filled per task, and checked for what Batch
    refuses and for duplicates (against each other and the job's `tasks`). A merge task needs the
    job's usesTaskDependencies. taskPerFile is checked with sample file names (no listing)."""
    problems: list[FactoryError] = []
    if isinstance(factory.get("mergeTask"), Mapping) and not uses_dependencies:
        problems.append(FactoryError("a mergeTask depends on the generated tasks: the job needs "
                                     "usesTaskDependencies: true", "taskFactory.mergeTask"))
    try:
        template = _template(factory)
        id_template = template.get("id")
        if factory.get("type") == "taskPerFile":
            sample = {"url": "https://x/y", "filePath": "a/b.txt", "fileName": "b.txt",
                      "fileNameWithoutExtension": "b"}
            _fill(dict(template), sample, "taskFactory.repeatTask")
            return problems
        seen_hashes: set[int] = {hash(i.casefold()) for i in explicit_ids}
        seen = {i.casefold() for i in explicit_ids}
        exact = True
        for index, values in enumerate(_values(factory, base_dir, None)):
            if index == 0:
                _fill({k: v for k, v in template.items() if k != "id"}, values, "taskFactory.repeatTask")
            ident = (substitute(id_template, values, "taskFactory.repeatTask.id") if isinstance(id_template, str)
                     else str(index))
            if not _ID.match(ident):
                problems.append(FactoryError(f"generated task id {ident!r} is not a Batch id (1-64 letters, "
                                             "digits, '-' and '_')", "taskFactory.repeatTask.id"))
                break
            folded = ident.casefold()
            h = hash(folded)
            # past 200,000 ids only their 64-bit hashes are kept, to bound memory (a false duplicate is
            # as likely as a 64-bit collision)
            if (folded in seen) if exact else (h in seen_hashes):
                problems.append(FactoryError(f"task id {ident!r} is generated twice (or repeats one of `tasks`): "
                                             "make repeatTask.id use every parameter", "taskFactory.repeatTask.id"))
                break
            seen_hashes.add(h)
            if exact:
                seen.add(folded)
                if len(seen) > 200_000:
                    exact, seen = False, set()
    except FactoryError as exc:
        problems.append(exc)
    return problems


_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
