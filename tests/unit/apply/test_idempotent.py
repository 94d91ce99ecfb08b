"""deployer.apply.idempotent: which failures are uncertain, and what settle/remove do with each.

The helpers take plain callables; the failures are the azure-core exception types the SDK raises
(built here with the status and Azure error code a response would carry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from deployer.apply import idempotent
from deployer.apply.idempotent import CONFLICT, DELETING, FATAL, GONE, UNCERTAIN, classify, remove, settle


class _Error:
    def __init__(self, code: str) -> None:
        self.code = code
        self.message = code


def http(status: int, code: str = "") -> HttpResponseError:
    exc = HttpResponseError(message=f"{status} {code}")
    exc.status_code = status
    exc.error = _Error(code) if code else None  # type: ignore[assignment]
    return exc


LOST = ServiceResponseError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")


@pytest.mark.parametrize(("error", "kind"), [
    (LOST, UNCERTAIN),
    (ServiceRequestError("connection refused"), UNCERTAIN),
    (http(500, "InternalServerError"), UNCERTAIN),
    (http(503, "ServiceUnavailable"), UNCERTAIN),
    (http(429, "TooManyRequests"), UNCERTAIN),
    (http(408), UNCERTAIN),
    (http(404, "PoolNotFound"), GONE),
    (http(404, "ResourceNotFound"), GONE),
    (http(409, "JobBeingDeleted"), DELETING),
    (http(409, "PoolBeingDeleted"), DELETING),
    (http(409, "AccountBeingDeleted"), DELETING),
    (http(409, "JobExists"), CONFLICT),
    (http(412, "ConditionNotMet"), CONFLICT),
    (http(400, "InvalidPropertyValue"), FATAL),
    (http(403, "AuthorizationFailure"), FATAL),
    (ValueError("a bug"), FATAL),
])
def test_classify(error: BaseException, kind: str) -> None:
    assert classify(error) == kind


def test_classify_create_tasks_error_by_its_chunks() -> None:
    from azure.batch.models import CreateTasksError

    uncertain = CreateTasksError(pending_tasks=[], failure_tasks=[], errors=[LOST])
    refused = CreateTasksError(pending_tasks=[], failure_tasks=[object()], errors=[LOST])
    assert (classify(uncertain), classify(refused)) == (UNCERTAIN, FATAL)


class Calls:
    """A callable that raises or returns the given outcomes in turn, counting its calls."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.count = 0

    def __call__(self) -> Any:
        self.count += 1
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotent, "PAUSE", 0.0)


# (what send does, what the read-back finds) -> (result or error, sends, read-backs)
SETTLE_CASES: list[tuple[str, tuple[Any, ...], tuple[Any, ...] | None, Any, int, int]] = [
    ("answer lost, the write landed: done, not sent again", (LOST,), ({"id": "job"},), {"id": "job"}, 1, 1),
    ("answer lost, nothing there: sent again", (LOST, "created"), (None,), "created", 2, 1),
    ("resent create meets itself (409): landed", (http(409, "JobExists"),), ({"id": "job"},), {"id": "job"}, 1, 1),
    ("412 on If-None-Match, ours: done", (http(412),), ({"name": "pool"},), {"name": "pool"}, 1, 1),
    ("409 not ours: raised, not sent again", (http(409, "JobExists"),), (None,), HttpResponseError, 1, 1),
    ("a refusal is raised at once", (http(400, "InvalidPropertyValue"),), (None,), HttpResponseError, 1, 0),
    ("read-back fails too: sent again", (LOST, "created"), (LOST,), "created", 2, 1),
    ("never lands: gives up after ATTEMPTS", (LOST,), (None,), ServiceResponseError, 5, 5),
    ("no read-back (safe to repeat): sent again", (LOST, http(500), "patched"), None, "patched", 3, 0),
    ("no read-back, a conflict is raised", (http(412),), None, HttpResponseError, 1, 0),
]


@pytest.mark.parametrize(("case", "sends", "reads", "expected", "sent", "read"), SETTLE_CASES,
                         ids=[c[0] for c in SETTLE_CASES])
def test_settle(case: str, sends: tuple[Any, ...], reads: tuple[Any, ...] | None, expected: Any, sent: int,
                read: int) -> None:
    send = Calls(*sends)
    landed = Calls(*reads) if reads is not None else None
    if isinstance(expected, type) and issubclass(expected, BaseException):
        with pytest.raises(expected):
            settle(send, landed)
    else:
        assert settle(send, landed) == expected
    assert send.count == sent
    assert (landed.count if landed else 0) == read


REMOVE_CASES: list[tuple[str, tuple[Any, ...], tuple[Any, ...], type[BaseException] | None, int, int]] = [
    ("deleted", (None,), (True,), None, 1, 0),
    ("404: gone already (a resent DELETE, a rerun)", (http(404, "PoolNotFound"),), (True,), None, 1, 0),
    ("409 being deleted: waits until gone", (http(409, "JobBeingDeleted"),), (True, True, False), None, 1, 3),
    ("answer lost, gone: done", (LOST,), (False,), None, 1, 1),
    ("answer lost, still there: sent again", (LOST, None), (True,), None, 2, 1),
    ("a refusal is raised", (http(409, "Conflict"),), (True,), HttpResponseError, 1, 0),
]


@pytest.mark.parametrize(("case", "sends", "reads", "error", "sent", "read"), REMOVE_CASES,
                         ids=[c[0] for c in REMOVE_CASES])
def test_remove(case: str, sends: tuple[Any, ...], reads: tuple[Any, ...], error: type[BaseException] | None,
                sent: int, read: int) -> None:
    send, exists = Calls(*sends), Calls(*reads)
    run: Callable[[], None] = lambda: remove(send, exists, poll=0.0)  # noqa: E731
    if error is not None:
        with pytest.raises(error):
            run()
    else:
        run()
    assert (send.count, exists.count) == (sent, read)


def test_exists_is_false_on_404_and_raises_the_rest() -> None:
    assert idempotent.exists(lambda: {"id": "x"}) is True
    assert idempotent.exists(Calls(http(404, "JobNotFound"))) is False
    with pytest.raises(HttpResponseError):
        idempotent.exists(Calls(http(403, "AuthorizationFailure")))
