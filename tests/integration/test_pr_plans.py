"""Plans for pull requests: `plan --no-secrets` resolves nothing and says what it did not compare,
`deploy show` renders a saved plan, a saved plan is refused on another target or subscription (or
when it was made without secrets), `--subscription` overrides the stack's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main
from tests.integration.copies import copy_stacks

CANARY = "canary-S3cret-0451"


@pytest.fixture
def hpc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """stacks/hpc.yaml (a CIFS password from env:HPC_SMB_PASSWORD), applied on a fresh local target."""
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    monkeypatch.setenv("HPC_SMB_PASSWORD", CANARY)
    assert main(["apply", str(stacks / "hpc.yaml"), "--target", "local", "--auto-approve"]) == 0
    monkeypatch.delenv("HPC_SMB_PASSWORD")  # a pull request pipeline has no secrets
    return stacks / "hpc.yaml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_no_secrets_plans_without_them_and_cannot_be_applied(hpc: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "plan", str(hpc), "--target", "local")
    assert code == 1 and "HPC_SMB_PASSWORD is not set" in err  # without the flag: the secret is required
    saved = tmp_path / "pr.plan.json"
    code, out, err = run(capsys, "plan", str(hpc), "--target", "local", "--no-secrets", "--detailed-exitcode",
                         "--out", str(saved))
    assert code == 0, out + err  # nothing else changed: the password is simply not compared
    assert "No changes" in out
    document = json.loads(saved.read_text())
    assert document["secretsCompared"] is False
    assert CANARY not in saved.read_text()
    # a change elsewhere is still planned, and the secret is reported as not compared
    hpc.write_text(hpc.read_text().replace("targetDedicatedNodes: 4", "targetDedicatedNodes: 3"))
    code, out, err = run(capsys, "plan", str(hpc), "--target", "local", "--no-secrets", "--format", "markdown")
    assert code == 0 and "1 to change" in out
    code, out, err = run(capsys, "plan", str(hpc), "--target", "local", "--no-secrets", "--out", str(saved))
    code, out, err = run(capsys, "apply", str(saved))
    assert code == 1 and "planned with --no-secrets" in err


def test_no_secrets_says_what_it_did_not_compare(tmp_path: Path, monkeypatch, capsys) -> None:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("HPC_SMB_PASSWORD", raising=False)
    code, out, err = run(capsys, "plan", str(stacks / "hpc.yaml"), "--target", "local", "--no-secrets",
                         "--format", "json")
    assert code == 0, err
    warnings = [w for c in json.loads(out)["changes"] for w in c["warnings"]]
    assert any("env:HPC_SMB_PASSWORD was not compared (--no-secrets" in w for w in warnings), warnings


def test_show_and_a_saved_plan_stays_on_its_target(tmp_path: Path, monkeypatch, capsys) -> None:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = str(stacks / "quickstart.yaml")
    saved = tmp_path / "plan.json"
    assert run(capsys, "plan", stack, "--out", str(saved))[0] == 0
    code, out, _ = run(capsys, "show", str(saved))
    assert code == 0 and "Plan for stack quickstart on local" in out and "+ pool small" in out
    code, out, _ = run(capsys, "show", str(saved), "--format", "markdown")
    assert code == 0 and out.startswith("### Plan for stack `quickstart` on `local")
    code, out, _ = run(capsys, "show", str(saved), "--format", "json")
    assert code == 0 and json.loads(out)["target"]["kind"] == "local"
    code, _, err = run(capsys, "apply", str(saved), "--target", "azure")
    assert code == 1 and "was planned for the local target: refusing to apply it on azure" in err
    code, _, err = run(capsys, "show", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read the saved plan" in err
    # --subscription: recorded in the plan, and a saved plan is refused on another subscription
    sub = "11111111-2222-3333-4444-555555555555"
    code, out, _ = run(capsys, "plan", stack, "--subscription", sub, "--format", "json", "--out", str(saved))
    assert code == 0 and json.loads(out)["target"]["subscription"] == sub
    code, _, err = run(capsys, "apply", str(saved), "--subscription", "99999999-2222-3333-4444-555555555555")
    assert code == 1 and f"was planned for subscription {sub}" in err
    code, out, err = run(capsys, "apply", str(saved))
    assert code == 0, out + err
