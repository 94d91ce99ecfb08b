"""The `deploy` command line: parse options, call the engine, hand results to console.

Exit codes scripts can rely on: 0 success, 1 any error (bad input, bad flag, Azure refused),
2 only where a command documents it (`plan --detailed-exitcode`: changes present); `wait` and
`apply --wait`: 3 a task failed or a pool has allocation errors, 4 timeout (deployer.ops).
Heavy imports (the Azure SDKs, jsonschema, rich) happen inside the commands that need them.
"""

from __future__ import annotations

import functools
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


ParallelismOption = Annotated[int, typer.Option("--parallelism", help="Changes made at once.", min=1)]
RunFormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="text (progress lines or a live view), json (one JSON event per line)."),
]
TargetOption = Annotated[
    TargetKind | None,
    typer.Option("--target", help="Where to deploy, overriding the stack's target.kind (local runs the "
                 "embedded emulator); a template stack (*.j2) reads it as deploy.target."),
]


OnlyOption = Annotated[
    list[str] | None,
    typer.Option("--only", help="Limit the run to this resource address (repeatable), and what it needs.",
                 show_default=False),
]
LockTimeoutOption = Annotated[
    float,
    typer.Option("--lock-timeout", help="Seconds to wait for another run of the stack to finish.", min=0),
]
AutoApproveOption = Annotated[
    bool, typer.Option("--auto-approve", help="Do not ask for confirmation (needed when not on a terminal)."),
]
ForceOption = Annotated[
    bool,
    typer.Option("--force", help="Allow deleting accounts and networks that another stack file with the same "
                 "`stack:` name declared (recorded when it applied them)."),
]
AllowDataLossOption = Annotated[
    bool,
    typer.Option("--allow-data-loss", help="Allow deleting or replacing storage accounts, file shares and "
                 "blob containers (never resources with protect: true)."),
]
SubscriptionOption = Annotated[
    str | None,
    typer.Option("--subscription", help="Azure subscription id, overriding the stack's target.subscription.",
                 show_default=False),
]
VarFileOption = Annotated[
    list[Path] | None,
    typer.Option("--var-file", help="YAML mapping of template variables (repeatable): overrides the stack's "
                 "vars:, later files win.", show_default=False),
]
VarOption = Annotated[
    list[str] | None,
    typer.Option("--var", help="Template variable NAME=VALUE (repeatable): overrides the stack's vars: and "
                 "--var-file, the last one wins.", show_default=False),
]


def _variables(var_files: list[Path] | None, assignments: list[str] | None) -> dict[str, object] | None:
    """--var-file and --var merged (later wins), or None when neither was given."""
    if not var_files and not assignments:
        return None
    from deployer.stack.template import load_variables

    return load_variables(var_files or (), assignments or ())


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
    var_file: VarFileOption = None,
    var: VarOption = None,
    target: Annotated[
        TargetKind | None,
        typer.Option("--target", help="Render template stacks (*.j2) for this target (deploy.target), as "
                     "plan --target would; nothing is contacted."),
    ] = None,
) -> None:
    """Check stacks against the schema and Azure's rules. No credentials, no network."""
    from deployer.console import print_validation
    from deployer.stack.validate import validate_file

    variables = _variables(var_file, var)
    results = [validate_file(path, variables=variables, target=target.value if target else None) for path in stacks]
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
    only: OnlyOption = None,
    var_file: VarFileOption = None,
    var: VarOption = None,
    force: ForceOption = False,
    no_secrets: Annotated[
        bool, typer.Option("--no-secrets", help="Resolve no secret and list no key: write-only values are shown "
                           "as not compared (pull requests without secret access); such a plan cannot be applied."),
    ] = False,
    subscription: SubscriptionOption = None,
    refresh_only: Annotated[
        bool, typer.Option("--refresh-only", help="Only drift: differences made outside batch-deployer since the "
                           "last apply (changes of the stack not applied yet are left out, and counted)."),
    ] = False,
) -> None:
    """Diff the stack against live state and show every change it would make."""
    from deployer.console import print_plan
    from deployer.plan.identity import check_identity
    from deployer.plan.run import plan_stack, saved_plan_text

    override = target.value if target else None
    loaded, clients = _stack_and_clients(stack, override, _variables(var_file, var), subscription)
    run = plan_stack(loaded, clients, override, only or None, secrets=not no_secrets)
    if refresh_only:
        from deployer.plan.drift import refresh_only as drift_only

        run.plan = drift_only(run.plan, run.stack, run.live, _plan_context(run, no_secrets))
    print_plan(run.plan, output_format.value)
    check_identity(run.plan, run.stack, run.live, force=force)
    if out is not None:
        try:
            out.write_text(saved_plan_text(run, stack), encoding="utf-8")
        except OSError as exc:
            from deployer.errors import UsageError

            raise UsageError(f"cannot write the plan to {out}: {exc.strerror or exc}") from None
    raise typer.Exit(2 if detailed_exitcode and not run.plan.is_empty else 0)


