"""What the agent keeps per running task, and the small rules on task documents it shares.

    Run / Aux           a task the agent runs (its processes, node(s), slots) / a start,
                        preparation or release task on one node
    requeue(meta)       back to `active` (a node restart, a retry, a removed node)
    with_meta_copy      a task body copy whose `meta` may be changed
    not_runnable_pool / container_failure   why a task cannot run on this machine (failure info)
"""

from __future__ import annotations

import copy
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batch_data import models, pools
from ..batch_mgmt import models as mgmt
from ..core import Doc, clock
from . import rules
from .node import Node, Proc

KIND_PREP = models.KIND_PREP
RELEASE_WALL_SECONDS = 15 * 60.0


def prep_key(job_key: str, node_id: str) -> str:
    return f"{job_key}/preprelease/{node_id}"


@dataclass
class Run:
    """A task the agent runs: its process(es) on one node, or on several (multi-instance)."""

    key: str
    job_key: str
    account_key: str
    etag: str
    nodes: list[Node]
    slots: int
    task_dir: Path
    body: dict[str, Any]
    job: dict[str, Any]
    started: float
    deadline: float | None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    phase: str = "main"  # "coordination" first for a multi-instance task with a coordination command
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Aux:
    """A start, job preparation or job release task on one node."""

    kind: str  # start | prep | release
    node: Node
    proc: Proc
    job_key: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    retries: int = 0


def with_meta_copy(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of a task body to change its `meta` (only meta is written; the rest is shared)."""
    return {**body, "meta": copy.deepcopy(body["meta"])}


def requeue(meta: dict[str, Any], now: float, *, count_as: str | None) -> None:
    models._set_state(meta, "active", now)
    ex = meta.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
    if count_as == "requeue":
        ex["requeueCount"] = ex.get("requeueCount", 0) + 1
        ex["lastRequeueTime"] = now
    ex.pop("startTime", None)
    meta["queued"], meta["start"], meta["end"], meta["modified"] = now, None, None, now
    meta.pop("node", None)
    meta.pop("nodeIndex", None)
    meta.pop("pids", None)


def seconds(duration: Any) -> float | None:
    if not duration:
        return None
    secs = mgmt.parse_duration(str(duration))
    if secs is None or secs >= models._INFINITE_SECONDS:
        return None
    return float(secs)


def start_info_failure(now: float, failure: dict[str, Any]) -> dict[str, Any]:
    return {"state": "completed", "startTime": clock.iso(now), "endTime": clock.iso(now), "retryCount": 0,
            "result": "failure", "failureInfo": failure}


def container_failure(runtime: bool) -> dict[str, Any]:
    """Why a task with containerSettings did not run: no runtime answers, or (with one) the local
    agent does not start containers yet; never runs the command outside its container."""
    if not runtime:
        return rules.failure_info(
            "ContainerRuntimeNotFound",
            "The task has containerSettings, but no container runtime (docker) answers on this machine; "
            "the local target cannot run it.")
    return rules.failure_info(
        "ContainerTasksNotSupportedLocally",
        "The task has containerSettings; the local target's agent does not run tasks in containers yet, and never "
        "runs their command outside one.")


def not_runnable_pool(pool: Doc) -> dict[str, Any] | None:
    """Why the tasks of this pool cannot run on this machine (None: they can)."""
    vmc = (mgmt.pool_properties(pool).get("deploymentConfiguration") or {}).get("virtualMachineConfiguration") or {}
    sku = str(vmc.get("nodeAgentSkuId") or "").lower()
    if sku.startswith("batch.node.windows"):
        return rules.failure_info(
            "UnsupportedOnLocalTarget",
            f"The local target runs Linux command lines on this machine; pool {pools.pool_id(pool)} is a Windows "
            f"pool ({vmc.get('nodeAgentSkuId')}), so its tasks cannot run here.",
            Reason="WindowsPool",
        )
    return None
