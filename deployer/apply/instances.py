"""`multiInstanceSettings.numberOfInstances: pool`: a multi-instance task as wide as its pool.

Resolved when the job's tasks are added (the pool exists by then: a job depends on its pool),
from the pool's target as the management API reports it — the fixed-scale targets, or for an
autoscaled pool the node counts it has reached — so the task asks for exactly the nodes the pool
is sized to. One GET of the pool, only for jobs that use it. Tasks are write-once in Batch: a
later resize does not change a task already added.
"""

from __future__ import annotations

from typing import Any

from deployer.errors import ApplyError
from deployer.stack.model import Address, DesiredResource

POOL = "pool"


def resolve_pool_instances(writers: Any, job: DesiredResource, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wanting = [t for t in tasks if (t.get("multiInstanceSettings") or {}).get("numberOfInstances") == POOL]
    if not wanting:
        return tasks
    count = pool_target(writers, job)
    for task in wanting:
        task["multiInstanceSettings"]["numberOfInstances"] = count
    return tasks


def pool_target(writers: Any, job: DesiredResource) -> int:
    from deployer.resources.read import rest

    if isinstance(job.spec.get("autoPool"), dict):  # the auto pool does not exist yet: its declared size
        from deployer.resources.auto_pool import pool_info

        spec = pool_info(writers.stack, job, writers.context)["autoPoolSpecification"]["pool"]
        count = int(spec.get("targetDedicatedNodes") or 0) + int(spec.get("targetLowPriorityNodes") or 0)
        if count < 1:
            raise ApplyError(f"{job.address}: numberOfInstances: pool needs an auto pool with fixed target nodes")
        return count
    pool_id = str(job.spec.get("pool"))
    account = writers.account_name(Address(job.address.parts[:2]))
    pool = rest(writers.clients.batch_mgmt.pool.get(writers.rg, account, pool_id))
    props = pool.get("properties") or pool
    fixed = (props.get("scaleSettings") or {}).get("fixedScale")
    if fixed is not None:
        count = int(fixed.get("targetDedicatedNodes") or 0) + int(fixed.get("targetLowPriorityNodes") or 0)
    else:
        count = int(props.get("currentDedicatedNodes") or 0) + int(props.get("currentLowPriorityNodes") or 0)
    if count < 1:
        raise ApplyError(f"{job.address}: numberOfInstances: pool, but pool {pool_id} targets no nodes")
    return count
