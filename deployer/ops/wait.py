"""`deploy wait` (and `deploy apply --wait`): until the stack's pools are steady and its jobs have no
active or running task, then an exit code a pipeline can act on.

Each poll is one `StackReader.read(failed_tasks=0)`: the pool list, node counts, job and
schedule lists per account and one task count per unfinished job (completed jobs are not
counted again). A progress bar on a terminal; a line whenever the summary changes (and at least
every HEARTBEAT seconds) when piped. At the end, if anything failed, one more read names the
failed tasks (exit code, failure, stderr's last lines) and the pools' errors.

Exit codes (deployer.ops): 0 every task succeeded and every pool got its nodes; 3 a task failed
or a pool settled with resize errors or nodes in starttaskfailed/unusable (a pool that settled
with errors ends the wait at once: its tasks may never get a node); 4 `--timeout` passed first.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any

from deployer.errors import UsageError
from deployer.ops import EXIT_FAILED, EXIT_OK, EXIT_TIMEOUT
from deployer.ops.reader import Snapshot, StackReader
from deployer.ops.status import poll_interval, print_wide, render

HEARTBEAT = 30.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_SIMPLE = re.compile(r"^(?:\d+(?:\.\d+)?[smhd])+$", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])", re.IGNORECASE)
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in `90`, `90s`, `15m`, `1h30m`, `2d` or ISO 8601 `PT15M`; anything else is a usage error."""
    value = text.strip()
    iso = _ISO.match(value)
    if iso and value.upper() not in ("P", "PT"):
        d, h, m, s = (float(g) if g else 0.0 for g in iso.groups())
        return d * 86400 + h * 3600 + m * 60 + s
    if _NUMBER.match(value):
        return float(value)
    if _SIMPLE.match(value):
        return sum(float(n) * _UNITS[unit.lower()] for n, unit in _PART.findall(value))
    raise UsageError(f"--timeout {text!r}: not a duration; use e.g. 90s, 15m, 1h30m or PT15M")


def summary_line(snapshot: Snapshot, elapsed: float) -> str:
    totals = snapshot.totals()
    found = [p for p in snapshot.pools if p.presence == "found"]
    steady = sum(1 for p in found if p.steady)
    total = totals["active"] + totals["running"] + totals["completed"]
    return (f"pools {steady}/{len(found)} steady, tasks {totals['completed']}/{total} completed "
            f"({totals['running']} running, {totals['active']} active, {totals['failed']} failed), {elapsed:.0f}s")


def settled_with_errors(snapshot: Snapshot) -> bool:
    return any(p.steady and p.problems for p in snapshot.pools)


def run_wait(reader: StackReader, *, timeout: float | None, fmt: str = "text", interval: float | None = None,
             progress: bool | None = None) -> int:
    """Wait, print, return the exit code."""
    interval = poll_interval(reader.clients) if interval is None else interval
    bar = (sys.stderr.isatty() if progress is None else progress) and fmt == "text"
    started = time.monotonic()
    display = _Bar() if bar else _Lines()
    timed_out = False
    with display:
        while True:
            snapshot = reader.read(failed_tasks=0)
            elapsed = time.monotonic() - started
            _require_deployed(snapshot)
            display.update(snapshot, elapsed)
            if snapshot.done or settled_with_errors(snapshot):
                break
            if timeout is not None and elapsed >= timeout:
                timed_out = True
                break
            time.sleep(interval if timeout is None else max(0.0, min(interval, timeout - elapsed)))
    if snapshot.failed:
        snapshot = reader.read()  # name the failed tasks and nodes
    code = EXIT_FAILED if snapshot.failed else (EXIT_TIMEOUT if timed_out else EXIT_OK)
    _report(snapshot, code, time.monotonic() - started, timeout, fmt)
    return code


def _require_deployed(snapshot: Snapshot) -> None:
    absent = [f"{r.address} ({r.presence})" for r in snapshot.pools if r.presence != "found"]
    absent += [f"{r.address} ({r.presence})" for r in snapshot.jobs if r.presence != "found"]
    if absent:
        raise UsageError(f"nothing to wait for: {', '.join(absent)}; apply the stack first "
                         "(a resource another stack or no stack owns is never read)")


def _report(snapshot: Snapshot, code: int, elapsed: float, timeout: float | None, fmt: str) -> None:
    result = {EXIT_OK: "succeeded", EXIT_FAILED: "failed", EXIT_TIMEOUT: "timeout"}[code]
    if fmt == "json":
        document = snapshot.to_dict()
        document["wait"] = {"result": result, "exitCode": code, "elapsed": round(elapsed, 3)}
        sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")  # one line, as apply's events
        sys.stdout.flush()
        return
    from deployer.console import out

    line = summary_line(snapshot, elapsed)
    if code == EXIT_OK:
        out().print(f"[green]Wait complete:[/green] {line}.")
        return
    print_wide(render(snapshot))
    if code == EXIT_TIMEOUT:
        out().print(f"[bold red]Timed out[/bold red] after {timeout:.0f}s: {line}.")
    else:
        out().print(f"[bold red]Wait failed:[/bold red] {line}.")


class _Lines:
    """Not a terminal: a line on stderr when the summary changes, at least every HEARTBEAT seconds."""

    def __init__(self) -> None:
        self.last = ""
        self.last_at = 0.0

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def update(self, snapshot: Snapshot, elapsed: float) -> None:
        line = summary_line(snapshot, elapsed)
        key = line.rsplit(",", 1)[0]
        now = time.monotonic()
        if key != self.last or now - self.last_at >= HEARTBEAT:
            sys.stderr.write(f"{time.strftime('%H:%M:%S')} waiting: {line}\n")
            sys.stderr.flush()
            self.last, self.last_at = key, now


class _Bar:
    """A terminal: a rich progress bar of completed tasks, on stderr."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from deployer.console import err

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err(), transient=True)
        self.task = self.progress.add_task("waiting", total=None)

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self.progress.__exit__(*args)

    def update(self, snapshot: Snapshot, elapsed: float) -> None:
        totals = snapshot.totals()
        total = totals["active"] + totals["running"] + totals["completed"]
        found = [p for p in snapshot.pools if p.presence == "found"]
        steady = sum(1 for p in found if p.steady)
        self.progress.update(self.task, total=total or None, completed=totals["completed"],
                             description=f"pools {steady}/{len(found)} steady · {totals['running']} running · "
                                         f"{totals['failed']} failed")
