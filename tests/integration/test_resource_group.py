"""A missing resource group: the plan says apply creates it, and apply creates it tagged with the
stack that owns it (so it is not mistaken for one made by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main

STACK = """\
stack: rgown
target: {kind: local, resourceGroup: rg-owned-here, location: northeurope}
storageAccounts:
  data: {name: strgown01, minimumTlsVersion: TLS1_2}
"""


def test_apply_creates_the_missing_resource_group_owned_and_tagged(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK, encoding="utf-8")
    assert main(["plan", str(stack)]) == 0
    assert "resource group rg-owned-here does not exist: apply creates it" in capsys.readouterr().out
    assert main(["apply", str(stack), "--auto-approve"]) == 0
    with Clients.for_emulator_embedded(tmp_path / "state") as clients:
        group = clients.resource.resource_groups.get("rg-owned-here")
    assert group.location == "northeurope"
    assert group.tags == {"deployer.stack": "rgown"}
    capsys.readouterr()
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_every_plan_format_says_so(tmp_path: Path, monkeypatch, capsys, fmt: str) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK, encoding="utf-8")
    assert main(["plan", str(stack), "--format", fmt]) == 0
    assert "resource group rg-owned-here does not exist: apply creates it" in capsys.readouterr().out
