"""ETags: one opaque token per write, formatted the way each API wants it.

The store gives every document a new token on every write (`Doc.etag`, e.g. `0x8DD0F3A1B2C3D4E`,
the shape Azure uses: .NET ticks in hex). Render it per API:

    bare(tok)    -> 0x8DD...          Batch data plane, in the JSON body ("eTag")
    quoted(tok)  -> "0x8DD..."        Storage (blob ETag header, ARM storage `etag`)
    weak(tok)    -> W/"0x8DD..."      Batch management (pool ETag header / `etag` field)

and check the request's preconditions against the current token (None = resource absent):

    if not etag.if_match_ok(req.if_match, doc.etag if doc else None): raise <412 of your API>
    if not etag.if_none_match_ok(req.if_none_match, ...): raise <412, or 304 for a blob GET>
"""

from __future__ import annotations

import threading

from . import clock

_EPOCH_TICKS = 621355968000000000  # .NET ticks at 1970-01-01
_lock = threading.Lock()
_last = 0


def new() -> str:
    """A fresh, strictly increasing (within the process) token: `0x` + upper-case hex ticks."""
    global _last
    ticks = int(clock.now() * 10_000_000) + _EPOCH_TICKS
    with _lock:
        ticks = max(ticks, _last + 1)
        _last = ticks
    return f"0x{ticks:X}"


def bare(token: str) -> str:
    return token


def quoted(token: str) -> str:
    return f'"{token}"'


def weak(token: str) -> str:
    return f'W/"{token}"'


def strip(value: str) -> str:
    """The token inside any rendering: `W/"x"`, `"x"` and `x` all give `x`."""
    v = value.strip()
    if v[:2] in ("W/", "w/"):
        v = v[2:]
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v


def _tokens(header: str) -> list[str]:
    return [strip(part) for part in header.split(",") if part.strip()]


def matches(header: str | None, current: str | None) -> bool:
    """Whether an If-Match / If-None-Match value names `current` (`*` names any existing one)."""
    if header is None or current is None:
        return False
    tokens = _tokens(header)
    return "*" in tokens or strip(current) in tokens


def if_match_ok(header: str | None, current: str | None) -> bool:
    """If-Match holds: no header, or the resource exists and the header names it (or `*`)."""
    if header is None or not header.strip():
        return True
    return matches(header, current)


def if_none_match_ok(header: str | None, current: str | None) -> bool:
    """If-None-Match holds: no header, or the resource is absent, or the header does not name it."""
    if header is None or not header.strip() or current is None:
        return True
    return not matches(header, current)
