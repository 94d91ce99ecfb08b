"""Errors a handler raises, and how the app renders them.

Raise `ApiError(status, code, message)` anywhere below a handler; the app renders it with the
renderer registered for the request's path prefix (`router.errors(prefix, renderer)`), by default
ARM's envelope:

    {"error": {"code": "ResourceGroupNotFound", "message": "...", "target": ..., "details": [...]}}

A service with another shape (Batch data plane, blob XML) registers its own renderer, a function
`(ApiError, Request) -> Response`; helpers for the two known shapes are below. Each service keeps
its codes in its own `errors.py` as small factories returning ApiError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from . import clock, ids
from .messages import Request, Response


class ApiError(Exception):
    """An HTTP error with Azure's error code; `headers` are added to the response (e.g. Retry-After).

    `details` is a list of dicts: ARM renders them as `error.details`; the Batch renderer as
    `values` ({"key", "value"} pairs); the blob renderer as extra XML elements.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details or []
        self.target = target


class ConnectionDropped(Exception):  # noqa: N818 - it is an event, not an error of the app
    """Raised out of the WSGI app to drop the connection without a response (fault injection).

    The served emulator resets the TCP connection; the in-process transport raises what
    azure-core's requests transport raises for a connection reset (ServiceResponseError).
    """


def render_arm(error: ApiError, request: Request | None = None) -> Response:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.target:
        body["target"] = error.target
    if error.details:
        body["details"] = error.details
    resp = Response.json({"error": body}, status=error.status, headers=error.headers)
    resp.headers["x-ms-failure-cause"] = "service" if error.status >= 500 else "gateway"
    return resp


def render_batch(error: ApiError, request: Request | None = None) -> Response:
    """The Batch data plane shape (azure-batch `BatchError`)."""
    base = request.base_url if request is not None else "https://batch.core.windows.net"
    body: dict[str, Any] = {
        "odata.metadata": f"{base}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element",
        "code": error.code,
        "message": {"lang": "en-US", "value": error.message},
    }
    if error.details:
        body["values"] = [
            {"key": str(d.get("key", d.get("code", ""))), "value": str(d.get("value", d.get("message", "")))}
            for d in error.details
        ]
    resp = Response.json(body, status=error.status, headers=error.headers)
    resp.headers["Content-Type"] = "application/json;odata=minimalmetadata"
    return resp


def render_storage_xml(error: ApiError, request: Request | None = None) -> Response:
    """The Storage data plane shape: XML body and the `x-ms-error-code` header."""
    extra = "".join(
        f"<{escape(str(d.get('key')))}>{escape(str(d.get('value', '')))}</{escape(str(d.get('key')))}>"
        for d in error.details
        if d.get("key")
    )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>{extra}</Error>"
    )
    resp = Response.xml(text, status=error.status, headers=error.headers)
    resp.headers["x-ms-error-code"] = error.code
    return resp


# -- ARM's own errors, the same for every resource provider ------------------------------------


def arm_resource_not_found(resource_type: str, name: str, resource_group: str) -> ApiError:
    """ARM's 404 for a missing resource, e.g. ("Microsoft.Storage/storageAccounts", "acct", "rg")."""
    return ApiError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def arm_location_required() -> ApiError:
    """ARM's 400 for a PUT of a tracked resource without `location`."""
    return ApiError(400, "LocationRequired", "The location property is required for this definition.")


def arm_location_conflict(name: str, existing: str, requested: str, resource_group: str) -> ApiError:
    """ARM's 409 for a PUT that would move an existing resource to another location."""
    return ApiError(
        409,
        "InvalidResourceLocation",
        f"The resource '{name}' already exists in location '{existing}' in resource group '{resource_group}'. "
        f"A resource with the same name cannot be created in location '{requested}'. "
        "Please select a new resource name.",
    )


def service_message(text: str) -> str:
    """A message as the Batch service ends its own: with the request's id and the time."""
    return f"{text}\nRequestId:{ids.new_id()}\nTime:{clock.iso()}"


# -- errors the core itself raises ------------------------------------------------------------


def missing_api_version() -> ApiError:
    return ApiError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def authentication_missing() -> ApiError:
    return ApiError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
    )


def not_found(request: Request) -> ApiError:
    """404 for a path no service handles: InvalidResourceType under `providers/{ns}/{type}`."""
    segs = request.segments
    lower = [s.lower() for s in segs]
    if "providers" in lower:
        i = len(lower) - 1 - lower[::-1].index("providers")
        if i + 2 < len(segs):
            namespace, rtype = segs[i + 1], segs[i + 2]
            return ApiError(
                404,
                "InvalidResourceType",
                f"The resource type '{rtype}' could not be found in the namespace '{namespace}' "
                f"for api version '{request.api_version or ''}'.",
            )
    return ApiError(404, "NotFound", f"The requested path '{request.path}' is not handled by the emulator.")


def method_not_allowed(request: Request, allowed: list[str]) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"The requested resource does not support http method '{request.method}'.",
        headers={"Allow": ", ".join(sorted(set(allowed)))},
    )


def internal_error(exc: BaseException) -> ApiError:
    return ApiError(
        500,
        "InternalServerError",
        f"The emulator encountered an internal error ({type(exc).__name__}). "
        "The details are in emulator-errors.log in its data directory.",
    )
