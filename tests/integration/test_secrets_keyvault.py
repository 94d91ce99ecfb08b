"""`{secret: keyvault:VAULT/NAME}` through the real SecretClient against the local emulator: a CIFS
mount password from Key Vault applies, plans clean, never shows, and a rotation plans an update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main
from tests.integration.copies import copy_stacks

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary-KV-s3cret-7731"
ROTATED = "canary-KV-rotated-9042"
REFERENCE = "keyvault:kv-test/smb"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(path))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    monkeypatch.delenv("HPC_SMB_PASSWORD", raising=False)
    return path


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    """stacks/ copied, hpc.yaml's CIFS password read from Key Vault instead of the environment."""
    target = copy_stacks(tmp_path)
    path = target / "hpc.yaml"
    text = path.read_text()
    assert "{secret: env:HPC_SMB_PASSWORD}" in text
    path.write_text(text.replace("{secret: env:HPC_SMB_PASSWORD}", "{secret: " + REFERENCE + "}"))
    return path


@pytest.fixture
def vault(state: Path):  # type: ignore[no-untyped-def]
    """SecretClient for kv-test on the embedded emulator over the same data directory as the CLI."""
    clients = Clients.for_emulator_embedded(state)
    yield clients.secrets("kv-test")
    clients.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keyvault_secret_applies_never_shows_and_rotates(
    stack: Path, vault, capsys: pytest.CaptureFixture[str], tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    vault.set_secret("smb", CANARY)
    path = str(stack)
    texts: list[str] = []
    saved = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", path, "--target", "local", "--out", str(saved))
    assert code == 0, out + err
    texts += [out, err, saved.read_text()]
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve", "--format", "json")
    assert code == 0, out + err
    texts += [out, err]
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert events[-1]["event"] == "summary" and events[-1]["ok"]
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out
    texts += [out, err]

    # rotate the secret in the vault: the next plan changes the pool, showing only (sensitive). A
    # pool's mountConfiguration cannot be updated in place (Batch has no such update), so the
    # deployer's pool rules plan the change as a replacement.
    vault.set_secret("smb", ROTATED)
    saved2 = tmp_path / "plan2.json"
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode", "--out", str(saved2))
    assert code == 2, out + err
    assert "batchAccounts.hpc.pools.mpi must be replaced" in out
    assert "password: (sensitive)" in out
    assert "1 to replace" in out
    texts += [out, err, saved2.read_text()]
    code, out, err = run(capsys, "plan", path, "--target", "local", "--format", "json")
    texts += [out, err]
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 0, out + err
    texts += [out, err]
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err
    for text in texts:
        assert CANARY not in text and ROTATED not in text


def test_missing_secret_is_a_clear_error(stack: Path, vault, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    vault.set_secret("other", "x")
    code, out, err = run(capsys, "plan", str(stack), "--target", "local")
    assert code != 0
    assert REFERENCE in out + err and "SecretNotFound" in out + err
    line = next(i for i, text in enumerate(stack.read_text().splitlines(), 1) if REFERENCE in text)
    assert f"hpc.yaml:{line}:" in err  # at the reference in the stack


def test_a_pinned_version_ignores_newer_ones(stack: Path, vault, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    version = vault.set_secret("smb", CANARY).properties.version
    stack.write_text(stack.read_text().replace(REFERENCE, f"{REFERENCE}/{version}"))
    code, out, err = run(capsys, "apply", str(stack), "--target", "local", "--auto-approve")
    assert code == 0, out + err
    vault.set_secret("smb", ROTATED)  # a newer version: the stack still asks for the old one
    code, out, err = run(capsys, "plan", str(stack), "--target", "local", "--detailed-exitcode")
    assert code == 0 and "No changes" in out, out + err
    stack.write_text(stack.read_text().replace(f"{REFERENCE}/{version}", REFERENCE))  # unpinned: latest
    code, out, err = run(capsys, "plan", str(stack), "--target", "local", "--detailed-exitcode")
    assert code == 2 and "password: (sensitive)" in out, out + err
    assert CANARY not in out + err and ROTATED not in out + err
