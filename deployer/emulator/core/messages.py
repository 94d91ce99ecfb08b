"""Request and Response: what handlers receive and return (re-exported by `core` and `routing`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

if TYPE_CHECKING:
    from .app import EmulatorApp
    from .store import Store


class Headers(MutableMapping[str, str]):
    """A case-insensitive, case-preserving str -> str mapping (headers, query parameters)."""

    def __init__(self, data: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        self._d: dict[str, tuple[str, str]] = {}
        if data is not None:
            items = data.items() if isinstance(data, Mapping) else data
            for k, v in items:
                self[k] = v

    def __getitem__(self, key: str) -> str:
        return self._d[key.lower()][1]

    def __setitem__(self, key: str, value: str) -> None:
        self._d[key.lower()] = (key, str(value))

    def __delitem__(self, key: str) -> None:
        del self._d[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._d.values())

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


class Response:
    """What a handler returns. `body` is bytes, or an iterable of bytes for streamed downloads.

    Response.json({"id": ...}, status=201, headers={"ETag": etag.quoted(doc.etag)})
    Response.empty(204)
    Response.xml("<?xml ...>", status=200)
    Response(200, iter_chunks(), {"Content-Length": str(size), "Content-Type": "..."})
    """

    __slots__ = ("status", "body", "headers")

    def __init__(
        self,
        status: int = 200,
        body: bytes | Iterable[bytes] = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = Headers(headers)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        resp = cls(status, json.dumps(obj, separators=(",", ":")).encode(), headers)
        resp.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return resp

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status, b"", headers)

    @classmethod
    def xml(cls, text: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        data = text.encode() if isinstance(text, str) else text
        resp = cls(status, data, headers)
        resp.headers.setdefault("Content-Type", "application/xml")
        return resp

    def read(self) -> bytes:
        """The whole body (consumes an iterable body); for tests and internal dispatch."""
        if not isinstance(self.body, bytes | bytearray):
            self.body = b"".join(self.body)
        return bytes(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


class Request:
    """One HTTP request as a handler sees it.

    method      upper-case method
    path        decoded path (`/subscriptions/x/resourceGroups/rg`), no trailing slash
    segments    the path's segments, each decoded on its own (a `%2F` stays inside its segment)
    query       case-insensitive mapping of query parameters (last value wins)
    headers     case-insensitive mapping of request headers
    body        raw body bytes
    params      path parameters of the matched route (also passed to the handler as keywords)
    store       the app's `Store`; app: the `EmulatorApp`
    """

    def __init__(
        self,
        method: str,
        raw_path: str,
        query_string: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        scheme: str = "https",
        app: EmulatorApp | None = None,
    ) -> None:
        self.method = method.upper()
        self.raw_path = raw_path or "/"
        self.segments = [unquote(s) for s in self.raw_path.split("/") if s]
        self.path = "/" + "/".join(self.segments)
        self.query_string = query_string
        self.query = Headers(parse_qsl(query_string, keep_blank_values=True))
        self.headers = Headers(headers)
        self.body = body
        self.scheme = scheme
        self.params: dict[str, str] = {}
        self.app: EmulatorApp | None = app
        self._json: Any = None

    # -- the emulator -------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self.app is None:
            raise RuntimeError("request is not bound to an emulator app")
        return self.app.store

    # -- body -------------------------------------------------------------------------------
    def json(self, *, error_code: str = "InvalidRequestContent") -> Any:
        """The body parsed as JSON; an empty body gives {}; bad JSON raises a 400 ApiError."""
        from .errors import ApiError

        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body)
                except ValueError as exc:
                    raise ApiError(400, error_code, f"The request content was invalid: {exc}.") from None
        return self._json

    # -- common headers ----------------------------------------------------------------------
    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version") or None

    @property
    def if_match(self) -> str | None:
        return self.headers.get("If-Match")

    @property
    def if_none_match(self) -> str | None:
        return self.headers.get("If-None-Match")

    @property
    def authorization(self) -> tuple[str, str] | None:
        """(scheme, credentials) of the Authorization header, e.g. ("Bearer", "eyJ...")."""
        value = self.headers.get("Authorization", "").strip()
        if not value:
            return None
        scheme, _, cred = value.partition(" ")
        return scheme, cred.strip()

    # -- where we are ------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """`host[:port]` the client used: compute every endpoint from it, never store it."""
        return self.headers.get("Host") or "localhost"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        """An absolute URL on this emulator, e.g. for Location headers and nextLink."""
        quoted = quote(path if path.startswith("/") else "/" + path, safe="/:@!$&'()*+,;=-._~")
        return self.base_url + quoted + ("?" + urlencode(query) if query else "")

    def derive(self, method: str, path: str, query: Mapping[str, str] | None = None, body: bytes = b"") -> Request:
        """A new request on the same host and app (for internal dispatch, e.g. LRO results)."""
        qs = urlencode(query or {})
        keep = {
            k: v
            for k, v in self.headers.items()
            if k.lower() in ("host", "authorization") or k.lower().startswith("x-ms-")
        }
        return Request(method, quote(path), qs, keep, body, scheme=self.scheme, app=self.app)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"
