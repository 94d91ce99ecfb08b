"""`deploy apply` on the local target, through the command line: every example stack applies, a
second plan is empty (no phantom diffs), guards refuse what they should, secrets never show."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from deployer.cli import main
from tests.integration.copies import copy_stacks

REPO = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name for pattern in ("*.yaml", "*.yaml.j2") for p in (REPO / "stacks").glob(pattern))
CANARY = "canary-S3cret-0451"


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of stacks/ (with its apps), a fresh local emulator, fast resizes and tasks."""
    target = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    monkeypatch.setenv("HPC_SMB_PASSWORD", CANARY)
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", STACKS)
def test_apply_then_plan_is_empty(stacks: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(stacks / name)
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 0, out + err
    assert "Apply complete" in out and "0 failed" in out
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes" in out
    # applying again does nothing
    code, out, _ = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 0 and "No changes" in out


def test_secrets_never_appear(stacks: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(stacks / "hpc.yaml")
    saved = tmp_path / "plan.json"
    texts = []
    code, out, err = run(capsys, "plan", path, "--target", "local", "--out", str(saved), "--format", "json")
    assert code == 0
    texts += [out, err, saved.read_text()]
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve", "--format", "json")
    assert code == 0, out + err
    texts += [out, err]
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert events[0]["event"] == "plan" and events[-1]["event"] == "summary" and events[-1]["ok"]
    assert {e["event"] for e in events} >= {"started", "done"}
    # rotate the secret: the plan sees it (by fingerprint), apply rewrites it, nothing shows it
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode")
    assert code == 0, out
    for text in texts:
        assert CANARY not in text


def test_not_on_a_terminal_without_auto_approve_is_refused(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "apply", str(stacks / "quickstart.yaml"), "--target", "local")
    assert code == 1
    assert "--auto-approve" in err and "not on a terminal" in err
    code, out, _ = run(capsys, "plan", str(stacks / "quickstart.yaml"), "--target", "local", "--detailed-exitcode")
    assert code == 2  # nothing was applied


def test_saved_plan_applies_and_stale_plans_are_refused(stacks: Path, capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path) -> None:
    path = stacks / "quickstart.yaml"
    saved = tmp_path / "plan.json"
    assert run(capsys, "plan", str(path), "--target", "local", "--out", str(saved))[0] == 0
    code, out, err = run(capsys, "apply", str(saved))  # no prompt for a saved plan
    assert code == 0, out + err
    assert run(capsys, "plan", str(path), "--target", "local", "--detailed-exitcode")[0] == 0

    # a change planned, then live state moves on: the saved plan is stale
    path.write_text(path.read_text().replace("taskSlotsPerNode: 2", "taskSlotsPerNode: 2\n        metadata: {a: b}"))
    assert run(capsys, "plan", str(path), "--target", "local", "--out", str(saved))[0] == 0
    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(Path(str(tmp_path / "state")))
    clients.batch_mgmt.pool.update("rg-quickstart", "baquickstart01", "small",
                                   {"properties": {"startTask": {"commandLine": "echo moved"}}})
    code, out, err = run(capsys, "apply", str(saved))
    assert code == 1 and "stale plan" in err

    # the stack file changed since the plan was made
    assert run(capsys, "plan", str(path), "--target", "local", "--out", str(saved))[0] == 0
    path.write_text(path.read_text() + "\n# edited\n")
    code, out, err = run(capsys, "apply", str(saved))
    assert code == 1 and "stale plan" in err and "changed" in err


def test_data_loss_guard_and_protect(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = stacks / "quickstart.yaml"
    assert run(capsys, "apply", str(path), "--target", "local", "--auto-approve")[0] == 0
    path.write_text(path.read_text().replace("containers: [input, output]", "containers: [input]"))
    code, out, err = run(capsys, "apply", str(path), "--target", "local", "--auto-approve")
    assert code == 1 and "--allow-data-loss" in err and "storageAccounts.data.containers.output" in err
    code, out, err = run(capsys, "apply", str(path), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 0, out + err

    text = path.read_text().replace("    allowBlobPublicAccess: false\n",
                                    "    allowBlobPublicAccess: false\n    protect: true\n")
    path.write_text(text)
    code, out, err = run(capsys, "destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss")
    assert code == 1 and "protect" in err and "storageAccounts.data" in err
    code, out, _ = run(capsys, "plan", str(path), "--target", "local", "--detailed-exitcode")
    assert code == 0  # nothing was deleted


def test_only_limits_the_apply(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(stacks / "quickstart.yaml")
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve",
                         "--only", "batchAccounts.main.pools.small")
    assert code == 0, out + err
    assert "batchAccounts.main.jobs.hello" not in out and "containers.output" not in out
    code, out, _ = run(capsys, "plan", path, "--target", "local", "--format", "json")
    remaining = {c["address"] for c in json.loads(out)["changes"] if c["action"] != "no-op"}
    assert remaining == {"batchAccounts.main.jobs.hello", "storageAccounts.data.containers.input",
                         "storageAccounts.data.containers.output"}
    code, _, err = run(capsys, "apply", path, "--target", "local", "--auto-approve", "--only", "nothing.here")
    assert code == 1 and "no such resource" in err


def test_a_failure_stops_its_branch_only(stacks: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A permanent refusal by the service itself: an account whose pool quota is 0.
    monkeypatch.setenv("DEPLOY_EMULATOR_BATCH_QUOTAS", "poolQuota=0")
    path = str(stacks / "quickstart.yaml")
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 1
    assert re.search(r"Apply failed: 4 done, 1 failed, 1 not started", out), out
    assert re.search(r"failed: batchAccounts.main.pools.small: .*PoolQuotaReached", out), out
    assert "not started: batchAccounts.main.jobs.hello" in out
    code, out, _ = run(capsys, "plan", path, "--target", "local", "--format", "json")
    remaining = {c["address"] for c in json.loads(out)["changes"] if c["action"] != "no-op"}
    assert remaining == {"batchAccounts.main.pools.small", "batchAccounts.main.jobs.hello"}


def test_a_changed_pool_updates_in_place(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = stacks / "hpc.yaml"
    assert run(capsys, "apply", str(path), "--target", "local", "--auto-approve")[0] == 0
    text = path.read_text()
    start = text.index("        startTask:")
    end = text.index("        metadata: {team: simulation}")
    path.write_text(text[:start] + "        metadata: {team: simulation, tier: gold}\n"
                    + text[text.index("\n", end) + 1:])
    code, out, err = run(capsys, "apply", str(path), "--target", "local", "--auto-approve")
    assert code == 0, out + err
    assert "batchAccounts.hpc.pools.mpi: update done" in out
    code, out, err = run(capsys, "plan", str(path), "--target", "local", "--detailed-exitcode")
    assert code == 0, out


def test_a_missing_application_version_plans_an_update(stacks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reader lists each application's active versions: one removed outside the tool shows up."""
    import os

    from deployer.azure import Clients

    path = str(stacks / "media-transcode.yaml.j2")
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 0, out + err
    clients = Clients.for_emulator_embedded(Path(os.environ["DEPLOY_LOCAL_DIR"]))
    clients.batch_mgmt.application_package.delete("rg-media-dev", "bamediatranscodedev", "ffmpeg", "6.1")
    code, out, err = run(capsys, "plan", path, "--target", "local", "--format", "json", "--detailed-exitcode")
    assert code == 2, out + err
    (change,) = [c for c in json.loads(out)["changes"] if c["action"] != "no-op"]
    assert change["address"] == "batchAccounts.media.applications.ffmpeg"
    fields = {f["path"]: (f["before"], f["after"]) for f in change["fields"]}
    before, after = fields["packages"]
    assert before is None and after["6.1"]["version"] == "6.1"  # Azure also drops the default version
    assert after["6.1"]["content"].startswith("sha256:")
    assert set(fields) <= {"packages", "defaultVersion"}
    code, out, err = run(capsys, "apply", path, "--target", "local", "--auto-approve")
    assert code == 0, out + err
    code, out, err = run(capsys, "plan", path, "--target", "local", "--detailed-exitcode")
    assert code == 0, out + err


@pytest.fixture
def templated(stacks: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """quickstart.yaml with its Batch account name from a variable and its VM size from env."""
    text = (stacks / "quickstart.yaml").read_text()
    assert "name: baquickstart01" in text and "vmSize: Standard_D2s_v3" in text
    text = text.replace("name: baquickstart01", "name: ba{{ vars.suffix }}").replace(
        "vmSize: Standard_D2s_v3", "vmSize: {{ env.QUICKSTART_SIZE }}")
    path = stacks / "quickstart.yaml.j2"  # a template says so by its name
    path.write_text(text)
    (stacks / "prod.yaml").write_text("suffix: prod01\n")
    monkeypatch.setenv("QUICKSTART_SIZE", "Standard_D2s_v3")
    return path


def test_saved_plan_keeps_the_variables_it_was_made_with(templated: Path, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", str(templated), "--target", "local", "--out", str(saved),
                         "--var-file", str(templated.parent / "prod.yaml"))
    assert code == 0, out + err
    assert json.loads(saved.read_text())["variables"] == {"suffix": "prod01"}
    # the plan file alone is enough: the stack renders with the saved variables again
    code, out, err = run(capsys, "apply", str(saved), "--auto-approve")
    assert code == 0, out + err
    assert "batchAccounts.main: create done" in out
    code, out, err = run(capsys, "plan", str(templated), "--target", "local", "--detailed-exitcode",
                         "--var", "suffix=prod01")
    assert code == 0 and "No changes" in out, out + err


def test_saved_plan_refuses_new_variables(templated: Path, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run(capsys, "plan", str(templated), "--target", "local", "--out", str(saved), "--var", "suffix=a1")[0] == 0
    code, out, err = run(capsys, "apply", str(saved), "--auto-approve", "--var", "suffix=b2")
    assert code == 1 and "a saved plan is applied with the variables it was made with" in err, out + err


def test_saved_plan_is_stale_when_the_rendered_stack_changes(templated: Path, capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "plan.json"
    assert run(capsys, "plan", str(templated), "--target", "local", "--out", str(saved), "--var", "suffix=a1")[0] == 0
    monkeypatch.setenv("QUICKSTART_SIZE", "Standard_D4s_v3")  # same file, different rendering
    code, out, err = run(capsys, "apply", str(saved), "--auto-approve")
    assert code == 1 and "stale plan" in err and "changed since the plan was made" in err, out + err


def test_saved_plan_renders_again_for_the_target_it_was_made_with(templated: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A template that reads `deploy.target` (the plan's --target) renders at apply as it did at
    plan: the saved plan carries the target, as it carries the variables."""
    templated.write_text(templated.read_text().replace(
        "name: ba{{ vars.suffix }}", "name: ba{{ vars.suffix }}{{ 'l' if deploy.target == 'local' else 'x' }}"))
    saved = tmp_path / "plan.json"
    code, out, err = run(capsys, "plan", str(templated), "--target", "local", "--out", str(saved), "--var", "suffix=t1")
    assert code == 0 and "bat1l" in out, out + err
    assert json.loads(saved.read_text())["renderedForTarget"] == "local"
    code, out, err = run(capsys, "apply", str(saved), "--auto-approve")
    assert code == 0 and "batchAccounts.main: create done" in out, out + err


def test_media_stack_follows_the_command_line_target(stacks: Path) -> None:
    """`--target azure` alone plans Azure's start task (apt-get as admin), not the local one."""
    from deployer.stack.model import load_stack

    path = stacks / "media-transcode.yaml.j2"
    for target, kind, installs in ((None, "local", False), ("azure", "azure", True), ("local", "local", False)):
        stack = load_stack(path, target=target)
        pool = next(r for r in stack.resources if r.address.parts[-1] == "transcode")
        assert stack.target.kind == kind and stack.rendered_for == target
        assert ("apt-get install" in json.dumps(pool.spec)) is installs, target


@pytest.mark.parametrize("allow_updates", [True, False])
def test_a_changed_zip_under_the_same_version(stacks: Path, capsys: pytest.CaptureFixture[str],
                                              allow_updates: bool) -> None:
    """The deployer records each uploaded zip's sha256 on its package: a zip changed under the
    same version plans an update, which re-uploads it, or is refused when updates are not allowed."""
    path = stacks / "media-transcode.yaml.j2"
    text = path.read_text()
    assert "allowUpdates: false" in text
    path.write_text(text.replace("allowUpdates: false", f"allowUpdates: {str(allow_updates).lower()}"))
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out + err
    package = stacks / "apps" / "ffmpeg-6.1.zip"
    with zipfile.ZipFile(package, "a") as archive:
        archive.writestr("CHANGELOG", "rebuilt with libx265\n")
    code, out, err = run(capsys, "plan", str(path), "--format", "json", "--detailed-exitcode")
    assert code == 2, out + err
    (change,) = [c for c in json.loads(out)["changes"] if c["action"] != "no-op"]
    assert [f["path"] for f in change["fields"]] == ['packages["6.1"].content']
    code, out, err = run(capsys, "apply", str(path), "--auto-approve")
    if allow_updates:
        assert code == 0, out + err
        code, out, err = run(capsys, "plan", str(path), "--detailed-exitcode")
        assert code == 0 and "No changes" in out, out + err
    else:
        assert code == 1 and "publish the new zip as a new version" in out + err, out + err
