"""`deploy plan --no-secrets`: a plan for a pipeline that has no access to the stack's secrets
(a pull request from a fork, a reviewer's laptop).

Nothing is resolved: no environment variable, file or Key Vault secret is read and no storage
account key is listed (a Reader role suffices). Every write-only value that would need one is
shown as not compared, with a warning saying so; everything else is planned as usual. A plan
saved this way records `"secretsCompared": false`, and `deploy apply` refuses it: it cannot
have seen a changed secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployer.errors import SecretUnavailable
from deployer.resources.context import LiveContext
from deployer.stack.model import Address

NOT_COMPARED = "not compared: planned with --no-secrets"


@dataclass
class NoSecretsContext(LiveContext):
    """A LiveContext that resolves no secret and lists no key."""

    no_secrets: bool = True

    def secret(self, reference: str) -> str | None:
        return None

    def require_secret(self, reference: str) -> str:
        raise SecretUnavailable(f"secret {reference}: {NOT_COMPARED}")

    def storage_account_key(self, address: Address) -> str | None:
        return None
