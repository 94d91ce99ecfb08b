"""Everything the deployer prints: diagnostics, results, errors.

Colour goes to a terminal only: rich turns it off when the stream is not a TTY and when
NO_COLOR is set. Machine-readable output (JSON) is written plainly to stdout, never styled.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from deployer.errors import Diagnostic
    from deployer.plan.model import Plan
    from deployer.stack.validate import ValidationResult


@cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


_STYLE = {"error": "bold red", "warning": "bold yellow"}


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    from rich.text import Text

    console = err()
    for d in diagnostics:
        where = d.file if not d.line else f"{d.file}:{d.line}:{d.column}"
        line = Text()
        line.append(where, style="bold")
        line.append(": ")
        line.append(f"{d.severity}:", style=_STYLE.get(d.severity, "bold"))
        line.append(f" {d.message}")
        if d.path:
            line.append(f" (at {d.path})", style="dim")
        console.print(line)


def print_validation(results: Sequence[ValidationResult], fmt: str) -> None:
    if fmt == "json":
        write_json(
            {
                "formatVersion": 1,
                "valid": all(r.ok for r in results),
                "files": [{"file": r.file, "valid": r.ok} for r in results],
                "diagnostics": [d.as_dict() for r in results for d in r.diagnostics],
            }
        )
        return
    for result in results:
        print_diagnostics(result.diagnostics)
    for result in results:
        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        if result.ok:
            out().print(f"[green]ok[/green] {result.file}")
        else:
            noun = "error" if errors == 1 else "errors"
            out().print(f"[red]invalid[/red] {result.file}: {errors} {noun}")


def print_plan(plan: Plan, fmt: str) -> None:
    from deployer.plan.render import render_json, render_markdown, render_text

    if fmt == "json":
        sys.stdout.write(render_json(plan))
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(plan))
    else:
        sys.stdout.write(render_text(plan, color=use_color()))
    sys.stdout.flush()


def use_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    import os

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def print_error(message: str) -> None:
    err().print(f"[bold red]error:[/bold red] {message}", markup=True, highlight=False)


def write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False) + "\n")
