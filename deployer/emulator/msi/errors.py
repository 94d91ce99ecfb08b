"""Microsoft.ManagedIdentity error codes (ARM envelope)."""

from __future__ import annotations

from ..core import ApiError, arm_resource_not_found

TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def not_found(name: str, rg: str) -> ApiError:
    return arm_resource_not_found(TYPE, name, rg)


def invalid_name(name: str) -> ApiError:
    return ApiError(400, "InvalidResourceName",
                    f"Resource name {name} is invalid. The name can be 3-128 characters long: letters, digits, "
                    "hyphens and underscores, starting with a letter or digit.")
