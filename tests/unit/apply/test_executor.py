"""The apply graph and executor without Azure: order, parallel branches, failures stop their branch."""

from __future__ import annotations

import threading
import time

from deployer.apply.executor import Event, run_graph
from deployer.plan.graph import Step, build_graph
from deployer.plan.model import Action, Change, Plan, PlanTarget
from deployer.stack.model import Address, Kind


def change(address: str, kind: Kind, action: Action = Action.CREATE, after: dict | None = None) -> Change:
    return Change(Address.parse(address), kind, action, "test", after=after, name=address.rsplit(".", 1)[-1])


PLAN = Plan("t", PlanTarget("local"), (
    change("storageAccounts.a", Kind.STORAGE_ACCOUNT),
    change("batchAccounts.main", Kind.BATCH_ACCOUNT),
    change("batchAccounts.main.pools.p", Kind.POOL),
    change("batchAccounts.main.jobs.j", Kind.JOB, after={"pool": "p"}),
    change("networks.n", Kind.NETWORK),
))


def test_creates_follow_dependencies_without_a_stack() -> None:
    graph = build_graph(PLAN)
    keys = [s.key for s in graph.order()]
    assert keys.index("batchAccounts.main") < keys.index("batchAccounts.main.pools.p")
    assert graph.dependents("batchAccounts.main") >= {"batchAccounts.main.pools.p", "batchAccounts.main.jobs.j"}


def test_deletions_run_in_reverse_and_a_replace_is_two_steps() -> None:
    plan = Plan("t", PlanTarget("local"), (
        change("networks.n", Kind.NETWORK, Action.DELETE),
        change("batchAccounts.main", Kind.BATCH_ACCOUNT, Action.DELETE),
        change("batchAccounts.main.pools.p", Kind.POOL, Action.DELETE),
        change("batchAccounts.main.jobs.j", Kind.JOB, Action.DELETE),
        change("batchAccounts.other.pools.q", Kind.POOL, Action.REPLACE),
    ))
    keys = [s.key for s in build_graph(plan).order()]
    assert keys.index("batchAccounts.main.jobs.j") < keys.index("batchAccounts.main.pools.p")
    assert keys.index("batchAccounts.main.pools.p") < keys.index("batchAccounts.main") < keys.index("networks.n")
    assert keys.index("batchAccounts.other.pools.q#delete") < keys.index("batchAccounts.other.pools.q#create")


def test_a_failure_stops_its_branch_and_independent_ones_finish() -> None:
    events: list[Event] = []
    ran: list[str] = []
    lock = threading.Lock()

    def step(s: Step) -> None:
        time.sleep(0.01)
        with lock:
            ran.append(s.key)
        if s.key == "batchAccounts.main.pools.p":
            raise RuntimeError("PoolRefused: no quota")

    result = run_graph(build_graph(PLAN), step, parallelism=4, on_event=events.append)
    assert not result.ok
    assert result.failed == {"batchAccounts.main.pools.p": "PoolRefused: no quota"}
    assert result.not_started == ["batchAccounts.main.jobs.j"]
    assert set(result.done) == {"storageAccounts.a", "batchAccounts.main", "networks.n"}
    assert "batchAccounts.main.jobs.j" not in ran
    kinds = {(e.kind, e.address) for e in events}
    assert ("skipped", "batchAccounts.main.jobs.j") in kinds and ("failed", "batchAccounts.main.pools.p") in kinds


def test_independent_steps_run_in_parallel() -> None:
    plan = Plan("t", PlanTarget("local"), tuple(change(f"storageAccounts.s{i}", Kind.STORAGE_ACCOUNT)
                                                for i in range(8)))
    # Every step waits until all 8 are in flight at once: run one after another, they would break
    # the barrier (after its timeout) and fail.
    barrier = threading.Barrier(8, timeout=10)
    result = run_graph(build_graph(plan), lambda s: barrier.wait(), parallelism=8)
    assert result.ok and len(result.done) == 8


def test_messages_are_scrubbed_of_secrets() -> None:
    class Scrubber:
        def scrub(self, text: str) -> str:
            return text.replace("hunter2", "(sensitive)")

    def step(s: Step) -> None:
        raise RuntimeError("refused password hunter2")

    events: list[Event] = []
    plan = Plan("t", PlanTarget("local"), (change("storageAccounts.a", Kind.STORAGE_ACCOUNT),))
    result = run_graph(build_graph(plan), step, context=Scrubber(), on_event=events.append)  # type: ignore[arg-type]
    assert "hunter2" not in repr(result) and all("hunter2" not in e.message for e in events)
