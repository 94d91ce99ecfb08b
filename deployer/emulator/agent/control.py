"""Who runs the agent of a data directory, and starting it on demand.

At most one agent runs per data directory: it holds an exclusive `flock` on
`{data_dir}/agent.lock` while it runs (whether a background process or a thread of a served
emulator), so starting one more is always safe: the second finds the lock taken and leaves.

    wake(store)          after a write that queues work: notify the in-process agent, or start
                         the background process if execution is on and none holds the lock
    start_thread(dir)    run the agent in this process (`deploy emulator serve`, tests)
    agent_running(dir)   whether some agent holds the lock

The background process is `python -m deployer.emulator.agent DATA_DIR`, in its own session (a
terminal's Ctrl-C does not reach it), logging to `{data_dir}/agent.log`. It exits by itself once
nothing is running and nothing is queued, after checking again (under no lock) that no work
arrived in between.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..core import Store
from . import settings

LOCK_NAME = "agent.lock"
LOG_NAME = "agent.log"
IDLE_EXIT_SECONDS = 2.0  # DEPLOY_AGENT_IDLE_SECONDS overrides (tests make it short)
#: a background agent leaves when tasks stay queued this long with nothing running or starting
STUCK_EXIT_SECONDS = 600.0  # DEPLOY_AGENT_STUCK_SECONDS overrides
EXECUTE_ENV = "DEPLOY_LOCAL_EXECUTE"

_threads: dict[Path, AgentThread] = {}
_children: dict[Path, subprocess.Popen[bytes]] = {}  # the agent process this one started, per data dir
_lock = threading.Lock()
_last_read_check: dict[Path, float] = {}
READ_CHECK_SECONDS = 1.0


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_NAME


def try_lock(data_dir: Path) -> int | None:
    """The locked file descriptor, or None if another agent holds the lock."""
    fd = os.open(lock_path(data_dir), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def record_pid(fd: int) -> None:
    """Write this process's id into the held lock file (who runs the agent, for `agent_pid`)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)


def agent_pid(data_dir: Path) -> int | None:
    """The process running the data directory's agent, if one runs."""
    if not agent_running(data_dir):
        return None
    try:
        return int(lock_path(data_dir).read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        os.close(fd)


def agent_running(data_dir: Path) -> bool:
    if not data_dir.is_dir():
        return False
    fd = try_lock(data_dir)
    if fd is None:
        return True
    unlock(fd)
    return False


def has_work(store: Store) -> bool:
    """A task queued or running in a job not completed yet, or a release task due (indexed queries)."""
    from ..batch_data import models

    for job in store.by_state(models.KIND_JOB, ("active", "disabling", "enabling", "terminating", "deleting")):
        if store.any_state(models.KIND_TASK, ("active", "running"), parent=job.key):
            return True
    for prep in store.by_state(models.KIND_PREP, ("prepared",)):  # a release task due on an ended job
        owner = store.get(models.KIND_JOB, prep.parent)
        if owner is not None and owner.body["meta"]["state"] in ("completed", "terminating", "deleting"):
            return True
    return False


def _reap_children() -> None:
    for data_dir, child in list(_children.items()):
        if child.poll() is not None:
            del _children[data_dir]


def start_background(data_dir: Path) -> None:
    """Start `python -m deployer.emulator.agent DATA_DIR` (it leaves at once if one already runs;
    none is started while one this process started is still starting up)."""
    with _lock:
        _reap_children()
        if data_dir in _children:
            return
        log = open(data_dir / LOG_NAME, "ab")  # noqa: SIM115 - handed to the child
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "deployer.emulator.agent", str(data_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            log.close()
        _children[data_dir] = child


def wake(store: Store) -> None:
    """Work was queued in `store`: make sure an agent will look at it."""
    thread = _threads.get(store.data_dir)
    if thread is not None:
        thread.agent.notify()
        return
    if not settings.execution_enabled(store):
        return
    if agent_running(store.data_dir):
        return
    start_background(store.data_dir)


def ensure_for_reads(store: Store) -> None:
    """Before answering about tasks: restart a dead agent if work is waiting (kill -9 recovery).
    Looked at most once a second per data directory, so polling reads stay cheap."""
    now = time.monotonic()
    if store.data_dir in _threads or now - _last_read_check.get(store.data_dir, -READ_CHECK_SECONDS) < (
        READ_CHECK_SECONDS
    ):
        return
    _last_read_check[store.data_dir] = now
    if not settings.execution_enabled(store):
        return
    if not agent_running(store.data_dir) and has_work(store):
        start_background(store.data_dir)


class AgentThread:
    """The agent in a thread of this process (served emulator, tests); `stop()` kills its tasks."""

    def __init__(self, data_dir: Path) -> None:
        from .agent import Agent

        self.data_dir = data_dir
        self.agent = Agent(data_dir)
        self._fd: int | None = None
        self._thread = threading.Thread(target=self._main, name=f"agent:{data_dir}", daemon=True)
        self._stop = threading.Event()

    def start(self) -> AgentThread:
        _threads[self.data_dir] = self
        self._thread.start()
        return self

    def _main(self) -> None:
        while not self._stop.is_set():  # a background agent may hold the lock: wait for it to leave
            self._fd = try_lock(self.data_dir)
            if self._fd is not None:
                record_pid(self._fd)
                break
            time.sleep(0.1)
        else:
            self.agent.shutdown()
            return
        try:
            self.agent.run()
        finally:
            unlock(self._fd)

    def stop(self) -> None:
        self._stop.set()
        self.agent.stop()
        self._thread.join(timeout=30)
        _threads.pop(self.data_dir, None)


def attach_local(data_dir: Path, *, execute: bool) -> bool:
    """The local target's data directory: record whether its tasks run (the stack's
    `target.execute`, unless DEPLOY_LOCAL_EXECUTE=0), and restart the agent if work waits.
    Whether tasks run, after that override."""
    execute = execute and os.environ.get(EXECUTE_ENV, "1").strip() not in ("0", "false", "no")
    store = Store(data_dir)
    settings.configure(store, execute=execute)
    if execute:
        ensure_for_reads(store)
    return execute


def start_thread(data_dir: str | os.PathLike[str]) -> AgentThread:
    store = Store(data_dir)
    settings.configure(store, execute=True)
    return AgentThread(store.data_dir).start()


def _idle_seconds() -> float:
    return _seconds("DEPLOY_AGENT_IDLE_SECONDS", IDLE_EXIT_SECONDS)


def _seconds(variable: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(variable, "") or default))
    except ValueError:
        return default


def run_background(data_dir: Path) -> int:
    """The background process: run while there is work, then leave (re-checking after unlocking)."""
    import logging

    from .agent import Agent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(process)d: %(message)s")
    store = Store(data_dir)
    while True:
        fd = try_lock(data_dir)
        if fd is None:
            return 0
        record_pid(fd)
        try:
            agent = Agent(data_dir)
            ended = agent.run(idle_exit=_idle_seconds(), stuck_exit=_seconds("DEPLOY_AGENT_STUCK_SECONDS",
                                                                              STUCK_EXIT_SECONDS))
        finally:
            unlock(fd)
        # Stuck: tasks are queued that no node can take (a pool of 0 nodes, over quota): leave rather
        # than wait on a laptop forever; the next read of a task (status, wait) or write starts an
        # agent again (ensure_for_reads / wake).
        if ended != "idle" or not Path(data_dir).is_dir() or not has_work(store):
            return 0
