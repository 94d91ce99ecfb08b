"""Key Vault error codes and messages, as the service spells them (Key Vault's `{"error": {...}}` shape)."""

from __future__ import annotations

from ..core import ApiError

#: The tenant the emulator's challenge names (any token is accepted, whatever its tenant).
EMULATOR_TENANT = "00000000-0000-0000-0000-000000000000"
#: The resource Key Vault's challenge names; clients ask for a token of scope `{resource}/.default`.
RESOURCE = "https://vault.azure.net"
_HELP = " For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"


def challenge() -> ApiError:
    """401 with the bearer challenge SecretClient's ChallengeAuthPolicy answers."""
    header = f'Bearer authorization="https://login.microsoftonline.com/{EMULATOR_TENANT}", resource="{RESOURCE}"'
    return ApiError(
        401,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
        headers={"WWW-Authenticate": header},
    )


def secret_not_found(name: str, version: str | None = None) -> ApiError:
    which = f"{name}/{version}" if version else name
    return ApiError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {which} was not found in this key vault. If you recently deleted this secret you "
        "may be able to recover it using the correct recovery command." + _HELP,
    )


def bad_parameter(message: str) -> ApiError:
    return ApiError(400, "BadParameter", message)


def forbidden_disabled(name: str) -> ApiError:
    return ApiError(403, "Forbidden", f"Operation get is not allowed on a disabled secret ({name}).")


def invalid_name(name: str) -> ApiError:
    return ApiError(
        400,
        "BadParameter",
        f"The request URI contains an invalid name: {name}. Secret names are 1 to 127 letters, digits and dashes.",
    )
