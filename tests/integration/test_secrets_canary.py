"""Secrets from environment variables and files never leave the deployer except towards Azure.

The stack tests/integration/stacks/secrets-everywhere.yaml.j2 fills every kind of secret field a pool
has (registry, user and mount passwords, account and SAS keys, an SSH private key) from env
variables and files. Each gets a unique canary value. The stack is validated, rendered, planned
in every format, saved, applied (text and JSON events), applied from the saved plan, rotated,
failed on purpose and destroyed on the local target, with DEPLOY_DEBUG on and every logger at
DEBUG; then every captured stream and log record, and every byte of every file the runs left
(saved plans, the local target's database and its write-ahead log, the request log, locks) are
searched for each canary and for a fragment of it.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from pathlib import Path

import pytest

from deployer.azure import Clients
from deployer.cli import main

STACK = Path(__file__).parent / "stacks" / "secrets-everywhere.yaml.j2"
ENV_SECRETS = ("CANARY_REGISTRY", "CANARY_USER", "CANARY_BLOB_KEY", "CANARY_FILE_KEY")
FILE_SECRETS = ("secrets/ssh.key", "secrets/sas.txt", "secrets/smb.txt")


def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stack in a fresh folder, its secrets set to canaries; returns {where: value}."""
    folder = tmp_path / "stack"
    (folder / "secrets").mkdir(parents=True)
    shutil.copy(STACK, folder / "stack.yaml.j2")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_DEBUG", "1")
    values: dict[str, str] = {}
    for name in ENV_SECRETS:
        values[name] = canary()
        monkeypatch.setenv(name, values[name])
    for name in FILE_SECRETS:
        values[name] = canary()
        (folder / name).write_text(values[name] + "\n")
    return values


