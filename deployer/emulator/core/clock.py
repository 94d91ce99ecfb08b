"""The emulator's clock, and time formatted the way Azure writes it.

Time-based state (a pool resizing, an operation finishing) is never advanced by a background
thread: services store timestamps (`clock.now()`) and compute the state when it is read. Tests
move time with `clock.advance()` / `clock.freeze()`; every service in the process (including a
served emulator running in a thread of the test process) sees the same clock.

    start = clock.now()                          # epoch seconds, float
    done = clock.now() - start >= 30             # lazily computed state
    clock.iso(start) -> "2025-06-01T12:00:00.1234567Z"
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

_lock = threading.Lock()
_offset = 0.0
_frozen: float | None = None


def now() -> float:
    """Current emulator time in epoch seconds (real time, unless a test moved or froze it)."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return time.time() + _offset


def utcnow() -> datetime:
    return datetime.fromtimestamp(now(), UTC)


def advance(seconds: float) -> None:
    """Move the clock forward (or back, with a negative value) for every caller in the process."""
    global _offset, _frozen
    with _lock:
        if _frozen is not None:
            _frozen += seconds
        else:
            _offset += seconds


def freeze(at: float | None = None) -> None:
    """Stop the clock at `at` (default: now); `advance()` still moves it."""
    global _frozen
    with _lock:
        _frozen = now() if at is None else at


def reset() -> None:
    """Back to real time."""
    global _offset, _frozen
    with _lock:
        _offset = 0.0
        _frozen = None


@contextlib.contextmanager
def frozen(at: float | None = None) -> Iterator[None]:
    """`with clock.frozen(): ...` freezes the clock for the block, then returns to real time."""
    freeze(at)
    try:
        yield
    finally:
        reset()


def iso(t: float | None = None, digits: int = 7) -> str:
    """An ISO 8601 UTC timestamp as Azure writes it: `2025-06-01T12:00:00.1234567Z`.

    `digits` is the number of fractional digits (ARM and Batch write 7; 0 drops the fraction).
    """
    t = now() if t is None else t
    seconds = int(t // 1)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits <= 0:
        return base + "Z"
    frac = int(round((t - seconds) * 10**digits))
    frac = min(frac, 10**digits - 1)
    return f"{base}.{frac:0{digits}d}Z"


def parse_iso(text: str) -> float:
    """Epoch seconds from an ISO 8601 timestamp (any number of fractional digits, Z or offset)."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    frac = ""
    if "." in s:
        head, rest = s.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        frac, s = digits, head + rest
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp() + (float("0." + frac) if frac else 0.0)


def http_date(t: float | None = None) -> str:
    """RFC 1123 date for `Date` / `Last-Modified` headers: `Sun, 01 Jun 2025 12:00:00 GMT`."""
    return formatdate(now() if t is None else t, usegmt=True)


def parse_http_date(text: str) -> float:
    return parsedate_to_datetime(text).timestamp()
