"""The emulator's autoscale evaluation over the validator's parse trees: what it can know of a
formula without metrics, and that nothing it cannot read ever raises."""

from __future__ import annotations

import pytest

from deployer.emulator.batch_mgmt.formula import MAX_NODES, evaluate


@pytest.mark.parametrize(("formula", "dedicated", "low_priority", "deallocation"), [
    ("$TargetDedicatedNodes = min(4, 2 * 3);", 4, 0, "Requeue"),
    ("$TargetDedicatedNodes = 2; $TargetLowPriorityNodes = $TargetDedicatedNodes + 1;", 2, 3, "Requeue"),
    ("$TargetDedicated = 5;", 5, 0, "Requeue"),  # the legacy alias
    ("$n = 3; $TargetDedicatedNodes = $n > 2 ? $n * 2 : 1;", 6, 0, "Requeue"),
    ("$TargetDedicatedNodes = !0 + -(-1);", 2, 0, "Requeue"),
    ("$TargetDedicatedNodes = avg(1, 2, 6) + sum(1, 1) + max(pow(2, 3), sqrt(16)) - round(0.5);", 12, 0, "Requeue"),
    ("$TargetDedicatedNodes = 2.9;", 2, 0, "Requeue"),  # fractions round down
    ("$TargetDedicatedNodes = 0 - 4;", 0, 0, "Requeue"),  # negatives give 0
    ("$TargetDedicatedNodes = 10 / 0;", 0, 0, "Requeue"),  # unknown: 0 nodes
    ("$TargetDedicatedNodes = 1e9;", MAX_NODES, 0, "Requeue"),
    ("$TargetLowPriorityNodes = max(0, $PendingTasks.GetSample(1));", 0, 0, "Requeue"),  # needs metrics
    ("$TargetDedicatedNodes = time().hour >= 8 ? 4 : 1;", 0, 0, "Requeue"),
    ("$TargetDedicatedNodes = 3; $TargetDedicatedNodes = $CPUPercent.GetSample(1);", 0, 0, "Requeue"),
    ("$TargetDedicatedNodes = 3; $TargetDedicatedNodes = (;", 0, 0, "Requeue"),  # unreadable: unknown
    ("$TargetDedicatedNodes = 3; $x = 1 % 2; $NodeDeallocationOption = taskcompletion;", 3, 0, "TaskCompletion"),
    ("/* comment */ $TargetDedicatedNodes = 1; // done\n$NodeDeallocationOption = retaineddata;", 1, 0,
     "RetainedData"),
    ("", 0, 0, "Requeue"),
    ("\ue000 garbage ((((", 0, 0, "Requeue"),
    ("$TargetDedicatedNodes = " + "(" * 500 + "1" + ")" * 500 + ";", 0, 0, "Requeue"),  # too deep: unknown
])
def test_evaluate(formula: str, dedicated: int, low_priority: int, deallocation: str) -> None:
    result = evaluate(formula)
    assert (result.dedicated, result.low_priority, result.deallocation) == (dedicated, low_priority, deallocation)


def test_results_list_known_values_in_assignment_order() -> None:
    result = evaluate("$b = 2; $a = 1; $TargetDedicatedNodes = $a + $b; $unknown = $PendingTasks.GetSample(1);")
    assert result.results == ("$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue;"
                              "$b=2;$a=1")


PENDING = """$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : max($PendingTasks.GetSample(1),
    avg($PendingTasks.GetSample(TimeInterval_Minute * 15)));
$TargetLowPriorityNodes = min(20, ceil($tasks / 2));
$NodeDeallocationOption = taskcompletion;"""
WORKDAY = """$now = time();
$on = $now.weekday >= 1 && $now.weekday <= 5 && $now.hour >= 8 && $now.hour < 18;
$TargetDedicatedNodes = $on ? 10 : 1;"""
MONDAY_9 = 1_700_470_800.0  # 2023-11-20 09:00:00 UTC, a Monday
SUNDAY_9 = MONDAY_9 - 86_400.0


@pytest.mark.parametrize(("formula", "metrics", "now", "nodes"), [
    (PENDING, {"$PendingTasks": 7}, None, (0, 4)),
    (PENDING, {"$PendingTasks": 500}, None, (0, 20)),
    (PENDING, {}, None, (0, 0)),  # no metrics: unknown, 0 nodes
    ("$TargetDedicatedNodes = len($ActiveTasks.GetSample(TimeInterval_Hour)) + $CurrentDedicatedNodes;",
     {"$ActiveTasks": 3, "$CurrentDedicatedNodes": 2}, None, (3, 0)),
    ("$TargetDedicatedNodes = $CPUPercent.GetSample(1) > 50 ? 4 : 1;", {"$PendingTasks": 1}, None, (0, 0)),
    (WORKDAY, {}, MONDAY_9, (10, 0)),
    (WORKDAY, {}, SUNDAY_9, (1, 0)),
    (WORKDAY, {}, MONDAY_9 + 9 * 3600, (1, 0)),  # 18:00
    (WORKDAY, {}, None, (0, 0)),  # no clock: time() unknown
])
def test_evaluate_with_what_the_service_knows(formula, metrics, now, nodes) -> None:
    result = evaluate(formula, metrics, now)
    assert (result.dedicated, result.low_priority) == nodes


@pytest.mark.parametrize(("formula", "nodes"), [
    ("$TargetDedicatedNodes = max($PendingTasks.GetSample(1) / 2);", 3),  # 7 / 2 = 3.5 -> 3
    ("$TargetDedicatedNodes = sum($PendingTasks.GetSample(1) * 2 + 1);", 15),
    ("$TargetDedicatedNodes = max(0, $ActiveTasks.GetSample(1) - $RunningTasks.GetSample(1));", 4),
    ("$TargetDedicatedNodes = $PendingTasks.GetSample(1) > 2;", 0),  # comparing a vector: unknown
])
def test_sample_vectors_take_arithmetic_item_by_item(formula: str, nodes: int) -> None:
    metrics = {"$PendingTasks": 7, "$ActiveTasks": 5, "$RunningTasks": 1}
    assert evaluate(formula, metrics).dedicated == nodes
