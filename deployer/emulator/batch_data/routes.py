"""Batch data plane HTTP surface: what azure-batch 15.1's `BatchClient` sends to an account endpoint.

Each account's endpoint is `https://{host}/batch/{account}` (batch_mgmt reports `accountEndpoint`
= `{host}/batch/{account}`), so every route here is `/batch/{account}/...`. Every request is
checked here, in the service's order and with its codes: the account exists (404 AccountNotFound),
`Authorization` is a bearer token (any; the account must allow AAD) or `SharedKey {account}:{sig}`
whose HMAC-SHA256 signature is verified against the account's primary and secondary keys exactly
as azure-batch's BatchSharedKeyAuthPolicy computes it (the account must allow SharedKey), then
`api-version` is present (400 MissingRequiredQueryParameter). Errors are the service's `BatchError`
(core.render_batch); unknown paths answer 400 InvalidUri, known paths with another verb 405
UnsupportedHttpVerb.

Responses carry `request-id`, `client-request-id` (echoed), `DataServiceVersion: 3.0`, and for
entities `ETag` (bare 0x...), `Last-Modified` and, on writes, `DataServiceId` / `Location`.
Lists follow `odata.nextLink` (`maxresults`, default and maximum 1000), `$filter` (the OData
subset of batch_mgmt.odata: eq ne lt le gt ge, and or not, startswith/endswith/contains,
datetime'...'; on the rendered entities, strings compared without regard to case) and `$select`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

from ..batch_mgmt import links
from ..batch_mgmt import models as mgmt
from ..batch_mgmt.formula import evaluate
from ..batch_mgmt.odata import compile_filter
from ..core import ApiError, Doc, Request, Response, Router, clock, etag, paging, render_batch
from ..core.select import select
from . import errors, files, models, pools

PREFIX = "/batch/{account}"
JSON_TYPE = "application/json;odata=minimalmetadata"
_VERBS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE")
_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)

Handler = Callable[..., Response]


def register(router: Router) -> None:
    router.errors("/batch/", render_batch)

    def add(method: str, template: str, handler: Handler) -> None:
        router.add(method, PREFIX + template, _service(handler), api_version=False, auth=False)

    # jobs
    add("POST", "/jobs", create_job)
    add("GET", "/jobs", list_jobs)
    add("GET", "/jobs/{job_id}", get_job)
    add("PATCH", "/jobs/{job_id}", patch_job)
    add("PUT", "/jobs/{job_id}", put_job)
    add("DELETE", "/jobs/{job_id}", delete_job)
    add("POST", "/jobs/{job_id}/terminate", terminate_job)
    add("POST", "/jobs/{job_id}/disable", disable_job)
    add("POST", "/jobs/{job_id}/enable", enable_job)
    add("GET", "/jobs/{job_id}/taskcounts", task_counts)
    add("GET", "/jobs/{job_id}/jobpreparationandreleasetaskstatus", preparation_status)
    # tasks
    add("POST", "/jobs/{job_id}/tasks", create_task)
    add("GET", "/jobs/{job_id}/tasks", list_tasks)
    add("POST", "/jobs/{job_id}/addtaskcollection", add_task_collection)
    add("GET", "/jobs/{job_id}/tasks/{task_id}", get_task)
    add("PUT", "/jobs/{job_id}/tasks/{task_id}", put_task)
    add("DELETE", "/jobs/{job_id}/tasks/{task_id}", delete_task)
    add("POST", "/jobs/{job_id}/tasks/{task_id}/terminate", terminate_task)
    # job schedules
    add("POST", "/jobschedules", create_schedule)
    add("GET", "/jobschedules", list_schedules)
    add("GET", "/jobschedules/{schedule_id}", get_schedule)
    add("HEAD", "/jobschedules/{schedule_id}", schedule_exists)
    add("PATCH", "/jobschedules/{schedule_id}", patch_schedule)
    add("PUT", "/jobschedules/{schedule_id}", put_schedule)
    add("DELETE", "/jobschedules/{schedule_id}", delete_schedule)
    add("POST", "/jobschedules/{schedule_id}/terminate", terminate_schedule)
    add("POST", "/jobschedules/{schedule_id}/disable", disable_schedule)
    add("POST", "/jobschedules/{schedule_id}/enable", enable_schedule)
    add("GET", "/jobschedules/{schedule_id}/jobs", list_schedule_jobs)
    # pools (read-only views of batch_mgmt's state) and their nodes
    add("GET", "/pools", list_pools)
    add("GET", "/pools/{pool_id}", get_pool)
    add("HEAD", "/pools/{pool_id}", pool_exists)
    add("GET", "/nodecounts", list_node_counts)
    add("GET", "/supportedimages", list_supported_images)
    add("GET", "/pools/{pool_id}/nodes", list_nodes)
    add("GET", "/pools/{pool_id}/nodes/{node_id}", get_node)
    # pool writes through the data plane: translated, then batch_mgmt's own rules
    add("POST", "/pools", create_pool)
    add("PATCH", "/pools/{pool_id}", patch_pool)
    add("DELETE", "/pools/{pool_id}", delete_pool)
    add("POST", "/pools/{pool_id}/updateproperties", replace_pool_properties)
    add("POST", "/pools/{pool_id}/resize", resize_pool)
    add("POST", "/pools/{pool_id}/stopresize", stop_pool_resize)
    add("POST", "/pools/{pool_id}/enableautoscale", enable_auto_scale)
    add("POST", "/pools/{pool_id}/disableautoscale", disable_auto_scale)
    add("POST", "/pools/{pool_id}/evaluateautoscale", evaluate_auto_scale)
    # files the node agent's tasks left on the nodes (batch_data.files)
    add("GET", "/jobs/{job_id}/tasks/{task_id}/files", list_task_files)
    add("GET", "/jobs/{job_id}/tasks/{task_id}/files/{file_path*}", files.get_task_file)
    add("HEAD", "/jobs/{job_id}/tasks/{task_id}/files/{file_path*}", files.get_task_file)
    add("DELETE", "/jobs/{job_id}/tasks/{task_id}/files/{file_path*}", files.delete_task_file)
    add("GET", "/pools/{pool_id}/nodes/{node_id}/files", list_node_files)
    add("GET", "/pools/{pool_id}/nodes/{node_id}/files/{file_path*}", files.get_node_file)
    add("HEAD", "/pools/{pool_id}/nodes/{node_id}/files/{file_path*}", files.get_node_file)
    add("DELETE", "/pools/{pool_id}/nodes/{node_id}/files/{file_path*}", files.delete_node_file)
    # anything else under an account
    for verb in _VERBS:
        router.add(verb, PREFIX + "/{rest*}", unknown_path, api_version=False, auth=False)


# ==============================================================================================
# the per-request checks every route shares
# ==============================================================================================


def _service(handler: Handler) -> Handler:
    def run(req: Request, account: str, **params: str) -> Response:
        ids = {"request-id": str(uuid.uuid4())}
        client_id = req.headers.get("client-request-id")
        if client_id:
            ids["client-request-id"] = client_id
        try:
            acct = _account(req, account)
            _authenticate(req, acct)
            if not req.query.get("api-version"):
                raise errors.missing_query_parameter("api-version")
            resp = handler(req, acct, **params)
        except ApiError as err:  # errors carry the same ids (render_batch adds err.headers)
            for k, v in ids.items():
                err.headers.setdefault(k, v)
            raise
        for k, v in ids.items():
            resp.headers[k] = v
        resp.headers["DataServiceVersion"] = "3.0"
        return resp

    run.__name__ = getattr(handler, "__name__", "batch_data")
    run.__doc__ = handler.__doc__
    return run


def _account(req: Request, name: str) -> Doc:
    doc = mgmt.account_by_name(req.store, name)
    if doc is None:
        raise errors.account_not_found(name)
    return doc


def string_to_sign(req: Request, account_name: str) -> str:
    """What azure-batch's BatchSharedKeyAuthPolicy signs, rebuilt from the request as received."""
    headers = {k.lower(): v for k, v in req.headers.items() if v}
    if req.method in ("GET", "HEAD"):
        if headers.get("content-length") == "0":  # the client sent none; a transport may add 0
            del headers["content-length"]
    else:
        headers.setdefault("content-length", "0")
    text = req.method + "\n" + "\n".join(headers.get(h, "") for h in _SIGNED_HEADERS) + "\n"
    for name, value in sorted((k, v) for k, v in headers.items() if "ocp-" in k):
        text += f"{name}:{value}\n"
    text += f"/{account_name}{req.raw_path.split('?', 1)[0]}"
    query = parse_qs(req.query_string)
    for name in sorted(query):
        value = query[name][0]
        if value:
            text += f"\n{name}:{value}"
    return text


