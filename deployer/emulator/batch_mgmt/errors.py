"""Microsoft.Batch management error codes, in ARM's envelope.

Two families, as Azure answers them:
- ARM-level errors (ResourceNotFound, InvalidResourceLocation, LocationRequired, ...): plain
  `{"error": {"code", "message"}}`;
- errors the Batch service itself raises (PoolNotFound, ConditionNotMet, PropertyCannotBeUpdated,
  PoolQuotaReached, ...): the message ends with `\\nRequestId:...\\nTime:...`, `target` is
  "BatchAccount" and `details` carry the property name / reason, e.g.

    {"error": {"code": "PropertyCannotBeUpdated",
               "message": "A property that cannot be updated was specified ...\\nRequestId:..\\nTime:..",
               "target": "BatchAccount",
               "details": [{"code": "Reason", "message": "..."}, {"code": "PropertyName", "message": "vmSize"},
                           {"code": "PropertyPath", "message": "properties.vmSize"}]}}
"""

from __future__ import annotations

from ..core import ApiError, arm_location_conflict, arm_location_required, arm_resource_not_found, service_message


def _batch(status: int, code: str, text: str, details: list[tuple[str, str]] | None = None) -> ApiError:
    return ApiError(
        status,
        code,
        service_message(text),
        target="BatchAccount",
        details=[{"code": k, "message": v} for k, v in (details or [])],
    )


# -- ARM-level ---------------------------------------------------------------------------------


def account_not_found(name: str, group: str) -> ApiError:
    return arm_resource_not_found("Microsoft.Batch/batchAccounts", name, group)


# ARM's own errors, as every provider answers them
location_required = arm_location_required
location_conflict = arm_location_conflict


def invalid_request_body(text: str) -> ApiError:
    return ApiError(400, "InvalidRequestBody", text)


def linked_invalid_property_id(value: str, path: str) -> ApiError:
    return ApiError(
        400,
        "LinkedInvalidPropertyId",
        f"Property id '{value}' at path '{path}' is invalid. Expect fully qualified resource Id that start "
        "with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
    )


# -- accounts ----------------------------------------------------------------------------------


def account_name_invalid(name: str) -> ApiError:
    return ApiError(
        400,
        "AccountNameInvalid",
        f"Account name '{name}' is invalid. Batch account names must be between 3 and 24 characters in "
        "length and use numbers and lower-case letters only.",
    )


def account_name_taken(name: str) -> ApiError:
    return ApiError(409, "AccountNameNotAvailable", f"The account name '{name}' is already in use.")


def storage_account_not_found(storage_id: str) -> ApiError:
    return ApiError(
        400,
        "InvalidParameter",
        f"The specified auto-storage account '{storage_id}' could not be found. "
        "Check that the storage account exists and that its resource id is correct.",
        target="properties.autoStorage.storageAccountId",
    )


def invalid_parameter(text: str, target: str | None = None) -> ApiError:
    return ApiError(400, "InvalidParameter", text, target=target)


def shared_key_disabled(name: str) -> ApiError:
    return ApiError(
        409,
        "OperationNotAllowed",
        f"The operation is not allowed on Batch account '{name}': its allowedAuthenticationModes do not "
        "include SharedKey, so its access keys cannot be listed or regenerated.",
    )


def auto_storage_required(name: str) -> ApiError:
    return _batch(
        409,
        "AutoStorageNotConfigured",
        f"The Batch account '{name}' has no auto-storage account configured; application packages require one.",
    )


# -- pools -------------------------------------------------------------------------------------


def pool_not_found(name: str) -> ApiError:
    return _batch(404, "PoolNotFound", "The specified pool does not exist.", [("PoolName", name)])


def pool_being_deleted(name: str) -> ApiError:
    return _batch(
        409,
        "PoolBeingDeleted",
        "The specified pool has been marked for deletion and is being reclaimed.",
        [("PoolName", name)],
    )


def condition_not_met() -> ApiError:
    return _batch(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")


def property_cannot_be_updated(prop: str) -> ApiError:
    """400, as Azure answers it (not 409): a property only an empty pool may change."""
    reason = "A property that cannot be updated was specified as part of the request."
    return _batch(
        400,
        "PropertyCannotBeUpdated",
        reason,
        [
            ("Reason", reason),
            ("PropertyName", prop),
            ("PropertyPath", f"properties.{prop}"),
        ],
    )


def pool_quota_reached(quota: int) -> ApiError:
    return _batch(
        409,
        "PoolQuotaReached",
        f"The specified account has reached its pool quota of {quota}.",
        [("PoolQuota", str(quota))],
    )


def missing_property(prop: str) -> ApiError:
    return _batch(
        400,
        "MissingRequiredProperty",
        "A required property was not specified in the request body.",
        [("PropertyName", prop), ("PropertyPath", f"properties.{prop}")],
    )


def invalid_property(prop: str, reason: str) -> ApiError:
    return _batch(
        400,
        "InvalidPropertyValue",
        "The value provided for one of the properties in the request body is invalid.",
        [("PropertyName", prop), ("PropertyPath", f"properties.{prop}"), ("Reason", reason)],
    )


def subnet_not_found(subnet_id: str) -> ApiError:
    return invalid_property("networkConfiguration.subnetId", f"The specified subnet '{subnet_id}' does not exist.")


def invalid_pool_name(name: str) -> ApiError:
    return invalid_parameter(
        f"The pool name '{name}' is invalid: use 1 to 64 letters, digits, hyphens and underscores.",
        target="poolName",
    )


def invalid_application_package_references(refs: list[str]) -> ApiError:
    return _batch(
        409,
        "InvalidApplicationPackageReferences",
        "One or more application package references could not be satisfied. This occurs if the application "
        "id or version does not exist or is not active, or if the reference did not specify a version and "
        "there is no default version configured.",
        [("ApplicationPackageReference", ref) for ref in refs],
    )


def invalid_filter(text: str, reason: str) -> ApiError:
    return _batch(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        [("QueryParameterName", "$filter"), ("QueryParameterValue", text), ("Reason", reason)],
    )


# -- applications ------------------------------------------------------------------------------


def application_not_found(name: str) -> ApiError:
    return _batch(404, "ApplicationNotFound", "The specified application does not exist.", [("ApplicationId", name)])


def application_package_not_found(name: str, version: str) -> ApiError:
    return _batch(
        404,
        "ApplicationPackageNotFound",
        "The specified application package does not exist.",
        [("ApplicationId", name), ("Version", version)],
    )


def invalid_application_name(name: str, what: str = "application") -> ApiError:
    return invalid_parameter(
        f"The {what} name '{name}' is invalid: use 1 to 64 letters, digits, hyphens, underscores"
        + (" and periods." if what == "version" else "."),
    )


def package_not_uploaded(name: str, version: str) -> ApiError:
    return _batch(
        409,
        "ApplicationPackageBlobNotFound",
        f"The application package '{name}' version '{version}' cannot be activated: nothing was uploaded "
        "to its storage URL.",
    )


def package_not_updatable(name: str, version: str) -> ApiError:
    return _batch(
        409,
        "ApplicationPackageUpdateNotAllowed",
        f"The application '{name}' does not allow updates, and version '{version}' is already active.",
    )


def invalid_package_format(value: str) -> ApiError:
    return invalid_parameter(f"The application package format '{value}' is not supported; use 'zip'.", "format")
