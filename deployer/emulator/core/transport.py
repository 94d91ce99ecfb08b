"""An azure-core transport that hands requests to the emulator's WSGI app in-process.

    from deployer.emulator.core.transport import EmulatorTransport, EMBEDDED_BASE_URL
    transport = EmulatorTransport(create_app(data_dir))
    client = ResourceManagementClient(cred, sub, base_url=EMBEDDED_BASE_URL, transport=transport)

No sockets: the request becomes a WSGI environ, the app's answer becomes an azure-core response.
Both request flavours are supported: `azure.core.rest.HttpRequest` (every generated client) gets
a rest `HttpResponse` (read at once unless `stream=True`, in which case `iter_bytes()` and the
storage SDK's `stream_download()` pull the app's body chunk by chunk); the legacy
`azure.core.pipeline.transport.HttpRequest` (blob batch sub-requests) gets a legacy response.
A connection dropped by the app (fault `reset`, or `lost`: handled, then the answer dropped)
surfaces as `ServiceResponseError`, exactly what the requests transport raises for a connection
reset, so the SDK's retry policy treats it the same way.

Safe to share between clients and threads; `close()` does nothing.
"""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import HttpResponse as LegacyHttpResponse
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest as RestHttpRequest
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict

from .. import EMBEDDED_BASE_URL
from .errors import ConnectionDropped

EMBEDDED_HOST = urlsplit(EMBEDDED_BASE_URL).netloc
"""Host of the embedded emulator: never resolvable (a client that bypasses the transport fails
fast), https (bearer auth refuses http), and starting with `localhost` so azure-storage-blob reads
the account name from the URL path exactly as it does for the served emulator on 127.0.0.1."""

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DEFAULT_BLOCK_SIZE = 64 * 1024


def _request_body(request: Any) -> bytes:
    if getattr(request, "files", None):
        raise ServiceRequestError("multipart/form-data bodies are not supported by the in-process transport")
    data = getattr(request, "data", None)
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict):
        return urlencode(data, doseq=True).encode()
    if hasattr(data, "read"):
        chunk = data.read()
        return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
    if isinstance(data, Iterable):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in data)
    raise ServiceRequestError(f"unsupported request body type {type(data).__name__}")


class _Exchange:
    """The app's answer: status, headers and a single-pass body."""

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: Iterable[bytes]):
        self.status = status
        self.reason = reason
        self.headers = headers
        self._body = body
        self._iter: Iterator[bytes] | None = None
        self.closed = False

    def chunks(self) -> Iterator[bytes]:
        if self._iter is None:
            self._iter = iter(self._body)
        try:
            for chunk in self._iter:
                if chunk:
                    yield bytes(chunk)
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            closer = getattr(self._body, "close", None)
            if callable(closer):
                closer()


class _Download:
    """Stream download generator (the shape of azure-core's requests StreamDownloadGenerator)."""

    def __init__(self, pipeline: Any, response: Any, *, decompress: bool = True, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"Got an unexpected keyword argument: {next(iter(kwargs))}")
        self.pipeline = pipeline
        self.request = response.request
        self.response = response
        self.block_size = response.block_size
        self.content_length = int(response.headers.get("Content-Length", 0) or 0)
        self._chunks = response.internal_response.chunks()
        encoding = (response.headers.get("Content-Encoding") or "").lower()
        self._decoder = None
        if decompress and encoding in ("gzip", "deflate"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)

    def __len__(self) -> int:
        return self.content_length

    def __iter__(self) -> _Download:
        return self

    def __next__(self) -> bytes:
        while True:
            chunk = next(self._chunks)
            if self._decoder is not None:
                chunk = self._decoder.decompress(chunk)
                if not chunk:
                    continue
            return chunk


class _RestResponse(HttpResponseImpl):
    def __init__(self, request: RestHttpRequest, exchange: _Exchange, block_size: int) -> None:
        headers = case_insensitive_dict(exchange.headers)
        super().__init__(
            request=request,
            internal_response=exchange,
            block_size=block_size,
            status_code=exchange.status,
            reason=exchange.reason,
            content_type=headers.get("Content-Type"),
            headers=headers,
            stream_download_generator=_Download,
        )


class _LegacyResponse(LegacyHttpResponse):
    def __init__(self, request: Any, exchange: _Exchange, block_size: int) -> None:
        super().__init__(request, exchange, block_size=block_size)
        self.status_code = exchange.status
        self.headers = case_insensitive_dict(exchange.headers)
        self.reason = exchange.reason
        self.content_type = self.headers.get("Content-Type")
        self._content: bytes | None = None

    def body(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self.internal_response.chunks())
        return self._content

    def stream_download(self, pipeline: Any, **kwargs: Any) -> Iterator[bytes]:
        return _Download(pipeline, self, **kwargs)


class EmulatorTransport(HttpTransport):  # type: ignore[type-arg]
    def __init__(self, app: WsgiApp, *, block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        self.app = app
        self.block_size = block_size

    def __enter__(self) -> EmulatorTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def _environ(self, request: Any, body: bytes) -> dict[str, Any]:
        url = urlsplit(request.url)
        host = url.netloc or EMBEDDED_HOST
        hostname = url.hostname or EMBEDDED_HOST
        port = str(url.port or (443 if url.scheme == "https" else 80))
        raw_path = url.path or "/"
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(raw_path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": url.query,
            "REQUEST_URI": raw_path + (f"?{url.query}" if url.query else ""),
            "SERVER_NAME": hostname,
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": host,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in request.headers.items():
            if value is None:
                continue
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = str(value)
            elif key in ("CONTENT_LENGTH", "HOST"):
                continue
            else:
                environ["HTTP_" + key] = str(value)
        return environ

    def send(self, request: Any, **kwargs: Any) -> Any:
        body = _request_body(request)
        environ = self._environ(request, body)
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        try:
            result = self.app(environ, start_response)
            if "status" not in captured:  # a WSGI app that starts the response lazily
                iterator = iter(result)
                first = next(iterator, b"")
                result = _prepend(first, iterator, result)
        except ConnectionDropped as exc:
            reset = ConnectionResetError(104, "Connection reset by peer")
            raise ServiceResponseError(f"('Connection aborted.', {reset!r})", error=reset) from exc
        code, _, reason = captured["status"].partition(" ")
        exchange = _Exchange(int(code), reason, captured["headers"], result)
        if isinstance(request, RestHttpRequest):
            response = _RestResponse(request, exchange, self.block_size)
            if not kwargs.get("stream", False):
                try:
                    response.read()
                finally:
                    response.close()
            return response
        return _LegacyResponse(request, exchange, self.block_size)


def _prepend(first: bytes, rest: Iterator[bytes], original: Iterable[bytes]) -> Iterable[bytes]:
    class _Body:
        def __iter__(self) -> Iterator[bytes]:
            yield first
            yield from rest

        def close(self) -> None:
            closer = getattr(original, "close", None)
            if callable(closer):
                closer()

    return _Body()
