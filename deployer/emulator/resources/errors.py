"""Microsoft.Resources error codes, as Azure Resource Manager spells them."""

from __future__ import annotations

from ..core import ApiError


def group_not_found(name: str) -> ApiError:
    return ApiError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def invalid_name(name: str, bad: str) -> ApiError:
    if bad:
        message = (
            f"The provided resource group name '{name}' has these invalid characters: '{bad}'. "
            "The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
        )
    else:
        message = (
            f"The provided resource group name '{name}' is invalid: resource group names are 1 to 90 "
            "characters long and cannot end in a period."
        )
    return ApiError(400, "InvalidResourceGroup", message)


def location_conflict(requested: str, existing: str) -> ApiError:
    return ApiError(
        409,
        "InvalidResourceGroupLocation",
        f"Invalid resource group location '{requested}'. The Resource group already exists in location '{existing}'.",
    )


def invalid_filter(text: str) -> ApiError:
    return ApiError(
        400,
        "InvalidFilterInQueryString",
        f"The filter '{text}' is invalid: only \"tagName eq '<name>' [and tagValue eq '<value>']\" is supported.",
    )


def invalid_tags() -> ApiError:
    return ApiError(400, "InvalidTagsFormat", "Tags must be an object of string names to string values.")
