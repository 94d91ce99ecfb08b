"""Run `deploy` in-process for a test, as a user would from the command line."""

from __future__ import annotations

import pytest

from deployer.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`deploy ARGS...`: the exit code, stdout and stderr (captured by pytest's capsys)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