def sign(key: str, text: str) -> str:
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _authenticate(req: Request, account: Doc) -> None:
    value = (req.headers.get("Authorization") or "").strip()
    if not value:
        raise errors.authentication_missing()
    scheme, _, cred = value.partition(" ")
    cred = cred.strip()
    if scheme.lower() == "bearer":
        if not cred:
            raise errors.invalid_authentication_info("The bearer token is empty.")
        if not mgmt.aad_allowed(account):
            raise errors.authentication_failed(
                "AAD authentication is not allowed for this account (allowedAuthenticationModes)."
            )
        return
    if scheme.lower() == "sharedkey":
        name, sep, signature = cred.partition(":")
        if not sep or not name or not signature:
            raise errors.invalid_authentication_info("The SharedKey credential must be '<account>:<signature>'.")
        if name.lower() != str(account.body["name"]).lower():
            raise errors.authentication_failed(
                f"The account name '{name}' in the Authorization header does not match the account of the request."
            )
        if not mgmt.shared_key_allowed(account):
            raise errors.authentication_failed(
                "SharedKey authentication is not allowed for this account (allowedAuthenticationModes)."
            )
        text = string_to_sign(req, name)
        for key in mgmt.account_keys(account).values():
            if hmac.compare_digest(sign(key, text), signature):
                return
        raise errors.authentication_failed(
            f"The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature."
        )
    raise errors.invalid_authentication_info(f"The authentication scheme '{scheme}' is not supported.")