@app.command()
def apply(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML), or a plan saved with `deploy plan --out`.",
                                          show_default=False)],
    target: TargetOption = None,
    auto_approve: AutoApproveOption = False,
    parallelism: ParallelismOption = 10,
    wait_for_nodes: Annotated[
        bool, typer.Option("--wait-for-nodes", help="Wait until new pools have allocated their nodes."),
    ] = False,
    allow_data_loss: AllowDataLossOption = False,
    only: OnlyOption = None,
    output_format: RunFormatOption = OutputFormat.text,
    lock_timeout: LockTimeoutOption = 300.0,
    var_file: VarFileOption = None,
    var: VarOption = None,
    force: ForceOption = False,
    wait: Annotated[bool, typer.Option("--wait", help="Then `deploy wait` (exit 3 failed, 4 timeout).")] = False,
    subscription: SubscriptionOption = None,
) -> None:
    """Make the changes a plan shows (planning first, or from a saved plan)."""
    from deployer.apply.engine import check_guards, is_saved_plan, load_saved_plan
    from deployer.ops.cli import wait_after_apply
    from deployer.plan.identity import check_identity
    from deployer.plan.run import plan_stack

    fmt = output_format.value
    override = target.value if target else None
    if not stack.is_file():
        from deployer.errors import UsageError

        raise UsageError(f"{stack}: not a regular file (a device or a pipe?); give a stack or a saved plan file"
                         if stack.exists() else f"{stack}: no such file")
    if is_saved_plan(stack):
        if only:
            from deployer.errors import UsageError

            raise UsageError("--only narrows a plan as it is made: plan again with --only instead")
        if var_file or var:
            from deployer.errors import UsageError

            raise UsageError("a saved plan is applied with the variables it was made with: drop --var/--var-file, "
                             "or plan again with the new values")
        saved_file, clients = _saved_stack(stack, override, subscription)
        with _locked(saved_file.stack, clients, lock_timeout, fmt):
            saved = load_saved_plan(saved_file, override, clients)
            _print_run_plan(saved.plan, fmt)
            check_identity(saved.plan, saved.run.stack, saved.run.live, force=force)
            check_guards(saved.plan, saved.run.stack, allow_data_loss=allow_data_loss)
            code = _execute(saved.plan, saved.run, fmt, parallelism, wait_for_nodes)
        raise typer.Exit(wait_after_apply(code, wait, saved_file.stack, clients, None, fmt))
    loaded, clients = _stack_and_clients(stack, override, _variables(var_file, var), subscription)
    code = 0
    with _locked(loaded, clients, lock_timeout, fmt):
        run = plan_stack(loaded, clients, override, only or None)
        _print_run_plan(run.plan, fmt)
        if not run.plan.is_empty:
            check_identity(run.plan, run.stack, run.live, force=force)
            check_guards(run.plan, run.stack, allow_data_loss=allow_data_loss)
            _approve(auto_approve, "Apply these changes?")
            code = _execute(run.plan, run, fmt, parallelism, wait_for_nodes)
    raise typer.Exit(wait_after_apply(code, wait, loaded, clients, only, fmt))


@app.command()
def destroy(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML).", show_default=False)],
    target: TargetOption = None,
    auto_approve: AutoApproveOption = False,
    only: OnlyOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Delete accounts even when they hold resources the stack does not own, "
                           "or another stack file with the same `stack:` name declared them."),
    ] = False,
    allow_data_loss: AllowDataLossOption = False,
    parallelism: ParallelismOption = 10,
    output_format: RunFormatOption = OutputFormat.text,
    lock_timeout: LockTimeoutOption = 300.0,
    var_file: VarFileOption = None,
    var: VarOption = None,
    subscription: SubscriptionOption = None,
) -> None:
    """Delete what the stack owns, and nothing else (jobs first, accounts and networks last)."""
    from deployer.apply.engine import check_guards, destroy_plan

    fmt = output_format.value
    override = target.value if target else None
    loaded, clients = _stack_and_clients(stack, override, _variables(var_file, var), subscription)
    with _locked(loaded, clients, lock_timeout, fmt):
        run = destroy_plan(loaded, clients, override, only or None, force=force)
        _print_run_plan(run.plan, fmt)
        if run.plan.is_empty:
            raise typer.Exit(0)
        check_guards(run.plan, run.stack, allow_data_loss=allow_data_loss)
        _approve(auto_approve, f"Destroy these resources of stack {loaded.name}?")
        raise typer.Exit(_execute(run.plan, run, fmt, parallelism, False, verb="Destroy"))


