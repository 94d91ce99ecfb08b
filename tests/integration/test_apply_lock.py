"""Two applies of one stack never interleave: the second waits for the lock or fails naming it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deployer.apply.lock import stack_lock
from deployer.azure import Clients
from deployer.stack.model import load_stack
from tests.integration.copies import copy_stacks

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    return tmp_path / "stacks" / "quickstart.yaml"


def apply(stack: Path, timeout: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "deployer", "apply", str(stack), "--target", "local", "--auto-approve",
         "--lock-timeout", str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ), cwd=REPO)


def test_second_apply_fails_naming_the_holder(quickstart: Path) -> None:
    stack = load_stack(quickstart)
    clients = Clients.for_emulator_embedded(Path(os.environ["DEPLOY_LOCAL_DIR"]))
    with stack_lock(stack, clients, timeout=0, holder="pipeline-42 (ci@runner pid 1)"):
        proc = apply(quickstart, timeout=0.5)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    assert "locked" in err and "pipeline-42 (ci@runner pid 1)" in err
    assert "Traceback" not in err


def test_second_apply_waits_for_the_lock(quickstart: Path) -> None:
    stack = load_stack(quickstart)
    clients = Clients.for_emulator_embedded(Path(os.environ["DEPLOY_LOCAL_DIR"]))
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with stack_lock(stack, clients, timeout=0, holder="first run"):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    proc = apply(quickstart, timeout=30)
    time.sleep(1.0)
    assert proc.poll() is None, "the second apply must wait while the lock is held"
    release.set()
    thread.join()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert "Apply complete" in out
