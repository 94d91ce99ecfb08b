"""Microsoft.Authorization error codes (ARM envelope)."""

from __future__ import annotations

from ..core import ApiError


def not_found(name: str) -> ApiError:
    return ApiError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


def exists(name: str) -> ApiError:
    return ApiError(409, "RoleAssignmentExists", "The role assignment already exists.")


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidRoleAssignmentRequest", message)


def principal_not_found(principal: str) -> ApiError:
    return ApiError(400, "PrincipalNotFound",
                    f"Principal {principal.replace('-', '')} does not exist in the directory "
                    "00000000-0000-0000-0000-0000000000aa.")


def role_not_found(role: str) -> ApiError:
    return ApiError(404, "RoleDefinitionDoesNotExist",
                    f"The specified role definition with ID '{role}' does not exist.")
