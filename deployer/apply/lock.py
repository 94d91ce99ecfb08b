"""The apply lock: two applies or destroys of one stack never interleave.

    with stack_lock(stack, clients, timeout=300, on_wait=console.lock_wait) as info:
        ...                                    # apply or destroy; the lock is released on exit
    broken = force_unlock(stack, clients)      # the LockInfo of the run whose lock was broken, or None

A second run waits up to `timeout` seconds (calling `on_wait` once with the holder), then fails
with a `LockError` naming the holder and since when. Where the lock lives follows the target the
clients talk to (`clients.target`, so `--target local` locks locally):

- `local`: `fcntl.flock` on `<data dir>/locks/<stack>.lock` (the data dir of the embedded emulator:
  DEPLOY_LOCAL_DIR or ./.deploy). The holder is written into the file as JSON so a waiter can name
  it. The OS drops a flock when its process dies, even on SIGKILL, so a dead local run never leaves
  a lock behind. `force_unlock` on a lock nobody holds only clears the stale holder record; on a
  lock a live process holds it unlinks the file (new runs lock a new file) and returns the holder.
- `azure` and `emulator`: a 60 s lease on the blob `deployer-locks/<stack>.lock` in the stack's
  first declared storage account (container and blob are created on first use; the container
  carries no ownership marker, so plans never touch it). A daemon thread renews the lease every
  20 s while the lock is held, so the lease of a killed run expires within 60 s. The holder is
  written into the blob's metadata right after acquiring (a write under the lease). The data
  plane is called with the target's token credential; if Azure refuses it (403: no data-plane
  role) the account key, listed through the management API, is used instead. `force_unlock`
  breaks the lease at once (break period 0).

First apply on azure / emulator: the lock's storage account does not exist yet. There is then
nothing to lock on, and nothing of the stack's on that account to race for: the run proceeds
unlocked, logs a warning, and yields a LockInfo with `locked=False` and the reason in `note`
(never a silent fallback to a file lock, which would not exclude a run on another machine). The
very next run (the account now exists) is locked. A stack that declares no storage account cannot
be locked on those targets: that is a LockError saying so.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from deployer.errors import DeployerError
from deployer.stack.model import Kind, Stack

log = logging.getLogger(__name__)

LOCK_CONTAINER = "deployer-locks"
LEASE_SECONDS = 60  # a fixed lease: a killed run's lock is free again within this
RENEW_EVERY = 20.0  # seconds between renewals while the lock is held
RETRY_RENEW = 2.0  # seconds before retrying a renewal that failed for a transient reason
FILE_POLL = 0.05  # seconds between attempts on a file lock
BLOB_POLL = {"azure": 2.0}  # seconds between attempts on a blob lease, per target (default below)
BLOB_POLL_DEFAULT = 0.1

Waiter = Callable[["LockInfo"], None]


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or held) a stack's lock, since when, and where the lock lives.

    `target` is the lock file's path or the lock blob's URL. `locked` is False only when a run
    proceeds unlocked (first apply: the lock's storage account does not exist yet); `note` says why.
    """

    holder: str
    since: datetime | None
    target: str
    locked: bool = True
    note: str = ""

    def describe(self) -> str:
        """`alice@laptop pid 4242 since 2026-11-23T21:05:00Z`."""
        return f"{self.holder} since {format_time(self.since)}" if self.since else self.holder

    def as_dict(self) -> dict[str, object]:
        since = format_time(self.since) if self.since else None
        return {"holder": self.holder, "since": since, "target": self.target, "locked": self.locked, "note": self.note}


class LockError(DeployerError):
    """The stack's lock is held by another run (or cannot be taken on this stack)."""

    def __init__(self, message: str, *, stack: str = "", held_by: LockInfo | None = None) -> None:
        super().__init__(message)
        self.stack = stack
        self.held_by = held_by


