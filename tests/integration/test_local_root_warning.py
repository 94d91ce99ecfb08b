"""The local target runs the stack's commands as whoever runs deploy, never escalating: when that
is root, it says so before anything runs (an admin start task would really change the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.azure.target import clients_for
from deployer.stack.model import Target


@pytest.mark.parametrize(("uid", "execute", "env", "warned"), [
    (0, True, "1", True),
    (0, False, "1", False),  # target.execute: false — tasks only pretend to run
    (0, True, "0", False),  # DEPLOY_LOCAL_EXECUTE=0
    (1000, True, "1", False),
])
def test_root_is_warned_when_local_tasks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                             uid: int, execute: bool, env: str, warned: bool) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setenv("DEPLOY_LOCAL_EXECUTE", env)
    monkeypatch.setattr("os.geteuid", lambda: uid)
    with clients_for(Target(kind="local", execute=execute), tmp_path):
        pass
    err = capsys.readouterr().err
    assert ("warning: deploy runs as root" in err) is warned, err
    if warned:
        assert "DEPLOY_LOCAL_EXECUTE=0" in err and err[-1] == "\n" and err.count("\n") == 1
