"""The day-2 commands on the `deploy` command line: status, logs, wait, outputs (registered by
deployer.cli with `register(app)`; they share its option types and its stack/clients loading)."""

# No `from __future__ import annotations`: typer reads the option types of the commands below from
# their annotations, which name deployer.cli's types through a local import.
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer


class StatusFormat(str, Enum):
    text = "text"
    json = "json"


class OutputsFormat(str, Enum):
    text = "text"
    json = "json"
    env = "env"


StackArgument = Annotated[Path, typer.Argument(help="The stack file (YAML).", show_default=False)]
TimeoutOption = Annotated[
    str | None,
    typer.Option("--timeout", help="Give up after this long (90s, 15m, 1h30m, PT15M) and exit 4.",
                 show_default=False),
]


def register(app: typer.Typer) -> None:
    from deployer import cli as base

    def reader(stack: Path, target: Any, only: list[str] | None, var_file: Any, var: Any) -> Any:
        from deployer.ops.reader import StackReader

        loaded, clients = base._stack_and_clients(stack, target.value if target else None,
                                                  base._variables(var_file, var))
        return StackReader(loaded, clients, only or None)

    @app.command()
    def status(
        stack: StackArgument,
        target: base.TargetOption = None,
        only: base.OnlyOption = None,
        output_format: Annotated[
            StatusFormat, typer.Option("--format", help="text (tables) or json (versioned document)."),
        ] = StatusFormat.text,
        watch: Annotated[bool, typer.Option("--watch", help="Read again and again until interrupted.")] = False,
        var_file: base.VarFileOption = None,
        var: base.VarOption = None,
    ) -> None:
        """Show what the stack's pools, jobs and schedules are doing (read-only): nodes, errors, task counts,
        failed tasks."""
        from deployer.ops.status import run_status

        raise typer.Exit(run_status(reader(stack, target, only, var_file, var), output_format.value, watch=watch))

    @app.command()
    def logs(
        stack: StackArgument,
        job: Annotated[str, typer.Argument(help="The job (or job schedule) as the stack names it.",
                                           show_default=False)],
        task: Annotated[str | None, typer.Argument(help="The task id; without it, every failed task's last lines.",
                                                   show_default=False)] = None,
        stderr: Annotated[bool, typer.Option("--stderr", help="stderr.txt instead of stdout.txt.")] = False,
        file: Annotated[str | None, typer.Option("--file", help="Any file under the task's directory.",
                                                 show_default=False)] = None,
        follow: Annotated[bool, typer.Option("--follow", "-f", help="Print the file as it grows, until the "
                                             "task completes.")] = False,
        failed: Annotated[bool, typer.Option("--failed", help="The last lines of the job's failed tasks.")] = False,
        lines: Annotated[int, typer.Option("--lines", help="Lines per failed task.", min=1)] = 20,
        target: base.TargetOption = None,
        var_file: base.VarFileOption = None,
        var: base.VarOption = None,
    ) -> None:
        """Print a task's stdout, stderr or another file (Batch file API, byte ranges)."""
        from deployer.ops.logs import run_logs

        raise typer.Exit(run_logs(reader(stack, target, None, var_file, var), job, task, stderr=stderr, path=file,
                                  follow=follow, failed=failed, lines=lines))

    @app.command()
    def wait(
        stack: StackArgument,
        target: base.TargetOption = None,
        only: base.OnlyOption = None,
        timeout: TimeoutOption = None,
        output_format: Annotated[
            StatusFormat, typer.Option("--format", help="text, or json (the status document with the result)."),
        ] = StatusFormat.text,
        var_file: base.VarFileOption = None,
        var: base.VarOption = None,
    ) -> None:
        """Wait until pools are steady and jobs have no active or running task. Exit 0 all tasks succeeded,
        3 a task failed or a pool has allocation errors, 4 timeout."""
        from deployer.ops.wait import parse_duration, run_wait

        seconds = parse_duration(timeout) if timeout else None
        raise typer.Exit(run_wait(reader(stack, target, only, var_file, var), timeout=seconds,
                                  fmt=output_format.value))

    @app.command()
    def outputs(
        stack: StackArgument,
        target: base.TargetOption = None,
        only: base.OnlyOption = None,
        output_format: Annotated[
            OutputsFormat, typer.Option("--format", help="text, json, or env (NAME=value lines for $GITHUB_ENV)."),
        ] = OutputsFormat.text,
        var_file: base.VarFileOption = None,
        var: base.VarOption = None,
    ) -> None:
        """Print endpoints and ids of what the stack deployed, per logical name (never a secret)."""
        from deployer.ops.outputs import print_outputs, read_outputs

        loaded, clients = base._stack_and_clients(stack, target.value if target else None,
                                                  base._variables(var_file, var))
        print_outputs(read_outputs(loaded, clients, only or None), output_format.value)


def wait_after_apply(code: int, wait: bool, stack: Any, clients: Any, only: list[str] | None, fmt: str) -> int:
    """`deploy apply --wait`: when the apply succeeded (and its lock is released), wait for the stack."""
    if code != 0 or not wait:
        return code
    from deployer.ops.reader import StackReader
    from deployer.ops.wait import run_wait

    return run_wait(StackReader(stack, clients, only or None), timeout=None, fmt=fmt)
