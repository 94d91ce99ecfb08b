"""A pool node as the agent runs it: its directories, task slots, start task and prepared jobs.

Nodes are the pool's nodes as batch_mgmt counts them (`pools.nodes`: the same ids the data plane
shows). Their state is written to the store (kind `batchNode`, under the pool) so that list/get
node answer `starting`, `idle`, `running` or `starttaskfailed` with the start task's info.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import Store, clock
from . import layout

KIND_NODE = "batchNode"  # the same as batch_data.models.KIND_NODE (imported there from here would cycle)


def node_key(pool_key: str, index: int) -> str:
    return f"{pool_key}/nodes/{index}"


@dataclass
class Proc:
    """One process of a start, preparation or release task (the agent's bookkeeping)."""

    popen: subprocess.Popen[bytes]
    started: float
    deadline: float | None


@dataclass
class Node:
    pool_key: str
    account_key: str
    account: str
    pool_id: str
    index: int
    id: str
    dedicated: bool
    root: Path
    capacity: int
    ip: str
    used: int = 0
    ready: bool = False  # may run tasks (start task done, or not waited for)
    broken: bool = False  # start task failed with waitForSuccess, or the node could not be set up
    start: Proc | None = None
    start_spec: dict[str, Any] = field(default_factory=dict)
    start_retries: int = 0
    packages: dict[str, Path] = field(default_factory=dict)
    prepared: dict[str, str] = field(default_factory=dict)  # job key -> running | succeeded | failed

    @property
    def free(self) -> int:
        return self.capacity - self.used if self.ready and not self.broken else 0

    @property
    def key(self) -> str:
        return node_key(self.pool_key, self.index)

    def write_state(self, store: Store, state: str, start_info: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"id": self.id, "index": self.index, "meta": {"state": state, "stateTime": clock.now()}}
        if start_info is not None:
            body["startTaskInfo"] = start_info
        else:
            current = store.get(KIND_NODE, self.key)
            if current is not None and current.body.get("startTaskInfo"):
                body["startTaskInfo"] = current.body["startTaskInfo"]
        store.put(KIND_NODE, self.key, body, parent=self.pool_key)

    def make_dirs(self) -> None:
        layout.make_node(self.root)
