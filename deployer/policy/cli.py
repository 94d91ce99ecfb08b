"""The `deploy check` command (registered on the main app by `register`)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)


def check_command(
    stacks: Annotated[list[Path], typer.Argument(help="Stack files to check (YAML).", show_default=False)],
    output_format: Annotated[CheckFormat, typer.Option(
        "--format", help="text (FILE:LINE:COL lines), json, or sarif (GitHub code scanning).")] = CheckFormat.text,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file instead of stdout.",
                                             show_default=False)] = None,
    var_file: Annotated[list[Path] | None, typer.Option("--var-file", help="YAML mapping of template variables.",
                                                        show_default=False)] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="Template variable NAME=VALUE.",
                                                  show_default=False)] = None,
) -> None:
    """Check stacks against the built-in security and cost rules. No credentials, no network.

    Exit 0 when nothing is left to fix (notes and suppressed findings do not fail), 1 otherwise.
    Suppress a finding with a YAML comment giving a reason: `# deploy:ignore BDP004 why`.
    """
    from deployer.cli import _variables
    from deployer.errors import UsageError
    from deployer.policy.check import check_file
    from deployer.policy.report import render_json, render_sarif, render_text

    variables = _variables(var_file, var)
    results = []
    for path in stacks:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        results += check_file(path, str(path), variables)
    render = {"text": render_text, "json": render_json, "sarif": render_sarif}[output_format.value]
    text = render(results)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    raise typer.Exit(1 if any(r.fails for r in results) else 0)
