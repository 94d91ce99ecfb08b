"""`deploy show PLANFILE`: print a saved plan (no credentials, no network)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class ShowFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def register(app: typer.Typer) -> None:
    app.command("show")(show_command)


def show_command(
    planfile: Annotated[Path, typer.Argument(help="A plan saved with `deploy plan --out`.", show_default=False)],
    output_format: Annotated[ShowFormat, typer.Option(
        "--format", help="text, json or markdown (a pull-request comment).")] = ShowFormat.text,
) -> None:
    """Print a saved plan (no credentials, no network): what `deploy apply PLANFILE` would do."""
    from deployer.errors import UsageError
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
