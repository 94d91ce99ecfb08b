"""`deploy status`: what the stack's pools, jobs and schedules are doing now.

Text on a terminal (rich tables: pools with allocation state, nodes current/target, node states by
count, resize and start-task errors, the last autoscale run; jobs with state and task counts, then
each failed task with its exit code, failure and stderr's last lines), or the `Snapshot` document
(`--format json`, deployer.ops.FORMAT_VERSION). `--watch` reads again every interval: a live view
on a terminal, one document (or table) per read otherwise, until interrupted.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from deployer.ops.reader import FOUND, JobStatus, PoolStatus, Snapshot, StackReader


def poll_interval(clients: Any) -> float:
    """Seconds between reads: Azure's state moves in seconds to minutes, the emulator's faster."""
    return 10.0 if getattr(clients, "target", "azure") == "azure" else 0.25


def run_status(reader: StackReader, fmt: str, *, watch: bool = False, interval: float | None = None) -> int:
    interval = poll_interval(reader.clients) if interval is None else interval
    if not watch:
        show(reader.read(), fmt)
        return 0
    if fmt == "text" and sys.stdout.isatty():
        from rich.live import Live

        from deployer.console import out

        try:
            with Live(render(reader.read()), console=out(), auto_refresh=False) as live:
                while True:
                    time.sleep(max(interval, 1.0))
                    live.update(render(reader.read()), refresh=True)
        except KeyboardInterrupt:
            return 0
    try:
        while True:
            snapshot = reader.read()
            if fmt == "json":
                sys.stdout.write(json.dumps(snapshot.to_dict(), separators=(",", ":")) + "\n")
                sys.stdout.flush()
            else:
                show(snapshot, fmt)
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


def show(snapshot: Snapshot, fmt: str) -> None:
    if fmt == "json":
        from deployer.console import write_json

        write_json(snapshot.to_dict())
        return
    print_wide(render(snapshot))


def print_wide(renderable: Any) -> None:
    """Print tables whole: on a terminal at its width, otherwise (a pipe, a CI log) as wide as they
    need, never cut at 80 columns."""
    from deployer.console import out

    if sys.stdout.isatty():
        out().print(renderable)
        return
    from rich.console import Console

    Console(highlight=False, width=1000, no_color=True).print(renderable)


def render(snapshot: Snapshot) -> Any:
    """The snapshot as rich renderables: a pools table, a jobs table, the failed tasks."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    if snapshot.pools:
        pools = Table(title=f"Pools of stack {snapshot.stack}", title_justify="left", box=None, pad_edge=False)
        for column in ("pool", "allocation", "dedicated", "spot", "nodes", "autoscale", "problems"):
            pools.add_column(column)
        for pool in snapshot.pools:
            pools.add_row(*_pool_row(pool))
        parts.append(pools)
    if snapshot.jobs:
        jobs = Table(title=f"Jobs of stack {snapshot.stack}", title_justify="left", box=None, pad_edge=False)
        for column in ("job", "state", "active", "running", "succeeded", "failed"):
            jobs.add_column(column, justify="right" if column in ("active", "running", "succeeded", "failed")
                            else "left")
        for job in snapshot.jobs:
            jobs.add_row(*_job_row(job))
        parts.append(jobs)
    for job in snapshot.jobs:
        for task in job.failed_tasks:
            failure = task.failure or {}
            code = "no exit code" if task.exit_code is None else f"exit code {task.exit_code}"
            head = Text(f"failed task {task.id} of {job.address}: {code}", style="bold red")
            if failure:
                head.append(f" ({failure.get('code')}: {failure.get('message')})", style="red")
            parts.append(head)
            if task.stderr:
                parts.append(Text("\n".join("    " + line for line in task.stderr), style="dim"))
            elif task.stderr_error:
                parts.append(Text(f"    (stderr not readable: {task.stderr_error})", style="dim"))
        if job.counts["failed"] > len(job.failed_tasks) and job.failed_tasks:
            parts.append(Text(f"… and {job.counts['failed'] - len(job.failed_tasks)} more failed tasks: "
                              f"deploy logs STACK {job.address.rsplit('.', 1)[-1]} --failed", style="dim"))
    if not parts:
        parts.append(Text(f"stack {snapshot.stack} has no pools, jobs or schedules selected"))
    return Group(*parts)


def _pool_row(pool: PoolStatus) -> list[Any]:
    from rich.text import Text

    if pool.presence != FOUND:
        return [pool.address, Text(pool.presence, style="yellow"), "", "", "", "", ""]
    nodes = ", ".join(f"{state} {n}" for state, n in sorted(pool.node_states.items())) or "none"
    run = pool.auto_scale_run or {}
    autoscale = "off" if not pool.auto_scale else (
        f"error {run['error']['code']}" if run.get("error") else (f"ok at {run.get('timestamp')}" if run else "on"))
    problems = pool.problems
    allocation = Text(str(pool.allocation_state), style="green" if pool.steady else "cyan")
    return [pool.address, allocation, f"{pool.dedicated[0]}/{pool.dedicated[1]}", f"{pool.spot[0]}/{pool.spot[1]}",
            nodes, autoscale, Text("; ".join(problems), style="bold red") if problems else Text("none", style="green")]


def _job_row(job: JobStatus) -> list[Any]:
    from rich.text import Text

    if job.presence != FOUND:
        return [job.address, Text(job.presence, style="yellow"), "", "", "", ""]
    c = job.counts
    state = str(job.state)
    if job.kind == "jobSchedule":
        state += f" (job {job.job_id})" if job.job_id else " (no job yet)"
    return [job.address, state, str(c["active"]), str(c["running"]), str(c["succeeded"]),
            Text(str(c["failed"]), style="bold red" if c["failed"] else "")]
