"""ARM long-running operations.

A handler that Azure answers asynchronously makes its state change at once (or records the
timestamps it needs to compute the state lazily) and returns `lro.accepted(...)`:

    return lro.accepted(req, provider="Microsoft.Storage", location=acct["location"],
                        result_path=acct["id"])          # 202 + Location + Azure-AsyncOperation

The response carries `Location` (.../operationResults/{op}) and `Azure-AsyncOperation`
(.../operationStatuses/{op}), both with the request's api-version, and `Retry-After: 0`.
The operation reports `InProgress` until `duration` seconds (emulator clock) have passed, then
`Succeeded` (or `Failed` with `error`). With the default duration 0 the SDK poller's first
poll already sees the end, so it never sleeps.

What the pollers then do (azure-mgmt-core ARMPolling):
- Azure-AsyncOperation present (preferred): polls the status document {"status": ...}; then for
  PUT/PATCH GETs the original URL, for POST/DELETE with final-state-via=location GETs Location.
- Location only (`async_header=False`): polls Location: 202 while in progress; when done it
  answers like a GET of `result_path` (200 + the resource, computed at that moment), or 200 with
  no body when there is no result (deletes); a failed operation answers with its error.

Note: pollers treat `Retry-After: 0` as "use the client's polling_interval" (30 s by default);
the deployer's clients (deployer.azure.Clients) set a small polling interval for the emulator.
"""

from __future__ import annotations

from typing import Any

from . import clock, ids
from .errors import ApiError
from .messages import Request, Response
from .routing import Router

KIND = "operation"
_OPS = "/subscriptions/{sub}/providers/{provider}/locations/{location}"


def accepted(
    req: Request,
    *,
    provider: str,
    location: str = "global",
    result_path: str | None = None,
    duration: float = 0.0,
    error: ApiError | None = None,
    status: int = 202,
    body: Any = None,
    headers: dict[str, str] | None = None,
    location_header: bool = True,
    async_header: bool = True,
) -> Response:
    """Record an operation and build the response that starts it (202 by default, or 201/200).

    result_path: the ARM path the operation produces (returned by the Location URL when done).
    duration: seconds until the operation completes. error: the operation fails with it.
    body: an optional JSON body for the initial response (e.g. a 201 with the resource).
    """
    sub = req.params.get("sub") or _subscription_of(req)
    op_id = ids.new_id()
    start = clock.now()
    record = {
        "name": op_id,
        "subscription": sub,
        "provider": provider,
        "location": location,
        "startTime": start,
        "doneAt": start + max(0.0, duration),
        "resultPath": result_path,
        "apiVersion": req.api_version or "",
        "error": None if error is None else {"status": error.status, "code": error.code, "message": error.message},
    }
    req.store.put(KIND, op_id, record, parent=ids.key_of(ids.subscription_id(sub)))
    base = f"/subscriptions/{sub}/providers/{provider}/locations/{location}"
    query = {"api-version": req.api_version} if req.api_version else None
    resp = Response.json(body, status=status) if body is not None else Response.empty(status)
    if location_header:
        resp.headers["Location"] = req.url(f"{base}/operationResults/{op_id}", query)
    if async_header:
        resp.headers["Azure-AsyncOperation"] = req.url(f"{base}/operationStatuses/{op_id}", query)
    resp.headers["Retry-After"] = "0"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _subscription_of(req: Request) -> str:
    segs = req.segments
    if len(segs) >= 2 and segs[0].lower() == "subscriptions":
        return segs[1]
    return "00000000-0000-0000-0000-000000000000"


def state(record: dict[str, Any]) -> str:
    """InProgress, Succeeded or Failed, computed from the record and the clock."""
    if clock.now() < record["doneAt"]:
        return "InProgress"
    return "Failed" if record.get("error") else "Succeeded"


def _load(req: Request, op: str) -> dict[str, Any]:
    doc = req.store.get(KIND, op)
    if doc is None:
        raise ApiError(404, "OperationNotFound", f"The operation '{op}' could not be found.")
    return doc.body


def _status(req: Request, sub: str, provider: str, location: str, op: str) -> Response:
    record = _load(req, op)
    st = state(record)
    body: dict[str, Any] = {
        "id": f"/subscriptions/{sub}/providers/{provider}/locations/{location}/operationStatuses/{op}",
        "name": op,
        "status": st,
        "startTime": clock.iso(record["startTime"]),
    }
    if st != "InProgress":
        body["endTime"] = clock.iso(record["doneAt"])
        body["percentComplete"] = 100.0
    if st == "Failed":
        body["error"] = {"code": record["error"]["code"], "message": record["error"]["message"]}
    headers = {"Retry-After": "0"} if st == "InProgress" else {}
    return Response.json(body, headers=headers)


def _result(req: Request, sub: str, provider: str, location: str, op: str) -> Response:
    record = _load(req, op)
    st = state(record)
    if st == "InProgress":
        return Response.empty(202, {"Location": req.url(req.path, dict(req.query)), "Retry-After": "0"})
    if st == "Failed":
        err = record["error"]
        raise ApiError(err["status"], err["code"], err["message"])
    if not record.get("resultPath"):
        return Response.empty(200)
    assert req.app is not None
    query = {"api-version": record.get("apiVersion") or req.api_version or ""}
    return req.app.dispatch(req.derive("GET", record["resultPath"], query))


def register(router: Router) -> None:
    router.add("GET", _OPS + "/operationStatuses/{op}", _status)
    router.add("GET", _OPS + "/operationResults/{op}", _result)
