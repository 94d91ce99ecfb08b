"""Signing in to Azure: one clear message on every command when no credential works.

The `azure` target signs in with azure-identity's DefaultAzureCredential. When none of its
credentials can get a token, the SDK raises ClientAuthenticationError with a dozen lines about
each credential it tried — wherever the first request happens to be made (reading live state,
taking the apply lock's blob lease, breaking it). Instead:

* `check_sign_in` asks for a Resource Manager token once, before any request is made, so every
  command that reaches Azure fails at the same place, with the same message;
* `SignInCredential` wraps the credential so that a token that cannot be had later (expired
  federation token, revoked role) is the same `SignInError`, never a traceback.

The message names the three ways to sign in (see docs/login.md): `az login` on a laptop,
workload identity federation in CI (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE),
a managed identity on an Azure host.
"""

from __future__ import annotations

from typing import Any

from deployer.errors import DeployerError

#: Resource Manager's token scope per cloud (`deployer.azure.clients.CLOUDS` names)
ARM_SCOPES = {
    "AzureCloud": "https://management.azure.com/.default",
    "AzureChinaCloud": "https://management.chinacloudapi.cn/.default",
    "AzureUSGovernment": "https://management.usgovcloudapi.net/.default",
}

WAYS_TO_SIGN_IN = (
    "sign in with `az login` (a laptop), workload identity federation (CI: set AZURE_CLIENT_ID, "
    "AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, as azure/login or an Azure Pipelines service "
    "connection does), or a managed identity (an Azure VM or container; AZURE_CLIENT_ID picks a "
    "user-assigned one); see docs/login.md"
)

_NOTHING_FOUND = "failed to retrieve a token from the included credentials"


class SignInError(DeployerError):
    """No credential could get a token for Azure."""


def sign_in_message(exc: BaseException | None = None) -> str:
    """One line: why signing in failed (when a configured credential said why) and how to sign in."""
    reason = _reason(exc)
    return f"could not sign in to Azure ({reason}): {WAYS_TO_SIGN_IN}"


def _reason(exc: BaseException | None) -> str:
    text = str(getattr(exc, "message", None) or exc or "").strip()
    first = text.splitlines()[0].strip() if text else ""
    if not first or _NOTHING_FOUND in first or "authentication unavailable" in first:
        return "no credentials found"
    return first.rstrip(".")


class SignInCredential:
    """A TokenCredential that turns every sign-in failure of the wrapped one into SignInError."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._guard(lambda: self.inner.get_token(*scopes, **kwargs))

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        if not hasattr(self.inner, "get_token_info"):
            return self.get_token(*scopes)
        return self._guard(lambda: self.inner.get_token_info(*scopes, options=options))

    def _guard(self, call: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return call()
        except ClientAuthenticationError as exc:  # CredentialUnavailableError is one too
            raise SignInError(sign_in_message(exc)) from None

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> SignInCredential:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()


def check_sign_in(credential: Any, cloud: str = "AzureCloud") -> None:
    """Get a Resource Manager token now (the credential caches it), or raise SignInError."""
    scope = ARM_SCOPES.get(cloud, ARM_SCOPES["AzureCloud"])
    SignInCredential(credential).get_token(scope)
