"""The emulator's core: what every service package builds on.

A service is a sub-package of `deployer.emulator` (`storage/`, `network/`, `batch_mgmt/`, ...)
with `models.py` (state and rules), `errors.py` (Azure's codes, as ApiError factories) and
`routes.py`, whose `register(router)` the app calls on start (discovered automatically: adding a
service touches nothing outside its package). Handlers receive a `Request` and the path
parameters, and return a `Response` (or a dict, sent as 200 JSON).

Example — a complete (tiny) service, `deployer/emulator/widgets/routes.py`:

    from deployer.emulator.core import Request, Response, Router, arm_resource_not_found, etag, ids
    from deployer.emulator.resources.models import require_group

    WIDGET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Widgets/widgets/{name}"

    def register(router: Router) -> None:
        router.add("PUT", WIDGET, put_widget)
        router.add("GET", WIDGET, get_widget)

    def put_widget(req: Request, sub: str, rg: str, name: str) -> Response:
        group = require_group(req.store, sub, rg)            # 404 ResourceGroupNotFound
        rid = ids.arm_id(sub, group.body["name"], "Microsoft.Widgets", "widgets", name)
        existed = req.store.get("widget", ids.key_of(rid)) is not None
        doc = req.store.put("widget", ids.key_of(rid), {"id": rid, "name": name, **req.json()},
                            parent=group.key)                 # new etag on every write
        return Response.json({**doc.body, "etag": etag.quoted(doc.etag)}, status=200 if existed else 201)

    def get_widget(req: Request, sub: str, rg: str, name: str) -> Response:
        doc = req.store.get("widget", ids.key_of(ids.arm_id(sub, rg, "Microsoft.Widgets", "widgets", name)))
        if doc is None:
            raise arm_resource_not_found("Microsoft.Widgets/widgets", name, rg)   # ARM's 404 envelope
        return Response.json(doc.body)

The pieces (each module's docstring has the details):
- routing   Router.add(method, template, handler, *, api_version=True, auth=True, query=None);
            Router.errors(prefix, renderer). Templates match ARM segment names case-insensitively;
            `{name}` one segment, `{name*}` the rest of the path.
- messages  Request (method, path, segments, query, headers, body, json(), params, store, host,
            base_url, url(path, query), api_version, if_match, if_none_match, authorization)
            and Response (json(), empty(), xml(), or (status, bytes | iterable of bytes, headers)).
- errors    ApiError(status, code, message, *, headers, details, target); renderers render_arm
            (default), render_batch, render_storage_xml; ARM's own errors, the same for every
            provider: arm_resource_not_found(type, name, rg), arm_location_required(),
            arm_location_conflict(name, existing, requested, rg); service_message(text) ends a
            message with RequestId and Time lines, as the Batch service does.
- store     Store.get/list/put/update/delete/delete_prefix/read_data/transaction; Doc(kind, key,
            parent, etag, created, updated, body); StaleWrite; ABSENT; resolve_data_dir().
- etag      new/bare/quoted/weak/strip/matches/if_match_ok/if_none_match_ok.
- lro       accepted(req, provider=, location=, result_path=, duration=, error=) -> 202 Response;
            the operation-status routes are registered by the core.
- paging    page(req, items, size=, value_key=, next_key=, size_param=) -> {"value", "nextLink"}.
- select    select(item, "$select text", always=("id",)): only the named properties (core.select).
- clock     now/utcnow/advance/freeze/frozen/reset; iso(t), parse_iso, http_date.
- ids       arm_id, group_id, key_of, parse_arm_id, new_id.
- app       create_app(data_dir) -> EmulatorApp (WSGI); faults, latency, request log.
- transport EmulatorTransport(app) — the in-process azure-core transport (imports azure.core,
            so it is not imported here); EMBEDDED_BASE_URL.
- server    serve(port, data_dir, host) and start_in_thread(data_dir) -> ServedEmulator.

Conventions: ARM documents are keyed by `ids.key_of(arm_id)` (lower case) with the parent's key
as `parent`, so deleting a resource group removes everything under it (store.delete_prefix);
endpoints (blob URLs, Batch accountEndpoint) are computed from `req.host` at response time,
never stored; time-based state is computed from stored timestamps with `clock.now()`.
"""

from __future__ import annotations

from . import clock, etag, ids, lro, paging
from .app import EmulatorApp, create_app
from .errors import (
    ApiError,
    ConnectionDropped,
    arm_location_conflict,
    arm_location_required,
    arm_resource_not_found,
    render_arm,
    render_batch,
    render_storage_xml,
    service_message,
)
from .messages import Headers, Request, Response
from .routing import Route, Router
from .store import ABSENT, Doc, StaleWrite, Store, resolve_data_dir

__all__ = [
    "ABSENT",
    "ApiError",
    "ConnectionDropped",
    "Doc",
    "EmulatorApp",
    "Headers",
    "Request",
    "Response",
    "Route",
    "Router",
    "StaleWrite",
    "Store",
    "arm_location_conflict",
    "arm_location_required",
    "arm_resource_not_found",
    "clock",
    "create_app",
    "etag",
    "ids",
    "lro",
    "paging",
    "render_arm",
    "render_batch",
    "render_storage_xml",
    "resolve_data_dir",
    "service_message",
]
