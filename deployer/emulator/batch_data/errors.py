"""Batch data-plane error codes, as the Batch service spells them (rendered by core.render_batch).

The body is the service's `BatchError`: `{"code", "message": {"lang": "en-US", "value"}, "values":
[{"key", "value"}]}`; the message ends with `RequestId:...` and `Time:...` lines like the service's.
`details` given to ApiError become `values` ({"key", "value"} pairs).
"""

from __future__ import annotations

from ..core import ApiError, service_message


def _err(status: int, code: str, text: str, values: list[tuple[str, str]] | None = None) -> ApiError:
    return ApiError(status, code, service_message(text), details=[{"key": k, "value": v} for k, v in (values or [])])


# -- request-level ---------------------------------------------------------------------------------


def missing_query_parameter(name: str) -> ApiError:
    return _err(
        400,
        "MissingRequiredQueryParameter",
        "A query parameter that's mandatory for this request is not specified.",
        [("QueryParameterName", name)],
    )


def invalid_query_parameter(name: str, value: str, reason: str) -> ApiError:
    return _err(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        [("QueryParameterName", name), ("QueryParameterValue", value), ("Reason", reason)],
    )


def out_of_range_query_parameter(name: str, value: str) -> ApiError:
    return _err(
        400,
        "OutOfRangeQueryParameterValue",
        "One of the query parameters specified in the request URI is outside the permissible range.",
        [("QueryParameterName", name), ("QueryParameterValue", value)],
    )


def invalid_uri(path: str) -> ApiError:
    return _err(
        400, "InvalidUri", "The requested URI does not represent any resource on the server.", [("RequestUri", path)]
    )


def unsupported_verb(method: str) -> ApiError:
    return _err(
        405, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.", [("HttpVerb", method)]
    )


def invalid_request_body(reason: str) -> ApiError:
    return _err(
        400, "InvalidRequestBody", "The specified Request Body is not syntactically valid.", [("Reason", reason)]
    )


def missing_property(name: str) -> ApiError:
    return _err(
        400,
        "MissingRequiredProperty",
        "A property that's mandatory for this request is not specified.",
        [("PropertyName", name)],
    )


def invalid_property(name: str, value: object, reason: str) -> ApiError:
    return _err(
        400,
        "InvalidPropertyValue",
        "The value provided for one of the properties in the request body is invalid.",
        [("PropertyName", name), ("PropertyValue", str(value)), ("Reason", reason)],
    )


def request_body_too_large(reason: str) -> ApiError:
    return _err(
        413,
        "RequestBodyTooLarge",
        "The request body is too large and exceeds the maximum permissible limit.",
        [("Reason", reason)],
    )


