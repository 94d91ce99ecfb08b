"""A job's tasks planned one by one (issue 14): table-driven task diffs, the digest, the text and
Markdown renderings of big task sets."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.plan.model import Action, Change, Plan, PlanTarget
from deployer.plan.render import render_json, render_markdown, render_text
from deployer.plan.tasks import TaskChange, TaskPlan, diff_tasks
from deployer.resources import tasks as t
from deployer.stack.model import Address, Kind
from deployer.stack.schema import schema as load_schema


def live(task_id: str, command: str, state: str = "active", **extra: Any) -> dict[str, Any]:
    """A task as Batch lists it: defaults filled in, server-set fields present."""
    body = {"id": task_id, "state": state, "url": f"https://x/jobs/j/tasks/{task_id}", "eTag": "0x1",
            "commandLine": command, "requiredSlots": 1,
            "userIdentity": {"autoUser": {"scope": "task", "elevationLevel": "nonadmin"}},
            "constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S", "retentionTime": "P7D",
                            "maxTaskRetryCount": 0}}
    body.update(extra)
    return body


def want(task_id: str, command: str, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "commandLine": command, **extra}


# (desired tasks, live tasks) -> counts (add, replace, update, delete, keep, unchanged)
CASES = {
    "same": ([want("a", "x")], [live("a", "x")], (0, 0, 0, 0, 0, 1)),
    "ids compare case-insensitively": ([want("A", "x")], [live("a", "x")], (0, 0, 0, 0, 0, 1)),
    "new": ([want("a", "x"), want("b", "y")], [live("a", "x")], (1, 0, 0, 0, 0, 1)),
    "command changed": ([want("a", "z")], [live("a", "x")], (0, 1, 0, 0, 0, 0)),
    "environment added": ([want("a", "x", environmentSettings=[{"name": "K", "value": "v"}])], [live("a", "x")],
                          (0, 1, 0, 0, 0, 0)),
    "environment as map or list": ([want("a", "x", environmentSettings={"K": "v"})],
                                   [live("a", "x", environmentSettings=[{"name": "K", "value": "v"}])],
                                   (0, 0, 0, 0, 0, 1)),
    "constraints in place": ([want("a", "x", constraints={"maxTaskRetryCount": 2})], [live("a", "x")],
                             (0, 0, 1, 0, 0, 0)),
    "durations compare as durations": ([want("a", "x", constraints={"maxWallClockTime": "PT1H"})],
                                       [live("a", "x", constraints={"maxWallClockTime": "01:00:00"})],
                                       (0, 0, 0, 0, 0, 1)),
    "constraints of a completed task are left": ([want("a", "x", constraints={"maxTaskRetryCount": 2})],
                                                 [live("a", "x", "completed")], (0, 0, 0, 0, 0, 1)),
    "removed, not running": ([], [live("a", "x", "completed")], (0, 0, 0, 1, 0, 0)),
    "removed, running": ([], [live("a", "x", "running")], (0, 0, 0, 0, 1, 0)),
    "default user identity": ([want("a", "x", userIdentity={"autoUser": {"scope": "task"}})], [live("a", "x")],
                              (0, 0, 0, 0, 0, 1)),
    "required slots default": ([want("a", "x", requiredSlots=1)], [live("a", "x")], (0, 0, 0, 0, 0, 1)),
}


@pytest.mark.parametrize(("desired", "found", "expected"), CASES.values(), ids=CASES.keys())
def test_task_diffs(desired: list[dict[str, Any]], found: list[dict[str, Any]],
                    expected: tuple[int, ...]) -> None:
    plan = diff_tasks(desired, found, "d")
    c = plan.counts()
    assert (c["add"], c["replace"], c["update"], c["delete"], c["keep"], c["unchanged"]) == expected
    assert plan.read


def test_a_completed_task_that_runs_again_is_loud() -> None:
    plan = diff_tasks([want("a", "new")], [live("a", "old", "completed")], "d")
    (change,) = plan.replace
    assert change.note == "already completed: it runs again"
    assert plan.warnings == ("1 completed task(s) run again because their definition changed: a",)
    (field,) = change.fields
    assert (field.path, field.before, field.after, field.forces_replacement) == ("commandLine", "old", "new", True)


def test_every_task_property_of_the_schema_has_a_rule() -> None:
    properties = set(load_schema()["$defs"]["task"]["properties"]) - {"id"}
    assert properties - set(t.TREE.children) == set()
    assert set(t.SELECT) >= properties | {"id", "state"}


def test_the_digest_is_of_the_set() -> None:
    a, b = want("a", "x"), want("b", "y")
    first, second = t.Digest(), t.Digest()
    for task in (a, b):
        first.add(task)
    for task in (b, a):
        second.add(task)
    assert first.hexdigest() == second.hexdigest()
    third = t.Digest()
    for task in (a, want("b", "z")):
        third.add(task)
    assert third.hexdigest() != first.hexdigest()
    recorded = t.record(first.hexdigest())
    assert t.matches(recorded, first.hexdigest()) and not t.matches(recorded, third.hexdigest())
    assert not t.matches("pending", first.hexdigest())


def big_plan(count: int, action: Action = Action.CREATE) -> Plan:
    ids = tuple(f"frame-{i:06d}" for i in range(count))
    if action == Action.CREATE:
        tasks = TaskPlan(total=count, add=ids)
    else:
        tasks = TaskPlan(total=count, replace=tuple(
            TaskChange(i, (), "completed", "already completed: it runs again") for i in ids[:count // 2]),
            add=ids[count // 2:], read=True)
    change = Change(Address.parse("batchAccounts.main.jobs.render"), Kind.JOB, action, "job render",
                    None if action == Action.CREATE else {"pool": "p"}, {"pool": "p", "priority": 1},
                    name="render", tasks=tasks)
    return Plan("s", PlanTarget("local"), (change,))


@pytest.mark.parametrize("action", [Action.CREATE, Action.UPDATE])
def test_a_100000_task_plan_stays_readable(action: Action) -> None:
    plan = big_plan(100_000, action)
    text = render_text(plan)
    assert len(text.splitlines()) < 200
    assert "frame-000000" in text and "more" in text
    markdown = render_markdown(plan)
    assert len(markdown) < 60_000
    full = render_json(plan)
    assert full.count("frame-") >= 100_000


def test_markdown_over_the_limit_says_what_was_cut() -> None:
    changes = tuple(Change(Address.parse(f"batchAccounts.main.jobs.j{i}"), Kind.JOB, Action.CREATE, "r" * 200,
                           None, {"pool": "p", "metadata": {f"k{k}": "v" * 80 for k in range(40)}}, name=f"j{i}")
                    for i in range(60))
    markdown = render_markdown(Plan("s", PlanTarget("local"), changes))
    assert len(markdown) < 60_000
    assert "was cut" in markdown and "--format json" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    assert markdown.count("```") % 2 == 0


# --- factories ----------------------------------------------------------------------------------------

SUBSTITUTIONS = {
    "plain": ("run {0}", {"0": 7}, "run 7"),
    "padded": ("f-{0:4}", {"0": 7}, "f-0007"),
    "negative padded": ("f-{0:3}", {"0": -7}, "f--007"),
    "named": ("align {sample}", {"sample": "s1"}, "align s1"),
    "literal braces": ("a {{0}} b", {"0": 1}, "a {0} b"),
    "text padded": ("{name:5}", {"name": "ab"}, "000ab"),
}


@pytest.mark.parametrize(("text", "values", "expected"), SUBSTITUTIONS.values(), ids=SUBSTITUTIONS.keys())
def test_substitution(text: str, values: dict[str, Any], expected: str) -> None:
    from deployer.stack.factories import substitute

    assert substitute(text, values) == expected


def test_a_sweep_is_lazy_and_counted_without_generating() -> None:
    from itertools import islice

    from deployer.stack.factories import count, generate

    factory = {"type": "parametricSweep",
               "parameterSets": [{"start": 10, "end": 1, "step": -3}, {"start": 0, "end": 1}],
               "repeatTask": {"id": "t-{0}-{1}", "commandLine": "x {0} {1}"}}
    assert [t["id"] for t in generate(factory)] == ["t-10-0", "t-10-1", "t-7-0", "t-7-1", "t-4-0", "t-4-1",
                                                    "t-1-0", "t-1-1"]
    huge = {**factory, "parameterSets": [{"start": 1, "end": 10**12}],
            "repeatTask": {"id": "t-{0}", "commandLine": "x {0}"}}
    assert count(huge) == 10**12
    assert [t["id"] for t in islice(generate(huge), 2)] == ["t-1", "t-2"]  # generated one at a time


def _job_change(action: Action = Action.NO_OP) -> Change:
    return Change(Address.parse("batchAccounts.main.jobs.j"), Kind.JOB, action, "job j matches the stack",
                  {"pool": "p"}, {"pool": "p"}, name="j")


def test_a_job_left_pending_with_every_task_in_records_the_digest() -> None:
    from deployer.plan.tasks import plan_job_tasks

    spec = {"pool": "p", "tasks": [want("a", "x"), want("b", "y")]}
    live_job = {"id": "j", "state": "active", "metadata": [{"name": "deployer.fingerprint.tasks", "value": "pending"}]}
    change = plan_job_tasks(_job_change(), spec, live_job, None, lister=lambda job: [live("a", "x"), live("b", "y")])
    assert change.action == Action.UPDATE and "record" in change.reason
    assert change.tasks.counts()["unchanged"] == 2 and not change.tasks.is_change


def test_a_matching_digest_reads_no_task() -> None:
    from deployer.plan.tasks import plan_job_tasks

    spec = {"pool": "p", "tasks": [want("a", "x")]}
    recorded = t.record(t.digest_of(spec)[0])
    live_job = {"id": "j", "metadata": [{"name": "deployer.fingerprint.tasks", "value": recorded}]}

    def lister(job: str) -> list[dict[str, Any]]:
        raise AssertionError("no task is read when the digest matches")

    change = plan_job_tasks(_job_change(), spec, live_job, None, lister=lister)
    assert change.action == Action.NO_OP and not change.tasks.read and change.tasks.unchanged == 1


def test_new_tasks_for_a_completed_job_warn() -> None:
    from deployer.plan.tasks import plan_job_tasks

    spec = {"pool": "p", "tasks": [want("a", "x"), want("b", "y")]}
    live_job = {"id": "j", "state": "completed", "metadata": []}
    change = plan_job_tasks(_job_change(), spec, live_job, None, lister=lambda job: [live("a", "x", "completed")])
    assert change.tasks.add == ("b",)
    assert any("Batch refuses new tasks" in w for w in change.warnings)


def test_a_saved_plan_keeps_the_task_plan() -> None:
    plan = big_plan(10, Action.UPDATE)
    again = Plan.from_json(plan.to_json())
    assert again.changes[0].tasks == plan.changes[0].tasks
