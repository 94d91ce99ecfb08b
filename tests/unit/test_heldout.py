"""The held-out stacks (tests/unit/heldout/): real-world-style stacks with one mistake each that
Azure refuses today. Each gets exactly one error, at the line marked `# <-- error: FRAGMENT`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from deployer.stack.checks import lifecycle
from deployer.stack.validate import validate_file

HELD_OUT = sorted((Path(__file__).parent / "heldout").glob("*.yaml*"))
MARKER = "# <-- error: "


@pytest.fixture(autouse=True)
def _pinned_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "today", lambda: date(2026, 12, 5))


def test_the_held_out_set_is_there():
    assert len(HELD_OUT) >= 15


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.name for p in HELD_OUT])
def test_one_error_at_the_marked_line(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    [(line, fragment)] = [(n, text.split(MARKER, 1)[1]) for n, text in enumerate(lines, 1) if MARKER in text]
    errors = [d for d in validate_file(path, path.name).diagnostics if d.severity == "error"]
    assert [d.line for d in errors] == [line], [d.format() for d in errors]
    assert fragment in errors[0].message, errors[0].message


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.name for p in HELD_OUT])
def test_without_the_mistake_the_stack_is_valid(path: Path, tmp_path: Path):
    """The marked line is the only problem: fixed as the message says, nothing else is wrong."""
    fixes = {
        "18.04-LTS": "server", "UbuntuServer": "ubuntu-24_04-lts", "batch.node.ubuntu 18.04": "batch.node.ubuntu 24.04",
        'sku: "7.9"': "sku: 9-gen2", "OpenLogic, offer: CentOS": "almalinux, offer: almalinux-x86_64",
        "batch.node.centos 7": "batch.node.el 9", "STANDARD_NC6": "Standard_NC4as_T4_v3",
        "Standard_NV6": "Standard_NV6ads_A10_v5", "Standard_NC6s_v3": "Standard_NC24ads_A100_v4",
        "offer: ubuntu-server-container": "offer: ubuntu-hpc", "sku: 20-04-lts": "sku: '2404'",
        "batch.node.ubuntu 20.04": "batch.node.ubuntu 24.04", "Standard_E8dsv5": "Standard_E8ds_v5",
        "publisher: microsoft-azure-batch": "publisher: microsoft-dsvm",
        "containerSettings:  #": "containerSettingz:  #",
        "        userAccounts:\n": "        interNodeCommunication: Enabled\n        userAccounts:\n",
        "requiredSlots: 4": "requiredSlots: 2", "        targetNodeCommunicationMode: Classic": "        # removed",
        "2012-R2-Datacenter-smalldisk": "2022-datacenter-smalldisk", "Standard_NC24 ": "Standard_NC24ads_A100_v4 ",
    }
    text = path.read_text(encoding="utf-8")
    for old, new in fixes.items():
        text = text.replace(old, new)
    text = "\n".join(line.split("  # <-- error")[0] if "httpUrl" not in line else
                     '              - httpUrl: "https://stdata01.blob.core.windows.net/scripts/run.sh"'
                     for line in text.splitlines()) + "\n"
    if "containerSettingz" in text:
        text = text.replace("            containerSettingz:\n              imageName: python:3.12-slim\n"
                            "              workingDirectory: taskWorkingDirectory\n", "")
    fixed = tmp_path / path.name
    fixed.write_text(text, encoding="utf-8")
    assert [d.format() for d in validate_file(fixed, path.name).diagnostics if d.severity == "error"] == []
