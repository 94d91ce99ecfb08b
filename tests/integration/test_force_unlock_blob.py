"""force-unlock on the blob-lease lock (azure / emulator targets): refused while the holder is a
process alive on this host, asks before breaking any other."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from deployer.apply.lock import LockError, force_unlock, stack_lock
from tests.integration.test_lock import STACK, Runs


@pytest.fixture
def runs(served_emulator: Any) -> Any:
    r = Runs(served_emulator)
    r.create_account()
    yield r
    for c in r.opened:
        c.close()


def test_blob_lock_of_a_live_local_run_is_not_broken(runs) -> None:
    with stack_lock(STACK, runs.clients(), timeout=0):  # this process, on this host: alive
        with pytest.raises(LockError, match="still alive on this host"):
            force_unlock(STACK, runs.clients(), confirm=lambda held: True)
        assert runs.lock_blob().get_blob_properties().lease.state == "leased"


def test_blob_lock_of_another_host_is_broken_after_asking(runs) -> None:
    asked = []
    holder = f"carol@not-{socket.gethostname()} pid 1"
    with stack_lock(STACK, runs.clients(), timeout=0, holder=holder):
        with pytest.raises(LockError, match="cancelled"):
            force_unlock(STACK, runs.clients(), confirm=lambda held: asked.append(held.holder) or False)
        assert runs.lock_blob().get_blob_properties().lease.state == "leased"
        broken = force_unlock(STACK, runs.clients(), confirm=lambda held: asked.append(held.holder) or True)
        assert broken is not None and broken.holder == holder
        assert runs.lock_blob().get_blob_properties().lease.state == "broken"
    assert asked == [holder, holder]