def condition_not_met() -> ApiError:
    return _err(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")


# -- authentication --------------------------------------------------------------------------------


def invalid_header_value(name: str, value: str) -> ApiError:
    return _err(
        400,
        "InvalidHeaderValue",
        "The value for one of the HTTP headers is not in the correct format.",
        [("HeaderName", name), ("HeaderValue", value)],
    )


def authentication_missing() -> ApiError:
    err = _err(
        401,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
        "correctly including the signature.",
        [("AuthenticationErrorDetail", "The Authorization header is missing.")],
    )
    err.headers["WWW-Authenticate"] = 'Bearer authorization_uri="https://login.microsoftonline.com/common"'
    return err


def invalid_authentication_info(reason: str) -> ApiError:
    return _err(
        400,
        "InvalidAuthenticationInfo",
        "Authentication information is not given in the correct format. Check the value of Authorization header.",
        [("AuthenticationErrorDetail", reason)],
    )


def authentication_failed(reason: str) -> ApiError:
    return _err(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
        "correctly including the signature.",
        [("AuthenticationErrorDetail", reason)],
    )


def account_not_found(name: str) -> ApiError:
    # Against Azure the host name would not resolve; the emulator answers in the data plane's shape.
    return _err(404, "AccountNotFound", f"The Batch account '{name}' does not exist.", [("AccountName", name)])


# -- jobs --------------------------------------------------------------------------------------------


def job_not_found() -> ApiError:
    return _err(404, "JobNotFound", "The specified job does not exist.")


def job_exists() -> ApiError:
    return _err(409, "JobExists", "The specified job already exists.")


def job_schedule_with_same_id_exists() -> ApiError:
    return _err(
        409,
        "JobScheduleWithSameIdExists",
        "A job schedule with the specified job id exists. Job and job schedule cannot have the same id.",
    )


def job_being_deleted() -> ApiError:
    return _err(
        409, "JobBeingDeleted", "The specified job has been marked for deletion and is being garbage collected."
    )


def job_being_terminated() -> ApiError:
    return _err(409, "JobBeingTerminated", "The specified job is being terminated.")


def job_completed() -> ApiError:
    return _err(409, "JobCompleted", "The specified job is already in a completed state.")


def job_not_active() -> ApiError:
    return _err(409, "JobNotActive", "The specified job is not in active state.")


def job_disabled() -> ApiError:
    return _err(409, "JobDisabled", "The specified job is disabled.")


def job_state_conflict(state: str) -> ApiError:
    """The 409 for an operation the job's current state forbids, by state, as the service words it."""
    return {
        "deleting": job_being_deleted,
        "terminating": job_being_terminated,
        "completed": job_completed,
        "disabled": job_disabled,
    }.get(state, job_not_active)()


def pool_change_requires_disabled_job() -> ApiError:
    return _err(
        409,
        "OperationInvalidForCurrentState",
        "The specified operation is not valid for the current state of the resource.",
        [("Reason", "The pool of a job can be changed only while the job is disabled.")],
    )


def active_job_quota_reached(quota: int) -> ApiError:
    return _err(
        409,
        "ActiveJobAndScheduleQuotaReached",
        "Active job and schedule quota for the account has been reached.",
        [("Quota", str(quota))],
    )


# -- tasks -------------------------------------------------------------------------------------------


def task_not_found() -> ApiError:
    return _err(404, "TaskNotFound", "The specified task does not exist.")


def task_exists() -> ApiError:
    return _err(409, "TaskExists", "The specified task already exists.")


def task_completed() -> ApiError:
    return _err(409, "TaskCompleted", "The specified task is already in a completed state.")


def task_dependencies_not_specified_on_job() -> ApiError:
    return _err(
        400,
        "TaskDependenciesNotSpecifiedOnJob",
        "A task was specified as depending on other tasks, but the job did not specify that it would use "
        "task dependencies.",
    )


# -- job schedules -----------------------------------------------------------------------------------


def schedule_not_found() -> ApiError:
    return _err(404, "JobScheduleNotFound", "The specified job schedule does not exist.")


def schedule_exists() -> ApiError:
    return _err(409, "JobScheduleExists", "The specified job schedule already exists.")


def job_with_same_id_exists() -> ApiError:
    return _err(
        409,
        "JobWithSameIdExists",
        "A job with the specified job schedule id exists. Job and job schedule cannot have the same id.",
    )


def schedule_state_conflict(state: str) -> ApiError:
    code, text = {
        "deleting": (
            "JobScheduleBeingDeleted",
            "The specified job schedule has been marked for deletion and is being reclaimed.",
        ),
        "terminating": ("JobScheduleBeingTerminated", "The specified job schedule is being terminated."),
        "completed": ("JobScheduleCompleted", "The specified job schedule is already in completed state."),
        "disabled": ("JobScheduleDisabled", "The specified job schedule is disabled."),
    }.get(
        state,
        (
            "OperationInvalidForCurrentState",
            "The specified operation is not valid for the current state of the resource.",
        ),
    )
    return _err(409, code, text)


# -- pools and nodes ---------------------------------------------------------------------------------


def pool_not_found() -> ApiError:
    return _err(404, "PoolNotFound", "The specified pool does not exist.")


def pool_exists() -> ApiError:
    return _err(409, "PoolExists", "The specified pool already exists.")


def pool_being_resized() -> ApiError:
    return _err(409, "PoolBeingResized", "The specified pool is being resized.")


def pool_being_deleted() -> ApiError:
    return _err(409, "PoolBeingDeleted", "The specified pool has been marked for deletion and is being reclaimed.")


def pool_auto_scale_enabled() -> ApiError:
    return _err(
        409,
        "OperationInvalidForCurrentState",
        "The specified operation is not valid for the current state of the resource.",
        [("Reason", "The pool has automatic scaling enabled; disable it before resizing the pool.")],
    )


def node_not_found() -> ApiError:
    return _err(404, "NodeNotFound", "The specified node does not exist.")


# -- files on nodes ------------------------------------------------------------------------------


def file_not_found() -> ApiError:
    return _err(404, "FileNotFound", "The specified file does not exist.")


def task_not_started() -> ApiError:
    return _err(409, "TaskNotStarted", "The specified operation is not valid as the task has not started yet.")


def invalid_range(value: str) -> ApiError:
    return _err(416, "InvalidRange", f"The range specified is invalid for the current size of the resource ({value}).")
