"""Leases on containers and blobs: one rule set for the blob service and the management API.

A lease is its own document (kind "lease", keyed by the leased resource's key), not a field of
the resource: Azure does not change a blob's or container's ETag / Last-Modified when a lease is
taken, renewed or broken, and every `Store.put` would. Deleting the resource's key prefix, or
`drop(store, key)`, removes it.

Nothing ticks in the background: the stored record holds the lease id, its duration and the
moments it expires or finishes breaking, and `view()` derives Azure's state from the clock:

    available   no lease (or released)            leased    held (infinite, or not yet expired)
    expired     a fixed lease whose time ran out   breaking  broken, but the break period runs
    broken      the break period is over
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from ..core import Doc, Store, clock
from . import errors

KIND = "lease"
INFINITE = -1


@dataclass(frozen=True)
class Lease:
    state: str  # available | leased | expired | breaking | broken
    lease_id: str | None = None
    duration: int | None = None  # -1 (infinite) or 15..60 seconds
    break_at: float | None = None

    @property
    def status(self) -> str:
        return "locked" if self.state in ("leased", "breaking") else "unlocked"

    @property
    def duration_kind(self) -> str | None:
        """`infinite` / `fixed` while leased (Azure sends x-ms-lease-duration only then)."""
        if self.state != "leased":
            return None
        return "infinite" if self.duration == INFINITE else "fixed"

    @property
    def active(self) -> bool:
        return self.state in ("leased", "breaking")

    def headers(self) -> dict[str, str]:
        out = {"x-ms-lease-status": self.status, "x-ms-lease-state": self.state}
        if self.duration_kind:
            out["x-ms-lease-duration"] = self.duration_kind
        return out


def _state(body: dict[str, Any], now: float) -> str:
    if body.get("breakAt") is not None:
        return "breaking" if now < body["breakAt"] else "broken"
    if body["duration"] == INFINITE or now < body["expiresAt"]:
        return "leased"
    return "expired"


def view(store: Store, key: str) -> Lease:
    return from_doc(store.get(KIND, key))


def from_doc(doc: Doc | None) -> Lease:
    """The lease a stored lease document (or its absence) describes, now."""
    if doc is None:
        return Lease("available")
    b = doc.body
    return Lease(_state(b, clock.now()), b["id"], b["duration"], b.get("breakAt"))


def drop(store: Store, key: str) -> None:
    store.delete(KIND, key)


def _save(store: Store, key: str, lease_id: str, duration: int) -> Lease:
    now = clock.now()
    body = {"id": lease_id, "duration": duration, "expiresAt": None if duration == INFINITE else now + duration}
    store.put(KIND, key, body, parent=key)
    return Lease("leased", lease_id, duration)


def parse_duration(value: Any, header: str = "x-ms-lease-duration") -> int:
    """-1 (infinite) or 15..60 seconds, else 400 InvalidHeaderValue."""
    try:
        duration = int(value)
    except (TypeError, ValueError):
        raise errors.invalid_header(header, None if value is None else str(value)) from None
    if duration != INFINITE and not 15 <= duration <= 60:
        raise errors.invalid_header(header, str(value))
    return duration


def _guid(value: str | None, header: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.invalid_header(header, value) from None


def acquire(store: Store, key: str, duration: int, proposed: str | None, what: str) -> Lease:
    proposed = _guid(proposed, "x-ms-proposed-lease-id")
    with store.transaction():
        cur = view(store, key)
        if cur.state == "leased":
            if proposed is None or proposed != cur.lease_id:
                raise errors.lease_already_present()
            return _save(store, key, proposed, duration)  # re-acquiring your own lease renews it
        if cur.state == "breaking":
            raise errors.lease_is_breaking("acquire")
        return _save(store, key, proposed or str(uuid.uuid4()), duration)


def _owned(cur: Lease, lease_id: str | None, what: str) -> None:
    if cur.state == "available":
        raise errors.lease_not_present_with_lease_operation(what)
    if lease_id is None or (_normal(lease_id) != cur.lease_id):
        raise errors.lease_id_mismatch_with_lease_operation(what)


def _normal(lease_id: str) -> str:
    try:
        return str(uuid.UUID(lease_id))
    except ValueError:
        return lease_id


def renew(store: Store, key: str, lease_id: str | None, what: str) -> Lease:
    with store.transaction():
        cur = view(store, key)
        _owned(cur, lease_id, what)
        if cur.state in ("breaking", "broken"):
            raise errors.lease_is_broken()
        assert cur.lease_id is not None and cur.duration is not None
        return _save(store, key, cur.lease_id, cur.duration)


def release(store: Store, key: str, lease_id: str | None, what: str) -> Lease:
    with store.transaction():
        _owned(view(store, key), lease_id, what)
        drop(store, key)
    return Lease("available")


def change(store: Store, key: str, lease_id: str | None, proposed: str | None, what: str) -> Lease:
    new_id = _guid(proposed, "x-ms-proposed-lease-id")
    if new_id is None:
        raise errors.invalid_header("x-ms-proposed-lease-id", None)
    with store.transaction():
        cur = view(store, key)
        if cur.state == "available":
            raise errors.lease_not_present_with_lease_operation(what)
        if lease_id is None or _normal(lease_id) not in (cur.lease_id, new_id):
            raise errors.lease_id_mismatch_with_lease_operation(what)
        if cur.state == "breaking":
            raise errors.lease_is_breaking("change")
        if cur.state in ("broken", "expired"):
            raise errors.lease_not_present_with_lease_operation(what)
        assert cur.duration is not None
        doc = store.get(KIND, key)
        assert doc is not None
        store.put(KIND, key, {**doc.body, "id": new_id}, parent=key)
        return Lease("leased", new_id, cur.duration)


def break_(store: Store, key: str, period: int | None, what: str) -> tuple[Lease, int]:
    """Break the lease; returns it and the seconds until it is broken (x-ms-lease-time)."""
    if period is not None and not 0 <= period <= 60:
        raise errors.invalid_header("x-ms-lease-break-period", str(period))
    with store.transaction():
        doc = store.get(KIND, key)
        cur = view(store, key)
        if doc is None or cur.state == "available":
            raise errors.lease_not_present_with_lease_operation(what)
        now = clock.now()
        if cur.state in ("broken", "expired"):
            break_at = now if cur.state == "expired" else min(now, doc.body["breakAt"])
        else:
            # An infinite lease breaks after the period (default: at once); a fixed one after the
            # period or the time it has left, whichever is shorter.
            wanted = float(period or 0)
            if cur.duration != INFINITE:
                left = max(0.0, doc.body["expiresAt"] - now)
                wanted = left if period is None else min(wanted, left)
            break_at = now + wanted
            if cur.state == "breaking":
                break_at = min(break_at, doc.body["breakAt"])
        store.put(KIND, key, {**doc.body, "breakAt": break_at}, parent=key)
        lease = Lease(_state({**doc.body, "breakAt": break_at}, now), cur.lease_id, cur.duration, break_at)
        return lease, max(0, math.ceil(break_at - now))


def check_write(store: Store, key: str, lease_id: str | None, what: str) -> None:
    """A write (or a delete) of a leased resource must name its active lease (412 otherwise)."""
    cur = view(store, key)
    if cur.active:
        if not lease_id:
            raise errors.lease_id_missing(what)
        if _normal(lease_id) != cur.lease_id:
            raise errors.lease_id_mismatch(what)
    elif lease_id and (cur.state == "available" or _normal(lease_id) != cur.lease_id):
        raise errors.lease_not_present(what)


def check_read(store: Store, key: str, lease_id: str | None, what: str) -> None:
    """A read may name a lease; if it does, it must be the active one."""
    if not lease_id:
        return
    cur = view(store, key)
    if not cur.active:
        raise errors.lease_not_present(what)
    if _normal(lease_id) != cur.lease_id:
        raise errors.lease_id_mismatch(what)
