"""Batch's rules for how a task ended, as data: exit conditions, failure info, dependencies.

    exit_options(task_body, exit_code, failure_kind)  -> ExitOptions(job_action, dependency_action)
    failure_info(code, message, **details)            -> Batch's TaskFailureInformation shape
    dependency_ids(depends_on)                         -> the task ids a task waits for

Defaults (Batch REST reference, ExitOptions): jobAction `none` for exit code 0 and `terminate`
for every other exit condition; dependencyAction `satisfy` for exit code 0 and `block` otherwise.
The job action applies only when the job's onTaskFailure is performExitOptionsJobAction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

USER_ERROR = "usererror"


@dataclass(frozen=True)
class ExitOptions:
    job_action: str  # none | disable | terminate
    dependency_action: str  # satisfy | block


def failure_info(code: str, message: str, category: str = USER_ERROR, **details: str) -> dict[str, Any]:
    info: dict[str, Any] = {"category": category, "code": code, "message": message}
    if details:
        info["details"] = [{"name": k, "value": v} for k, v in details.items()]
    return info


def exit_code_failure(code: int) -> dict[str, Any]:
    return failure_info("FailureExitCode", f"The task process exited with an unexpected exit code ({code}).")


def _options(raw: Any, success: bool) -> ExitOptions:
    raw = raw if isinstance(raw, dict) else {}
    job = str(raw.get("jobAction") or ("none" if success else "terminate")).lower()
    dep = str(raw.get("dependencyAction") or ("satisfy" if success else "block")).lower()
    return ExitOptions(job, dep)


def exit_options(task: dict[str, Any], exit_code: int | None, failure_kind: str | None = None) -> ExitOptions:
    """The exit options that apply: `failure_kind` is None (the process exited with `exit_code`),
    `preProcessingError` or `fileUploadError`."""
    conditions = task.get("exitConditions") or {}
    if failure_kind is not None:
        if conditions.get(failure_kind) is not None:
            return _options(conditions[failure_kind], False)
        return _options(conditions.get("default"), False)
    success = exit_code == 0
    for item in conditions.get("exitCodes") or []:
        if isinstance(item, dict) and item.get("code") == exit_code:
            return _options(item.get("exitOptions"), success)
    for item in conditions.get("exitCodeRanges") or []:
        if not isinstance(item, dict) or exit_code is None:
            continue
        if int(item.get("start", 0)) <= exit_code <= int(item.get("end", -1)):
            return _options(item.get("exitOptions"), success)
    if not success and conditions.get("default") is not None:
        return _options(conditions["default"], False)
    return _options(None, success)


def dependency_ids(depends_on: Any) -> list[str]:
    """Every task id of `dependsOn`: `taskIds` and the integer `taskIdRanges` (inclusive)."""
    if not isinstance(depends_on, dict):
        return []
    out = [str(t) for t in depends_on.get("taskIds") or []]
    for r in depends_on.get("taskIdRanges") or []:
        if isinstance(r, dict):
            out.extend(str(i) for i in range(int(r.get("start", 0)), int(r.get("end", -1)) + 1))
    return out


def max_retries(task: dict[str, Any], job: dict[str, Any]) -> int:
    c = task.get("constraints") or {}
    if c.get("maxTaskRetryCount") is not None:
        return int(c["maxTaskRetryCount"])
    return int((job.get("constraints") or {}).get("maxTaskRetryCount") or 0)


def may_retry(retry_count: int, limit: int) -> bool:
    return limit == -1 or retry_count < limit
