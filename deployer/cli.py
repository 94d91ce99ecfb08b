"""The `deploy` command line: parse options, call the engine, hand results to console.

Exit codes scripts can rely on: 0 success, 1 any error (bad input, bad flag, Azure refused),
2 only where a command documents it (`plan --detailed-exitcode`: changes present).
Heavy imports (the Azure SDKs, jsonschema, rich) happen inside the commands that need them.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from deployer import __version__

app = typer.Typer(
    name="deploy",
    help="Declarative deployer for Azure Batch: validate, plan, apply and destroy stacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
emulator_app = typer.Typer(help="Run the local Azure emulator (Resource Manager, Batch, Storage).",
                           no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class PlanFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class TargetKind(str, Enum):
    local = "local"
    emulator = "emulator"
    azure = "azure"


TargetOption = Annotated[
    TargetKind | None,
    typer.Option("--target", help="Where to deploy, overriding the stack's target.kind (local runs the "
                 "embedded emulator)."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"batch-deployer {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
) -> None:
    """Declarative deployer for Azure Batch: validate, plan, apply and destroy stacks."""


@app.command()
def validate(
    stacks: Annotated[
        list[Path],
        typer.Argument(help="Stack files to check (YAML).", show_default=False),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="text: FILE:LINE:COL diagnostics on stderr; json: one document on stdout."),
    ] = OutputFormat.text,
) -> None:
    """Check stacks against the schema and Azure's rules. No credentials, no network."""
    from deployer.console import print_validation
    from deployer.stack.validate import validate_file

    results = [validate_file(path) for path in stacks]
    print_validation(results, output_format.value)
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@app.command()
def plan(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML).", show_default=False)],
    target: TargetOption = None,
    output_format: Annotated[
        PlanFormat,
        typer.Option("--format", help="text (like Terraform), json (stable, documented shape) or markdown "
                     "(for a pull-request comment)."),
    ] = PlanFormat.text,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the plan to this file, for `deploy apply FILE`.", show_default=False),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0 with no changes, 2 with changes, 1 on error."),
    ] = False,
) -> None:
    """Diff the stack against live state and show every change it would make."""
    from deployer.console import print_plan
    from deployer.plan.run import plan_stack_file, saved_plan_text

    run = plan_stack_file(stack, target.value if target else None)
    print_plan(run.plan, output_format.value)
    if out is not None:
        try:
            out.write_text(saved_plan_text(run, stack), encoding="utf-8")
        except OSError as exc:
            from deployer.errors import UsageError

            raise UsageError(f"cannot write the plan to {out}: {exc.strerror or exc}") from None
    raise typer.Exit(2 if detailed_exitcode and not run.plan.is_empty else 0)


@app.command()
def schema() -> None:
    """Print the stack file's JSON Schema (for editors and CI)."""
    from deployer.stack.schema import schema_text

    sys.stdout.write(schema_text())


@emulator_app.command("serve")
def emulator_serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on (loopback only).", min=1, max=65535)] = 8443,
    data: Annotated[
        Path | None,
        typer.Option(help="Data directory (default: $DEPLOY_LOCAL_DIR or ./.deploy)."),
    ] = None,
) -> None:
    """Serve the emulator over HTTPS for any Azure SDK client; prints the endpoint and CA file."""
    from deployer.emulator.core.server import serve
    from deployer.emulator.core.store import resolve_data_dir

    serve(port=port, data_dir=resolve_data_dir(data))


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command and turn every user mistake into a message and exit 1."""
    from deployer.errors import DeployerError, StackError

    click = _click_exceptions()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="deploy", standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return 0
    except click.UsageError as exc:
        hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx else ""
        _error(f"{exc.format_message()}{hint}")
        return 1
    except click.ClickException as exc:
        _error(exc.format_message())
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        _error("aborted")
        return 1
    except StackError as exc:
        from deployer.console import print_diagnostics

        print_diagnostics(exc.diagnostics)
        return 1
    except DeployerError as exc:
        _error(str(exc))
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:  # a bug in the deployer, not a user mistake
        if os.environ.get("DEPLOY_DEBUG"):
            raise
        _error(f"internal error (a bug in batch-deployer, please report it): {type(exc).__name__}: {exc}\n"
               "Run again with DEPLOY_DEBUG=1 to see the traceback.")
        return 1
    return result if isinstance(result, int) else 0


def _click_exceptions():  # type: ignore[no-untyped-def]
    """Click's exception module: typer ≥ 0.24 vendors click, older versions depend on it."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _error(message: str) -> None:
    from deployer.console import print_error

    print_error(message)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
