"""Saved plans: `deploy show PLANFILE` renders one, and `check_saved` says where it may be applied.

A saved plan records its target (kind, subscription, resource group) and whether its secrets were
compared. `deploy apply PLANFILE --target OTHER` is refused: the plan was made against other live
state. A plan made with `--no-secrets` is refused too: it cannot have seen a changed secret.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from deployer.errors import UsageError


class ShowFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


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


def register(app: typer.Typer) -> None:
    app.command("show")(show_command)


def show_command(
    planfile: Annotated[Path, typer.Argument(help="A plan saved with `deploy plan --out`.", show_default=False)],
    output_format: Annotated[ShowFormat, typer.Option(
        "--format", help="text, json or markdown (a pull-request comment).")] = ShowFormat.text,
) -> None:
    """Print a saved plan (no credentials, no network): what `deploy apply PLANFILE` would do."""
    from deployer.plan.model import Plan
    from deployer.plan.render import render_json, render_markdown, render_text

    try:
        text = planfile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the saved plan {planfile}: {getattr(exc, 'strerror', None) or exc}") from None
    plan = Plan.from_json(text, str(planfile))
    if output_format is ShowFormat.json:
        sys.stdout.write(render_json(plan))
    elif output_format is ShowFormat.markdown:
        sys.stdout.write(render_markdown(plan))
    else:
        sys.stdout.write(render_text(plan, color=sys.stdout.isatty()))
