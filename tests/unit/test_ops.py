"""deployer.ops without Azure: durations, `$filter` texts, env names, when a wait is over."""

from __future__ import annotations

import pytest

from deployer.errors import UsageError
from deployer.ops.outputs import env_name
from deployer.ops.reader import FOUND, JobStatus, PoolStatus, Snapshot, id_filters
from deployer.ops.wait import parse_duration, settled_with_errors

DURATIONS = [
    ("90", 90.0),
    ("90s", 90.0),
    ("15m", 900.0),
    ("1h30m", 5400.0),
    ("2d", 172800.0),
    ("1.5h", 5400.0),
    ("PT15M", 900.0),
    ("pt1h30m", 5400.0),
    ("P1DT2H", 93600.0),
    ("PT0.5S", 0.5),
]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "P", "PT", "-5s", "1h 30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(text)


def test_id_filters_quote_and_chunk() -> None:
    assert id_filters(["a", "o'neil"]) == ["id eq 'a' or id eq 'o''neil'"]
    assert id_filters(["p"], "poolId") == ["poolId eq 'p'"]
    chunks = id_filters([f"j{i}" for i in range(45)])
    assert len(chunks) == 3 and chunks[0].count(" eq ") == 20 and chunks[2].count(" eq ") == 5
    assert id_filters([]) == []


@pytest.mark.parametrize(("parts", "name"), [
    (("batch", "main", "pool", "small"), "BATCH_MAIN_POOL_SMALL"),
    (("storage", "my-data"), "STORAGE_MY_DATA"),
    (("network", "hpc", "subnet", "compute.v2"), "NETWORK_HPC_SUBNET_COMPUTE_V2"),
])
def test_env_names(parts: tuple[str, ...], name: str) -> None:
    assert env_name(*parts) == name


def _pool(state: str, **kwargs: object) -> PoolStatus:
    return PoolStatus("batchAccounts.a.pools.p", "p", FOUND, allocation_state=state, **kwargs)  # type: ignore[arg-type]


def _job(state: str, **counts: int) -> JobStatus:
    job = JobStatus("batchAccounts.a.jobs.j", "j", "job", FOUND, state=state, job_id="j")
    job.counts.update(counts)
    return job


# (pools, jobs) -> (done, failed, a pool settled with errors)
CASES = [
    ([_pool("steady")], [_job("active", active=0, running=0, completed=3, succeeded=3)], (True, False, False)),
    ([_pool("resizing")], [_job("active", completed=3, succeeded=3)], (False, False, False)),
    ([_pool("steady")], [_job("active", active=1)], (False, False, False)),
    ([_pool("steady")], [_job("active", running=1)], (False, False, False)),
    ([_pool("steady")], [_job("completed", active=2)], (True, False, False)),  # terminated with tasks left
    ([_pool("steady")], [_job("active", completed=2, succeeded=1, failed=1)], (True, True, False)),
    ([_pool("steady", resize_errors=[{"code": "AccountCoreQuotaReached", "message": "m"}])], [_job("active", active=1)],
     (False, True, True)),
    ([_pool("resizing", node_states={"startTaskFailed": 1})], [], (False, True, False)),
    ([_pool("steady", node_states={"unusable": 2, "idle": 1})], [], (True, True, True)),
]


@pytest.mark.parametrize(("pools", "jobs", "expected"), CASES)
def test_when_a_wait_is_over(pools: list[PoolStatus], jobs: list[JobStatus], expected: tuple[bool, bool, bool]) -> None:
    snapshot = Snapshot("s", "local", pools, jobs)
    assert (snapshot.done, snapshot.failed, settled_with_errors(snapshot)) == expected
