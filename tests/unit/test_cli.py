"""The command-line contract: exit codes, output streams, no tracebacks, no Azure imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deployer.cli import main
from tests.unit.stacks import BASE, mutate

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "stack.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_valid_stack_exits_0(tmp_path, capsys):
    assert main(["validate", write(tmp_path, BASE)]) == 0
    captured = capsys.readouterr()
    assert "ok" in captured.out
    assert captured.err == ""


def test_invalid_stack_exits_1_with_diagnostics_on_stderr(tmp_path, capsys):
    stack = write(tmp_path, mutate("        vmSize:", "        vmsize:"))
    assert main(["validate", stack]) == 1
    captured = capsys.readouterr()
    assert f"{stack}:24:9: error: unknown key 'vmsize' in pool 'p1'; did you mean 'vmSize'?" in captured.err


def test_every_file_is_reported_in_one_run(tmp_path, capsys):
    good = write(tmp_path, BASE, "good.yaml")
    bad = write(tmp_path, mutate("pool: p1", "pool: p2"), "bad.yaml")
    missing = str(tmp_path / "missing.yaml")
    assert main(["validate", good, bad, missing]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:" in err and "missing.yaml: error: no such file" in err


def test_json_format(tmp_path, capsys):
    bad = write(tmp_path, mutate("pool: p1", "pool: p2"))
    assert main(["validate", "--format", "json", bad]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["formatVersion"] == 1
    assert report["valid"] is False
    (diagnostic,) = report["diagnostics"]
    assert set(diagnostic) == {"file", "line", "column", "path", "message", "severity"}
    assert diagnostic["path"] == "batchAccounts.main.jobs.j1.pool"
    assert (diagnostic["line"], diagnostic["column"]) == (34, 15)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "--format", "xml", "x.yaml"], "Invalid value for '--format'"),
        (["validate"], "Missing argument"),
        (["validate", "--nope", "x.yaml"], "No such option: --nope"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_1(argv, message, capsys):
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("batch-deployer ")


def test_schema_prints_the_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_command_and_option_has_help():
    import typer

    from deployer.cli import app

    def walk(command):
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    for command in walk(typer.main.get_command(app)):
        assert command.help, f"{command.name} has no help"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"{command.name} --{param.name} has no help"


def test_real_process_no_traceback_and_no_azure_import(tmp_path):
    """Run as a user would; a broken stack must not print a traceback nor import an Azure SDK."""
    stack = write(tmp_path, "stack: [unclosed\n")
    probe = (
        "import sys; from deployer.cli import main\n"
        f"code = main(['validate', {stack!r}])\n"
        "print('AZURE', [m for m in sys.modules if m.startswith('azure')])\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "stack.yaml:2:1: error: invalid YAML" in proc.stderr
    assert "AZURE []" in proc.stdout
