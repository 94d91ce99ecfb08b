"""Auto pools with the batch_data timer (no node agent), embedded and served: tasks of a job on an
auto pool are scheduled on that pool's slots; a job ended by its wall clock deletes its pool
(which goes through `deleting` as any pool); the pool's secrets are never answered."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.batch import models as bm

from .test_batch_data import ACCOUNT, RG, make_batch, raw


def auto_job(job_id: str, nodes: int = 1, **kw: Any) -> bm.BatchJobCreateOptions:
    spec = bm.BatchAutoPoolSpecification(
        auto_pool_id_prefix="timer",
        pool_lifetime_option="job",
        pool=bm.BatchPoolSpecification(
            vm_size="Standard_D2s_v3",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.BatchVmImageReference(publisher="canonical", offer="ubuntu-jammy", sku="22_04-lts"),
                node_agent_sku_id="batch.node.ubuntu 22.04",
            ),
            target_dedicated_nodes=nodes,
            user_accounts=[bm.UserAccount(name="runner", password="Sup3r-s3cret-pw")],
        ),
    )
    return bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(auto_pool_specification=spec), **kw)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.05")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "1")


def test_timer_tasks_run_on_the_auto_pool(emulator: Any, frozen_clock: Any) -> None:
    b = make_batch(emulator, pool=False)
    b.data.create_job(auto_job("j"))
    pool_id = b.data.get_job("j").execution_info.pool_id
    b.data.create_task("j", bm.BatchTaskCreateOptions(id="t", command_line="/bin/true"))
    frozen_clock.advance(5)
    t = b.data.get_task("j", "t")
    assert (t.state, t.execution_info.exit_code, t.node_info.pool_id) == ("completed", 0, pool_id)


def test_wall_clock_end_deletes_the_pool_and_secrets_stay_hidden(emulator: Any, frozen_clock: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "2")
    b = make_batch(emulator, pool=False)
    b.data.create_job(auto_job("j", constraints=bm.BatchJobConstraints(max_wall_clock_time="PT1M")))
    pool_id = b.data.get_job("j").execution_info.pool_id
    for path in (f"/pools/{pool_id}", "/jobs/j"):
        assert "Sup3r-s3cret-pw" not in json.dumps(raw(b, "GET", path).json())
    mgmt_pool = emulator.clients.batch_mgmt.pool.get(RG, ACCOUNT, pool_id)
    assert mgmt_pool.user_accounts[0].name == "runner" and not mgmt_pool.user_accounts[0].password
    frozen_clock.advance(61)
    job = b.data.get_job("j")
    assert (job.state, job.execution_info.termination_reason) == ("completed", "MaxWallClockTimeExpiry")
    assert b.data.get_pool(pool_id).state == "deleting"
    frozen_clock.advance(3)
    assert [p.id for p in b.data.list_pools()] == []
