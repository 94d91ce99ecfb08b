"""Auto pools in the emulator, through azure-batch: a job with an autoPoolSpecification gets its
pool (listed by both pool APIs, id `<prefix>_<unique>`, the job's executionInfo.poolId), its tasks
really run on that pool's nodes, and the pool goes when the job's life ends unless keepAlive."""

from __future__ import annotations

from typing import Any

import pytest
from azure.batch import models as bm
from azure.batch.models._models import BatchJobTerminateOptions  # not exported, yet begin_terminate_job needs one
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .conftest import ACCOUNT, RG, AgentBatch, task


def auto_job(job_id: str, *, keep_alive: bool = False, prefix: str | None = "nightly", nodes: int = 1,
             lifetime: str = "job", **kw: Any) -> bm.BatchJobCreateOptions:
    spec = bm.BatchAutoPoolSpecification(
        auto_pool_id_prefix=prefix,
        pool_lifetime_option=lifetime,
        keep_alive=keep_alive,
        pool=bm.BatchPoolSpecification(
            vm_size="Standard_D2s_v3",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.BatchVmImageReference(publisher="canonical", offer="ubuntu-jammy", sku="22_04-lts"),
                node_agent_sku_id="batch.node.ubuntu 22.04",
            ),
            target_dedicated_nodes=nodes,
            task_slots_per_node=2,
            metadata=[bm.BatchMetadataItem(name="team", value="genomics")],
        ),
    )
    return bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(auto_pool_specification=spec), **kw)


def pool_ids(b: AgentBatch) -> tuple[set[str], set[str]]:
    """(data-plane pool ids, management-plane pool names)."""
    data = {p.id for p in b.data.list_pools()}
    mgmt = {p.name for p in b.emulator.clients.batch_mgmt.pool.list_by_batch_account(RG, ACCOUNT)}
    return data, mgmt


def test_auto_pool_runs_the_job_and_goes_with_it(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.data.create_job(auto_job("nightly-run"))
    job = b.data.get_job("nightly-run")
    pool_id = job.execution_info.pool_id
    assert pool_id and pool_id.startswith("nightly_") and len(pool_id) == len("nightly_") + 36
    assert job.pool_info.pool_id is None and job.pool_info.auto_pool_specification.auto_pool_id_prefix == "nightly"
    assert pool_ids(b) == ({pool_id}, {pool_id})
    pool = b.data.get_pool(pool_id)
    assert (pool.vm_size.lower(), pool.task_slots_per_node, pool.target_dedicated_nodes) == ("standard_d2s_v3", 2, 1)
    assert [(m.name, m.value) for m in pool.metadata] == [("team", "genomics")]

    b.data.create_task("nightly-run", task("t1", '/bin/bash -c "echo on $AZ_BATCH_POOL_ID"'))
    done = b.wait_task("nightly-run", "t1")
    assert done.execution_info.exit_code == 0 and done.node_info.pool_id == pool_id
    assert b.file("nightly-run", "t1", "stdout.txt") == f"on {pool_id}\n"

    # All tasks complete -> the job completes -> keepAlive false: the service deletes the pool.
    b.data.update_job("nightly-run", bm.BatchJobUpdateOptions(all_tasks_complete_mode="terminatejob"))
    ended = b.wait_job("nightly-run")
    assert ended.execution_info.termination_reason == "AllTasksComplete"
    assert ended.execution_info.pool_id == pool_id  # still says where it ran
    b.wait(lambda: pool_ids(b) == (set(), set()), "the auto pool to be deleted")
    with pytest.raises(ResourceNotFoundError):
        b.data.get_pool(pool_id)


def test_keep_alive_keeps_the_pool_and_delete_job_takes_it_otherwise(agent_batch: AgentBatch) -> None:
    b = agent_batch
    b.data.create_job(auto_job("kept", keep_alive=True, prefix=None))
    b.data.create_job(auto_job("dropped"))
    kept = b.data.get_job("kept").execution_info.pool_id
    dropped = b.data.get_job("dropped").execution_info.pool_id
    assert kept != dropped and "_" not in kept and len(kept) == 36  # no prefix: the unique part alone
    assert pool_ids(b)[0] == {kept, dropped}

    b.data.begin_terminate_job("kept", BatchJobTerminateOptions(termination_reason="done"),
                               polling_interval=0.05).result()
    b.data.begin_delete_job("dropped", polling_interval=0.05).result()
    b.wait(lambda: pool_ids(b) == ({kept}, {kept}), "only the keepAlive pool to remain")
    b.data.begin_delete_job("kept", polling_interval=0.05).result()  # deleting the job later leaves it too
    assert pool_ids(b) == ({kept}, {kept})
    assert b.data.get_pool(kept).state == "active"


@pytest.mark.parametrize(("change", "prop"), [
    ({"lifetime": "jobschedule"}, "poolInfo.autoPoolSpecification.poolLifetimeOption"),
    ({"prefix": "p" * 21}, "poolInfo.autoPoolSpecification.autoPoolIdPrefix"),
    ({"prefix": "no spaces"}, "poolInfo.autoPoolSpecification.autoPoolIdPrefix"),
])
def test_invalid_auto_pool_refuses_the_job_and_creates_nothing(
        agent_batch: AgentBatch, change: dict[str, Any], prop: str) -> None:
    b = agent_batch
    with pytest.raises(HttpResponseError) as err:
        b.data.create_job(auto_job("bad", **change))
    assert err.value.status_code == 400 and prop in str(err.value)
    assert pool_ids(b) == (set(), set())
    with pytest.raises(ResourceNotFoundError):
        b.data.get_job("bad")
