"""Job schedules fire on the emulator clock (issue 14), through azure-batch's BatchClient: jobs are
created on the recurrence from doNotRunUntil, none after doNotRunAfter, one active job at a time
(a run that cannot start within startWindow is skipped), and the created jobs run their job
manager task on the pool's nodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.batch import models as bm

from deployer.emulator.core import clock
from tests.integration.emulator.test_batch_data import POOL, Batch, make_batch

HOUR = 3600.0


@pytest.fixture
def batch(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Batch:
    monkeypatch.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.05")
    return make_batch(emulator)


def schedule(d: Any, sid: str, *, until: float, after: float | None = None, window: timedelta | None = None,
             terminate: bool = True) -> None:
    spec = bm.BatchJobSpecification(
        pool_info=bm.BatchPoolInfo(pool_id=POOL),
        all_tasks_complete_mode="terminatejob" if terminate else "noaction",
        job_manager_task=bm.BatchJobManagerTask(id="submit", command_line="/bin/bash -c 'echo submit'"),
    )
    d.create_job_schedule(bm.BatchJobScheduleCreateOptions(
        id=sid,
        schedule=bm.BatchJobScheduleConfiguration(
            do_not_run_until=_dt(until),
            do_not_run_after=_dt(after) if after is not None else None,
            start_window=window,
            recurrence_interval=timedelta(hours=1)),
        job_specification=spec))


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def jobs(d: Any, sid: str) -> dict[str, Any]:
    return {j.id: j for j in d.list_jobs() if j.id.startswith(sid + ":")}


def test_a_schedule_fires_twice_and_its_jobs_run_their_tasks(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    frozen_clock.advance(600)  # the pool has its nodes
    start = clock.now()
    schedule(d, "nightly", until=start + 0.5 * HOUR, after=start + 2.2 * HOUR)
    assert jobs(d, "nightly") == {}  # not before doNotRunUntil

    frozen_clock.advance(0.5 * HOUR + 1)
    assert list(jobs(d, "nightly")) == ["nightly:job-1"]
    frozen_clock.advance(60)  # its job manager task runs on the pool's nodes and completes
    first = d.get_task("nightly:job-1", "submit")
    assert first.state == "completed" and first.execution_info.exit_code == 0
    assert d.get_job("nightly:job-1").state == "completed"

    frozen_clock.advance(HOUR)
    assert sorted(jobs(d, "nightly")) == ["nightly:job-1", "nightly:job-2"]
    frozen_clock.advance(60)
    assert d.get_task("nightly:job-2", "submit").state == "completed"
    recent = d.get_job_schedule("nightly").execution_info.recent_job
    assert recent is not None and recent.id == "nightly:job-2"

    frozen_clock.advance(2 * HOUR)  # past doNotRunAfter: no third job, the schedule completes
    assert sorted(jobs(d, "nightly")) == ["nightly:job-1", "nightly:job-2"]
    assert d.get_job_schedule("nightly").state == "completed"


def test_one_active_job_at_a_time_and_the_start_window(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    frozen_clock.advance(600)
    start = clock.now()
    # noaction: the job stays active after its task, so the next run must wait
    schedule(d, "hourly", until=start + 60, window=timedelta(minutes=10), terminate=False)
    frozen_clock.advance(61)
    assert list(jobs(d, "hourly")) == ["hourly:job-1"]
    frozen_clock.advance(HOUR + 15 * 60)  # job-1 still active past job-2's window: that run is skipped
    assert list(jobs(d, "hourly")) == ["hourly:job-1"]
    d.begin_terminate_job("hourly:job-1", {"terminateReason": "done"}, polling_interval=0.01)
    frozen_clock.advance(5)
    d.get_job("hourly:job-1")
    frozen_clock.advance(HOUR)  # the next run starts on time
    assert sorted(jobs(d, "hourly")) == ["hourly:job-1", "hourly:job-2"]


def test_deleting_a_schedule_deletes_its_jobs(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    schedule(d, "gone", until=clock.now() + 1)
    frozen_clock.advance(2)
    assert list(jobs(d, "gone")) == ["gone:job-1"]
    poller = d.begin_delete_job_schedule("gone", polling_interval=0.01)
    frozen_clock.advance(5)
    poller.result()
    assert jobs(d, "gone") == {}


def test_runs_due_while_nobody_looked_still_happen(batch: Batch, frozen_clock: Any) -> None:
    d = batch.data
    start = clock.now()
    schedule(d, "unseen", until=start + 60, after=start + 1.5 * HOUR)
    frozen_clock.advance(3 * HOUR)  # nothing read the schedule meanwhile: both runs were due
    assert sorted(jobs(d, "unseen")) == ["unseen:job-1", "unseen:job-2"]
    assert d.get_job_schedule("unseen").state == "completed"
