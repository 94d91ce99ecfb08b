"""Autoscale on the local target: the formula is evaluated again every evaluationInterval (on the
emulator clock), so queued tasks grow a pool that started at 0 nodes, and the pool shrinks again
once they are done. An evaluation keeps the pool's ETag (see batch_mgmt.models, periodic autoscale)."""

from __future__ import annotations

from deployer.emulator.core import clock

from .conftest import ACCOUNT, POOL, RG, AgentBatch

FORMULA = ("$TargetDedicatedNodes = min(3, max(0, $PendingTasks.GetSample(1)));\n"
           "$NodeDeallocationOption = taskcompletion;")


def test_queued_tasks_grow_an_autoscale_pool_at_the_next_evaluation(agent_batch: AgentBatch) -> None:
    b = agent_batch
    mgmt = b.emulator.clients.batch_mgmt
    b.pool(scaleSettings={"autoScale": {"formula": FORMULA, "evaluationInterval": "PT5M"}}, slots=1)
    created = mgmt.pool.get(RG, ACCOUNT, POOL)
    assert created.current_dedicated_nodes == 0  # evaluated at creation: no task yet
    b.data.create_job({"id": "j", "poolInfo": {"poolId": POOL}})
    for i in range(2):
        b.data.create_task("j", {"id": f"t{i}", "commandLine": "/bin/true"})
    assert b.data.get_task("j", "t0").state == "active"
    read = mgmt.pool.get(RG, ACCOUNT, POOL)
    assert (read.current_dedicated_nodes, read.etag) == (0, created.etag)  # not due yet: nothing moved

    clock.advance(300)  # the next evaluation falls due; the agent's next pass reads the pool
    for i in range(2):
        assert b.wait_task("j", f"t{i}").execution_info.exit_code == 0
    grown = mgmt.pool.get(RG, ACCOUNT, POOL)
    assert grown.current_dedicated_nodes == 2
    assert grown.etag == created.etag and grown.last_modified == created.last_modified
    assert grown.auto_scale_run.evaluation_time > created.auto_scale_run.evaluation_time
    assert "$TargetDedicatedNodes=2" in grown.auto_scale_run.results
    assert len(list(b.data.list_nodes(POOL))) == 2

    clock.advance(300)  # nothing pending any more: the pool is released
    shrunk = b.wait(lambda: (p := mgmt.pool.get(RG, ACCOUNT, POOL)).current_dedicated_nodes == 0 and p,
                    "the pool to shrink")
    assert shrunk.etag == created.etag
    assert "$TargetDedicatedNodes=0" in shrunk.auto_scale_run.results
