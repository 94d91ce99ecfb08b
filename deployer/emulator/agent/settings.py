"""Whether tasks run on this machine for a data directory: one document in the emulator's store.

The local target writes it from the stack's `target.execute` (default true) and the served
emulator turns it on; an emulator nobody configured (tests of the plan/apply engine, a bare
`create_app`) keeps the timer simulation of batch_data (tasks "complete" after a few seconds).
Because it lives in the store, the embedded emulator, a served one and the agent process agree.
"""

from __future__ import annotations

from ..core import Store

KIND = "agentSettings"
KEY = "agent"


def configure(store: Store, *, execute: bool) -> None:
    """Record whether tasks of this data directory run for real (written only when it changes)."""
    current = store.get(KIND, KEY)
    if current is not None and bool(current.body.get("execute")) == execute:
        return
    store.put(KIND, KEY, {"execute": execute})


def execution_enabled(store: Store) -> bool:
    doc = store.get(KIND, KEY)
    return bool(doc is not None and doc.body.get("execute"))
