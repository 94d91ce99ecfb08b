"""force-unlock asks first, and never breaks the lock of a run alive on this host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deployer.apply.lock import LockError, LockInfo, alive_here, force_unlock, stack_lock
from deployer.cli import main
from tests.unit.apply.test_lock import local, make_stack

HOST = socket.gethostname()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize(("holder", "alive"), [
    (f"me@{HOST} pid {os.getpid()}", True),
    (f"GitHub Actions run 5 job deploy (me@{HOST} pid {os.getpid()})", True),
    (f"me@elsewhere-{HOST} pid {os.getpid()}", False),  # another host: cannot tell, may be dead
    ("another run (it has not recorded its name yet)", False),
])
def test_alive_here(holder, alive):
    assert (alive_here(LockInfo(holder, None, "x")) == os.getpid()) is alive


def test_a_dead_holder_on_this_host_is_not_alive():
    assert alive_here(LockInfo(f"me@{HOST} pid {dead_pid()}", None, "x")) is None


def test_refuses_the_lock_of_a_run_alive_on_this_host(tmp_path: Path):
    stack, clients = make_stack(), local(tmp_path)
    with stack_lock(stack, clients, timeout=0) as held:  # this process: alive, on this host
        with pytest.raises(LockError, match="still alive on this host .*refusing to break its lock"):
            force_unlock(stack, clients)
        with pytest.raises(LockError, match="is locked"), \
                stack_lock(stack, clients, timeout=0, holder="other@elsewhere pid 1"):  # still held
            pass
        assert Path(held.target).exists()


def test_asks_before_breaking_and_keeps_the_lock_on_no(tmp_path: Path):
    stack, clients = make_stack(), local(tmp_path)
    asked: list[LockInfo] = []

    def no(held: LockInfo) -> bool:
        asked.append(held)
        return False

    with stack_lock(stack, clients, timeout=0, holder="carol@box pid 7"):
        with pytest.raises(LockError, match="cancelled: the lock of stack media is still held by carol@box pid 7"):
            force_unlock(stack, clients, confirm=no)
        assert [h.holder for h in asked] == ["carol@box pid 7"]
        broken = force_unlock(stack, clients, confirm=lambda held: True)
        assert broken is not None and broken.holder == "carol@box pid 7"
    assert force_unlock(stack, clients, confirm=no) is None  # nothing held: nothing asked
    assert len(asked) == 1


def test_cli_needs_yes_when_not_on_a_terminal(tmp_path: Path, monkeypatch, capsys):
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text("stack: media\ntarget: {kind: local, resourceGroup: rg, location: westeurope}\n")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(isatty=lambda: False))
    stack = make_stack()
    clients = local(tmp_path / "state")
    with stack_lock(stack, clients, timeout=0, holder="carol@box pid 7"):
        assert main(["force-unlock", str(stack_file)]) == 1
        assert "pass --yes to break it" in capsys.readouterr().err
        assert main(["force-unlock", str(stack_file), "--yes"]) == 0
        assert "lock of stack media broken (was held by carol@box pid 7" in capsys.readouterr().err