def run(capsys: pytest.CaptureFixture[str], outputs: dict[str, str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    label = f"#{len(outputs) // 2} deploy {' '.join(args)}"
    outputs[f"stdout of {label}"] = captured.out
    outputs[f"stderr of {label}"] = captured.err
    return code, captured.out + captured.err


def leaks(texts: dict[str, str], values: dict[str, str]) -> list[str]:
    found = []
    for label, text in texts.items():
        for where, value in values.items():
            fragment = value[len("canary-"):][4:20]  # a piece of it, as a truncated leak would show
            if value in text or fragment in text:
                found.append(f"{where} in {label}")
    return found


def test_no_secret_in_any_output_log_or_saved_file(
    workspace: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="azure")  # an earlier run without DEPLOY_DEBUG quietened it
    outputs: dict[str, str] = {}
    dev = tmp_path / "dev.yaml"
    dev.write_text("env: dev\n")
    stack = "stack.yaml.j2"

    assert run(capsys, outputs, "validate", stack, "--var-file", str(dev))[0] == 0
    code, text = run(capsys, outputs, "render", stack, "--var-file", str(dev))
    assert code == 0 and "env:CANARY_REGISTRY" in text  # the reference is shown, not its value
    for fmt in ("text", "json", "markdown"):
        code, text = run(capsys, outputs, "plan", stack, "--var-file", str(dev), "--format", fmt)
        assert code == 0, text
    saved = tmp_path / "plan.json"
    code, text = run(capsys, outputs, "plan", stack, "--var-file", str(dev), "--out", str(saved))
    assert code == 0 and "(sensitive)" in text, text
    code, text = run(capsys, outputs, "apply", str(saved), "--auto-approve", "--format", "json")
    assert code == 0, text
    events = [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]
    assert events[-1]["event"] == "summary" and events[-1]["ok"], events[-1]
    code, text = run(capsys, outputs, "plan", stack, "--var-file", str(dev), "--detailed-exitcode")
    assert code == 0 and "No changes" in text, text

    # A rotated secret: the plan shows a change it cannot print, and applying it says nothing more.
    # (That the change is seen also shows the values were really read and sent.)
    workspace["CANARY_USER"] = canary()
    monkeypatch.setenv("CANARY_USER", workspace["CANARY_USER"])
    code, text = run(capsys, outputs, "plan", stack, "--var-file", str(dev), "--detailed-exitcode")
    assert code == 2 and "password: (sensitive)" in text, text
    code, text = run(capsys, outputs, "apply", stack, "--var-file", str(dev), "--auto-approve")
    assert code == 0, text

    # A failing apply: a second environment whose Batch account may hold no pool.
    monkeypatch.setenv("DEPLOY_EMULATOR_BATCH_QUOTAS", "poolQuota=0")
    code, text = run(capsys, outputs, "apply", stack, "--var", "env=fails", "--auto-approve")
    assert code == 1 and "PoolQuotaReached" in text, text
    monkeypatch.delenv("DEPLOY_EMULATOR_BATCH_QUOTAS")

    for env in ("dev", "fails"):
        code, text = run(capsys, outputs, "destroy", stack, "--var", f"env={env}", "--auto-approve",
                         "--allow-data-loss")
        assert code == 0, text

    logged = {f"log record {i} ({r.name})": r.getMessage() for i, r in enumerate(caplog.records)}
    assert logged, "the runs logged nothing: the log search would prove nothing"
    files = [path for path in tmp_path.rglob("*") if path.is_file() and "secrets" not in path.parts]
    assert any(path.name.endswith(".sqlite3") for path in files), files
    contents = {f"file {path}": path.read_bytes().decode("utf-8", "replace") for path in files}
    assert leaks(outputs | logged | contents, workspace) == []


def test_the_leak_search_finds_a_leak(workspace: dict[str, str]) -> None:
    """The search itself works: a value, or a fragment of one, in any text is found."""
    value = workspace["CANARY_BLOB_KEY"]
    assert leaks({"a": f"key={value}"}, workspace) == ["CANARY_BLOB_KEY in a"]
    assert leaks({"b": "…" + value[11:27] + "…"}, workspace) == ["CANARY_BLOB_KEY in b"]
    assert leaks({"c": "nothing here"}, workspace) == []


def test_a_missing_secret_stops_before_anything_is_applied(
    workspace: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CANARY_USER")
    (Path("secrets") / "sas.txt").unlink()
    outputs: dict[str, str] = {}
    code, text = run(capsys, outputs, "apply", "stack.yaml.j2", "--auto-approve")
    assert code == 1, text
    lines = STACK.read_text().splitlines()
    user_line = next(i for i, line in enumerate(lines, 1) if "env:CANARY_USER" in line)
    sas_line = next(i for i, line in enumerate(lines, 1) if "file:secrets/sas.txt" in line)
    assert f"stack.yaml.j2:{user_line}:" in text and "environment variable CANARY_USER is not set" in text
    assert f"stack.yaml.j2:{sas_line}:" in text and "cannot read the secret file secrets/sas.txt" in text
    assert leaks(outputs, workspace) == []
    clients = Clients.for_emulator_embedded(tmp_path / "state",
                                            subscription_id="00000000-0000-0000-0000-0000000000c1")
    try:
        assert list(clients.storage.storage_accounts.list()) == []
        assert list(clients.batch_mgmt.batch_account.list()) == []
    finally:
        clients.close()


def test_destroy_needs_no_secret(workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Tearing down a throwaway environment must not need its secrets (a pipeline may not have them)."""
    outputs: dict[str, str] = {}
    assert run(capsys, outputs, "apply", "stack.yaml.j2", "--auto-approve")[0] == 0
    for name in ENV_SECRETS:
        monkeypatch.delenv(name)
    for name in FILE_SECRETS:
        Path(name).unlink()
    code, text = run(capsys, outputs, "destroy", "stack.yaml.j2", "--auto-approve", "--allow-data-loss")
    assert code == 0 and "Destroy complete" in text, text
