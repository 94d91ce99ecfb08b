"""The Batch data plane through azure-batch 15.1's BatchClient, embedded and served.

The account and its pool are created through the management API (BatchManagementClient), as the
deployer does; everything else goes through `azure.batch.BatchClient` only. Shapes are checked
against Microsoft's examples for api-version 2025-06-01.21.0 (Jobs_GetJob.json,
Pools_GetPool_Basic.json, Tasks_GetTask.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from azure.batch import models as bm
from azure.core import MatchConditions
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.core.rest import HttpRequest

RG = "rg-batch"
LOCATION = "westeurope"
ACCOUNT = "badata01"
POOL = "workers"
API = "2025-06-01"
FAST = 0.01  # polling interval for the SDK's begin_* pollers

# Top-level properties of Microsoft's examples (ground truth for the shapes).
JOB_GET_KEYS = {
    "id",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "usesTaskDependencies",
    "constraints",
    "poolInfo",
    "executionInfo",
    "onAllTasksComplete",
    "onTaskFailure",
}
POOL_GET_KEYS = {
    "id",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "allocationState",
    "allocationStateTransitionTime",
    "vmSize",
    "resizeTimeout",
    "currentDedicatedNodes",
    "currentLowPriorityNodes",
    "targetDedicatedNodes",
    "targetLowPriorityNodes",
    "enableAutoScale",
    "enableInterNodeCommunication",
    "startTask",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "virtualMachineConfiguration",
}
TASK_GET_KEYS = {
    "id",
    "url",
    "eTag",
    "creationTime",
    "lastModified",
    "state",
    "stateTransitionTime",
    "commandLine",
    "userIdentity",
    "constraints",
    "requiredSlots",
    "executionInfo",
}


@dataclass
class Batch:
    emulator: Any
    endpoint: str  # accountEndpoint as ARM reports it
    data: Any  # BatchClient (token credential)

    def requests(self, method: str, suffix: str) -> list[dict[str, Any]]:
        path = f"/batch/{ACCOUNT}{suffix}"
        return [r for r in self.emulator.requests() if r["method"] == method and r["path"] == path]


def pool_body(dedicated: int = 2, **extra: Any) -> dict[str, Any]:
    props = {
        "vmSize": "Standard_D2s_v3",
        "deploymentConfiguration": {
            "virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "ubuntu-jammy", "sku": "22_04-lts"},
                "nodeAgentSkuId": "batch.node.ubuntu 22.04",
            }
        },
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": dedicated}},
        "startTask": {
            "commandLine": "/bin/bash -c 'echo start'",
            "waitForSuccess": True,
            "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
        },
        "metadata": [{"name": "deployer.stack", "value": "test"}],
        **extra,
    }
    return {"properties": props}


def make_batch(emulator: Any, *, pool: bool = True, dedicated: int = 2) -> Batch:
    c = emulator.clients
    c.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    account = c.batch_mgmt.batch_account.begin_create(RG, ACCOUNT, {"location": LOCATION}).result()
    if pool:
        c.batch_mgmt.pool.create(RG, ACCOUNT, POOL, pool_body(dedicated))
    return Batch(emulator, account.account_endpoint, c.batch_data(account.account_endpoint))


@pytest.fixture(autouse=True)
def _fast_transitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Job and schedule transitions (deleting, terminating, disabling, enabling) take 50 ms."""
    monkeypatch.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.05")


@pytest.fixture
def batch(emulator: Any) -> Batch:
    return make_batch(emulator)


def new_job(job_id: str, pool_id: str = POOL, **kw: Any) -> bm.BatchJobCreateOptions:
    return bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id), **kw)


def tasks(n: int, prefix: str = "t") -> list[bm.BatchTaskCreateOptions]:
    return [bm.BatchTaskCreateOptions(id=f"{prefix}{i:04d}", command_line=f"/bin/echo {i}") for i in range(n)]


def raw(batch: Batch, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None) -> Any:
    """A request the SDK has no method for, sent through the BatchClient's own pipeline."""
    query = {"api-version": API} if params is None else params
    return batch.data.send_request(HttpRequest(method, f"https://{batch.endpoint}{path}", params=query, json=json))


# ==============================================================================================
# jobs
# ==============================================================================================


