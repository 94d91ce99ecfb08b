"""`deploy logs STACK JOB [TASK]`: a task's files through the Batch file API (get-task-file).

JOB is the job's (or job schedule's: its current job) name in the stack; TASK a task id. Files are
read in byte ranges (`ocp-range: bytes=first-last`) after their size (get-task-file-properties):

* `TASK` — the whole of `stdout.txt` (`--stderr`: `stderr.txt`, `--file PATH`: any file under the
  task's directory), CHUNK bytes per request;
* `--follow` — the file as it grows: each poll reads its size and, when it grew, only the new
  bytes; when it did not, the task's state (2 requests per quiet poll); it stops once the task
  completed and the file is read to its end. It may start before the task: until the task has
  started on a node Batch answers 409 TaskNotStarted about its files, which reads as "nothing yet";
  a file the completed task never wrote is an error;
* no TASK, or `--failed` — the last `--lines` lines of every failed task of the job (the failed
  tasks are one `$filter=executionInfo/result eq 'failure'` list, never the whole task list):
  stdout and stderr, or the one file `--stderr` / `--file` names.
"""

from __future__ import annotations

import sys
import time
from typing import Any, BinaryIO

from deployer.errors import AzureError, UsageError
from deployer.ops.reader import (
    Account,
    StackReader,
    TaskNotStartedError,
    _call,
    file_size,
    read_range,
    rest,
    tail,
)
from deployer.stack.model import Kind

CHUNK = 4 * 1024 * 1024


def resolve_job(reader: StackReader, name: str) -> tuple[Account, str]:
    """(account, Batch job id) of the stack's job or schedule called `name` (logical name or id)."""
    for account in reader.accounts():
        for resource in [*account.jobs, *account.schedules]:
            if name in (resource.address.parts[-1], resource.name, str(resource.address)):
                if account.live is None:
                    raise UsageError(f"{resource.address}: its Batch account {account.resource.name} is not "
                                     f"deployed (or not owned by stack {reader.stack.name})")
                if resource.kind is Kind.JOB:
                    return account, resource.name
                return account, _current_job(reader, account, resource.name)
    known = [r.address.parts[-1] for r in reader.stack.resources if r.kind in (Kind.JOB, Kind.JOB_SCHEDULE)]
    raise UsageError(f"stack {reader.stack.name} has no job or job schedule {name!r}"
                     + (f" (it has: {', '.join(known)})" if known else " (it has none)"))


def _current_job(reader: StackReader, account: Account, schedule_id: str) -> str:
    data = reader.data(account)
    schedule = rest(_call(f"job schedule {schedule_id}",
                          lambda: data.get_job_schedule(schedule_id, select=["executionInfo"])))
    recent = ((schedule.get("executionInfo") or {}).get("recentJob") or {}).get("id")
    if not recent:
        raise UsageError(f"job schedule {schedule_id} has not created a job yet")
    return str(recent)


def run_logs(reader: StackReader, job: str, task: str | None, *, stderr: bool = False, path: str | None = None,
             follow: bool = False, failed: bool = False, lines: int = 20, interval: float | None = None,
             stream: BinaryIO | None = None) -> int:
    from deployer.ops.status import poll_interval

    stream = stream or sys.stdout.buffer
    account, job_id = resolve_job(reader, job)
    data = reader.data(account)
    if task is None or failed:
        if follow:
            raise UsageError("--follow needs a TASK (it tails one file)")
        files = [path] if path else (["stderr.txt"] if stderr else ["stdout.txt", "stderr.txt"])
        return _failed(reader, data, job_id, task, files, lines, stream)
    file_path = path or ("stderr.txt" if stderr else "stdout.txt")
    if follow:
        return _follow(data, job_id, task, file_path, poll_interval(reader.clients) if interval is None else interval,
                       stream)
    size = _size(data, job_id, task, file_path)
    for first in range(0, size, CHUNK):
        stream.write(read_range(data, job_id, task, file_path, first, min(size, first + CHUNK) - 1))
    stream.flush()
    return 0


def _size(data: Any, job_id: str, task_id: str, path: str, *, missing_ok: bool = False) -> int:
    """The file's size; with `missing_ok` (following) 0 while the task has not started or has not
    written the file yet."""
    try:
        size = file_size(data, job_id, task_id, path)
    except TaskNotStartedError:
        if missing_ok:
            return 0
        raise
    if size is not None:
        return size
    if missing_ok:  # not written yet
        return 0
    _task_state(data, job_id, task_id)  # names a missing task or job first
    raise AzureError(f"task {task_id} of job {job_id} has no file {path}")


def _task_state(data: Any, job_id: str, task_id: str) -> str:
    from azure.core.exceptions import ResourceNotFoundError

    def get() -> dict[str, Any] | None:
        try:
            return rest(data.get_task(job_id, task_id, select=["id", "state"]))
        except ResourceNotFoundError:
            return None

    task = _call(f"task {task_id} of job {job_id}", get)
    if task is None:
        raise UsageError(f"job {job_id} has no task {task_id!r} (or the job is gone)")
    return str(task.get("state", "")).lower()


def _follow(data: Any, job_id: str, task_id: str, path: str, interval: float, stream: BinaryIO) -> int:
    offset = 0
    while True:
        size = _size(data, job_id, task_id, path, missing_ok=True)
        if size < offset:  # written anew (the task was retried): from its start again
            offset = 0
        if size > offset:
            stream.write(read_range(data, job_id, task_id, path, offset, size - 1))
            stream.flush()
            offset = size
            continue
        if _task_state(data, job_id, task_id) == "completed":
            try:
                found = file_size(data, job_id, task_id, path)  # written between the two reads?
            except TaskNotStartedError:  # terminated before it ever ran on a node
                sys.stderr.write(f"task {task_id} of job {job_id} completed without running: it has no files\n")
                return 0
            if found is None:  # it ran, and never wrote that file
                raise AzureError(f"task {task_id} of job {job_id} has no file {path}")
            size = found
            if size > offset:
                stream.write(read_range(data, job_id, task_id, path, offset, size - 1))
                stream.flush()
            return 0
        time.sleep(interval)


def _failed(reader: StackReader, data: Any, job_id: str, task: str | None, files: list[str], lines: int,
            stream: BinaryIO) -> int:
    tasks = reader.failed_tasks(data, job_id, None)
    if task is not None:
        tasks = [t for t in tasks if t.id.lower() == task.lower()]
    if not tasks:
        sys.stderr.write(f"no failed task in job {job_id}" + (f" named {task}" if task else "") + "\n")
        return 0
    for failed in tasks:
        failure = failed.failure or {}
        why = f" ({failure.get('code')}: {failure.get('message')})" if failure else ""
        code = "no exit code" if failed.exit_code is None else f"exit code {failed.exit_code}"
        stream.write(f"==> task {failed.id}: {code}{why} <==\n".encode())
        for path in files:
            try:
                found = tail(data, job_id, failed.id, path, lines)
            except AzureError as exc:
                stream.write(f"--- {path}: not readable: {exc}\n".encode())
                continue
            stream.write(f"--- {path} (last {len(found)} lines)\n".encode())
            stream.write("".join(line + "\n" for line in found).encode())
    stream.flush()
    return 0
