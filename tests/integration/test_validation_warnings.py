"""Validation warnings are not only validate's: `plan` (text, Markdown, JSON) and `apply` repeat
them, so a retiring image or an API alias is seen where the change is reviewed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main
from tests.integration.copies import copy_stacks


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    path = stacks / "quickstart.yaml"
    text = path.read_text()
    assert text.count("nodeAgentSkuId:") == 1
    path.write_text(text.replace("nodeAgentSkuId:", "nodeAgentSKUId:"))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


WARNING = "'nodeAgentSKUId' is the Batch service API's name; the stack spells it 'nodeAgentSkuId'"


def test_plan_and_apply_show_validation_warnings_in_every_format(stack, capsys):
    line = stack.read_text().splitlines().index(
        next(t for t in stack.read_text().splitlines() if "nodeAgentSKUId" in t)) + 1
    code, out, err = run(capsys, "plan", str(stack), "--target", "local")
    assert code == 0, out + err
    assert f"Warning: {stack}:{line}:" in out and WARNING in out
    code, out, err = run(capsys, "plan", str(stack), "--target", "local", "--format", "markdown")
    assert code == 0, out + err
    assert "> [!WARNING]" in out and WARNING in out and f"{stack}:{line}:" in out
    code, out, err = run(capsys, "plan", str(stack), "--target", "local", "--format", "json")
    assert code == 0, out + err
    [warning] = json.loads(out)["validationWarnings"]
    assert warning["line"] == line and warning["severity"] == "warning" and WARNING in warning["message"]
    code, out, err = run(capsys, "apply", str(stack), "--target", "local", "--auto-approve")
    assert code == 0, out + err
    assert WARNING in out
    code, out, err = run(capsys, "plan", str(stack), "--target", "local", "--detailed-exitcode")
    assert code == 0, out + err  # the alias is normalised: no phantom diff after apply
    assert WARNING in out