@app.command("force-unlock")
def force_unlock_command(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML).", show_default=False)],
    target: TargetOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before breaking the lock.")] = False,
) -> None:
    """Break the stack's apply lock (when a run died holding it); never a live run's on this host."""
    from deployer.apply.lock import force_unlock
    from deployer.console import info

    loaded, clients = _stack_and_clients(stack, target.value if target else None)
    broken = force_unlock(loaded, clients, confirm=None if yes else _confirm_unlock)
    info(f"lock of stack {loaded.name} broken (was held by {broken.describe()})" if broken
         else f"stack {loaded.name} was not locked")


def _plan_context(run, no_secrets: bool):  # type: ignore[no-untyped-def]
    from deployer.plan.nosecrets import NoSecretsContext
    from deployer.resources.context import LiveContext

    return (NoSecretsContext if no_secrets else LiveContext)(run.stack, run.live, run.clients)


def _confirm_unlock(held) -> bool:  # type: ignore[no-untyped-def]
    from deployer.console import confirm
    from deployer.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"the lock is held by {held.describe()}: pass --yes to break it when not on a terminal")
    return bool(confirm(f"Break the lock held by {held.describe()}?"))


def _stack_and_clients(path: Path, override: str | None,  # type: ignore[no-untyped-def]
                       variables: dict[str, object] | None = None, subscription: str | None = None):
    from deployer.azure.target import clients_for
    from deployer.stack.model import load_stack

    loaded = load_stack(path, variables=variables, target=override)
    if subscription:
        import dataclasses

        loaded = dataclasses.replace(loaded, target=dataclasses.replace(loaded.target, subscription=subscription))
    return loaded, clients_for(loaded.target, loaded.base_dir, override)


def _saved_stack(path: Path, override: str | None, subscription: str | None = None):  # type: ignore[no-untyped-def]
    import dataclasses

    from deployer.apply.engine import read_saved_plan
    from deployer.azure.target import clients_for
    from deployer.plan.show import check_saved

    saved = read_saved_plan(path)
    kind, subscription = check_saved(saved.document, str(path), override, subscription)
    if subscription and subscription != saved.stack.target.subscription and kind == "azure":
        target = dataclasses.replace(saved.stack.target, subscription=subscription)
        saved = dataclasses.replace(saved, stack=dataclasses.replace(saved.stack, target=target))
    return saved, clients_for(saved.stack.target, saved.stack.base_dir, kind)


def _locked(stack, clients, timeout: float, fmt: str):  # type: ignore[no-untyped-def]
    from deployer.apply.lock import stack_lock
    from deployer.console import info

    def waiting(holder) -> None:  # type: ignore[no-untyped-def]
        info(f"waiting up to {timeout:.0f}s for the lock of stack {stack.name}, held by {holder.describe()}", fmt)

    return stack_lock(stack, clients, timeout=timeout, on_wait=waiting)


