"""The commands registered from their own modules (import, export, check, show) keep `deploy --help`
light: importing the CLI loads neither the engine nor an Azure SDK."""

from __future__ import annotations

import subprocess
import sys


def test_registering_the_commands_imports_no_engine() -> None:
    code = ("import sys, deployer.cli\n"
            "print(sorted(m for m in sys.modules if m.startswith(('azure', 'deployer.plan', 'deployer.stack', "
            "'deployer.resources', 'deployer.apply', 'jsonschema'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_commands_are_registered() -> None:
    result = subprocess.run([sys.executable, "-m", "deployer", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("import", "export", "check", "show", "force-unlock"):
        assert f"  {command} " in result.stdout
