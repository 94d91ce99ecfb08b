"""A static bearer-token credential for the emulator targets (which accept any bearer token).

Implements azure-core's `TokenCredential` (get_token) and `SupportsTokenInfo` (get_token_info,
preferred by azure-core's BearerTokenCredentialPolicy when present) protocols without importing
azure-core until a token is asked for.
"""

from __future__ import annotations

import time
from typing import Any

EMULATOR_TOKEN = "emulator-token"


class StaticTokenCredential:
    """Always the same token, valid for a day from the moment it is asked for."""

    def __init__(self, token: str = EMULATOR_TOKEN, lifetime: int = 86400) -> None:
        self._token = token
        self._lifetime = lifetime

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + self._lifetime)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        now = int(time.time())
        return AccessTokenInfo(
            self._token, now + self._lifetime, token_type="Bearer", refresh_on=now + self._lifetime // 2
        )

    def close(self) -> None:
        pass

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: Any) -> None:
        pass
