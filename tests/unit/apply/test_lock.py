"""The local apply lock (a file lock), exercised across real processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deployer.apply.lock import LockError, LockInfo, ci_job, current_holder, force_unlock, stack_lock
from deployer.stack.model import Address, DesiredResource, Kind, Stack, Target

ALICE = "alice@laptop pid 4242"
CTX = multiprocessing.get_context("spawn")  # a clean child: no inherited locks or threads


def make_stack(name: str = "media", kind: str = "local", *resources: DesiredResource) -> Stack:
    return Stack(name=name, file=f"stacks/{name}.yaml", base_dir=Path("."),
                 target=Target(kind=kind, resource_group="rg"), resources=resources)


def local(data_dir: Path) -> Any:
    return SimpleNamespace(target="local", data_dir=data_dir)


def hold(data_dir: str, holder: str, ready: Any, done: Any) -> None:
    """Child process: take the lock, say so, keep it until `done` is set (or until killed)."""
    with stack_lock(make_stack(), local(Path(data_dir)), timeout=5, holder=holder):
        ready.set()
        done.wait(30)


class Holder:
    """Another process holding the stack's lock."""

    def __init__(self, data_dir: Path, holder: str = ALICE) -> None:
        self.ready, self.done = CTX.Event(), CTX.Event()
        self.process = CTX.Process(target=hold, args=(str(data_dir), holder, self.ready, self.done), daemon=True)
        self.process.start()
        assert self.ready.wait(30), "the holder process never took the lock"

    def release(self) -> None:
        self.done.set()
        self.process.join(10)
        assert self.process.exitcode == 0

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(10)
        assert self.process.exitcode == -signal.SIGKILL


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def holders() -> Any:
    started: list[Holder] = []

    def start(data_dir: Path, holder: str = ALICE) -> Holder:
        started.append(Holder(data_dir, holder))
        return started[-1]

    yield start
    for h in started:
        if h.process.is_alive():
            h.process.kill()
            h.process.join(5)


def test_second_process_waits_then_fails_naming_the_holder(data_dir, holders):
    holders(data_dir)
    seen: list[LockInfo] = []
    started = time.monotonic()
    with pytest.raises(LockError) as err, stack_lock(make_stack(), local(data_dir), timeout=0.3, on_wait=seen.append):
        pytest.fail("the lock was taken twice")
    assert time.monotonic() - started >= 0.3
    message = str(err.value)
    assert message.startswith("stack media is locked (waited 0.3s): held by alice@laptop pid 4242 since 20")
    assert message.endswith("; wait, or run `deploy force-unlock stacks/media.yaml` if that run is dead")
    assert err.value.held_by is not None and err.value.held_by.holder == ALICE
    assert [s.holder for s in seen] == [ALICE]  # on_wait is called once, with the holder
    assert seen[0].target == str(data_dir / "locks" / "media.lock")


def test_holder_is_recorded_in_the_lock_file_and_cleared_on_release(data_dir):
    path = data_dir / "locks" / "media.lock"
    with stack_lock(make_stack(), local(data_dir), timeout=0, holder=ALICE) as info:
        record = json.loads(path.read_text())
        assert record["holder"] == ALICE and record["stack"] == "media" and record["pid"] == os.getpid()
        assert info == LockInfo(ALICE, info.since, str(path))
        assert info.since is not None and record["since"] == info.since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert path.read_text() == ""


def test_released_when_the_holder_exits_its_block(data_dir, holders):
    holders(data_dir).release()
    with stack_lock(make_stack(), local(data_dir), timeout=0) as info:
        assert info.locked and info.holder == current_holder()


def test_a_waiter_gets_the_lock_when_the_holder_finishes(data_dir, holders):
    holder = holders(data_dir)
    threading.Timer(0.3, holder.done.set).start()
    seen: list[LockInfo] = []
    with stack_lock(make_stack(), local(data_dir), timeout=10, on_wait=seen.append):
        assert [s.holder for s in seen] == [ALICE]


