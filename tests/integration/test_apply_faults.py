"""One fault on one write: apply, update and destroy still converge in ONE run.

A stack that makes every kind of write the deployer sends (tests/integration/stacks/every-write
.yaml: network, storage account, container, file share, Batch account, application with a package,
pool with a file-share mount, job with tasks, job schedule; `v2` changes each of them, and drains
the pool to change it) is applied,
updated and destroyed on the embedded emulator with one fault — `reset` (dropped before it is
handled), `500`, or `lost` (handled, then the answer dropped) — on exactly one write request
(DEPLOY_EMULATOR_FAULTS="KIND@METHOD PATH#1"). Each run must exit 0 and leave nothing to do: the
next plan is empty, or nothing the stack owns is left after destroy.

WRITES is the table of every write request kind; `test_writes_table_covers_every_write` checks it
against the writes the scenarios (and the example stacks hpc and media-transcode) really send, so
a new kind of write cannot escape the sweep.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import deployer.azure.clients as client_settings
from deployer.cli import main
from deployer.emulator.core import EmulatorApp
from deployer.emulator.core.messages import Request
from tests.integration.copies import copy_stacks

HERE = Path(__file__).resolve().parent
STACK = HERE / "stacks" / "every-write.yaml"
FAULTS = ("reset", "500", "lost")
WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")
ARM = "/subscriptions/*/resourcegroups/rg-every-write/providers"
BATCH = ARM + "/microsoft.batch/batchaccounts/baeverywrite01"
STORAGE = ARM + "/microsoft.storage/storageaccounts/steverywrite01"
DATA = "/batch/baeverywrite01"

#: (scenario, method, path pattern): every kind of write request, first occurrence gets the fault
WRITES: list[tuple[str, str, str]] = [
    ("apply", "PUT", "/subscriptions/*/resourcegroups/rg-every-write"),
    ("apply", "PUT", ARM + "/microsoft.network/virtualnetworks/vnet-every-write"),
    ("apply", "PUT", STORAGE),
    ("apply", "PUT", STORAGE + "/blobservices/default/containers/input"),
    ("apply", "PUT", STORAGE + "/fileservices/default/shares/scratch"),
    ("apply", "POST", STORAGE + "/listkeys"),
    ("apply", "PUT", BATCH),
    ("apply", "PUT", BATCH + "/pools/small"),
    ("apply", "PUT", BATCH + "/applications/tool"),
    ("apply", "PUT", BATCH + "/applications/tool/versions/1.0"),
    ("apply", "PUT", "/blob/steverywrite01/app-tool-*/tool-1.0-*"),
    ("apply", "POST", BATCH + "/applications/tool/versions/1.0/activate"),
    ("apply", "PATCH", BATCH + "/applications/tool"),
    ("apply", "POST", DATA + "/jobs"),
    ("apply", "POST", DATA + "/jobs/work/addtaskcollection"),
    ("apply", "PATCH", DATA + "/jobs/work"),
    ("apply", "POST", DATA + "/jobschedules"),
    ("update", "PUT", ARM + "/microsoft.network/virtualnetworks/vnet-every-write"),
    ("update", "PATCH", STORAGE),
    ("update", "PATCH", STORAGE + "/blobservices/default/containers/input"),
    ("update", "PATCH", STORAGE + "/fileservices/default/shares/scratch"),
    ("update", "POST", STORAGE + "/listkeys"),
    ("update", "PATCH", BATCH),
    ("update", "PATCH", BATCH + "/pools/small"),  # drain: scale to zero (If-Match)
    ("update", "PATCH", BATCH + "/pools/small#2"),  # drain: the update once empty (If-Match)
    ("update", "PATCH", BATCH + "/applications/tool"),
    ("update", "PATCH", DATA + "/jobs/work"),
    ("update", "PATCH", DATA + "/jobschedules/nightly"),
    ("destroy", "POST", STORAGE + "/listkeys"),
    ("destroy", "DELETE", DATA + "/jobs/work"),
    ("destroy", "DELETE", DATA + "/jobschedules/nightly"),
    ("destroy", "DELETE", BATCH + "/pools/small"),
    ("destroy", "DELETE", BATCH + "/applications/tool/versions/1.0"),
    ("destroy", "DELETE", BATCH + "/applications/tool"),
    ("destroy", "DELETE", BATCH),
    ("destroy", "DELETE", STORAGE + "/blobservices/default/containers/input"),
    ("destroy", "DELETE", STORAGE + "/fileservices/default/shares/scratch"),
    ("destroy", "DELETE", STORAGE),
    ("destroy", "DELETE", ARM + "/microsoft.network/virtualnetworks/vnet-every-write"),
]


@dataclass
class Workspace:
    stacks: Path  # v1.yaml, v2.yaml and apps/
    applied: Path  # emulator state with v1 applied (copied for the update and destroy scenarios)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("every-write")
    (root / ".git").mkdir()
    stacks = root / "stacks"
    (stacks / "apps").mkdir(parents=True)
    with zipfile.ZipFile(stacks / "apps" / "tool-1.0.zip", "w") as archive:
        archive.writestr("bin/tool", "#!/bin/sh\necho tool\n")
    text = STACK.read_text()
    (stacks / "v1.yaml").write_text(text.replace("{{ rev }}", "1"))
    (stacks / "v2.yaml").write_text(text.replace("{{ rev }}", "2"))
    with pytest.MonkeyPatch.context() as mp:
        _fast(mp)
        mp.setenv("DEPLOY_LOCAL_DIR", str(root / "applied"))
        assert main(["apply", str(stacks / "v1.yaml"), "--auto-approve"]) == 0
    (root / "applied" / "requests.jsonl").unlink()
    yield Workspace(stacks, root / "applied")


def _fast(mp: pytest.MonkeyPatch) -> None:
    mp.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.05")
    mp.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.05")
    mp.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.05")
    mp.delenv("DEPLOY_EMULATOR_FAULTS", raising=False)
    mp.setattr(client_settings, "EMULATOR_POLLING_INTERVAL", 0.01)


def _state(workspace: Workspace, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    if scenario != "apply":
        shutil.copytree(workspace.applied, state)
    _fast(monkeypatch)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(state))
    return state


def _run(workspace: Workspace, scenario: str) -> int:
    if scenario == "destroy":
        return main(["destroy", str(workspace.stacks / "v1.yaml"), "--auto-approve", "--allow-data-loss"])
    stack = workspace.stacks / ("v1.yaml" if scenario == "apply" else "v2.yaml")
    return main(["apply", str(stack), "--auto-approve"])


def _converged(workspace: Workspace, scenario: str, capsys: pytest.CaptureFixture[str]) -> str:
    """'' when nothing is left to do, else what is."""
    capsys.readouterr()
    if scenario == "destroy":
        code = main(["destroy", str(workspace.stacks / "v1.yaml"), "--auto-approve", "--allow-data-loss"])
        out = capsys.readouterr().out
        return "" if code == 0 and "No changes" in out else out
    stack = workspace.stacks / ("v1.yaml" if scenario == "apply" else "v2.yaml")
    code = main(["plan", str(stack), "--detailed-exitcode"])
    out = capsys.readouterr().out
    return "" if code == 0 else out


def _log(state: Path) -> list[dict[str, object]]:
    path = state / "requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _cases() -> list[object]:
    """Every write with every fault, but a 500 only on POST and PATCH: on PUT and DELETE (and GET) a
    500, like a reset, comes before anything happened and the SDK resends it (its documented
    policy, covered by tests/integration/emulator/test_core.py); the sweep's time goes where the
    SDK cannot help."""
    out = []
    for scenario, method, pattern in WRITES:
        for fault in FAULTS:
            if fault == "500" and method in ("PUT", "DELETE"):
                continue
            name = f"{scenario}-{method}-{pattern.rsplit('/', 2)[-2]}-{pattern.rsplit('/', 1)[-1]}-{fault}"
            name = name.replace("#", "-")
            out.append(pytest.param(scenario, method, pattern, fault, id=name))
    return out


@pytest.mark.parametrize(("scenario", "method", "pattern", "fault"), _cases())
def test_one_fault_on_one_write_converges_in_one_run(workspace: Workspace, scenario: str, method: str,
                                                     pattern: str, fault: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    state = _state(workspace, scenario, tmp_path, monkeypatch)
    monkeypatch.setenv("DEPLOY_EMULATOR_FAULTS", f"{fault}@{method} {pattern}" + ("" if "#" in pattern else "#1"))
    code = _run(workspace, scenario)
    captured = capsys.readouterr()
    monkeypatch.delenv("DEPLOY_EMULATOR_FAULTS")
    injected = [e for e in _log(state) if e.get("fault")]
    assert len(injected) == 1, f"the fault {fault}@{method} {pattern} hit {len(injected)} requests"
    assert code == 0, captured.out + captured.err
    assert _converged(workspace, scenario, capsys) == ""


def _template(app: EmulatorApp, method: str, path: str) -> str:
    route, _ = app.router.match(Request(method, path, "", {}, b""))
    return f"{method} {route.template.lower()}"


def test_writes_table_covers_every_write(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Every write the scenarios and the example stacks send matches a row of WRITES (same route)."""
    app = EmulatorApp(tmp_path / "router")
    covered = {(s, m): [re.compile(_glob(p.split("#")[0])) for s2, m2, p in WRITES if (s2, m2) == (s, m)]
               for s, m, _ in WRITES}
    templates: dict[str, set[str]] = {}
    for scenario in ("apply", "update", "destroy"):
        state = _state(workspace, scenario, tmp_path / scenario, monkeypatch)
        assert _run(workspace, scenario) == 0
        for entry in _log(state):
            method, path = str(entry["method"]), str(entry["path"])
            if method not in WRITE_METHODS:
                continue
            assert any(p.fullmatch(path.lower()) for p in covered.get((scenario, method), [])), \
                f"{scenario}: {method} {path} is not in WRITES"
            templates.setdefault(scenario, set()).add(_template(app, method, path))
    # the example stacks send no kind of write the sweep does not
    (tmp_path / "examples").mkdir()
    examples = copy_stacks(tmp_path / "examples")
    monkeypatch.setenv("HPC_SMB_PASSWORD", "sweep-secret")
    for name in ("hpc.yaml", "media-transcode.yaml.j2"):
        path = examples / name
        path.write_text(path.read_text().replace("protect: true", "protect: false"))
        state = tmp_path / "examples" / name
        monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(state))
        assert main(["apply", str(path), "--target", "local", "--auto-approve"]) == 0
        assert main(["destroy", str(path), "--target", "local", "--auto-approve", "--allow-data-loss"]) == 0
        swept = set().union(*templates.values())
        for entry in _log(state):
            if entry["method"] in WRITE_METHODS:
                assert _template(app, str(entry["method"]), str(entry["path"])) in swept, entry
    capsys.readouterr()


