"""Writes that survive a lost answer: read back what the SDK cannot know, then stop or resend.

azure-core's retry policy resends what HTTP says is safe to resend: GET, PUT and DELETE after a
dropped connection or a 408/429/5xx answer, POST and PATCH after a 5xx answer. What it cannot know:

* whether a write whose answer never came happened (a connection dropped after a POST or PATCH
  was sent, or the SDK's retries ran out): resending a POST blindly creates twice or fails;
* that an error on a write the SDK resent is its own first copy meeting itself: 409 `JobExists`,
  412 on the If-None-Match: * create of a pool that now exists, 404 or 409 `PoolBeingDeleted` /
  `JobBeingDeleted` / `AccountBeingDeleted` after a DELETE whose answer was lost.

Only the writer knows what "done" looks like for its resource, so every writer call goes through
one of two helpers that know only the HTTP shape of failures, with the writer's read-back:

    settle(send, landed)   create / update. `send()`; on an uncertain failure (connection dropped,
                           408/429/5xx after the SDK's own retries) or a conflict (409/412), call
                           `landed()`: what it returns (the live resource, or True) means the write
                           is in place — done, that is the result; None means it is not: resend
                           after an uncertain failure (at most ATTEMPTS sends in all), re-raise a
                           conflict (it is someone else's). Without `landed` (writes that are safe
                           to repeat: a PATCH without If-Match, a read sent as POST) it resends.
    remove(send, exists)   delete. `send()`; 404 is done; 409 "being deleted" waits until
                           `exists()` is False; an uncertain failure reads back and resends while
                           the resource exists.

A read-back that itself fails uncertainly counts as "don't know" (resend and see). Nothing here
sleeps longer than a short pause between sends; the SDK's policy still runs inside every send.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: sends of one write in all (the first and the resends after a read-back said "not there")
ATTEMPTS = 5
#: seconds before the n-th resend: PAUSE * n (the SDK already backed off inside each send)
PAUSE = 0.05

UNCERTAIN = "uncertain"  # it may or may not have happened
CONFLICT = "conflict"  # 409 / 412: maybe our own earlier copy
GONE = "gone"  # 404
DELETING = "deleting"  # 409 ...BeingDeleted
FATAL = "fatal"

_UNKNOWN = object()


def error_code(exc: BaseException) -> str:
    """Azure's error code of an SDK error ('' when there is none)."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) if error is not None else None
    if not code:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code") if hasattr(headers, "get") else None
    return str(code or "")


def classify(exc: BaseException) -> str:
    """What a failed write tells: UNCERTAIN, CONFLICT, GONE, DELETING or FATAL."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return UNCERTAIN
    if not isinstance(exc, HttpResponseError):
        return FATAL
    status = exc.status_code
    if status is None:  # azure-batch's CreateTasksError: the errors of the chunks it sent
        inner = [e for e in (getattr(exc, "errors", None) or []) if isinstance(e, BaseException)]
        if inner and not getattr(exc, "failure_tasks", None):
            return UNCERTAIN if all(classify(e) == UNCERTAIN for e in inner) else FATAL
        return FATAL
    if status == 404:
        return GONE
    if status == 409 and error_code(exc).endswith("BeingDeleted"):
        return DELETING
    if status in (409, 412):
        return CONFLICT
    if status in (408, 429) or status >= 500:
        return UNCERTAIN
    return FATAL


def _read_back(check: Callable[[], Any]) -> Any:
    """`check()`, or _UNKNOWN when the read itself failed uncertainly (or found nothing: 404)."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001 - classified; anything else is raised
        kind = classify(exc)
        if kind == GONE:
            return None
        if kind == UNCERTAIN:
            return _UNKNOWN
        raise


def settle(send: Callable[[], T], landed: Callable[[], Any] | None = None, *,
           attempts: int = ATTEMPTS, pause: float = PAUSE) -> T | Any:
    """Send a create or an update until it is known to be in place (see the module docstring)."""
    last: BaseException | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(pause * attempt)
        try:
            return send()
        except Exception as exc:
            kind = classify(exc)
            if kind not in (UNCERTAIN, CONFLICT):
                raise
            last = exc
        if landed is None:
            if kind == CONFLICT:
                raise last
            continue
        found = _read_back(landed)
        if found is not _UNKNOWN and found is not None and found is not False:
            return found
        if kind == CONFLICT and found is not _UNKNOWN:
            raise last  # not ours: a real conflict
    assert last is not None
    raise last


def remove(send: Callable[[], Any], exists: Callable[[], bool], *, attempts: int = ATTEMPTS,
           pause: float = PAUSE, poll: float = 0.05, timeout: float = 3600.0) -> None:
    """Delete until the resource is gone (see the module docstring)."""
    last: BaseException | None = None
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(pause * attempt)
        try:
            send()
            return
        except Exception as exc:
            kind = classify(exc)
            if kind == GONE:
                return
            if kind == DELETING:
                wait_gone(exists, poll=poll, timeout=timeout)
                return
            if kind != UNCERTAIN:
                raise
            last = exc
        if _read_back(exists) in (False, None):
            return
    assert last is not None
    raise last


def wait_gone(exists: Callable[[], bool], *, poll: float = 0.05, timeout: float = 3600.0) -> None:
    """Poll `exists()` until it says False (a read that fails uncertainly is polled again)."""
    from deployer.errors import ApplyError

    deadline = time.monotonic() + timeout
    while _read_back(exists) not in (False, None):
        if time.monotonic() > deadline:
            raise ApplyError(f"still being deleted after {timeout:.0f} s")
        time.sleep(poll)


def exists(get: Callable[[], Any]) -> bool:
    """True when `get()` finds the resource, False on 404 (other errors are raised)."""
    try:
        get()
    except Exception as exc:
        if classify(exc) == GONE:
            return False
        raise
    return True


__all__ = ["ATTEMPTS", "classify", "error_code", "exists", "remove", "settle", "wait_gone"]
