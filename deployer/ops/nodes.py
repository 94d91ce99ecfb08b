"""`deploy apply --wait-for-nodes`: a pool that settled without its nodes is a failed change, not a success.

A pool reaches `steady` whether or not it got its nodes: the core quota, a start task that failed
(`waitForSuccess`), a node Batch gave up on all end in `steady`. Once `_wait_pool` saw it steady,
`check_allocated` looks at what the pool reports (`resizeOperationStatus.errors` in the
management API's pool) and at its node states (one `GET /nodecounts` filtered to the pool; the
failed nodes are listed, first few, only when there are some) and raises `ApplyError` naming the
pool, each error's code and message and the node counts.
"""

from __future__ import annotations

from typing import Any

from deployer.errors import ApplyError
from deployer.ops.reader import _call, id_filters, read_node_errors, rest

BAD_NODE_STATES = ("startTaskFailed", "unusable")


def allocation_problems(pool: dict[str, Any], data: Any) -> list[str]:
    """What went wrong with a steady pool's allocation (management API JSON), one line each."""
    props = pool.get("properties") or {}
    pool_id = str(pool.get("name") or "")
    problems = [f"{e.get('code')}: {e.get('message')}"
                for e in (props.get("resizeOperationStatus") or {}).get("errors") or []]
    counts = _call(f"node counts of pool {pool_id}", lambda: [
        rest(c) for c in data.list_pool_node_counts(filter=id_filters([pool_id], "poolId")[0])])
    bad = {state: sum(int(((c.get(bucket) or {}).get(state)) or 0) for c in counts
                      for bucket in ("dedicated", "lowPriority")) for state in BAD_NODE_STATES}
    if any(bad.values()):
        for node in read_node_errors(data, pool_id, 3):
            problems.append(f"node {node['id']} {node['state']}: {node.get('code')}: {node.get('message')}")
        problems += [f"{n} node(s) {state}" for state, n in bad.items() if n]
    return problems


def check_allocated(pool: dict[str, Any], data: Any) -> None:
    """Raise ApplyError when the steady pool has resize errors or failed nodes."""
    problems = allocation_problems(pool, data)
    if not problems:
        return
    props = pool.get("properties") or {}
    target = (props.get("resizeOperationStatus") or {})
    have = (f"{props.get('currentDedicatedNodes', 0)} of {target.get('targetDedicatedNodes', 0)} dedicated, "
            f"{props.get('currentLowPriorityNodes', 0)} of {target.get('targetLowPriorityNodes', 0)} spot nodes")
    raise ApplyError(f"pool {pool.get('name')} is steady with {have}: " + "; ".join(problems))