def test_job_create_get_and_shape(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    d.create_job(new_job("render", priority=10, metadata=[bm.BatchMetadataItem(name="deployer.stack", value="s")]))
    created = batch.requests("POST", "/jobs")[-1]
    assert created["status"] == 201

    job = d.get_job("render")
    assert (job.id, job.state, job.priority, job.pool_info.pool_id) == ("render", "active", 10, POOL)
    assert job.etag.startswith("0x") and '"' not in job.etag
    assert job.max_parallel_tasks == -1 and job.all_tasks_complete_mode == "noaction"
    assert job.constraints.max_task_retry_count == 0
    assert job.execution_info.pool_id == POOL and job.execution_info.start_time is not None
    assert job.url == f"https://{batch.endpoint}/jobs/render"
    # IDs are case-insensitive and case-preserving.
    assert d.get_job("RENDER").id == "render"

    # A job for a pool that does not exist yet is accepted, as Azure does.
    d.create_job(new_job("later", pool_id="not-yet"))
    assert d.get_job("later").pool_info.pool_id == "not-yet"

    # Terminated, it reads back exactly like Jobs_GetJob.json.
    # (azure-batch 15.1 cannot send a terminate without options: the body must name a reason)
    d.begin_terminate_job("render", {"terminateReason": "UserTerminate"}, polling_interval=FAST)
    frozen_clock.advance(5)
    done = d.get_job("render").as_dict()
    shape = {k for k in done if k not in ("odata.metadata", "metadata")}
    assert shape == JOB_GET_KEYS
    assert (done["state"], done["previousState"]) == ("completed", "terminating")
    assert set(done["executionInfo"]) == {"startTime", "endTime", "poolId", "terminateReason"}
    assert done["executionInfo"]["terminateReason"] == "UserTerminate"
    assert done["constraints"] == {"maxWallClockTime": "P10675199DT2H48M5.4775807S", "maxTaskRetryCount": 0}


def test_job_write_headers_and_etags(batch: Batch) -> None:
    d = batch.data
    headers: dict[str, Any] = {}

    def keep(response: Any, _deserialized: Any, hdrs: dict[str, Any]) -> None:
        headers.update(hdrs)

    d.create_job(new_job("j"), cls=keep)
    assert headers["DataServiceId"] == f"https://{batch.endpoint}/jobs/j"
    assert headers["ETag"].startswith("0x") and headers["Last-Modified"] is not None
    assert headers["request-id"]

    seen = {d.get_job("j").etag}
    d.update_job("j", bm.BatchJobUpdateOptions(priority=5))
    seen.add(d.get_job("j").etag)
    d.replace_job("j", bm.BatchJob(pool_info=bm.BatchPoolInfo(pool_id=POOL), priority=7))
    seen.add(d.get_job("j").etag)
    d.create_task("j", bm.BatchTaskCreateOptions(id="a", command_line="echo"))
    d.begin_disable_job("j", bm.BatchJobDisableOptions(disable_tasks="requeue"), polling_interval=FAST).result()
    seen.add(d.get_job("j").etag)
    d.begin_enable_job("j", polling_interval=FAST).result()
    seen.add(d.get_job("j").etag)
    assert len(seen) == 5  # a new ETag for every write (and transition)

    # Reads never change it.
    assert d.get_job("j").etag == d.get_job("j").etag

    # Conditional writes: a stale ETag is refused with 412.
    current = d.get_job("j").etag
    d.update_job("j", bm.BatchJobUpdateOptions(priority=1), etag=current, match_condition=MatchConditions.IfNotModified)
    with pytest.raises(ResourceModifiedError) as info:
        d.update_job(
            "j", bm.BatchJobUpdateOptions(priority=2), etag=current, match_condition=MatchConditions.IfNotModified
        )
    assert info.value.status_code == 412 and info.value.error.code == "ConditionNotMet"
    assert d.get_job("j").priority == 1
    fresh = d.get_job("j").etag
    with pytest.raises(HttpResponseError) as info:  # If-None-Match on the current ETag: 304 Not Modified
        d.get_job("j", etag=fresh, match_condition=MatchConditions.IfModified)
    assert info.value.status_code == 304
    assert d.get_job("j", etag=current, match_condition=MatchConditions.IfModified).etag == fresh


def test_job_patch_merges_and_put_replaces(batch: Batch) -> None:
    d = batch.data
    d.create_job(
        new_job(
            "j",
            priority=3,
            max_parallel_tasks=4,
            constraints=bm.BatchJobConstraints(max_task_retry_count=2),
            metadata=[bm.BatchMetadataItem(name="a", value="1")],
        )
    )
    d.update_job("j", bm.BatchJobUpdateOptions(priority=9))
    job = d.get_job("j")
    assert (job.priority, job.max_parallel_tasks, job.constraints.max_task_retry_count) == (9, 4, 2)
    assert [(m.name, m.value) for m in job.metadata] == [("a", "1")]

    d.update_job("j", {"metadata": []})  # an empty list clears
    assert d.get_job("j").metadata is None

    # PUT replaces every updatable property: what it omits goes back to the default.
    d.replace_job("j", bm.BatchJob(pool_info=bm.BatchPoolInfo(pool_id=POOL), priority=1))
    job = d.get_job("j")
    assert (job.priority, job.max_parallel_tasks, job.constraints.max_task_retry_count) == (1, -1, 0)

    # terminatejob, once set, cannot go back to noaction.
    d.create_task("j", bm.BatchTaskCreateOptions(id="pending", command_line="echo"))  # keeps the job active
    d.update_job("j", bm.BatchJobUpdateOptions(all_tasks_complete_mode="terminatejob"))
    with pytest.raises(HttpResponseError) as info:
        d.update_job("j", bm.BatchJobUpdateOptions(all_tasks_complete_mode="noaction"))
    assert info.value.status_code == 400 and info.value.error.code == "InvalidPropertyValue"


def test_job_pool_changes_only_while_disabled(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    d.create_job(new_job("j"))
    d.create_task("j", bm.BatchTaskCreateOptions(id="keep", command_line="echo"))
    with pytest.raises(ResourceExistsError) as info:
        d.update_job("j", bm.BatchJobUpdateOptions(pool_info=bm.BatchPoolInfo(pool_id="other")))
    assert info.value.error.code == "OperationInvalidForCurrentState"
    # The same pool is no change.
    d.update_job("j", bm.BatchJobUpdateOptions(pool_info=bm.BatchPoolInfo(pool_id=POOL), priority=2))

    poller = d.begin_disable_job("j", bm.BatchJobDisableOptions(disable_tasks="requeue"), polling_interval=FAST)
    assert d.get_job("j").state == "disabling"
    frozen_clock.advance(5)
    poller.result()
    job = d.get_job("j")
    assert (job.state, job.previous_state) == ("disabled", "disabling")
    d.update_job("j", bm.BatchJobUpdateOptions(pool_info=bm.BatchPoolInfo(pool_id="other")))
    # Tasks can still be added to a disabled job.
    d.create_task("j", bm.BatchTaskCreateOptions(id="more", command_line="echo"))

    poller = d.begin_enable_job("j", polling_interval=FAST)
    assert d.get_job("j").state == "enabling"
    frozen_clock.advance(5)
    poller.result()
    job = d.get_job("j")
    assert (job.state, job.pool_info.pool_id) == ("active", "other")


def test_job_delete_goes_through_deleting(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    d.create_job(new_job("gone"))
    d.create_tasks("gone", tasks(3))
    poller = d.begin_delete_job("gone", polling_interval=FAST)
    assert batch.requests("DELETE", "/jobs/gone")[-1]["status"] == 202
    assert d.get_job("gone").state == "deleting"
    with pytest.raises(ResourceExistsError) as info:
        d.update_job("gone", bm.BatchJobUpdateOptions(priority=1))
    assert info.value.error.code == "JobBeingDeleted"
    with pytest.raises(ResourceExistsError) as info:
        d.create_task("gone", bm.BatchTaskCreateOptions(id="x", command_line="echo"))
    assert info.value.error.code == "JobBeingDeleted"
    frozen_clock.advance(5)
    poller.result()
    with pytest.raises(ResourceNotFoundError) as info:
        d.get_job("gone")
    assert info.value.error.code == "JobNotFound"
    # The id is free again, and the old tasks went with the job.
    d.create_job(new_job("gone"))
    assert list(d.list_tasks("gone")) == []


def test_job_terminate_completes_and_refuses_writes(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    d.create_job(new_job("t"))
    poller = d.begin_terminate_job("t", {"terminateReason": "Done"}, polling_interval=FAST)
    assert d.get_job("t").state == "terminating"
    frozen_clock.advance(5)
    poller.result()
    job = d.get_job("t")
    assert job.state == "completed" and job.execution_info.termination_reason == "Done"
    for call in (
        lambda: d.update_job("t", bm.BatchJobUpdateOptions(priority=1)),
        lambda: d.create_task("t", bm.BatchTaskCreateOptions(id="x", command_line="echo")),
        lambda: d.begin_disable_job("t", bm.BatchJobDisableOptions(disable_tasks="wait")),
    ):
        with pytest.raises(ResourceExistsError) as info:
            call()
        assert info.value.error.code == "JobCompleted"


def test_list_jobs_filter_select_and_paging(batch: Batch) -> None:
    d = batch.data
    for name in ("web-a", "web-b", "batch-a", "batch-b", "other"):
        d.create_job(new_job(name))
    d.begin_terminate_job("other", {"terminateReason": "x"}, polling_interval=FAST)

    assert sorted(j.id for j in d.list_jobs()) == ["batch-a", "batch-b", "other", "web-a", "web-b"]
    assert sorted(j.id for j in d.list_jobs(filter="startswith(id,'web')")) == ["web-a", "web-b"]
    assert [j.id for j in d.list_jobs(filter="id eq 'batch-b'")] == ["batch-b"]
    active = [j.id for j in d.list_jobs(filter="state eq 'active'")]
    assert "other" not in active and len(active) == 4
    both = d.list_jobs(filter="startswith(id,'batch') and state eq 'active'")
    assert sorted(j.id for j in both) == ["batch-a", "batch-b"]

    selected = list(d.list_jobs(select=["id", "state"], filter="id eq 'web-a'"))
    assert [set(j.as_dict()) - {"odata.metadata"} for j in selected] == [{"id", "state"}]
    assert set(d.get_job("web-a", select=["id", "poolInfo"]).as_dict()) - {"odata.metadata"} == {"id", "poolInfo"}

    batch.emulator.clear_requests()
    assert len(list(d.list_jobs(max_results=2))) == 5
    assert len(batch.requests("GET", "/jobs")) == 3  # 2 + 2 + 1, following odata.nextLink

    with pytest.raises(HttpResponseError) as info:
        list(d.list_jobs(filter="state eq"))
    assert info.value.status_code == 400 and info.value.error.code == "InvalidQueryParameterValue"


def test_job_errors_are_the_services(batch: Batch) -> None:
    d = batch.data
    d.create_job(new_job("dup"))
    with pytest.raises(ResourceExistsError) as info:
        d.create_job(new_job("DUP"))
    err = info.value
    assert err.status_code == 409 and err.error.code == "JobExists"
    assert err.error.message.startswith("The specified job already exists.")
    body = err.response.json()
    assert body["message"]["lang"] == "en-US" and body["code"] == "JobExists"

    with pytest.raises(ResourceNotFoundError) as info:
        d.get_job("missing")
    assert info.value.status_code == 404 and info.value.error.code == "JobNotFound"

    with pytest.raises(HttpResponseError) as info:
        d.create_job(new_job("bad", priority=5000))
    assert info.value.status_code == 400 and info.value.error.code == "InvalidPropertyValue"
    assert any(x.code == "PropertyName" and x.message == "priority" for x in info.value.error.details)

    with pytest.raises(HttpResponseError) as info:
        d.create_job({"id": "nopool"})
    assert info.value.error.code == "MissingRequiredProperty"

    with pytest.raises(HttpResponseError) as info:
        d.create_job(new_job("bad id!"))
    assert info.value.error.code == "InvalidPropertyValue"

    # Transport-level errors are in the data plane's shape too.
    with pytest.raises(HttpResponseError) as info:
        raw(batch, "GET", "/jobs", params={})
    assert info.value.status_code == 400 and info.value.error.code == "MissingRequiredQueryParameter"
    with pytest.raises(HttpResponseError) as info:
        raw(batch, "GET", "/nothing/here")
    assert info.value.status_code == 400 and info.value.error.code == "InvalidUri"
    with pytest.raises(HttpResponseError) as info:
        raw(batch, "PATCH", "/jobs")
    assert info.value.status_code == 405 and info.value.error.code == "UnsupportedHttpVerb"


def test_active_job_and_schedule_quota(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_BATCH_QUOTAS", "activeJobAndJobScheduleQuota=2")
    batch = make_batch(emulator, pool=False)
    d = batch.data
    d.create_job(new_job("one"))
    d.create_job_schedule(
        bm.BatchJobScheduleCreateOptions(
            id="two",
            schedule=bm.BatchJobScheduleConfiguration(),
            job_specification=bm.BatchJobSpecification(pool_info=bm.BatchPoolInfo(pool_id=POOL)),
        )
    )
    with pytest.raises(ResourceExistsError) as info:
        d.create_job(new_job("three"))
    assert info.value.error.code == "ActiveJobAndScheduleQuotaReached"
    # A job and a schedule cannot share an id.
    d.begin_delete_job_schedule("two", polling_interval=FAST).result()
    with pytest.raises(ResourceExistsError) as info:
        d.create_job_schedule(
            bm.BatchJobScheduleCreateOptions(
                id="one",
                schedule=bm.BatchJobScheduleConfiguration(),
                job_specification=bm.BatchJobSpecification(pool_info=bm.BatchPoolInfo(pool_id=POOL)),
            )
        )
    assert info.value.error.code == "JobWithSameIdExists"


def test_a_job_that_completed_unseen_frees_its_quota_slot(emulator: Any, frozen_clock: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The quota is counted from stored states first (fast); a job stored as terminating whose
    termination is due by now is completed, so it must not hold a slot."""
    monkeypatch.setenv("DEPLOY_EMULATOR_BATCH_QUOTAS", "activeJobAndJobScheduleQuota=2")
    batch = make_batch(emulator)
    d = batch.data
    d.create_job(new_job("one"))
    d.create_job(new_job("two"))
    # terminate without the SDK's poller, whose thread would read (and so settle) the job
    raw(batch, "POST", "/jobs/one/terminate", json={"terminateReason": "Done"})
    with pytest.raises(ResourceExistsError) as info:  # "one" is still terminating: still active
        d.create_job(new_job("three"))
    assert info.value.error.code == "ActiveJobAndScheduleQuotaReached"
    frozen_clock.advance(5)  # due now, though nothing has read "one" since
    d.create_job(new_job("three"))
    assert d.get_job("one").state == "completed"


QUEUE_FORMULA = "$TargetDedicatedNodes = min(5, max(0, $PendingTasks.GetSample(1)) + $ActiveTasks.GetSample(1) * 0);"


def test_autoscale_reads_the_tasks_of_the_pools_jobs(emulator: Any, frozen_clock: Any) -> None:
    """$PendingTasks (active + running tasks of the jobs on the pool) in the data plane's evaluate
    and when autoscale is enabled; a job on another pool does not count."""
    batch = make_batch(emulator, dedicated=1)
    d = batch.data
    d.create_job(new_job("queue"))
    d.create_tasks("queue", tasks(3))
    emulator.clients.batch_mgmt.pool.create(RG, ACCOUNT, "other", pool_body(0))
    d.create_job(new_job("elsewhere", pool_id="other"))
    d.create_tasks("elsewhere", tasks(7))
    run = d.evaluate_pool_auto_scale(POOL, bm.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula=QUEUE_FORMULA))
    assert run.results.startswith("$TargetDedicatedNodes=3;"), run.results
    d.enable_pool_auto_scale(POOL, bm.BatchPoolEnableAutoScaleOptions(auto_scale_formula=QUEUE_FORMULA))
    pool = emulator.clients.batch_mgmt.pool.get(RG, ACCOUNT, POOL)
    assert pool.auto_scale_run.results.startswith("$TargetDedicatedNodes=3;"), pool.auto_scale_run.results


# ==============================================================================================
# tasks
# ==============================================================================================


def test_thousand_tasks_create_list_and_count(batch: Batch) -> None:
    d = batch.data
    d.create_job(new_job("big"))
    result = d.create_tasks("big", tasks(1000), max_concurrency=4)  # 10 chunks of 100, 4 threads
    assert len(result.result_values) == 1000 and all(r.status == "success" for r in result.result_values)
    collections = batch.requests("POST", "/jobs/big/addtaskcollection")
    assert len(collections) == 10 and all(r["status"] == 200 for r in collections)

    batch.emulator.clear_requests()
    listed = list(d.list_tasks("big"))
    assert sorted(t.id for t in listed) == [f"t{i:04d}" for i in range(1000)]
    assert len(batch.requests("GET", "/jobs/big/tasks")) == 1  # maxresults defaults to 1000

    batch.emulator.clear_requests()
    paged = list(d.list_tasks("big", max_results=300, select=["id", "state"]))
    assert len(paged) == 1000 and len({t.id for t in paged}) == 1000
    assert len(batch.requests("GET", "/jobs/big/tasks")) == 4  # 300 + 300 + 300 + 100 via odata.nextLink

    counts = d.get_job_task_counts("big")
    assert counts.task_counts.active + counts.task_counts.running + counts.task_counts.completed == 1000
    assert counts.task_slot_counts.active + counts.task_slot_counts.running + counts.task_slot_counts.completed == 1000

    # Re-sending tasks that exist is not a failure for create_tasks (TaskExists is skipped)...
    again = d.create_tasks("big", tasks(5))
    assert {r.error.code for r in again.result_values} == {"TaskExists"}
    # ...but a duplicate id inside one collection is a per-task client error.
    dup = d.create_task_collection(
        "big",
        bm.BatchTaskGroup(
            task_values=[
                bm.BatchTaskCreateOptions(id="n1", command_line="echo"),
                bm.BatchTaskCreateOptions(id="N1", command_line="echo"),
                bm.BatchTaskCreateOptions(id="bad id", command_line="echo"),
            ]
        ),
    )
    statuses = [(r.task_id, r.status, r.error.code if r.error else None) for r in dup.result_values]
    assert statuses == [
        ("n1", "success", None),
        ("N1", "clienterror", "TaskExists"),
        ("bad id", "clienterror", "InvalidPropertyValue"),
    ]


def test_task_collection_over_100_is_refused(batch: Batch) -> None:
    d = batch.data
    d.create_job(new_job("j"))
    body = {"value": [{"id": f"x{i}", "commandLine": "echo"} for i in range(101)]}
    with pytest.raises(HttpResponseError) as info:
        raw(batch, "POST", "/jobs/j/addtaskcollection", json=body)
    assert info.value.status_code == 413 and info.value.error.code == "RequestBodyTooLarge"
    assert info.value.response.json()["message"]["lang"] == "en-US"
    with pytest.raises(HttpResponseError) as info:
        d.create_task_collection("j", bm.BatchTaskGroup(task_values=tasks(101)))
    assert info.value.error.code == "RequestBodyTooLarge"
    assert list(d.list_tasks("j")) == []
    # 100 is fine.
    ok = raw(batch, "POST", "/jobs/j/addtaskcollection", json={"value": body["value"][:100]})
    assert ok.status_code == 200 and len(ok.json()["value"]) == 100


def test_task_get_update_terminate_delete(batch: Batch) -> None:
    d = batch.data
    d.create_job(new_job("j"))
    d.create_task("j", bm.BatchTaskCreateOptions(id="one", command_line="echo 1", required_slots=1))
    assert batch.requests("POST", "/jobs/j/tasks")[-1]["status"] == 201
    task = d.get_task("j", "one")
    shape = set(task.as_dict()) - {"odata.metadata"}
    assert shape == TASK_GET_KEYS
    assert task.state == "active" and task.execution_info.retry_count == 0
    assert task.user_identity.auto_user.elevation_level == "nonadmin"
    assert task.url == f"https://{batch.endpoint}/jobs/j/tasks/one"

    d.replace_task("j", "one", bm.BatchTask(constraints=bm.BatchTaskConstraints(max_task_retry_count=3)))
    updated = d.get_task("j", "one")
    assert updated.constraints.max_task_retry_count == 3 and updated.etag != task.etag

    d.terminate_task("j", "one")
    done = d.get_task("j", "one")
    assert done.state == "completed" and done.execution_info.failure_info.code == "TaskEnded"
    with pytest.raises(ResourceExistsError) as info:
        d.terminate_task("j", "one")
    assert info.value.error.code == "TaskCompleted"
    assert d.get_job_task_counts("j").task_counts.failed == 1

    d.delete_task("j", "one")
    with pytest.raises(ResourceNotFoundError) as info:
        d.get_task("j", "one")
    assert info.value.error.code == "TaskNotFound"
    with pytest.raises(HttpResponseError) as info:
        d.create_task(
            "j",
            bm.BatchTaskCreateOptions(
                id="dep", command_line="echo", depends_on=bm.BatchTaskDependencies(task_ids=["x"])
            ),
        )
    assert info.value.error.code == "TaskDependenciesNotSpecifiedOnJob"


def test_tasks_run_on_the_pools_nodes(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    frozen_clock.advance(600)  # the pool reaches its 2 nodes
    d.create_job(new_job("run"))
    d.create_tasks("run", tasks(5))
    assert d.get_job_task_counts("run").task_counts.active == 5

    frozen_clock.advance(1)  # two slots: two tasks start
    counts = d.get_job_task_counts("run").task_counts
    assert (counts.active, counts.running, counts.completed) == (3, 2, 0)
    running = list(d.list_tasks("run", filter="state eq 'running'"))
    assert len(running) == 2 and {t.node_info.pool_id for t in running} == {POOL}
    nodes = {n.id: n for n in d.list_nodes(POOL)}
    assert {t.node_info.node_id for t in running} == set(nodes)
    assert {n.state for n in nodes.values()} == {"running"}
    counts_by_pool = {c.pool_id: c for c in d.list_pool_node_counts()}
    assert counts_by_pool[POOL].dedicated.running == 2

    # Disabling with requeue puts the running tasks back in the queue; enabling resumes.
    poller = d.begin_disable_job("run", bm.BatchJobDisableOptions(disable_tasks="requeue"), polling_interval=FAST)
    frozen_clock.advance(1)
    poller.result()
    requeued = d.get_task("run", running[0].id)
    assert requeued.state == "active" and requeued.execution_info.requeue_count == 1
    frozen_clock.advance(30)
    assert d.get_job_task_counts("run").task_counts.active == 5  # nothing starts while the job is disabled
    d.begin_enable_job("run", polling_interval=FAST)
    frozen_clock.advance(1)
    d.get_job("run")  # (a poll)

    frozen_clock.advance(60)
    counts = d.get_job_task_counts("run").task_counts
    assert (counts.completed, counts.succeeded) == (5, 5)
    task = d.get_task("run", "t0000")
    assert (task.state, task.previous_state, task.execution_info.exit_code) == ("completed", "running", 0)
    assert task.execution_info.result == "success"
    assert {n.state for n in d.list_nodes(POOL)} == {"idle"}

    # onAllTasksComplete=terminatejob: the job completes once every task has.
    d.update_job("run", bm.BatchJobUpdateOptions(all_tasks_complete_mode="terminatejob"))
    job = d.get_job("run")
    assert job.state == "completed" and job.execution_info.termination_reason == "AllTasksComplete"


def test_queued_tasks_on_a_pool_without_nodes_keep_the_job_active(emulator: Any, frozen_clock: Any) -> None:
    """Reading a job whose tasks cannot move reads none of them (adding 10,000 tasks was
    quadratic): the job must still know that queued tasks keep it from completing, and that they
    start once the pool has nodes."""
    batch = make_batch(emulator, dedicated=0)
    d = batch.data
    frozen_clock.advance(600)
    d.create_job(new_job("wait"))
    d.create_tasks("wait", tasks(3))
    d.update_job("wait", bm.BatchJobUpdateOptions(all_tasks_complete_mode="terminatejob"))  # as Azure advises
    frozen_clock.advance(600)
    assert d.get_job("wait").state == "active"
    assert d.get_job_task_counts("wait").task_counts.active == 3
    emulator.clients.batch_mgmt.pool.update(RG, ACCOUNT, POOL, pool_body(1))  # one node, one slot
    frozen_clock.advance(600)  # it arrives, and runs the three tasks one after the other
    job = d.get_job("wait")
    assert d.get_job_task_counts("wait").task_counts.succeeded == 3
    assert job.state == "completed" and job.execution_info.termination_reason == "AllTasksComplete"
    last = max(t.execution_info.end_time for t in d.list_tasks("wait"))
    assert job.execution_info.end_time == last  # when the last task ended, not when the job was read


# ==============================================================================================
# job schedules
# ==============================================================================================


def test_job_schedule_lifecycle(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    spec = bm.BatchJobSpecification(pool_info=bm.BatchPoolInfo(pool_id=POOL), priority=5)
    d.create_job_schedule(
        bm.BatchJobScheduleCreateOptions(
            id="nightly",
            schedule=bm.BatchJobScheduleConfiguration(recurrence_interval="PT1H"),
            job_specification=spec,
            metadata=[bm.BatchMetadataItem(name="deployer.stack", value="s")],
        )
    )
    assert batch.requests("POST", "/jobschedules")[-1]["status"] == 201
    sched = d.get_job_schedule("nightly")
    assert (sched.id, sched.state, sched.job_specification.priority) == ("nightly", "active", 5)
    assert sched.job_specification.pool_info.pool_id == POOL
    assert sched.execution_info.next_run_time is not None
    assert d.job_schedule_exists("nightly") is True
    with pytest.raises(ResourceNotFoundError):  # azure-batch 15.1 raises on the 404 of a HEAD
        d.job_schedule_exists("missing")
    assert [s.id for s in d.list_job_schedules(filter="state eq 'active'")] == ["nightly"]

    tags = {sched.etag}
    d.update_job_schedule(
        "nightly",
        bm.BatchJobScheduleUpdateOptions(schedule=bm.BatchJobScheduleConfiguration(recurrence_interval="PT2H")),
    )
    patched = d.get_job_schedule("nightly")
    assert patched.schedule.recurrence_interval is not None and patched.job_specification.priority == 5
    assert patched.metadata[0].name == "deployer.stack"
    tags.add(patched.etag)
    d.replace_job_schedule(
        "nightly",
        bm.BatchJobSchedule(
            schedule=bm.BatchJobScheduleConfiguration(recurrence_interval="PT2H"),
            job_specification=bm.BatchJobSpecification(pool_info=bm.BatchPoolInfo(pool_id=POOL)),
        ),
    )
    replaced = d.get_job_schedule("nightly")
    assert replaced.job_specification.priority == 0 and replaced.metadata is None
    tags.add(replaced.etag)

    d.disable_job_schedule("nightly")
    assert d.get_job_schedule("nightly").state == "disabled"
    d.enable_job_schedule("nightly")
    enabled = d.get_job_schedule("nightly")
    assert enabled.state == "active"
    tags.add(enabled.etag)
    assert len(tags) == 4

    poller = d.begin_terminate_job_schedule("nightly", polling_interval=FAST)
    assert d.get_job_schedule("nightly").state == "terminating"
    frozen_clock.advance(5)
    poller.result()
    done = d.get_job_schedule("nightly")
    assert done.state == "completed" and done.execution_info.end_time is not None
    with pytest.raises(ResourceExistsError) as info:
        d.disable_job_schedule("nightly")
    assert info.value.error.code == "JobScheduleCompleted"

    poller = d.begin_delete_job_schedule("nightly", polling_interval=FAST)
    frozen_clock.advance(5)
    poller.result()
    with pytest.raises(ResourceNotFoundError) as info:
        d.get_job_schedule("nightly")
    assert info.value.error.code == "JobScheduleNotFound"

    with pytest.raises(HttpResponseError) as info:
        d.create_job_schedule({"id": "nospec", "schedule": {}})
    assert info.value.error.code == "MissingRequiredProperty"


# ==============================================================================================
# pools and nodes
# ==============================================================================================


def test_pools_as_the_data_plane_shows_them(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    pool = d.get_pool(POOL)
    assert (pool.allocation_state, pool.target_dedicated_nodes, pool.current_dedicated_nodes) == ("resizing", 2, 0)
    frozen_clock.advance(600)
    pool = d.get_pool(POOL).as_dict()
    assert set(pool) - {"odata.metadata", "metadata"} == POOL_GET_KEYS
    assert pool["virtualMachineConfiguration"]["nodeAgentSKUId"] == "batch.node.ubuntu 22.04"
    assert "nodeAgentSkuId" not in pool["virtualMachineConfiguration"]
    assert (pool["allocationState"], pool["currentDedicatedNodes"], pool["vmSize"]) == ("steady", 2, "standard_d2s_v3")
    assert pool["taskSchedulingPolicy"] == {"nodeFillType": "spread"}
    assert pool["startTask"]["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}
    assert pool["startTask"]["maxTaskRetryCount"] == 0 and pool["startTask"]["waitForSuccess"] is True
    assert pool["eTag"].startswith("0x") and pool["url"] == f"https://{batch.endpoint}/pools/{POOL}"
    assert pool["metadata"] == [{"name": "deployer.stack", "value": "test"}]

    batch.emulator.clients.batch_mgmt.pool.create(
        RG,
        ACCOUNT,
        "auto",
        pool_body(
            0, scaleSettings={"autoScale": {"formula": "$TargetDedicatedNodes = 1;", "evaluationInterval": "PT5M"}}
        ),
    )
    auto = d.get_pool("auto")
    assert auto.enable_auto_scale is True and auto.auto_scale_formula == "$TargetDedicatedNodes = 1;"

    assert sorted(p.id for p in d.list_pools()) == ["auto", POOL]
    assert [p.id for p in d.list_pools(filter="enableAutoScale eq true")] == ["auto"]
    assert [set(p.as_dict()) - {"odata.metadata"} for p in d.list_pools(select=["id"], filter=f"id eq '{POOL}'")] == [
        {"id"}
    ]
    assert d.pool_exists(POOL) is True
    with pytest.raises(ResourceNotFoundError):  # azure-batch 15.1 raises on the 404 of a HEAD
        d.pool_exists("missing")
    with pytest.raises(ResourceNotFoundError) as info:
        d.get_pool("missing")
    assert info.value.error.code == "PoolNotFound"

    nodes = list(d.list_nodes(POOL))
    assert len(nodes) == 2
    for i, n in enumerate(nodes):
        assert n.id.startswith("tvmps_") and n.id.endswith("_d") and len(n.id) == len("tvmps_") + 64 + 2
        assert (n.state, n.is_dedicated, n.ip_address) == ("idle", True, f"10.0.0.{4 + i}")
        assert n.start_task_info.state == "completed"
    assert d.get_node(POOL, nodes[0].id).id == nodes[0].id
    assert [n.id for n in d.list_nodes(POOL)] == [n.id for n in nodes]  # stable ids

    counts = {c.pool_id: c for c in d.list_pool_node_counts()}
    assert (counts[POOL].dedicated.idle, counts[POOL].dedicated.total, counts[POOL].low_priority.total) == (2, 2, 0)

    # The management API's writes show up in the data plane at once.
    batch.emulator.clients.batch_mgmt.pool.update(
        RG, ACCOUNT, POOL, {"properties": {"scaleSettings": {"fixedScale": {"targetDedicatedNodes": 3}}}}
    )
    assert d.get_pool(POOL).allocation_state == "resizing"
    frozen_clock.advance(600)
    assert len(list(d.list_nodes(POOL))) == 3


def test_pool_writes_through_the_data_plane(emulator: Any, frozen_clock: Any) -> None:
    batch = make_batch(emulator, pool=False)
    d = batch.data
    mgmt_pools = emulator.clients.batch_mgmt.pool
    d.create_pool(
        bm.BatchPoolCreateOptions(
            id="dp",
            vm_size="standard_d2s_v3",
            virtual_machine_configuration=bm.VirtualMachineConfiguration(
                image_reference=bm.BatchVmImageReference(publisher="canonical", offer="ubuntu", sku="22_04-lts"),
                node_agent_sku_id="batch.node.ubuntu 22.04",
            ),
            target_dedicated_nodes=1,
            start_task=bm.BatchStartTask(
                command_line="echo hi",
                user_identity=bm.UserIdentity(
                    auto_user=bm.AutoUserSpecification(scope="pool", elevation_level="admin")
                ),
            ),
            metadata=[bm.BatchMetadataItem(name="k", value="v")],
        )
    )
    assert batch.requests("POST", "/pools")[-1]["status"] == 201
    with pytest.raises(ResourceExistsError) as info:
        d.create_pool(bm.BatchPoolCreateOptions(id="DP", vm_size="standard_d2s_v3"))
    assert info.value.error.code == "PoolExists"

    # The management API sees the same pool, in its own spelling.
    arm = mgmt_pools.get(RG, ACCOUNT, "dp")
    vmc = arm.deployment_configuration.virtual_machine_configuration
    assert vmc.node_agent_sku_id == "batch.node.ubuntu 22.04"
    assert arm.start_task.user_identity.auto_user.elevation_level == "Admin"
    assert arm.scale_settings.fixed_scale.target_dedicated_nodes == 1

    frozen_clock.advance(600)
    assert d.get_pool("dp").current_dedicated_nodes == 1
    poller = d.begin_resize_pool("dp", bm.BatchPoolResizeOptions(target_dedicated_nodes=3), polling_interval=FAST)
    assert d.get_pool("dp").allocation_state == "resizing"
    with pytest.raises(ResourceExistsError) as info:
        d.begin_resize_pool("dp", bm.BatchPoolResizeOptions(target_dedicated_nodes=2), polling_interval=FAST)
    assert info.value.error.code == "PoolBeingResized"
    frozen_clock.advance(600)
    poller.result()
    assert d.get_pool("dp").current_dedicated_nodes == 3

    d.update_pool("dp", bm.BatchPoolUpdateOptions(metadata=[bm.BatchMetadataItem(name="k", value="w")]))
    assert [(m.name, m.value) for m in d.get_pool("dp").metadata] == [("k", "w")]
    assert d.get_pool("dp").start_task.command_line == "echo hi"  # PATCH keeps what it does not name

    d.enable_pool_auto_scale("dp", bm.BatchPoolEnableAutoScaleOptions(auto_scale_formula="$TargetDedicatedNodes = 2;"))
    pool = d.get_pool("dp")
    assert pool.enable_auto_scale is True and pool.auto_scale_formula == "$TargetDedicatedNodes = 2;"
    assert mgmt_pools.get(RG, ACCOUNT, "dp").scale_settings.auto_scale.formula == "$TargetDedicatedNodes = 2;"
    run = d.evaluate_pool_auto_scale(
        "dp", bm.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="$TargetDedicatedNodes = 4;")
    )
    assert "$TargetDedicatedNodes=4" in run.results
    with pytest.raises(ResourceExistsError):
        d.begin_resize_pool("dp", bm.BatchPoolResizeOptions(target_dedicated_nodes=1))
    d.disable_pool_auto_scale("dp")
    assert d.get_pool("dp").enable_auto_scale is False

    poller = d.begin_delete_pool("dp", polling_interval=FAST)
    assert d.get_pool("dp").state == "deleting"
    frozen_clock.advance(600)
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        d.get_pool("dp")


# ==============================================================================================
# authentication
# ==============================================================================================


def test_shared_key_auth(batch: Batch) -> None:
    keys = batch.emulator.clients.batch_mgmt.batch_account.get_keys(RG, ACCOUNT)
    for key in (keys.primary, keys.secondary):
        client = batch.emulator.clients.batch_data(batch.endpoint, AzureNamedKeyCredential(ACCOUNT, key))
        job_id = f"sk-{'primary' if key == keys.primary else 'secondary'}"
        client.create_job(new_job(job_id))
        assert client.get_job_task_counts(job_id).task_counts.active == 0
        # Query strings, conditional headers and bodies are all part of the signature.
        jobs = list(client.list_jobs(filter="startswith(id,'sk-')", max_results=1, select=["id"]))
        assert jobs and all(j.id.startswith("sk-") for j in jobs)
        job = client.get_job(jobs[0].id)
        client.update_job(
            job.id, bm.BatchJobUpdateOptions(priority=3), etag=job.etag, match_condition=MatchConditions.IfNotModified
        )
        client.create_tasks(job.id, tasks(3))
        client.close()

    wrong = batch.emulator.clients.batch_data(
        batch.endpoint, AzureNamedKeyCredential(ACCOUNT, "d3Jvbmcga2V5IHdyb25nIGtleQ==")
    )
    with pytest.raises(HttpResponseError) as info:
        wrong.get_job("anything")
    assert info.value.status_code == 403 and info.value.error.code == "AuthenticationFailed"
    other = batch.emulator.clients.batch_data(batch.endpoint, AzureNamedKeyCredential("someoneelse", keys.primary))
    with pytest.raises(HttpResponseError) as info:
        list(other.list_jobs())
    assert info.value.status_code == 403 and info.value.error.code == "AuthenticationFailed"

    # An account that allows only AAD refuses shared keys (and vice versa).
    batch.emulator.clients.batch_mgmt.batch_account.update(
        RG, ACCOUNT, {"properties": {"allowedAuthenticationModes": ["AAD"]}}
    )
    with pytest.raises(HttpResponseError) as info:
        batch.emulator.clients.batch_data(batch.endpoint, AzureNamedKeyCredential(ACCOUNT, keys.primary)).get_pool(POOL)
    assert info.value.status_code == 403
    assert batch.data.get_pool(POOL).id == POOL

    # No Authorization header at all: 401, the SDK's ClientAuthenticationError.
    response = unauthenticated(batch.emulator, f"https://{batch.endpoint}/jobs?api-version={API}")
    assert response.status_code == 401 and response.json()["code"] == "AuthenticationFailed"


def unauthenticated(emulator: Any, url: str) -> Any:
    """GET without any credential, through a bare azure-core pipeline on the emulator's transport."""
    from azure.core import PipelineClient

    if emulator.server is None:
        client = PipelineClient(url, policies=[], transport=emulator.clients.transport)
    else:
        client = PipelineClient(url, policies=[], connection_verify=str(emulator.server.ca_file))
    with client:
        return client.send_request(HttpRequest("GET", url))


def test_unknown_account(emulator: Any) -> None:
    data = emulator.clients.batch_data(emulator.endpoint.split("://", 1)[1] + "/batch/nosuchaccount")
    with pytest.raises(ResourceNotFoundError) as info:
        list(data.list_jobs())
    assert info.value.error.code == "AccountNotFound"
