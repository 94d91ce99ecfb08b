"""Ctrl-C during apply (issue 10): the run says it was interrupted, what was in flight and how
it ended, and how to resume; it exits 130, and running apply again finishes the job."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from deployer.cli import main
from deployer.console import Progress
from tests.unit.stacks import BASE


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ctrl_c_during_apply_says_what_was_in_flight(tmp_path: Path, capsys, monkeypatch, fmt) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE, encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    original = Progress.__call__
    sent: list[str] = []

    def press_ctrl_c_when_the_pool_starts(self, event) -> None:  # type: ignore[no-untyped-def]
        original(self, event)
        if event.kind == "started" and ".pools." in event.address and not sent:
            sent.append(event.address)
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does: SIGINT to the process

    monkeypatch.setattr(Progress, "__call__", press_ctrl_c_when_the_pool_starts)
    # one change at a time: what is in flight when the pool starts is exactly the pool
    code = main(["apply", str(stack), "--auto-approve", "--format", fmt, "--parallelism", "1"])
    captured = capsys.readouterr()
    assert code == 130, captured.out + captured.err
    assert captured.err.strip().endswith("error: interrupted")
    assert "Traceback" not in captured.err
    if fmt == "text":
        assert "Apply interrupted:" in captured.out
        assert f"1 in flight (let finish, not rolled back):\n  in flight: {sent[0]}: create\n" in captured.out
        assert f"Run `deploy apply {stack}` again to finish" in captured.out
    else:
        import json

        events = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
        (stopped,) = [e for e in events if e["event"] == "interrupted"]
        assert [f["address"] for f in stopped["inFlight"]] == sent
        assert stopped["resume"] == f"deploy apply {stack}"

    monkeypatch.setattr(Progress, "__call__", original)
    assert main(["apply", str(stack), "--auto-approve"]) == 0  # the lock was released: resume works
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0
