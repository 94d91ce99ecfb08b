"""No Azure credentials: every command that reaches Azure fails with one line naming the ways to
sign in, exit 1, no traceback — before any request is made (the apply lock's connection used to
leak the SDK's ClientAuthenticationError)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STACK = """\
stack: login
target:
  kind: azure
  subscription: 11111111-2222-3333-4444-555555555555
  resourceGroup: rg-login
  location: westeurope
storageAccounts:
  data: {name: stlogin01, sku: Standard_LRS, kind: StorageV2}
"""


def empty_env(home: Path) -> dict[str, str]:
    """Nothing to sign in with: no AZURE_* variables, no ~/.azure, no az / azd / pwsh on PATH."""
    home.mkdir(exist_ok=True)
    return {"PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin", "HOME": str(home),
            "NO_COLOR": "1", "COLUMNS": "400"}


@pytest.mark.parametrize("argv", [
    ["plan", "STACK"], ["apply", "STACK", "--auto-approve"], ["destroy", "STACK", "--auto-approve"],
    ["force-unlock", "STACK", "--yes"], ["import", "STACK", "--all", "--yes"],
    ["export", "-g", "rg-login", "--subscription", "11111111-2222-3333-4444-555555555555"],
])
def test_no_credentials_is_one_line_naming_the_ways_to_sign_in(tmp_path: Path, argv: list[str]) -> None:
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK, encoding="utf-8")
    args = [str(stack) if a == "STACK" else a for a in argv]
    result = subprocess.run([sys.executable, "-m", "deployer", *args],
                            cwd=tmp_path, env=empty_env(tmp_path / "home"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    (line,) = lines
    assert line.startswith("error: could not sign in to Azure (no credentials found): ")
    for way in ("az login", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "managed identity",
                "docs/login.md"):
        assert way in line
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / ".deploy").exists()  # nothing fell back to the local target