def unknown_path(req: Request, account: str, rest: str) -> Response:
    assert req.app is not None
    for route in req.app.router.routes:
        if (
            route.rest is None
            and route.template.lower().startswith(PREFIX)
            and route.match_path(req.segments) is not None
        ):
            raise errors.unsupported_verb(req.method)
    raise errors.invalid_uri(req.path)


# ==============================================================================================
# helpers: headers, conditions, lists
# ==============================================================================================


def _http_time(req: Request, name: str) -> float | None:
    raw = req.headers.get(name)
    if not raw:
        return None
    try:
        return clock.parse_http_date(raw)
    except (TypeError, ValueError):
        raise errors.invalid_header_value(name, raw) from None


def _conditions(req: Request) -> models.Conditions:
    return models.Conditions(
        if_match=req.headers.get("If-Match"),
        if_none_match=req.headers.get("If-None-Match"),
        if_modified_since=_http_time(req, "If-Modified-Since"),
        if_unmodified_since=_http_time(req, "If-Unmodified-Since"),
    )


def _entity_headers(doc: Doc, url: str | None = None) -> dict[str, str]:
    h = {"ETag": doc.etag, "Last-Modified": clock.http_date(doc.body["meta"]["modified"])}
    if url:
        h["DataServiceId"] = url
    return h


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response.json(obj, status=status, headers=headers)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


def _metadata_url(req: Request, account: Doc, what: str) -> str:
    return f"{req.base_url}/batch/{models.account_name(account)}/$metadata#{what}"


def _select(item: dict[str, Any], text: str | None) -> dict[str, Any]:
    """`$select=id,state,executionInfo/poolId`: only the named properties (paths with '/')."""
    return select(item, text)


