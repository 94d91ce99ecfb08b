"""Auto pools (a job's `autoPool`): job schedules do not take one yet."""

from __future__ import annotations

from deployer.stack.checks.view import StackView, mapping


def check(view: StackView) -> None:
    for account in view.batch_accounts():
        for schedule in view.children(account, "jobSchedules"):
            spec = mapping(schedule.value.get("jobSpecification"))
            if "autoPool" in spec:
                view.error((*schedule.path, "jobSpecification", "autoPool"),
                           "job schedules take `pool:`; an autoPool is supported on jobs only", key=True)
