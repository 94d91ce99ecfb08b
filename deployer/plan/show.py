"""Saved plans: `check_saved` says where one may be applied (`deploy show` is deployer.commands.show).

A saved plan records its target (kind, subscription, resource group) and whether its secrets were
compared. `deploy apply PLANFILE --target OTHER` is refused: the plan was made against other live
state. A plan made with `--no-secrets` is refused too: it cannot have seen a changed secret.
"""

from __future__ import annotations

from typing import Any

from deployer.errors import UsageError


def check_saved(document: dict[str, Any], path: str, override: str | None,
                subscription: str | None = None) -> tuple[str, str | None]:
    """The target kind and subscription to apply the saved plan on (those it was planned for);
    UsageError when asked for another."""
    found = document.get("target")
    target: dict[str, Any] = found if isinstance(found, dict) else {}
    kind = str(target.get("kind") or "")
    if override and kind and override != kind:
        raise UsageError(f"{path} was planned for the {kind} target: refusing to apply it on {override} "
                         f"(plan again with --target {override})")
    saved_subscription = target.get("subscription")
    if subscription and saved_subscription and subscription.lower() != str(saved_subscription).lower():
        raise UsageError(f"{path} was planned for subscription {saved_subscription}: refusing to apply it on "
                         f"{subscription} (plan again with --subscription {subscription})")
    if document.get("secretsCompared") is False:
        raise UsageError(f"{path} was planned with --no-secrets, so it cannot have seen a changed secret: "
                         "plan again with access to the secrets, and apply that plan")
    return override or kind, subscription or (str(saved_subscription) if saved_subscription else None)
