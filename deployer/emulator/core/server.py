"""The served emulator: HTTPS (HTTP/1.1, keep-alive), one thread per connection, stdlib only.

    serve(8443, Path(".deploy"))            # blocking; prints the endpoint and the CA file
    with start_in_thread(data_dir) as srv:  # tests: free port, background thread
        Clients.for_emulator_served(srv.endpoint, srv.ca_file)

Certificates come from core.tls (a CA in `{data_dir}/ca.pem`, reused across restarts). A fault
`reset` drops the TCP connection without an answer (RST), like a real connection reset; so
does `lost`, after the request was handled (the write happened, its answer never arrives).
"""

from __future__ import annotations

import http.server
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .app import EmulatorApp, create_app
from .errors import ConnectionDropped
from .store import resolve_data_dir
from .tls import ensure_certificates

IDLE_TIMEOUT = 120.0
_METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "MERGE")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "batch-deployer-emulator"
    wbufsize = 64 * 1024  # headers and body leave in one write (with TCP_NODELAY: no 40 ms stalls)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the request log is requests.jsonl
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _environ(self, body: bytes) -> dict[str, Any]:
        import io

        target = self.path
        if "://" in target:
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        raw_path, _, query = target.partition("?")
        from urllib.parse import unquote

        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(raw_path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": target,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue
            else:
                environ["HTTP_" + key] = value
        return environ

    def _reset(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _run(self) -> None:
        body = self._read_body()
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return self.wfile.write

        try:
            result = self.server.app(self._environ(body), start_response)
        except ConnectionDropped:
            self._reset()
            return
        try:
            chunks = list(result) if not any(k.lower() == "content-length" for k, _ in captured["headers"]) else None
            code, _, reason = captured["status"].partition(" ")
            self.send_response_only(int(code), reason)
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "connection"]
            if chunks is not None:
                headers.append(("Content-Length", str(sum(len(c) for c in chunks))))
            for k, v in headers:
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                for chunk in chunks if chunks is not None else result:
                    if chunk:
                        self.wfile.write(chunk)
            self.wfile.flush()
        finally:
            closer = getattr(result, "close", None)
            if callable(closer):
                closer()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True


for _m in _METHODS:
    setattr(_Handler, f"do_{_m}", _Handler._run)


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: EmulatorApp, context: ssl.SSLContext) -> None:
        self.app = app
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(IDLE_TIMEOUT)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def shutdown_request(self, request: Any) -> None:
        try:
            request.close()
        except OSError:
            pass

    def close_connections(self) -> None:
        with self._open_lock:
            socks = list(self._open)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _context(data_dir: Path, host: str) -> tuple[ssl.SSLContext, Path]:
    certs = ensure_certificates(data_dir, (host,))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certs.cert_file, certs.key_file)
    return ctx, certs.ca_file


def _public_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@dataclass
class ServedEmulator:
    """A running served emulator (see `start_in_thread`)."""

    endpoint: str
    ca_file: Path
    data_dir: Path
    port: int
    app: EmulatorApp
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServedEmulator:
        return self

    def __exit__(self, *args: Any) -> None:
        self.stop()


def start_in_thread(
    data_dir: str | os.PathLike[str] | None = None, port: int = 0, host: str = "127.0.0.1"
) -> ServedEmulator:
    """Start the served emulator in a daemon thread (port 0 = a free port); `.stop()` ends it."""
    path = resolve_data_dir(data_dir)
    ctx, ca_file = _context(path, host)
    app = create_app(path)
    server = _Server((host, port), app, ctx)
    actual_port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"emulator:{actual_port}", daemon=True
    )
    thread.start()
    endpoint = f"https://{_public_host(host)}:{actual_port}"
    return ServedEmulator(endpoint, ca_file, path, actual_port, app, server, thread)


def serve(port: int, data_dir: str | os.PathLike[str] | None = None, host: str = "127.0.0.1") -> None:
    """Run the served emulator until interrupted (blocking)."""
    from deployer.errors import UsageError

    path = resolve_data_dir(data_dir)
    ctx, ca_file = _context(path, host)
    app = create_app(path)
    try:
        server = _Server((host, port), app, ctx)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    actual_port = server.server_address[1]
    print(f"Emulator listening on https://{_public_host(host)}:{actual_port}", flush=True)
    print(f"CA file: {ca_file}", flush=True)
    print(f"Data directory: {path}", flush=True)
    from deployer.emulator.agent.control import start_thread

    agent = start_thread(path)  # the jobs' tasks run on this machine, in this process
    import signal

    def _terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does: the agent kills its tasks

    signal.signal(signal.SIGTERM, _terminate)
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("emulator: %(message)s"))
    logger = logging.getLogger("deployer.emulator")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        agent.stop()
        server.server_close()
        server.close_connections()