# -- who is running ---------------------------------------------------------------------------
def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def ci_job(env: Mapping[str, str] | None = None) -> str | None:
    """The CI job this process runs in (GitHub Actions, Azure Pipelines, GitLab CI), if any."""
    env = os.environ if env is None else env
    if env.get("GITHUB_RUN_ID"):
        run = env["GITHUB_RUN_ID"]
        text = f"GitHub Actions run {run}"
        if env.get("GITHUB_RUN_ATTEMPT", "1") not in ("", "1"):
            text += f" attempt {env['GITHUB_RUN_ATTEMPT']}"
        if env.get("GITHUB_JOB"):
            text += f" job {env['GITHUB_JOB']}"
        if env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            text += f" ({server}/{env['GITHUB_REPOSITORY']}/actions/runs/{run})"
        return text
    if env.get("BUILD_BUILDID"):
        build = env["BUILD_BUILDID"]
        text = f"Azure Pipelines build {build}"
        if env.get("BUILD_DEFINITIONNAME"):
            text += f" of {env['BUILD_DEFINITIONNAME']}"
        if env.get("SYSTEM_JOBDISPLAYNAME"):
            text += f" job {env['SYSTEM_JOBDISPLAYNAME']}"
        if env.get("SYSTEM_COLLECTIONURI") and env.get("SYSTEM_TEAMPROJECT"):
            base = env["SYSTEM_COLLECTIONURI"].rstrip("/")
            text += f" ({base}/{quote(env['SYSTEM_TEAMPROJECT'])}/_build/results?buildId={build})"
        return text
    if env.get("CI_JOB_ID"):
        text = f"GitLab CI job {env['CI_JOB_ID']}"
        return text + (f" ({env['CI_JOB_URL']})" if env.get("CI_JOB_URL") else "")
    return None


def current_holder(env: Mapping[str, str] | None = None) -> str:
    """`alice@laptop pid 4242`, prefixed by the CI job when there is one."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = f"uid{os.getuid()}"
    who = f"{user}@{socket.gethostname()} pid {os.getpid()}"
    job = ci_job(env)
    return f"{job} ({who})" if job else who


# -- the public API ---------------------------------------------------------------------------
@contextlib.contextmanager
def stack_lock(
    stack: Stack,
    clients: Any,
    *,
    timeout: float,
    holder: str | None = None,
    on_wait: Waiter | None = None,
) -> Iterator[LockInfo]:
    """Hold the stack's lock for the block; wait up to `timeout` seconds, then raise LockError."""
    me = LockInfo(holder or current_holder(), _now(), "")
    lock = _lock_for(stack, clients)
    with _azure_errors(stack, "taking"):
        info = lock.acquire(me, timeout, on_wait)
    try:
        yield info
    finally:
        lock.release()


Confirm = Callable[["LockInfo"], bool]


def force_unlock(stack: Stack, clients: Any, confirm: Confirm | None = None) -> LockInfo | None:
    """Break the stack's lock; return the holder it broke (None: nothing was held).

    Refused (LockError) when the holder is a process alive on this host: that run is not dead,
    and breaking its lock would let a second run interleave with it. `confirm(holder)` is asked
    before anything is broken; False keeps the lock (LockError "cancelled").
    """
    lock = _lock_for(stack, clients)

    def check(held: LockInfo) -> None:
        pid = alive_here(held)
        if pid is not None:
            raise LockError(
                f"stack {stack.name} is locked by a run that is still alive on this host ({held.describe()}): "
                f"refusing to break its lock; wait for it, or stop process {pid} first", stack=stack.name,
                held_by=held)
        if confirm is not None and not confirm(held):
            raise LockError(f"cancelled: the lock of stack {stack.name} is still held by {held.describe()}",
                            stack=stack.name, held_by=held)

    with _azure_errors(stack, "breaking"):
        return lock.force(check)


_HOLDER = re.compile(r"(?:^|\()\S+@(?P<host>[^\s()]+) pid (?P<pid>\d+)\)?$")


