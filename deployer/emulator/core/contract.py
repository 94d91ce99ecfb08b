"""The service contract at the emulator's edge: request bodies checked against the API definition.

Azure answers according to its published API definitions, so the emulator does too. For every
route whose service has a vendored definition (deployer/data/contracts/, provenance inside each
file) and a request whose `api-version` that document defines, the body is checked before the
handler sees it:

- properties the API does not define: dropped from what the handler stores (ARM ignores them)
  or refused (the Batch service's OData reader refuses them: 400 InvalidRequestBody, the
  property and the type named in `values`);
- read-only properties: ignored (dropped), as both APIs do;
- enum values: compared without regard to case and stored in the API's own spelling; a value
  outside the set is refused with the service's error shape, the property path named (Batch;
  Storage, Network and Resources leave it to their handlers, which answer in the provider's words).

Responses are not rewritten; `observe` (used by the conformance tests) checks them against the
response definitions and reports every mismatch, strictly (enum case too).

Documents (deployer.contracts) are read lazily, once per process, and definitions compiled on
first use, so the per-request cost is one dict lookup for routes without a contract and a walk
over the body for the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deployer.contracts import (
    BATCH_MANAGEMENT,
    BATCH_SERVICE,
    NETWORK_MANAGEMENT,
    RESOURCES_MANAGEMENT,
    STORAGE_MANAGEMENT,
    Document,
    Finding,
    check,
    document,
    normalize_path,
)

from .errors import ApiError

if TYPE_CHECKING:
    from .messages import Request, Response
    from .routing import Route

__all__ = ["Observation", "Recorder", "check_request", "contract_for", "observe", "recording"]


# -- which document serves which route ---------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """A family of routes with one vendored document: `arm` drops unknown properties, `batch` refuses."""

    name: str
    filename: str
    style: str  # arm | batch
    api_versions: tuple[str, ...]  # api-version values (query) beyond those the document names
    prefix_segments: int  # leading route segments that are not part of the API's own path
    applies: Callable[[str], bool]
    #: refuse enum values outside the set here; False: the service's handlers answer in the
    #: resource provider's own words (Microsoft.Storage: InvalidValuesForRequestParameters)
    refuse_enums: bool = True


SERVICES: tuple[Service, ...] = (
    Service("batch-management", BATCH_MANAGEMENT, "arm", ("2025-06-01",), 0,
            lambda t: "/providers/microsoft.batch/" in t.lower()),
    Service("batch-service", BATCH_SERVICE, "batch", ("2025-06-01", "2025-06-01.21.0"), 2,
            lambda t: t.lower().startswith("/batch/{account}/")),
    Service("storage-management", STORAGE_MANAGEMENT, "arm", (), 0,
            lambda t: "/providers/microsoft.storage/" in t.lower(), refuse_enums=False),
    Service("network-management", NETWORK_MANAGEMENT, "arm", (), 0,
            lambda t: "/providers/microsoft.network/" in t.lower(), refuse_enums=False),
    Service("resources-management", RESOURCES_MANAGEMENT, "arm", (), 0,
            lambda t: t.lower().startswith("/subscriptions/{sub}/resourcegroups") and "/providers/" not in t.lower(),
            refuse_enums=False),
)

_routes: dict[tuple[str, str], tuple[Service, Document, dict[str, Any]] | None] = {}


def contract_for(route: Route) -> tuple[Service, Document, dict[str, Any]] | None:
    """The service, document and operation of a route (cached), or None when none applies."""
    key = (route.method, route.template)
    if key in _routes:
        return _routes[key]
    found: tuple[Service, Document, dict[str, Any]] | None = None
    for service in SERVICES:
        if not service.applies(route.template):
            continue
        segs = [s for s in route.template.split("/") if s][service.prefix_segments:]
        doc = document(service.filename)
        op = doc.operations.get((route.method, normalize_path("/".join(segs))))
        if op is not None:
            found = (service, doc, op)
            break
    _routes[key] = found
    return found


def _versioned(req: Request, service: Service, doc: Document) -> bool:
    version = req.query.get("api-version")
    return version in doc.api_versions or version in service.api_versions


def _refusal(service: Service, finding: Finding, doc: Document) -> ApiError:
    if service.style == "batch":
        if finding.kind == "unknown":
            reason = (f"The property '{finding.path.rsplit('.', 1)[-1]}' does not exist on type "
                      f"'{finding.detail}'. Make sure to only use property names that are defined by the type.")
        else:
            reason = (f"The value provided for '{finding.path}' is not one of the values the API "
                      f"{doc.version} defines: {finding.detail}.")
        return ApiError(400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.",
                        details=[{"key": "PropertyName", "value": finding.path}, {"key": "Reason", "value": reason}])
    message = (f"The value of '{finding.path}' is not valid. The allowed values for api-version {doc.version} "
               f"are: {finding.detail}.")
    return ApiError(400, "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized.",
                    target=finding.path,
                    details=[{"code": "InvalidPropertyValue", "target": finding.path, "message": message}])


def check_request(route: Route, req: Request) -> None:
    """Apply the contract to a request's JSON body in place, or raise the service's 400."""
    if req.method in ("GET", "HEAD", "DELETE") or not req.body:
        return
    found = contract_for(route)
    if found is None:
        return
    service, doc, op = found
    if not _versioned(req, service, doc) or "body" not in op:
        return
    body = req.json(error_code="InvalidRequestBody" if service.style == "batch" else "InvalidRequestContent")
    findings: list[Finding] = []
    cleaned = check(body, doc.node(op["body"]), request=True, findings=findings)
    for finding in findings:
        refused = finding.kind == "enum" and service.refuse_enums
        if refused or (finding.kind == "unknown" and service.style == "batch"):
            raise _refusal(service, finding, doc)
    if findings:
        req._json = cleaned  # noqa: SLF001 - the handler reads the body as the service keeps it
        req.body = json.dumps(cleaned, separators=(",", ":")).encode()
    for obs in _observers:
        obs.requests.append(Observation(service.name, doc.version, str(op.get("operationId")), req.method,
                                        route.template, None, findings))


# -- conformance recording ---------------------------------------------------------------------


@dataclass
class Observation:
    service: str
    version: str
    operation: str
    method: str
    template: str
    status: int | None
    findings: list[Finding]


@dataclass(eq=False)  # recorders nest (the run's, each test's): removed by identity, never by equal contents
class Recorder:
    """What `recording()` saw: one Observation per request body and per JSON response checked."""

    requests: list[Observation] = field(default_factory=list)
    responses: list[Observation] = field(default_factory=list)

    def problems(self) -> list[str]:
        lines = []
        for kind, items in (("request", self.requests), ("response", self.responses)):
            for obs in items:
                for f in obs.findings:
                    if kind == "request" and f.kind == "readonly":
                        continue
                    lines.append(f"{kind} {obs.method} {obs.template} ({obs.operation}, status {obs.status}): "
                                 f"{f.kind} at {f.path} [{f.detail}]")
        return lines

    def figures(self) -> dict[str, int]:
        return {
            "operations": len({(o.service, o.operation) for o in self.requests + self.responses}),
            "request bodies": len(self.requests),
            "responses": len(self.responses),
            "statuses": len({(o.service, o.operation, o.status) for o in self.responses}),
        }


_observers: list[Recorder] = []


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record (and strictly check) every request body and JSON response while the block runs."""
    rec = Recorder()
    _observers.append(rec)
    try:
        yield rec
    finally:
        _observers.remove(rec)


def observe(route: Route | None, req: Request, resp: Response) -> None:
    """Check a JSON response against its definition, for the recorders (no-op without one)."""
    if not _observers or route is None:
        return
    found = contract_for(route)
    if found is None:
        return
    service, doc, op = found
    if not _versioned(req, service, doc):
        return
    ctype = resp.headers.get("Content-Type", "")
    if "json" not in ctype or not isinstance(resp.body, bytes | bytearray) or not resp.body:
        return
    responses = op.get("responses", {})
    status = str(resp.status)
    schema = responses.get(status)
    if status not in responses:
        schema = responses.get("2xx") if resp.status < 300 else responses.get("default")
    findings: list[Finding] = []
    if schema is None and resp.status < 300 and status not in responses and "2xx" not in responses:
        findings.append(Finding("status", status, ", ".join(sorted(responses))))
    else:
        check(json.loads(resp.body), doc.node(schema), request=False, findings=findings)
    for obs in _observers:
        obs.responses.append(Observation(service.name, doc.version, str(op.get("operationId")), req.method,
                                         route.template, resp.status, findings))