def _filtered(req: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    text = req.query.get("$filter")
    if not text or not text.strip():
        return items
    try:
        predicate = compile_filter(text)
    except ValueError as exc:
        raise errors.invalid_query_parameter("$filter", text, f"The filter is invalid: {exc}.") from None
    return [i for i in items if predicate(i)]


def _check_maxresults(req: Request) -> None:
    raw = req.query.get("maxresults")
    if raw is None or raw == "":
        return
    try:
        n = int(raw)
    except ValueError:
        raise errors.invalid_query_parameter("maxresults", raw, "The value must be an integer.") from None
    if not 1 <= n <= 1000:
        raise errors.out_of_range_query_parameter("maxresults", raw)


def _list(req: Request, account: Doc, what: str, items: Sequence[Any],
          render: Callable[[Any], dict[str, Any]] | None = None) -> Response:
    """A list answer, a page at a time. With `render` (items are stored documents, possibly read
    lazily: Store.children), only the page is read and rendered when nothing filters: a page of a
    100,000-task job costs its 1,000 tasks."""
    _check_maxresults(req)
    if render is not None and req.query.get("$filter"):
        items, render = [render(i) for i in items], None
    items = _filtered(req, list(items)) if render is None else items
    page = paging.page(req, items, size=1000, value_key="value", next_key="odata.nextLink", size_param="maxresults")
    select = req.query.get("$select")
    body: dict[str, Any] = {"odata.metadata": _metadata_url(req, account, what)}
    body["value"] = [_select(render(i) if render is not None else i, select) for i in page["value"]]
    if page.get("odata.nextLink"):
        body["odata.nextLink"] = page["odata.nextLink"]
    return _json(body)


def _get(req: Request, account: Doc, what: str, doc: Doc, item: dict[str, Any]) -> Response:
    headers = _entity_headers(doc)
    if _conditions(req).not_modified(doc):
        return Response.empty(304, headers=headers)
    body = {
        "odata.metadata": _metadata_url(req, account, what + "/@Element"),
        **_select(item, req.query.get("$select")),
    }
    return _json(body, headers=headers)


def _written(doc: Doc, url: str, status: int, *, location: bool = False) -> Response:
    headers = _entity_headers(doc, url)
    if location:
        headers["Location"] = url
    return Response.empty(status, headers=headers)


def _body(req: Request) -> Any:
    try:
        return req.json()
    except ApiError:
        raise errors.invalid_request_body("The request body is not valid JSON.") from None


# ==============================================================================================
# jobs
# ==============================================================================================


def _wake(req: Request) -> None:
    """Work was queued: the node agent (deployer.emulator.agent) should look now."""
    from ..agent import control

    control.wake(req.store)


def _agent_for_reads(req: Request) -> None:
    """Reads of tasks restart an agent that died (kill -9) while work waits."""
    from ..agent import control

    control.ensure_for_reads(req.store)


def create_job(req: Request, account: Doc) -> Response:
    doc = models.create_job(req.store, account, _body(req))
    if doc.body.get("jobManagerTask"):  # its job manager task is queued with it
        _wake(req)
    return _written(doc, models.job_url(req.base_url, account, doc.body["id"]), 201, location=True)


def list_jobs(req: Request, account: Doc) -> Response:
    items = [models.render_job(d, req.base_url, account) for d in models.list_jobs(req.store, account)]
    return _list(req, account, "jobs", items)


def get_job(req: Request, account: Doc, job_id: str) -> Response:
    doc = models.require_job(req.store, account, job_id)
    return _get(req, account, "jobs", doc, models.render_job(doc, req.base_url, account))


def _job_written(req: Request, account: Doc, doc: Doc, status: int = 200) -> Response:
    return _written(doc, models.job_url(req.base_url, account, doc.body["id"]), status)


def patch_job(req: Request, account: Doc, job_id: str) -> Response:
    doc = models.update_job(req.store, account, job_id, _body(req), replace=False, conditions=_conditions(req))
    return _job_written(req, account, doc)


def put_job(req: Request, account: Doc, job_id: str) -> Response:
    doc = models.update_job(req.store, account, job_id, _body(req), replace=True, conditions=_conditions(req))
    return _job_written(req, account, doc)


def delete_job(req: Request, account: Doc, job_id: str) -> Response:
    models.delete_job(req.store, account, job_id, conditions=_conditions(req))
    _wake(req)
    return Response.empty(202)


def terminate_job(req: Request, account: Doc, job_id: str) -> Response:
    body = _body(req)
    reason = body.get("terminateReason") if isinstance(body, dict) else None
    doc = models.terminate_job(req.store, account, job_id, reason, conditions=_conditions(req))
    _wake(req)  # its processes end and its release tasks run
    return _job_written(req, account, doc, 202)


def disable_job(req: Request, account: Doc, job_id: str) -> Response:
    body = _body(req)
    mode = body.get("disableTasks") if isinstance(body, dict) else None
    doc = models.disable_job(req.store, account, job_id, mode, conditions=_conditions(req))
    return _job_written(req, account, doc, 202)


def enable_job(req: Request, account: Doc, job_id: str) -> Response:
    doc = models.enable_job(req.store, account, job_id, conditions=_conditions(req))
    _wake(req)
    return _job_written(req, account, doc, 202)


def task_counts(req: Request, account: Doc, job_id: str) -> Response:
    job = models.require_job(req.store, account, job_id)
    return _json(models.task_counts(req.store, job), headers=_entity_headers(job))


def preparation_status(req: Request, account: Doc, job_id: str) -> Response:
    job = models.require_job(req.store, account, job_id)
    return _list(req, account, "jobpreparationandreleasetaskstatus", models.preparation_statuses(req.store, job))


# ==============================================================================================
# tasks
# ==============================================================================================


def create_task(req: Request, account: Doc, job_id: str) -> Response:
    job, doc = models.add_task(req.store, account, job_id, _body(req))
    _wake(req)
    url = models.task_url(req.base_url, account, job.body["id"], doc.body["id"])
    return _written(doc, url, 201, location=True)


def add_task_collection(req: Request, account: Doc, job_id: str) -> Response:
    job, results = models.add_task_collection(req.store, account, job_id, _body(req))
    _wake(req)
    value = []
    for r in results:
        if r.doc is not None:
            value.append(
                {
                    "status": "success",
                    "taskId": r.task_id,
                    "eTag": r.doc.etag,
                    "lastModified": clock.iso(r.doc.body["meta"]["modified"]),
                    "location": models.task_url(req.base_url, account, job.body["id"], r.doc.body["id"]),
                }
            )
        else:
            err = r.error
            entry: dict[str, Any] = {"status": "clienterror" if err.status < 500 else "servererror"}
            if r.task_id is not None:
                entry["taskId"] = r.task_id
            entry["error"] = {
                "code": err.code,
                "message": {"lang": "en-US", "value": err.message},
                **(
                    {"values": [{"key": d.get("key"), "value": d.get("value")} for d in err.details]}
                    if err.details
                    else {}
                ),
            }
            value.append(entry)
    job = models.require_job(req.store, account, job_id)  # as it is after the adds
    return _json({"odata.metadata": _metadata_url(req, account, "taskaddresult"), "value": value},
                 headers=_entity_headers(job))


def list_tasks(req: Request, account: Doc, job_id: str) -> Response:
    _agent_for_reads(req)
    job, tasks = models.list_tasks(req.store, account, job_id)
    return _list(req, account, "tasks", tasks, lambda t: models.render_task(t, job, req.base_url, account))


def get_task(req: Request, account: Doc, job_id: str, task_id: str) -> Response:
    _agent_for_reads(req)
    job, doc = models.require_task(req.store, account, job_id, task_id)
    return _get(req, account, "tasks", doc, models.render_task(doc, job, req.base_url, account))


def _task_written(req: Request, account: Doc, job_id: str, doc: Doc, status: int) -> Response:
    job = models.require_job(req.store, account, job_id)
    return _written(doc, models.task_url(req.base_url, account, job.body["id"], doc.body["id"]), status)


def put_task(req: Request, account: Doc, job_id: str, task_id: str) -> Response:
    doc = models.update_task(req.store, account, job_id, task_id, _body(req), conditions=_conditions(req))
    return _task_written(req, account, job_id, doc, 200)


def delete_task(req: Request, account: Doc, job_id: str, task_id: str) -> Response:
    models.delete_task(req.store, account, job_id, task_id, conditions=_conditions(req))
    return Response.empty(200)


def terminate_task(req: Request, account: Doc, job_id: str, task_id: str) -> Response:
    doc = models.terminate_task(req.store, account, job_id, task_id, conditions=_conditions(req))
    return _task_written(req, account, job_id, doc, 204)


# ==============================================================================================
# job schedules
# ==============================================================================================


def _schedule_written(req: Request, account: Doc, doc: Doc, status: int, *, location: bool = False) -> Response:
    return _written(doc, models.schedule_url(req.base_url, account, doc.body["id"]), status, location=location)


def create_schedule(req: Request, account: Doc) -> Response:
    doc = models.create_schedule(req.store, account, _body(req))
    return _schedule_written(req, account, doc, 201, location=True)


def list_schedules(req: Request, account: Doc) -> Response:
    now = clock.now()
    items = [
        models.render_schedule(d, req.base_url, account, now) for d in models.list_schedules(req.store, account, now)
    ]
    return _list(req, account, "jobschedules", items)


def get_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.require_schedule(req.store, account, schedule_id)
    return _get(req, account, "jobschedules", doc, models.render_schedule(doc, req.base_url, account))


def schedule_exists(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.get_schedule(req.store, account, schedule_id)
    if doc is None:
        return Response.empty(404)
    if _conditions(req).not_modified(doc):
        return Response.empty(304, headers=_entity_headers(doc))
    return Response.empty(200, headers=_entity_headers(doc))


def patch_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.update_schedule(
        req.store, account, schedule_id, _body(req), replace=False, conditions=_conditions(req)
    )
    return _schedule_written(req, account, doc, 200)


def put_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.update_schedule(req.store, account, schedule_id, _body(req), replace=True, conditions=_conditions(req))
    return _schedule_written(req, account, doc, 200)


def delete_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    models.delete_schedule(req.store, account, schedule_id, conditions=_conditions(req))
    return Response.empty(202)


def terminate_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.terminate_schedule(req.store, account, schedule_id, conditions=_conditions(req))
    return _schedule_written(req, account, doc, 202)


def disable_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.disable_schedule(req.store, account, schedule_id, conditions=_conditions(req))
    return _schedule_written(req, account, doc, 204)


def enable_schedule(req: Request, account: Doc, schedule_id: str) -> Response:
    doc = models.enable_schedule(req.store, account, schedule_id, conditions=_conditions(req))
    return _schedule_written(req, account, doc, 204)


def list_schedule_jobs(req: Request, account: Doc, schedule_id: str) -> Response:
    models.require_schedule(req.store, account, schedule_id)
    return _list(req, account, "jobs", [])  # the emulator's schedules never create jobs


# ==============================================================================================
# pools and nodes (batch_mgmt owns them; shown here as the data plane shows them)
# ==============================================================================================


def _pool(req: Request, account: Doc, pool_id: str) -> Doc:
    doc = mgmt.pool_of(req.store, account, pool_id)
    if doc is None:
        raise errors.pool_not_found()
    return doc


def list_supported_images(req: Request, account: Doc) -> Response:
    """Pool_ListSupportedImages, answered from the deployer's lifecycle catalog."""
    from deployer.stack.catalog import supported_images

    return _list(req, account, "supportedimages", supported_images())


def list_pools(req: Request, account: Doc) -> Response:
    now = clock.now()
    name = models.account_name(account)
    items = [pools.render_pool(d, req.base_url, name, now) for d in mgmt.pools_of(req.store, account, now)]
    return _list(req, account, "pools", items)


def get_pool(req: Request, account: Doc, pool_id: str) -> Response:
    doc = _pool(req, account, pool_id)
    item = pools.render_pool(doc, req.base_url, models.account_name(account))
    headers = {"ETag": doc.etag, "Last-Modified": clock.http_date(doc.body["meta"].get("modified", doc.updated))}
    cond = _conditions(req)
    if not etag.if_match_ok(cond.if_match, doc.etag):
        raise errors.condition_not_met()
    if not etag.if_none_match_ok(cond.if_none_match, doc.etag):
        return Response.empty(304, headers=headers)
    body = {"odata.metadata": _metadata_url(req, account, "pools/@Element"), **_select(item, req.query.get("$select"))}
    return _json(body, headers=headers)


def pool_exists(req: Request, account: Doc, pool_id: str) -> Response:
    doc = mgmt.pool_of(req.store, account, pool_id)
    if doc is None:
        return Response.empty(404)
    return Response.empty(
        200, headers={"ETag": doc.etag, "Last-Modified": clock.http_date(doc.body["meta"].get("modified", doc.updated))}
    )


def _nodes(req: Request, account: Doc, doc: Doc, now: float) -> tuple[list[pools.NodeInfo], dict[int, int]]:
    busy_slots, busy_tasks = models.pool_usage(req.store, account, pools.pool_id(doc), now)
    return pools.nodes(doc, now, busy_slots, models.node_states(req.store, doc)), busy_tasks


def list_task_files(req: Request, account: Doc, job_id: str, task_id: str) -> Response:
    return _list(req, account, "files", files.list_task_files(req, account, job_id, task_id))


def list_node_files(req: Request, account: Doc, pool_id: str, node_id: str) -> Response:
    return _list(req, account, "files", files.list_node_files(req, account, pool_id, node_id))


def list_node_counts(req: Request, account: Doc) -> Response:
    now = clock.now()
    items = []
    for doc in mgmt.pools_of(req.store, account, now):
        node_list, _ = _nodes(req, account, doc, now)
        items.append(pools.node_counts(doc, node_list))
    return _list(req, account, "poolnodecounts", items)


def list_nodes(req: Request, account: Doc, pool_id: str) -> Response:
    now = clock.now()
    doc = _pool(req, account, pool_id)
    node_list, busy = _nodes(req, account, doc, now)
    name = models.account_name(account)
    items = [pools.render_node(n, doc, req.base_url, name, busy.get(n.index, 0)) for n in node_list]
    return _list(req, account, "nodes", items)


def get_node(req: Request, account: Doc, pool_id: str, node_id: str) -> Response:
    now = clock.now()
    doc = _pool(req, account, pool_id)
    node_list, busy = _nodes(req, account, doc, now)
    for n in node_list:
        if n.id.lower() == node_id.lower():
            item = pools.render_node(n, doc, req.base_url, models.account_name(account), busy.get(n.index, 0))
            body = {
                "odata.metadata": _metadata_url(req, account, "nodes/@Element"),
                **_select(item, req.query.get("$select")),
            }
            return _json(body)
    raise errors.node_not_found()


# -- pool writes -------------------------------------------------------------------------------------


def _pool_headers(req: Request, account: Doc, doc: Doc) -> dict[str, str]:
    url = pools.pool_url(req.base_url, models.account_name(account), pools.pool_id(doc))
    return {
        "ETag": doc.etag,
        "Last-Modified": clock.http_date(doc.body["meta"].get("modified", doc.updated)),
        "DataServiceId": url,
    }


def _writable_pool(req: Request, account: Doc, pool_id: str) -> Doc:
    doc = _pool(req, account, pool_id)
    cond = _conditions(req)
    if not etag.if_match_ok(cond.if_match, doc.etag) or not etag.if_none_match_ok(cond.if_none_match, doc.etag):
        raise errors.condition_not_met()
    if mgmt.pool_state(doc).deleting:
        raise errors.pool_being_deleted()
    return doc


def _mgmt_update(req: Request, account: Doc, doc: Doc, props: dict[str, Any]) -> Doc:
    return mgmt.update_pool(
        req.store,
        account,
        pools.pool_id(doc),
        {"properties": props},
        if_match=doc.etag,
        check_subnet=lambda sid: links.subnet_exists(req.store, sid),
    )


def create_pool(req: Request, account: Doc) -> Response:
    body = _body(req)
    if not isinstance(body, dict):
        raise errors.invalid_request_body("The request body must be a JSON object.")
    pool_id = body.get("id")
    if not isinstance(pool_id, str) or not pool_id:
        raise errors.missing_property("id")
    if mgmt.pool_of(req.store, account, pool_id) is not None:
        raise errors.pool_exists()
    props = pools.update_to_mgmt(account, body)
    props["scaleSettings"] = pools.scale_settings(body)
    payload: dict[str, Any] = {"properties": props}
    if isinstance(body.get("resourceTags"), dict):
        payload["tags"] = body["resourceTags"]
    doc, _ = mgmt.create_or_replace_pool(
        req.store,
        account,
        pool_id,
        payload,
        if_none_match="*",
        check_subnet=lambda sid: links.subnet_exists(req.store, sid),
    )
    headers = _pool_headers(req, account, doc)
    headers["Location"] = headers["DataServiceId"]
    return Response.empty(201, headers=headers)


def patch_pool(req: Request, account: Doc, pool_id: str) -> Response:
    body = _body(req)
    doc = _writable_pool(req, account, pool_id)
    props = pools.update_to_mgmt(account, body if isinstance(body, dict) else {})
    if isinstance(body, dict) and body.get("startTask") == {}:
        props["startTask"] = {}
    return Response.empty(200, headers=_pool_headers(req, account, _mgmt_update(req, account, doc, props)))


def replace_pool_properties(req: Request, account: Doc, pool_id: str) -> Response:
    body = _body(req)
    body = body if isinstance(body, dict) else {}
    for required in ("applicationPackageReferences", "metadata"):
        if body.get(required) is None:
            raise errors.missing_property(required)
    doc = _writable_pool(req, account, pool_id)
    props = pools.update_to_mgmt(
        account, {k: body.get(k) for k in ("startTask", "applicationPackageReferences", "metadata")}
    )
    props.setdefault("startTask", {})  # omitted: removed
    return Response.empty(204, headers=_pool_headers(req, account, _mgmt_update(req, account, doc, props)))


def delete_pool(req: Request, account: Doc, pool_id: str) -> Response:
    doc = _pool(req, account, pool_id)
    cond = _conditions(req)
    if not etag.if_match_ok(cond.if_match, doc.etag) or not etag.if_none_match_ok(cond.if_none_match, doc.etag):
        raise errors.condition_not_met()
    mgmt.begin_delete_pool(req.store, account, pools.pool_id(doc))
    return Response.empty(202)


def resize_pool(req: Request, account: Doc, pool_id: str) -> Response:
    body = _body(req)
    body = body if isinstance(body, dict) else {}
    doc = _writable_pool(req, account, pool_id)
    st = mgmt.pool_state(doc)
    if st.auto_scale:
        raise errors.pool_auto_scale_enabled()
    if st.allocation_state != "Steady":
        raise errors.pool_being_resized()
    fixed: dict[str, Any] = {
        "resizeTimeout": body.get("resizeTimeout") or "PT15M",
        "targetDedicatedNodes": body.get("targetDedicatedNodes") or 0,
        "targetLowPriorityNodes": body.get("targetLowPriorityNodes") or 0,
    }
    if body.get("nodeDeallocationOption"):
        fixed["nodeDeallocationOption"] = pools._to_mgmt({"nodeDeallocationOption": body["nodeDeallocationOption"]})[
            "nodeDeallocationOption"
        ]
    updated = _mgmt_update(req, account, doc, {"scaleSettings": {"fixedScale": fixed}})
    return Response.empty(202, headers=_pool_headers(req, account, updated))


def stop_pool_resize(req: Request, account: Doc, pool_id: str) -> Response:
    doc = _writable_pool(req, account, pool_id)
    updated = mgmt.stop_resize(req.store, account, pools.pool_id(doc))
    return Response.empty(202, headers=_pool_headers(req, account, updated))


def enable_auto_scale(req: Request, account: Doc, pool_id: str) -> Response:
    body = _body(req)
    body = body if isinstance(body, dict) else {}
    doc = _writable_pool(req, account, pool_id)
    current = (mgmt.pool_properties(doc).get("scaleSettings") or {}).get("autoScale") or {}
    formula = body.get("autoScaleFormula") or current.get("formula")
    if not formula:
        raise errors.missing_property("autoScaleFormula")
    interval = body.get("autoScaleEvaluationInterval") or current.get("evaluationInterval") or "PT15M"
    updated = _mgmt_update(
        req, account, doc, {"scaleSettings": {"autoScale": {"formula": formula, "evaluationInterval": interval}}}
    )
    return Response.empty(200, headers=_pool_headers(req, account, updated))


def disable_auto_scale(req: Request, account: Doc, pool_id: str) -> Response:
    doc = _writable_pool(req, account, pool_id)
    updated = mgmt.disable_autoscale(req.store, account, pools.pool_id(doc))
    return Response.empty(200, headers=_pool_headers(req, account, updated))


def evaluate_auto_scale(req: Request, account: Doc, pool_id: str) -> Response:
    body = _body(req)
    formula = body.get("autoScaleFormula") if isinstance(body, dict) else None
    if not formula:
        raise errors.missing_property("autoScaleFormula")
    pool = _pool(req, account, pool_id)
    now = clock.now()
    result = evaluate(str(formula), mgmt.pool_metrics(req.store, account, pools.pool_id(pool), pool, now), now)
    return _json({"timestamp": clock.iso(), "results": result.results})