def test_released_when_the_holder_process_is_killed(data_dir, holders):
    holders(data_dir).kill()
    with stack_lock(make_stack(), local(data_dir), timeout=0, holder="bob@ci pid 1") as info:
        assert info.holder == "bob@ci pid 1"


def test_released_on_an_exception_in_the_block(data_dir):
    with pytest.raises(RuntimeError), stack_lock(make_stack(), local(data_dir), timeout=0):
        raise RuntimeError("apply failed")
    with stack_lock(make_stack(), local(data_dir), timeout=0):
        pass


def test_two_runs_in_one_process_exclude_each_other_and_stacks_are_independent(data_dir):
    with stack_lock(make_stack(), local(data_dir), timeout=0, holder=ALICE):
        with pytest.raises(LockError, match="held by alice@laptop pid 4242"), \
                stack_lock(make_stack(), local(data_dir), timeout=0):
            pass
        with stack_lock(make_stack("other"), local(data_dir), timeout=0):
            pass


def test_data_dir_defaults_to_deploy_local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "env-dir"))
    with stack_lock(make_stack(), SimpleNamespace(target="local", data_dir=None), timeout=0) as info:
        assert info.target == str((tmp_path / "env-dir" / "locks" / "media.lock").resolve())


def test_force_unlock(data_dir, holders):
    stack, clients = make_stack(), local(data_dir)
    assert force_unlock(stack, clients) is None  # never locked

    holders(data_dir).kill()  # a dead run: the OS already dropped its lock; only its record is left
    assert force_unlock(stack, clients) is None
    assert (data_dir / "locks" / "media.lock").read_text() == ""

    live = holders(data_dir, "carol@box pid 7")
    broken = force_unlock(stack, clients)
    assert broken is not None and broken.holder == "carol@box pid 7" and broken.since is not None
    with stack_lock(stack, clients, timeout=0, holder="dave@box pid 8"), \
            pytest.raises(LockError, match="held by dave@box pid 8"), \
            stack_lock(stack, clients, timeout=0):  # the new run got in; a third one waits
        pass
    live.release()  # the broken holder still ends cleanly


def test_holder_names_the_ci_job():
    gh = {"GITHUB_RUN_ID": "991", "GITHUB_JOB": "deploy", "GITHUB_REPOSITORY": "acme/infra",
          "GITHUB_SERVER_URL": "https://github.com"}
    assert ci_job(gh) == "GitHub Actions run 991 job deploy (https://github.com/acme/infra/actions/runs/991)"
    ado = {"BUILD_BUILDID": "512", "BUILD_DEFINITIONNAME": "infra", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
           "SYSTEM_TEAMPROJECT": "Big Project"}
    assert ci_job(ado) == ("Azure Pipelines build 512 of infra "
                           "(https://dev.azure.com/acme/Big%20Project/_build/results?buildId=512)")
    assert ci_job({"CI_JOB_ID": "77"}) == "GitLab CI job 77"
    assert ci_job({}) is None
    assert current_holder({}).endswith(f" pid {os.getpid()}") and "@" in current_holder({})
    assert current_holder({"GITHUB_RUN_ID": "5"}).startswith("GitHub Actions run 5 (")


def test_blob_lock_needs_a_storage_account():
    stack = make_stack("nets", "azure")
    with pytest.raises(LockError, match="stack nets declares no storage account"):
        stack_lock(stack, SimpleNamespace(target="azure"), timeout=0).__enter__()
    account = DesiredResource(Address(("storageAccounts", "data")), Kind.STORAGE_ACCOUNT, "stdata", {})
    with pytest.raises(LockError, match="needs `target.resourceGroup`"):
        force_unlock(Stack("x", "x.yaml", Path("."), Target(kind="azure"), (account,)), SimpleNamespace(target="azure"))
