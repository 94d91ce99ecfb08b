"""Starting and killing task processes: Batch's command-line rules, one process group each.

A Linux command line is split as a shell would split words (shlex) and executed directly, with
no shell (Batch documents this: who wants pipes or `$VAR` writes `/bin/bash -c "..."`). Every
process starts its own session, so the whole tree it spawns can be killed with one signal.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from pathlib import Path

# What a task inherits from the agent's environment; everything else comes from Batch's rules.
INHERITED = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SHELL")


class SpawnError(Exception):
    """The command could not start (empty, unbalanced quotes, program not found)."""


def split(command_line: str) -> list[str]:
    try:
        argv = shlex.split(command_line)
    except ValueError as exc:
        raise SpawnError(f"The command line cannot be parsed: {exc}") from None
    if not argv:
        raise SpawnError("The command line is empty.")
    return argv


def base_environment() -> dict[str, str]:
    return {k: os.environ[k] for k in INHERITED if k in os.environ}


def spawn(command_line: str, cwd: Path, env: dict[str, str], stdout: Path, stderr: Path) -> subprocess.Popen[bytes]:
    """Start the command in its own session, its output in (fresh) `stdout` / `stderr`."""
    argv = split(command_line)
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        try:
            return subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise SpawnError(f"The command could not be started: {exc.strerror or exc} ({argv[0]})") from None


def exit_code(returncode: int) -> int:
    """A shell's view of how the process ended: 128 + signal number when it was killed."""
    return 128 - returncode if returncode < 0 else returncode


def kill_group(pgid: int) -> None:
    """SIGKILL the whole process group (the task and everything it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process's group and reap the process itself."""
    kill_group(proc.pid)
    with contextlib.suppress(Exception):
        proc.wait(timeout=5)


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22): with the pid,
    it identifies a process across pid reuse."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(text.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def kill_orphan(pgid: int, ticks: int | None) -> None:
    """Kill a process group a previous agent started. Its leader may have exited while its
    children live on: the kernel never reuses a pid still held as a group id, so a group with
    no leader is still ours; a leader with another start time is someone else's."""
    if ticks is None or not Path("/proc/self/stat").exists():
        return  # without /proc (not Linux) a recycled id cannot be told apart: never kill blindly
    now = start_ticks(pgid)
    if now is None or now == ticks:
        kill_group(pgid)
