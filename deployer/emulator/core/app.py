"""The WSGI application: routing, api-version and auth checks, faults, latency, request log.

    app = create_app(data_dir)          # discovers every service package of deployer.emulator
    app(environ, start_response)        # WSGI; used by core.server and core.transport
    app.dispatch(request) -> Response   # in-process, no faults/log (internal sub-requests)

Services are found with `pkgutil.iter_modules` over `deployer.emulator`: every sub-package but
`core` that has a `routes` module with `register(router)` is registered, in name order.

Environment (read on every request, so tests can change it on the fly):
  DEPLOY_EMULATOR_LATENCY_MS   milliseconds added to every request
  DEPLOY_EMULATOR_FAULTS       comma-separated entries of two forms:
      KIND=P                   probability P per request, e.g. "429=0.1,500=0.05,reset=0.02,lost=0.02"
      KIND@METHOD PATH[#N]     exactly the N-th (default 1st) request with that method whose path
                               matches PATH (case-insensitive, `*` matches anything, no query),
                               e.g. "lost@POST /batch/*/jobs#1" or
                               "500@PUT /subscriptions/*/pools/mpi"; counted per app (per `deploy`
                               process), the count restarts when the variable changes
    KIND is an HTTP status 400-599 (answered instead of handling the request; 429 and 503 carry
    Retry-After), `reset` (the connection drops before the request is handled) or `lost` (the
    request IS handled — the write happens — then the connection drops before the answer: what
    a client sees when a reply is lost). A dropped connection is a TCP reset on the served
    emulator and azure-core's ServiceResponseError on the in-process transport. Targeted entries
    win over the dice. Tests can also call `app.faults.target(kind, method, path, nth)` on an
    EmulatorApp (added to whatever the variable says, kept until `app.faults.clear()`).
  DEPLOY_EMULATOR_SEED         seed for the fault dice (reproducible runs)
Every request is logged as one JSON line in {data_dir}/requests.jsonl:
  {"time", "method", "path", "status", "ms"} (+ "fault" when one was injected; status is null
  for a dropped connection, and the handler's status for `lost`, whose answer was discarded).
Unexpected exceptions are logged with their traceback in {data_dir}/emulator-errors.log and
answered 500 InternalServerError, never with a traceback.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import logging
import os
import pkgutil
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import clock, contract, lro
from .errors import ApiError, ConnectionDropped, authentication_missing, internal_error, missing_api_version
from .messages import Request, Response
from .routing import Router
from .store import Store, resolve_data_dir

log = logging.getLogger("deployer.emulator")

LOG_NAME = "requests.jsonl"
ERRORS_NAME = "emulator-errors.log"

StartResponse = Callable[..., Any]


def discover_services(router: Router, only: Iterable[str] | None = None) -> list[str]:
    """Register every service package's routes; returns the names registered."""
    import deployer.emulator as pkg

    wanted = set(only) if only is not None else None
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name == "core" or (wanted is not None and info.name not in wanted):
            continue
        modname = f"{pkg.__name__}.{info.name}.routes"
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue  # a package without routes (yet)
            raise
        register = getattr(module, "register", None)
        if callable(register):
            register(router)
            names.append(info.name)
    return names


FAULT_KINDS = ("reset", "lost")
"""The faults that drop the connection (besides any HTTP status 400-599)."""


def _valid_kind(name: str) -> bool:
    if name in FAULT_KINDS:
        return True
    return name.isdigit() and 400 <= int(name) <= 599


@dataclass
class _Target:
    """One targeted fault: the `nth` request (1-based) of `method` on a path matching `pattern`."""

    kind: str
    method: str
    pattern: str
    nth: int = 1
    seen: int = 0

    def hit(self, method: str, path: str) -> bool:
        if method.upper() != self.method or not fnmatch.fnmatchcase(path.lower(), self.pattern):
            return False
        self.seen += 1
        return self.seen == self.nth


def _parse_target(kind: str, rest: str) -> _Target | None:
    method, _, path = rest.strip().partition(" ")
    path, _, nth = path.strip().partition("#")
    if not method or not path.startswith(("/", "*")):
        return None
    try:
        count = int(nth) if nth.strip() else 1
    except ValueError:
        return None
    if count < 1:
        return None
    return _Target(kind, method.upper(), path.strip().lower(), count)