def alive_here(held: LockInfo) -> int | None:
    """The pid of the lock's holder if it is a process alive on this host (None: elsewhere, or gone)."""
    match = _HOLDER.search(held.holder)
    if match is None or match["host"] != socket.gethostname():
        return None
    pid = int(match["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return pid
    return pid


@contextlib.contextmanager
def _azure_errors(stack: Stack, doing: str) -> Iterator[None]:
    """Azure refusing the lock's requests is a LockError naming the lock, never a traceback."""
    try:
        yield
    except DeployerError:
        raise
    except Exception as exc:
        from azure.core.exceptions import AzureError, ClientAuthenticationError

        if isinstance(exc, ClientAuthenticationError):
            from deployer.azure.login import SignInError, sign_in_message

            raise SignInError(sign_in_message(exc)) from None
        if not isinstance(exc, AzureError):
            raise
        first = (str(getattr(exc, "message", None) or exc).strip().splitlines() or ["no details"])[0]
        raise LockError(f"{doing} the apply lock of stack {stack.name} failed: {first}", stack=stack.name) from None


def _lock_for(stack: Stack, clients: Any) -> _FileLock | _BlobLock:
    target = getattr(clients, "target", None) or stack.target.kind
    if target == "local":
        data_dir = getattr(clients, "data_dir", None)
        if data_dir is None:
            from deployer.emulator.core.store import resolve_data_dir

            data_dir = resolve_data_dir(None)
        return _FileLock(stack, Path(data_dir) / "locks" / f"{stack.name}.lock")
    return _BlobLock(stack, clients)


def _wait(
    stack: Stack, attempt: Callable[[], LockInfo | None], timeout: float, poll: float, on_wait: Waiter | None
) -> None:
    """Call `attempt` (None: acquired, else the current holder) until it succeeds or time is up."""
    deadline = time.monotonic() + max(0.0, timeout)
    told = False
    while True:
        held = attempt()
        if held is None:
            return
        if on_wait is not None and not told:
            told = True
            on_wait(held)
        left = deadline - time.monotonic()
        if left <= 0:
            raise LockError(
                f"stack {stack.name} is locked (waited {timeout:g}s): held by {held.describe()}; "
                f"wait, or run `deploy force-unlock {stack.file or stack.name}` if that run is dead",
                stack=stack.name,
                held_by=held,
            )
        time.sleep(min(poll, left))


# -- local: a file lock -----------------------------------------------------------------------
class _FileLock:
    def __init__(self, stack: Stack, path: Path) -> None:
        self.stack = stack
        self.path = path
        self._fd: int | None = None

    def acquire(self, me: LockInfo, timeout: float, on_wait: Waiter | None) -> LockInfo:
        mine = replace(me, target=str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _wait(self.stack, lambda: self._attempt(mine), timeout, FILE_POLL, on_wait)
        return mine

    def _attempt(self, mine: LockInfo) -> LockInfo | None:
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held = self._read(fd)
                os.close(fd)
                return held
            if self._is_current(fd):
                break
            os.close(fd)  # force-unlock removed the file between open and flock: lock the new one
        record = json.dumps({"holder": mine.holder, "since": format_time(mine.since or _now()),
                             "stack": self.stack.name, "pid": os.getpid()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        os.fsync(fd)
        self._fd = fd
        return None

    def _is_current(self, fd: int) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def _read(self, fd: int) -> LockInfo:
        try:
            data = json.loads(os.pread(fd, 65536, 0) or b"{}")
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or not data.get("holder"):
            return LockInfo("another process (it has not recorded its name yet)", None, str(self.path))
        return LockInfo(str(data["holder"]), parse_time(str(data.get("since", ""))), str(self.path))

    def release(self) -> None:
        import fcntl

        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # no stale holder record for the next waiter to report
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def force(self, check: Callable[[LockInfo], None] = lambda held: None) -> LockInfo | None:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held = self._read(fd)
                check(held)
                self.path.unlink(missing_ok=True)  # new runs lock a new file
                return held
            os.ftruncate(fd, 0)  # free already (its run ended, or died): clear the stale record
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


# -- azure and emulator: a blob lease ---------------------------------------------------------
class _BlobLock:
    def __init__(self, stack: Stack, clients: Any) -> None:
        self.stack = stack
        self.clients = clients
        accounts = list(stack.of_kind(Kind.STORAGE_ACCOUNT))
        if not accounts:
            raise LockError(
                f"stack {stack.name} declares no storage account: on the {clients.target} target the apply "
                "lock is a lease on a blob in the stack's first storage account; declare one "
                "(storageAccounts) so that two runs of this stack cannot interleave",
                stack=stack.name,
            )
        if not stack.target.resource_group:
            raise LockError(f"stack {stack.name}: the apply lock needs `target.resourceGroup`", stack=stack.name)
        self.account = accounts[0].name
        self.group = stack.target.resource_group
        self.blob_name = f"{stack.name}.lock"
        self.poll = BLOB_POLL.get(clients.target, BLOB_POLL_DEFAULT)
        self._url = ""
        self._service: Any = None
        self._keyed = False
        self._lease: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost: str | None = None  # why the lease was lost while held, if it was

    # connecting
    def _connect(self) -> bool:
        """Find the account's blob endpoint; False if the account does not exist (yet)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            account = self.clients.storage.storage_accounts.get_properties(self.group, self.account)
        except ResourceNotFoundError:  # the account, or its resource group
            return False
        endpoints = account.primary_endpoints
        if endpoints is None or not endpoints.blob:
            return False  # still provisioning
        self._url = endpoints.blob
        self._service = self.clients.blob(self._url)
        return True

    @property
    def _blob(self) -> Any:
        return self._service.get_blob_client(LOCK_CONTAINER, self.blob_name)

    @property
    def where(self) -> str:
        return f"{self._url.rstrip('/')}/{LOCK_CONTAINER}/{self.blob_name}"

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        """`fn(blob client)`; if the data plane refuses the token (403), once more with the account key."""
        from azure.core.exceptions import HttpResponseError

        try:
            return fn(self._blob)
        except HttpResponseError as exc:
            if exc.status_code != 403 or self._keyed:
                raise
        from azure.core.credentials import AzureNamedKeyCredential

        keys = self.clients.storage.storage_accounts.list_keys(self.group, self.account).keys_property
        self._service = self.clients.blob(self._url, credential=AzureNamedKeyCredential(self.account, keys[0].value))
        self._keyed = True
        return fn(self._blob)

    def _create(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self._service.create_container(LOCK_CONTAINER)
        except ResourceExistsError:
            pass
        try:
            self._blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass

    def _holder(self, props: Any) -> LockInfo:
        meta = {k.lower(): v for k, v in (props.metadata or {}).items()}
        if not meta.get("holder"):
            return LockInfo("another run (it has not recorded its name yet)", None, self.where)
        return LockInfo(unquote(meta["holder"]), parse_time(meta.get("since", "")), self.where)

    # acquiring and releasing
    def acquire(self, me: LockInfo, timeout: float, on_wait: Waiter | None) -> LockInfo:
        if not self._connect():
            note = (
                f"storage account {self.account} does not exist yet, so there is no lock to take: this run "
                f"proceeds unlocked (later runs lock a blob lease in {self.account}/{LOCK_CONTAINER})"
            )
            log.warning("stack %s: %s", self.stack.name, note)
            return replace(me, target=f"{self.account}/{LOCK_CONTAINER}/{self.blob_name}", locked=False, note=note)
        mine = replace(me, target=self.where)
        _wait(self.stack, lambda: self._attempt(mine), timeout, self.poll, on_wait)
        return mine

    def _attempt(self, mine: LockInfo) -> LockInfo | None:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            try:
                lease = self._call(lambda blob: blob.acquire_lease(lease_duration=LEASE_SECONDS))
            except ResourceNotFoundError:  # first lock on this account: create the container and blob
                self._create()
                lease = self._call(lambda blob: blob.acquire_lease(lease_duration=LEASE_SECONDS))
        except HttpResponseError as exc:
            if exc.status_code != 409:  # LeaseAlreadyPresent, LeaseIsBreakingAndCannotBeAcquired
                raise
            try:
                return self._holder(self._blob.get_blob_properties())
            except ResourceNotFoundError:
                return LockInfo("another run", None, self.where)
        try:
            since = format_time(mine.since or _now())
            self._blob.set_blob_metadata({"holder": quote(mine.holder, safe=" @():/#?=,"), "since": since,
                                          "stack": self.stack.name}, lease=lease)
        except BaseException:
            with contextlib.suppress(Exception):
                lease.release()
            raise
        self._lease = lease
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, args=(lease,), daemon=True,
                                         name=f"lock-renewer-{self.stack.name}")
        self._renewer.start()
        return None

    def _renew(self, lease: Any) -> None:
        from azure.core.exceptions import HttpResponseError

        delay = RENEW_EVERY
        while not self._stop.wait(delay):
            try:
                lease.renew()
                delay = RENEW_EVERY
            except HttpResponseError as exc:
                if exc.status_code == 404:  # destroy deleted the lock's storage account: nothing left to hold
                    self.lost = "the lock blob is gone"
                    log.info("stack %s: the apply lock's blob is gone (its storage account was deleted)",
                             self.stack.name)
                    return
                if exc.status_code in (409, 412):  # lease broken (force-unlock) or taken by another run
                    self.lost = f"{exc.status_code} {getattr(exc, 'error_code', '') or exc.reason}"
                    log.warning("stack %s: the apply lock was lost (%s): another run may now start",
                                self.stack.name, self.lost)
                    return
                log.warning("stack %s: renewing the apply lock failed, retrying: %s", self.stack.name, exc)
                delay = min(RENEW_EVERY, RETRY_RENEW)
            except Exception as exc:  # noqa: BLE001 - network trouble: retry until the lease runs out
                log.warning("stack %s: renewing the apply lock failed, retrying: %s", self.stack.name, exc)
                delay = min(RENEW_EVERY, RETRY_RENEW)

    def release(self) -> None:
        from azure.core.exceptions import HttpResponseError

        lease, self._lease = self._lease, None
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=60)
            self._renewer = None
        if lease is None or self.lost:
            return
        try:
            self._blob.set_blob_metadata({}, lease=lease)  # no stale holder for the next waiter to report
            lease.release()
        except HttpResponseError as exc:
            if exc.status_code == 404:  # destroy deleted the account (and the lock with it)
                return
            log.warning("stack %s: could not release the apply lock (%s); it expires within %ss",
                        self.stack.name, exc.status_code, LEASE_SECONDS)
        except Exception as exc:  # noqa: BLE001 - never mask the outcome of the run itself
            log.warning("stack %s: could not release the apply lock (%s); it expires within %ss",
                        self.stack.name, exc, LEASE_SECONDS)

    def force(self, check: Callable[[LockInfo], None] = lambda held: None) -> LockInfo | None:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import BlobLeaseClient

        if not self._connect():
            return None
        try:
            props = self._call(lambda blob: blob.get_blob_properties())
        except ResourceNotFoundError:
            return None
        if props.lease.state not in ("leased", "breaking"):
            return None  # free, released, expired or already broken
        held = self._holder(props)
        check(held)
        BlobLeaseClient(self._blob).break_lease(lease_break_period=0)
        with contextlib.suppress(Exception):
            self._blob.set_blob_metadata({})
        return held
