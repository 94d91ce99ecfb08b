"""Microsoft.Storage error codes, as the storage resource provider and the blob service spell them.

Management errors are rendered in ARM's JSON envelope, data-plane errors (blob/) as storage XML;
the codes are the same objects either way. Lease errors live here because container leases are
shared by both surfaces (`storage.leases`).
"""

from __future__ import annotations

from ..core import ApiError, arm_location_conflict, arm_resource_not_found

ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"


# -- accounts ---------------------------------------------------------------------------------


def account_name_invalid(name: str) -> ApiError:
    return ApiError(400, "AccountNameInvalid", name_invalid_message(name))


def name_invalid_message(name: str) -> str:
    return (
        f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
        "characters in length and use numbers and lower-case letters only."
    )


def name_taken_message(name: str) -> str:
    return f"The storage account named {name} is already taken."


def account_taken(name: str) -> ApiError:
    return ApiError(409, "StorageAccountAlreadyTaken", name_taken_message(name), target=name)


def account_in_another_group(name: str) -> ApiError:
    return ApiError(
        409,
        "StorageAccountInAnotherResourceGroup",
        f"The account {name} is already in another resource group in this subscription.",
        target=name,
    )


def account_not_found(name: str, rg: str) -> ApiError:
    return arm_resource_not_found(ACCOUNT_TYPE, name, rg)


def parent_not_found(name: str) -> ApiError:
    return ApiError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{name}' not found.",
    )


location_conflict = arm_location_conflict  # ARM's own, as every provider answers it


def invalid_values(*params: str) -> ApiError:
    """The resource provider's answer to a missing or unknown value (sku.name, kind, keyName...)."""
    return ApiError(
        400,
        "InvalidValuesForRequestParameters",
        f"Values for request parameters are invalid: {', '.join(params)}.",
    )


# -- containers and shares (management) ---------------------------------------------------------


def container_not_found() -> ApiError:
    return ApiError(404, "ContainerNotFound", "The specified container does not exist.")


def share_not_found() -> ApiError:
    return ApiError(404, "ShareNotFound", "The specified share does not exist.")


def container_name_invalid(message: str) -> ApiError:
    # The resource provider wraps the blob service's own complaint.
    return ApiError(400, "ContainerOperationFailure", message)


def share_name_invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidResourceName", message)


def invalid_share_property(message: str) -> ApiError:
    return ApiError(400, "InvalidHeaderValue", message)


def nfs_not_supported() -> ApiError:
    return ApiError(400, "FeatureNotSupportedForAccount", "NfsFileShares is not supported for the account.")


NAME_CHARS = "The specifed resource name contains invalid characters."  # sic: Azure's spelling
NAME_LENGTH = "The specified resource name length is not within the permissible limits."


# -- leases (blob and container) ----------------------------------------------------------------


def lease_already_present() -> ApiError:
    return ApiError(409, "LeaseAlreadyPresent", "There is already a lease present.")


def lease_not_present_with_lease_operation(what: str) -> ApiError:
    return ApiError(409, "LeaseNotPresentWithLeaseOperation", f"There is currently no lease on the {what}.")


def lease_id_mismatch_with_lease_operation(what: str) -> ApiError:
    return ApiError(
        409,
        "LeaseIdMismatchWithLeaseOperation",
        f"The lease ID specified did not match the lease ID for the {what}.",
    )


def lease_is_breaking(action: str) -> ApiError:
    code = "LeaseIsBreakingAndCannotBeAcquired" if action == "acquire" else "LeaseIsBreakingAndCannotBeChanged"
    verb = "acquired" if action == "acquire" else "changed"
    return ApiError(
        409, code, f"The lease ID matched, but the lease is currently in breaking state and cannot be {verb}."
    )


def lease_is_broken() -> ApiError:
    return ApiError(
        409,
        "LeaseIsBrokenAndCannotBeRenewed",
        "The lease ID matched, but the lease has been broken explicitly and cannot be renewed.",
    )


def lease_id_missing(what: str) -> ApiError:
    return ApiError(
        412,
        "LeaseIdMissing",
        f"There is currently a lease on the {what} and no lease ID was specified in the request.",
    )


def lease_id_mismatch(what: str) -> ApiError:
    code = "LeaseIdMismatchWithBlobOperation" if what == "blob" else "LeaseIdMismatchWithContainerOperation"
    return ApiError(412, code, f"The lease ID specified did not match the lease ID for the {what}.")


def lease_not_present(what: str) -> ApiError:
    code = "LeaseNotPresentWithBlobOperation" if what == "blob" else "LeaseNotPresentWithContainerOperation"
    return ApiError(412, code, f"There is currently no lease on the {what}.")


def invalid_header(name: str, value: str | None) -> ApiError:
    return ApiError(
        400,
        "InvalidHeaderValue",
        "The value for one of the HTTP headers is not in the correct format.",
        details=[{"key": "HeaderName", "value": name}, {"key": "HeaderValue", "value": value or ""}],
    )