def _glob(pattern: str) -> str:
    return ".*".join(re.escape(part) for part in pattern.split("*"))


def test_destroy_rerun_after_a_kill_while_a_job_is_deleting(workspace: Workspace, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A destroy killed right after it asked for a job's deletion: the rerun plans that delete again
    and meets the job being deleted (409 JobBeingDeleted): it waits until it is gone and finishes,
    and nothing the stack owns is left."""
    from deployer.azure import Clients

    state = _state(workspace, "destroy", tmp_path, monkeypatch)
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.4")
    monkeypatch.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.4")
    rg, account = "rg-every-write", "baeverywrite01"
    with Clients.for_emulator_embedded(state) as clients:
        endpoint = clients.batch_mgmt.batch_account.get(rg, account).account_endpoint
        data = clients.batch_data(endpoint)
        data.begin_delete_job_schedule("nightly", polling_interval=0.01).result()
        data.begin_delete_job("work", polling_interval=0.01)  # asked for; the killed run never saw more
    code = main(["destroy", str(workspace.stacks / "v1.yaml"), "--auto-approve", "--allow-data-loss"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert _converged(workspace, "destroy", capsys) == ""


def test_destroy_when_a_deleting_pool_vanishes_between_plan_and_delete(workspace: Workspace, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rerun after a kill -9 of destroy reads the pool still deleting, plans its delete, and by
    the time the DELETE goes out the pool is gone (404 PoolNotFound): that delete is done. The
    emulator's clock moves between plan and delete (a sleep made the test depend on the load)."""
    from deployer.apply.engine import destroy_plan
    from deployer.apply.executor import execute
    from deployer.azure import Clients
    from deployer.emulator.core import clock
    from deployer.stack.model import load_stack

    state = _state(workspace, "destroy", tmp_path, monkeypatch)
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "30")
    rg, account = "rg-every-write", "baeverywrite01"
    stack = load_stack(workspace.stacks / "v1.yaml")
    with Clients.for_emulator_embedded(state) as clients:
        data = clients.batch_data(clients.batch_mgmt.batch_account.get(rg, account).account_endpoint)
        data.begin_delete_job_schedule("nightly", polling_interval=0.01).result()
        data.begin_delete_job("work", polling_interval=0.01).result()
        clients.batch_mgmt.pool.begin_delete(rg, account, "small", polling_interval=0.01)  # the killed run
        run = destroy_plan(stack, clients)
        assert any(c.name == "small" for c in run.plan.actionable)  # still there, deleting
        clock.advance(60)  # the deletion finishes: gone when the DELETE goes out
        result = execute(run.plan, run.stack, clients, run.live)
        assert result.ok, result.failed
