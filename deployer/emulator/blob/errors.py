"""Blob service error codes and messages, as the service spells them (rendered as storage XML).

Lease codes are shared with the management API and live in `storage.errors`.
"""

from __future__ import annotations

from ..core import ApiError


def account_not_found(name: str) -> ApiError:
    # Azure has no such answer (the host name would not resolve); a 404 keeps SDK retries off.
    return ApiError(404, "ResourceNotFound", f"The storage account '{name}' does not exist.")


def container_not_found() -> ApiError:
    return ApiError(404, "ContainerNotFound", "The specified container does not exist.")


def container_already_exists() -> ApiError:
    return ApiError(409, "ContainerAlreadyExists", "The specified container already exists.")


def blob_not_found() -> ApiError:
    return ApiError(404, "BlobNotFound", "The specified blob does not exist.")


def blob_already_exists() -> ApiError:
    return ApiError(409, "BlobAlreadyExists", "The specified blob already exists.")


def invalid_resource_name(message: str) -> ApiError:
    return ApiError(400, "InvalidResourceName", message)


def public_access_not_permitted() -> ApiError:
    return ApiError(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")


def invalid_block_list() -> ApiError:
    return ApiError(400, "InvalidBlockList", "The specified block list is invalid.")


def invalid_xml() -> ApiError:
    return ApiError(400, "InvalidXmlDocument", "XML specified is not syntactically valid.")


def invalid_query(name: str, value: str | None) -> ApiError:
    return ApiError(
        400,
        "InvalidQueryParameterValue",
        "Value for one of the query parameters specified in the request URI is invalid.",
        details=[{"key": "QueryParameterName", "value": name}, {"key": "QueryParameterValue", "value": value or ""}],
    )


def missing_query(name: str) -> ApiError:
    return ApiError(
        400,
        "MissingRequiredQueryParameter",
        "A query parameter that's mandatory for this request is not specified.",
        details=[{"key": "QueryParameterName", "value": name}],
    )


def missing_header(name: str) -> ApiError:
    return ApiError(
        400,
        "MissingRequiredHeader",
        "An HTTP header that's mandatory for this request is not specified.",
        details=[{"key": "HeaderName", "value": name}],
    )


def out_of_range_query(name: str, value: str) -> ApiError:
    return ApiError(
        400,
        "OutOfRangeQueryParameterValue",
        "One of the query parameters specified in the request URI is outside the permissible range.",
        details=[{"key": "QueryParameterName", "value": name}, {"key": "QueryParameterValue", "value": value}],
    )


def invalid_range(size: int) -> ApiError:
    return ApiError(
        416,
        "InvalidRange",
        "The range specified is invalid for the current size of the resource.",
        headers={"Content-Range": f"bytes */{size}"},
    )


def md5_mismatch() -> ApiError:
    return ApiError(
        400,
        "Md5Mismatch",
        "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
    )


def condition_not_met() -> ApiError:
    return ApiError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.")


def not_implemented(what: str) -> ApiError:
    # 501 is not retried by the storage SDK's retry policy.
    return ApiError(501, "NotImplemented", f"The emulator does not implement {what}.")


def unsupported_blob_type(value: str) -> ApiError:
    return ApiError(
        400,
        "InvalidHeaderValue",
        f"The value for one of the HTTP headers is not in the correct format (the emulator stores block "
        f"blobs only, not {value}).",
        details=[{"key": "HeaderName", "value": "x-ms-blob-type"}, {"key": "HeaderValue", "value": value}],
    )


# -- authorization ------------------------------------------------------------------------------


def no_authentication() -> ApiError:
    return ApiError(
        401,
        "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    )


def authentication_failed(detail: str) -> ApiError:
    return ApiError(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
        "correctly including the signature.",
        details=[{"key": "AuthenticationErrorDetail", "value": detail}],
    )


def key_auth_not_permitted() -> ApiError:
    return ApiError(
        403, "KeyBasedAuthenticationNotPermitted", "Key based authentication is not permitted on this storage account."
    )


def _not_authorized(code: str, using: str) -> ApiError:
    return ApiError(403, code, f"This request is not authorized to perform this operation using this {using}.")


def permission_mismatch() -> ApiError:
    return _not_authorized("AuthorizationPermissionMismatch", "permission")


def resource_type_mismatch() -> ApiError:
    return _not_authorized("AuthorizationResourceTypeMismatch", "resource type")


def service_mismatch() -> ApiError:
    return _not_authorized("AuthorizationServiceMismatch", "service")


def protocol_mismatch() -> ApiError:
    return _not_authorized("AuthorizationProtocolMismatch", "protocol")
