"""Batch's rules for how a task ended, as tables: (exit conditions, exit code) -> options."""

from __future__ import annotations

from typing import Any

import pytest

from deployer.emulator.agent import environment, rules

COND: dict[str, Any] = {
    "exitCodes": [{"code": 3, "exitOptions": {"jobAction": "none", "dependencyAction": "satisfy"}}],
    "exitCodeRanges": [{"start": 10, "end": 20, "exitOptions": {"jobAction": "disable"}}],
    "preProcessingError": {"jobAction": "none"},
    "default": {"jobAction": "terminate", "dependencyAction": "satisfy"},
}

CASES = [
    # (exit conditions, exit code, failure kind) -> (jobAction, dependencyAction)
    ({}, 0, None, ("none", "satisfy")),
    ({}, 1, None, ("terminate", "block")),
    ({}, None, "preProcessingError", ("terminate", "block")),
    (COND, 0, None, ("none", "satisfy")),
    (COND, 3, None, ("none", "satisfy")),
    (COND, 15, None, ("disable", "block")),
    (COND, 21, None, ("terminate", "satisfy")),
    (COND, None, "preProcessingError", ("none", "block")),
    (COND, None, "fileUploadError", ("terminate", "satisfy")),
    ({"exitCodes": [{"code": 0, "exitOptions": {"dependencyAction": "block"}}]}, 0, None, ("none", "block")),
]


@pytest.mark.parametrize(("conditions", "code", "kind", "expected"), CASES)
def test_exit_options(conditions: dict[str, Any], code: int | None, kind: str | None,
                      expected: tuple[str, str]) -> None:
    options = rules.exit_options({"exitConditions": conditions}, code, kind)
    assert (options.job_action, options.dependency_action) == expected


@pytest.mark.parametrize(("depends_on", "ids"), [
    ({"taskIds": ["a", "b"]}, ["a", "b"]),
    ({"taskIdRanges": [{"start": 1, "end": 3}]}, ["1", "2", "3"]),
    ({"taskIds": ["x"], "taskIdRanges": [{"start": 5, "end": 5}]}, ["x", "5"]),
    (None, []),
])
def test_dependency_ids(depends_on: Any, ids: list[str]) -> None:
    assert rules.dependency_ids(depends_on) == ids


@pytest.mark.parametrize(("task", "job", "retries"), [
    ({}, {}, 0),
    ({}, {"constraints": {"maxTaskRetryCount": 2}}, 2),
    ({"constraints": {"maxTaskRetryCount": 0}}, {"constraints": {"maxTaskRetryCount": 2}}, 0),
    ({"constraints": {"maxTaskRetryCount": -1}}, {}, -1),
])
def test_max_retries(task: dict[str, Any], job: dict[str, Any], retries: int) -> None:
    assert rules.max_retries(task, job) == retries
    assert rules.may_retry(5, retries) == (retries == -1)


@pytest.mark.parametrize(("app", "version", "names"), [
    ("ffmpeg", "6.1", ["AZ_BATCH_APP_PACKAGE_ffmpeg_6_1", "AZ_BATCH_APP_PACKAGE_ffmpeg#6.1"]),
    ("my-app", "2.0-rc#1", ["AZ_BATCH_APP_PACKAGE_my_app_2_0_rc_1", "AZ_BATCH_APP_PACKAGE_my-app#2.0-rc#1"]),
    ("tool", None, ["AZ_BATCH_APP_PACKAGE_tool"]),
])
def test_app_package_variable_names(app: str, version: str | None, names: list[str]) -> None:
    assert environment.app_package_names(app, version) == names


@pytest.mark.parametrize(("identity", "expected"), [
    (None, ("_azbatch", "TaskNonAdmin")),
    ({"autoUser": {"scope": "pool", "elevationLevel": "admin"}}, ("_azbatch", "PoolAdmin")),
    ({"username": "render"}, ("render", "render")),
])
def test_user_identity(identity: Any, expected: tuple[str, str]) -> None:
    assert environment.user_identity(identity, "task") == expected
