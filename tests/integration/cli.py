"""Run `deploy` in-process for a test, as a user would from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`deploy ARGS...`: the exit code, stdout and stderr (captured by pytest's capsys)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def apply_converges(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> None:
    """`deploy apply PATH --auto-approve OPTIONS...` succeeds, and the plan after it has no changes."""
    code, out, err = run(capsys, "apply", str(path), "--auto-approve", *options)
    assert code == 0, out + err
    code, out, err = run(capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err
