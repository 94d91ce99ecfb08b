"""The local target's state file (issue 10): a damaged SQLite file is reported by name with what
to do, instead of `reading resource group failed: 500 … Internal Server Error`; and
`deploy emulator reset` removes the local state."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.cli import main
from deployer.emulator.core.store import DB_NAME, Store
from tests.unit.stacks import BASE


def _plan(tmp_path: Path, capsys, monkeypatch, data: Path) -> tuple[int, str]:
    stack = tmp_path / "stack.yaml"
    stack.write_text(BASE, encoding="utf-8")
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data))
    code = main(["plan", str(stack)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    return code, captured.err


def _store_with_documents(data: Path) -> Path:
    store = Store(data)
    for i in range(400):
        store.put("thing", f"/things/{i:04d}", {"name": f"thing {i}", "pad": "x" * 200}, parent="/things")
    store.close()
    return data / DB_NAME


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 500)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:100])


def _pages_overwritten(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, min(len(data), 4096 * 6)):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_garbage, _truncated, _pages_overwritten])
def test_a_damaged_state_file_is_named_with_what_to_do(tmp_path, capsys, monkeypatch, damage):
    data = tmp_path / "state"
    path = _store_with_documents(data)
    for suffix in ("-wal", "-shm"):
        (data / (DB_NAME + suffix)).unlink(missing_ok=True)
    damage(path)
    code, err = _plan(tmp_path, capsys, monkeypatch, data)
    assert code == 1
    assert err.startswith(f"error: the local state file {path} is damaged")
    assert f"deploy emulator reset --data {data}" in err
    assert "500" not in err and len(err.strip().splitlines()) == 1


def test_reset_removes_the_state_and_the_next_run_works(tmp_path, capsys, monkeypatch):
    data = tmp_path / "state"
    path = _store_with_documents(data)
    (data / "ca.pem").write_text("keep me")
    _garbage(path)
    assert main(["emulator", "reset", "--data", str(data), "--yes"]) == 0
    assert "local state reset: removed emulator.sqlite3" in capsys.readouterr().err
    assert not path.exists() and (data / "ca.pem").read_text() == "keep me"
    code, err = _plan(tmp_path, capsys, monkeypatch, data)
    assert code == 0, err


def test_reset_asks_unless_yes(tmp_path, capsys, monkeypatch):
    data = tmp_path / "state"
    path = _store_with_documents(data)
    monkeypatch.setattr("sys.stdin", None)
    assert main(["emulator", "reset", "--data", str(data)]) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert path.exists()


def test_reset_of_an_empty_folder_says_so(tmp_path, capsys):
    assert main(["emulator", "reset", "--data", str(tmp_path), "--yes"]) == 0
    assert "nothing to reset" in capsys.readouterr().err


def test_reset_uses_deploy_local_dir(tmp_path, capsys, monkeypatch):
    data = tmp_path / "state"
    path = _store_with_documents(data)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(data))
    assert main(["emulator", "reset", "--yes"]) == 0
    assert not path.exists()