def _print_run_plan(plan, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from deployer.console import print_plan_event

    print_plan_event(plan, fmt)


def _approve(auto_approve: bool, question: str) -> None:
    from deployer.console import confirm
    from deployer.errors import UsageError

    if auto_approve:
        return
    if not _stdin_is_terminal():
        raise UsageError("refusing to make changes without confirmation: not on a terminal; "
                         "pass --auto-approve to apply unattended")
    if not confirm(question):
        from deployer.console import info

        info("Cancelled: nothing was changed.")
        raise typer.Exit(1)


def _stdin_is_terminal() -> bool:
    """False also when stdin is closed (`<&-` leaves sys.stdin None) or unusable."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def _execute(plan, run, fmt: str, parallelism: int, wait_for_nodes: bool, verb: str = "Apply") -> int:  # type: ignore[no-untyped-def]
    from deployer.apply.executor import execute
    from deployer.console import Progress
    from deployer.resources.read import LiveState

    progress = Progress(fmt)
    try:
        with progress, progress.on_interrupt():
            result = execute(plan, run.stack, run.clients, run.live or LiveState(), parallelism=parallelism,
                             wait_for_nodes=wait_for_nodes, on_event=progress)
    except KeyboardInterrupt:
        progress.interrupted(verb, f"deploy {verb.lower()} {run.stack.file}")
        raise
    progress.summary(result, verb)
    return 0 if result.ok else 1


from deployer.adopt.cli import register as _register_adopt  # noqa: E402 - commands in their own modules

_register_adopt(app)
from deployer.policy.cli import register as _register_policy  # noqa: E402

_register_policy(app)
from deployer.commands.show import register as _register_show  # noqa: E402

_register_show(app)


@app.command()
def render(
    stack: Annotated[Path, typer.Argument(help="The stack file (YAML, a Jinja2 template).", show_default=False)],
    var_file: VarFileOption = None,
    var: VarOption = None,
    target: TargetOption = None,
) -> None:
    """Print the stack as rendered from its template (secret references stay references)."""
    from deployer.stack.loader import read_stack_text
    from deployer.stack.template import render_stack_text

    variables = _variables(var_file, var)
    rendered = render_stack_text(read_stack_text(stack, str(stack)), str(stack), stack.parent, variables,
                                 target.value if target else None)
    sys.stdout.write(rendered.text)


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


@emulator_app.command("reset")
def emulator_reset(
    data: Annotated[
        Path | None,
        typer.Option(help="Data directory (default: $DEPLOY_LOCAL_DIR or ./.deploy)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the local emulator's state (everything the local target holds), e.g. when its state
    file is damaged. Certificates and other files in the folder stay."""
    from deployer.console import confirm, info
    from deployer.emulator.core.store import STATE_FILES, reset_state, resolve_data_dir

    folder = resolve_data_dir(data)
    if not any((folder / name).exists() for name in STATE_FILES):
        info(f"nothing to reset: {folder} holds no local state")
        return
    if not yes:
        if not _stdin_is_terminal():
            from deployer.errors import UsageError

            raise UsageError("refusing to delete the local state without confirmation: not on a terminal; "
                             "pass --yes")
        if not confirm(f"Delete the local state in {folder} (every resource of the local target)?"):
            info("Cancelled: nothing was deleted.")
            raise typer.Exit(1)
    removed = reset_state(folder)
    info(f"local state reset: removed {', '.join(p.name for p in removed)} from {folder}")


from deployer.ops.cli import register as _register_ops  # noqa: E402 - status, logs, wait, outputs (issue 13)

_register_ops(app)
from deployer.commands.convert import register as _register_convert  # noqa: E402 - deploy convert (issue 17)

_register_convert(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command and turn every user mistake into a message and exit 1."""
    from deployer.errors import DeployerError, StackError

    click = _click_exceptions()
    if not os.environ.get("DEPLOY_DEBUG"):
        import logging

        # The SDKs log each failed credential and retry at WARNING; our own messages say what failed.
        logging.getLogger("azure").setLevel(logging.ERROR)
    command = _command()
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
    except SystemExit as exc:  # click's own exit, e.g. after a closed pipe (EPIPE) on stdout
        return exc.code if isinstance(exc.code, int) else 1
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
    except OSError as exc:  # the environment: a full disk, a closed pipe, a file system refusing a name
        return _os_error(exc)
    except Exception as exc:  # a bug in the deployer, not a user mistake
        if os.environ.get("DEPLOY_DEBUG"):
            raise
        _error(f"internal error (a bug in batch-deployer, please report it): {type(exc).__name__}: {exc}\n"
               "Run again with DEPLOY_DEBUG=1 to see the traceback.")
        return 1
    if result == 130:  # typer turns Ctrl-C (KeyboardInterrupt) in a command into a silent exit 130
        _error("interrupted")
    return result if isinstance(result, int) else 0


@functools.cache
def _command():  # type: ignore[no-untyped-def]
    """The click command tree typer builds from `app`: built once per process, not per `main()`
    call (building it is two thirds of an in-process `deploy validate`)."""
    return typer.main.get_command(app)


def _click_exceptions():  # type: ignore[no-untyped-def]
    """Click's exception module: typer ≥ 0.24 vendors click, older versions depend on it."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def _os_error(exc: OSError) -> int:
    """One line for an OSError that reached the edge, exit 1. A closed pipe (`deploy plan | head`)
    is no error of ours to report: nothing is printed."""
    import errno

    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        _closed_pipe.append(True)  # run() points stdout at /dev/null before the interpreter exits
        return 1
    reason = exc.strerror or str(exc) or type(exc).__name__
    try:
        if exc.filename:
            _error(f"{exc.filename}: {reason}")
        elif exc.errno in (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT):
            _error(f"cannot write the output: {reason}")
        else:
            _error(f"system error: {reason}")
    except OSError:  # stderr is gone too: the exit code is all that is left
        pass
    return 1


def _error(message: str) -> None:
    from deployer.console import print_error

    print_error(message)


_closed_pipe: list[bool] = []


def run() -> None:
    """Console-script entry point."""
    code = main()
    if _closed_pipe:  # the interpreter's last flush of stdout would fail again, with a traceback
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    sys.exit(code)
