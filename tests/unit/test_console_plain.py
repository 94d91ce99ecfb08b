"""Off a terminal the console writes diagnostics and verdicts itself, without rich (30 ms of every
`deploy validate` in a pipeline); on a terminal rich styles them. Both must print the same text."""

from __future__ import annotations

import re

import pytest

from deployer import console
from deployer.errors import Diagnostic
from deployer.stack.validate import ValidationResult

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

DIAGNOSTICS = [
    Diagnostic("stack.yaml", 3, 7, "unknown key 'vmsize' — did you mean 'vmSize'?", "batchAccounts.main.pools.p1"),
    Diagnostic("stack.yaml", 9, 1, "Standard_NC6 was retired on 2023-09-06", severity="warning"),
    Diagnostic("a[/b].yaml", 0, 0, "the file is empty [bold]really[/bold]"),  # markup-like text stays text
]
RESULTS = [ValidationResult("stack.yaml", DIAGNOSTICS), ValidationResult("ok.yaml", [])]


def _print(monkeypatch, capsys, env: dict[str, str]) -> tuple[str, str]:
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    console.out.cache_clear()
    console.err.cache_clear()
    try:
        console.print_validation(RESULTS, "text")
    finally:
        console.out.cache_clear()
        console.err.cache_clear()
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_plain_output_is_rich_output_without_its_styles(monkeypatch, capsys):
    plain_out, plain_err = _print(monkeypatch, capsys, {})  # capsys: not a terminal
    styled_out, styled_err = _print(monkeypatch, capsys, {"FORCE_COLOR": "1"})
    assert "\x1b[" in styled_err and "\x1b[" in styled_out  # rich did style these
    assert _ANSI.sub("", styled_out) == plain_out
    assert _ANSI.sub("", styled_err) == plain_err
    assert plain_out == "invalid stack.yaml: 2 errors\nok ok.yaml\n"
    assert plain_err.splitlines()[2] == "a[/b].yaml: error: the file is empty [bold]really[/bold]"


@pytest.mark.parametrize(("env", "styled"), [
    ({}, False),  # not a terminal
    ({"FORCE_COLOR": "1"}, True),
    ({"FORCE_COLOR": ""}, False),
    ({"TTY_COMPATIBLE": "1"}, True),
    ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, False),  # rich's order: TTY_COMPATIBLE first
])
def test_styled_follows_rich(monkeypatch, env, styled):
    from rich.console import Console

    for name in ("TTY_COMPATIBLE", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import io

    stream = io.StringIO()
    assert console.styled(stream) is styled
    assert Console(file=stream).is_terminal is styled