class Faults:
    """Parses DEPLOY_EMULATOR_FAULTS / _SEED, rolls the dice and counts targeted requests
    (thread-safe). `target()` / `clear()` are the test hook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._table: list[tuple[str, float]] = []
        self._targets: list[_Target] = []
        self._extra: list[_Target] = []
        self._rng = random.Random()

    def target(self, kind: str, method: str, path: str, nth: int = 1) -> None:
        """Put fault `kind` on the `nth` request of `method` whose path matches `path`."""
        kind = kind.strip().lower()
        found = _parse_target(kind, f"{method} {path}#{nth}")
        if not _valid_kind(kind) or found is None:
            raise ValueError(f"not a fault target: {kind}@{method} {path}#{nth}")
        with self._lock:
            self._extra.append(found)

    def clear(self) -> None:
        with self._lock:
            self._extra = []

    def _configure(self, spec: str, seed: str) -> None:
        table: list[tuple[str, float]] = []
        targets: list[_Target] = []
        for part in spec.split(","):
            if "@" in part:
                kind, _, rest = part.partition("@")
                kind = kind.strip().lower()
                found = _parse_target(kind, rest) if _valid_kind(kind) else None
                if found is None:
                    log.warning("ignoring DEPLOY_EMULATOR_FAULTS entry %r", part)
                else:
                    targets.append(found)
                continue
            name, _, prob = part.strip().partition("=")
            name = name.strip().lower()
            if not name:
                continue
            try:
                p = float(prob)
                if not _valid_kind(name):
                    raise ValueError(name)
            except ValueError:
                log.warning("ignoring DEPLOY_EMULATOR_FAULTS entry %r", part)
                continue
            table.append((name, max(0.0, p)))
        self._table = table
        self._targets = targets
        self._rng = random.Random(seed) if seed else random.Random()
        self._key = (spec, seed)

    def roll(self, method: str = "", path: str = "") -> str | None:
        spec = os.environ.get("DEPLOY_EMULATOR_FAULTS", "").strip()
        seed = os.environ.get("DEPLOY_EMULATOR_SEED", "").strip()
        with self._lock:
            if not spec and not self._extra:
                return None
            if self._key != (spec, seed):
                self._configure(spec, seed)
            chosen: str | None = None
            for target in (*self._targets, *self._extra):  # every matching target counts this request
                if target.hit(method, path) and chosen is None:
                    chosen = target.kind
            if chosen is not None:
                return chosen
            if not self._table:
                return None
            r = self._rng.random()
        for name, p in self._table:
            if r < p:
                return name
            r -= p
        return None


def _fault_error(name: str) -> ApiError:
    status = int(name)
    headers = {"Retry-After": "0"} if status in (429, 503) else {}
    code = {
        429: "TooManyRequests",
        500: "InternalServerError",
        502: "BadGateway",
        503: "ServiceUnavailable",
        504: "GatewayTimeout",
    }.get(status, "InjectedFault")
    return ApiError(
        status, code, f"Fault injected by the emulator (DEPLOY_EMULATOR_FAULTS): {status}.", headers=headers
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class EmulatorApp:
    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *, services: Iterable[str] | None = None):
        self.data_dir: Path = resolve_data_dir(data_dir)
        self.store = Store(self.data_dir)
        self.router = Router()
        lro.register(self.router)
        self.services = discover_services(self.router, services)
        self.faults = Faults()
        self._log_path = self.data_dir / LOG_NAME
        self._errors_path = self.data_dir / ERRORS_NAME

    # -- dispatch (no faults, no log) --------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        """Route one request to its handler and turn whatever happens into a Response."""
        req.app = self
        route = None
        try:
            route, params = self.router.match(req)
            req.params = params
            if route.auth and req.authorization is None:
                raise authentication_missing()
            if route.api_version and not req.api_version:
                raise missing_api_version()
            contract.check_request(route, req)  # the API definition: unknown / read-only / enums
            result = route.handler(req, **params)
            if result is None:
                resp = Response.empty(200)
            elif isinstance(result, Response):
                resp = result
            else:
                resp = Response.json(result)
        except ApiError as err:
            resp = self.render_error(err, req)
        except ConnectionDropped:
            raise
        except Exception as exc:
            self._record_exception(req, exc)
            return self.render_error(internal_error(exc), req)
        contract.observe(route, req, resp)  # conformance recording (tests); a no-op otherwise
        return resp

    def render_error(self, err: ApiError, req: Request) -> Response:
        try:
            return self.router.renderer_for(req.path)(err, req)
        except Exception as exc:  # a broken renderer must not leak a traceback either
            self._record_exception(req, exc)
            from .errors import render_arm

            return render_arm(internal_error(exc), req)

    def _record_exception(self, req: Request, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(exc))
        # One line on the logger (the served emulator shows it); the traceback only in the file.
        log.info("500 for %s %s: %s: %s (see %s)", req.method, req.path, type(exc).__name__, exc, self._errors_path)
        try:
            with open(self._errors_path, "a", encoding="utf-8") as fh:
                fh.write(f"{clock.iso()} {req.method} {req.path}\n{text}\n")
        except OSError:
            pass

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        req = self.request_from_environ(environ)
        fault: str | None = None
        latency = os.environ.get("DEPLOY_EMULATOR_LATENCY_MS", "").strip()
        if latency:
            try:
                time.sleep(max(0.0, float(latency)) / 1000.0)
            except ValueError:
                pass
        try:
            fault = self.faults.roll(req.method, req.path)
            if fault == "reset":
                raise ConnectionDropped(f"{req.method} {req.path}")
            if fault == "lost":  # handled (the write happens), then the answer is lost
                resp = self.dispatch(req)
                closer = getattr(resp.body, "close", None)
                if callable(closer):
                    closer()
                self._log(req, resp.status, started, fault)
                raise ConnectionDropped(f"{req.method} {req.path}: answer lost")
            resp = self.render_error(_fault_error(fault), req) if fault else self.dispatch(req)
        except ConnectionDropped:
            if fault != "lost":
                self._log(req, None, started, fault or "reset")
            raise
        self._finish_headers(req, resp)
        start_response(f"{resp.status} {_reason(resp.status)}", list(resp.headers.items()))
        self._log(req, resp.status, started, fault)
        if req.method == "HEAD":
            closer = getattr(resp.body, "close", None)
            if callable(closer):
                closer()
            return [b""]
        if isinstance(resp.body, bytes | bytearray):
            return [bytes(resp.body)]
        return resp.body

    @staticmethod
    def _finish_headers(req: Request, resp: Response) -> None:
        h = resp.headers
        request_id = str(uuid.uuid4())
        h.setdefault("x-ms-request-id", request_id)
        h.setdefault("x-ms-correlation-request-id", req.headers.get("x-ms-correlation-request-id") or request_id)
        client_id = req.headers.get("x-ms-client-request-id")
        if client_id:
            h.setdefault("x-ms-client-request-id", client_id)
        h.setdefault("Date", clock.http_date())
        h.setdefault("Server", "batch-deployer-emulator")
        if isinstance(resp.body, bytes | bytearray) and not (req.method == "HEAD" and "Content-Length" in h):
            h["Content-Length"] = str(len(resp.body))

    def _log(self, req: Request, status: int | None, started: float, fault: str | None) -> None:
        entry: dict[str, Any] = {
            "time": clock.iso(digits=6),
            "method": req.method,
            "path": req.path,
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000.0, 3),
        }
        if fault:
            entry["fault"] = fault
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        try:
            fd = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError:
            log.warning("cannot write %s", self._log_path)

    def request_from_environ(self, environ: dict[str, Any]) -> Request:
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw:
            raw_path = raw.split("?", 1)[0]
            if "://" in raw_path:  # absolute-form request target
                raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        else:
            path_info = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
            raw_path = quote(environ.get("SCRIPT_NAME", "") + path_info)
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").title()] = value
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        if environ.get("CONTENT_LENGTH"):
            headers["Content-Length"] = environ["CONTENT_LENGTH"]
        if "Host" not in headers:
            port = environ.get("SERVER_PORT", "")
            headers["Host"] = environ.get("SERVER_NAME", "localhost") + (f":{port}" if port else "")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return Request(
            environ.get("REQUEST_METHOD", "GET"),
            raw_path,
            environ.get("QUERY_STRING", ""),
            headers,
            body,
            scheme=environ.get("wsgi.url_scheme", "https"),
            app=self,
        )


def create_app(data_dir: str | os.PathLike[str] | None = None, *, services: Iterable[str] | None = None) -> EmulatorApp:
    """The emulator over `data_dir` (DEPLOY_LOCAL_DIR or ./.deploy when None)."""
    return EmulatorApp(data_dir, services=services)
