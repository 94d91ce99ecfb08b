"""The presets of templates/: every macro renders into a stack that validates, the autoscale
formulas size pools as documented (caps, slots, schedules), bad parameters are errors at the
stack line that called the preset, and the media stack's two environments differ as intended."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deployer.emulator.batch_mgmt.formula import evaluate
from deployer.stack.model import Kind, load_stack
from deployer.stack.validate import validate_file
from tests.unit.stacks import BASE

REPO = Path(__file__).resolve().parents[2]
IMPORTS = ("{% import 'images.j2' as images %}\n{% import 'autoscale.j2' as autoscale %}\n"
           "{% import 'start_tasks.j2' as start_tasks %}\n")
HEADER_LINES = IMPORTS.count("\n")
POOL_FIELD = {  # the lines of BASE's pool p1 a preset replaces, by field
    "deploymentConfiguration": """\
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
            nodeAgentSkuId: batch.node.ubuntu 22.04
""",
    "scaleSettings": """\
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 1}
""",
    "startTask": "",  # BASE has none: added after taskSlotsPerNode
}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with this project's templates/ and an empty stacks/, as working directory."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    (tmp_path / "stacks").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stack_with(field: str, call: str) -> str:
    """BASE with pool p1's `field` given by the preset `call`, the imports on top."""
    line = f"        {field}: {{{{ {call} }}}}\n"
    if POOL_FIELD[field]:
        text = BASE.replace(POOL_FIELD[field], line)
    else:
        text = BASE.replace("        taskSlotsPerNode: 2\n", "        taskSlotsPerNode: 2\n" + line)
    assert text != BASE
    return IMPORTS + text


def check(repo: Path, text: str) -> list[str]:
    path = repo / "stacks" / "s.yaml.j2"
    path.write_text(text, encoding="utf-8")
    return [d.format() for d in validate_file(path, "stacks/s.yaml.j2").diagnostics]


def pool(repo: Path, field: str, call: str) -> dict[str, Any]:
    path = repo / "stacks" / "s.yaml.j2"
    path.write_text(stack_with(field, call), encoding="utf-8")
    stack = load_stack(path, "stacks/s.yaml.j2")
    return next(r.spec for r in stack.of_kind(Kind.POOL))


# --- every preset renders into a valid stack -----------------------------------------------------

IMAGES = [
    ("images.ubuntu_2204()", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "batch.node.ubuntu 22.04"),
    ("images.ubuntu_2204(gen2=false, version='2024.10.15')", "0001-com-ubuntu-server-jammy", "22_04-lts",
     "batch.node.ubuntu 22.04"),
    ("images.ubuntu_2404()", "ubuntu-24_04-lts", "server", "batch.node.ubuntu 24.04"),
    ("images.ubuntu_2404(gen2=false)", "ubuntu-24_04-lts", "server-gen1", "batch.node.ubuntu 24.04"),
    ("images.almalinux()", "almalinux-x86_64", "9-gen2", "batch.node.el 9"),
    ("images.almalinux(8)", "almalinux-x86_64", "8-gen2", "batch.node.el 8"),
    ("images.windows_server()", "windowsserver", "2022-datacenter", "batch.node.windows amd64"),
    ("images.windows_server(2019, core=true, small_disk=true)", "windowsserver", "2019-datacenter-core-smalldisk",
     "batch.node.windows amd64"),
]


@pytest.mark.parametrize(("call", "offer", "sku", "agent"), IMAGES)
def test_image_presets_pair_image_and_node_agent(repo: Path, call: str, offer: str, sku: str, agent: str) -> None:
    assert check(repo, stack_with("deploymentConfiguration", call)) == []
    vm = pool(repo, "deploymentConfiguration", call)["deploymentConfiguration"]["virtualMachineConfiguration"]
    assert (vm["imageReference"]["offer"], vm["imageReference"]["sku"], vm["nodeAgentSkuId"]) == (offer, sku, agent)


def test_image_presets_pass_data_disks_and_windows_settings(repo: Path) -> None:
    disks = [{"lun": 0, "diskSizeGB": 256, "caching": "ReadOnly", "storageAccountType": "Premium_LRS"}]
    call = f"images.ubuntu_2404(data_disks={json.dumps(disks)})"
    assert check(repo, stack_with("deploymentConfiguration", call)) == []
    vm = pool(repo, "deploymentConfiguration", call)["deploymentConfiguration"]["virtualMachineConfiguration"]
    assert vm["dataDisks"] == disks
    vm = pool(repo, "deploymentConfiguration", "images.windows_server()")["deploymentConfiguration"][
        "virtualMachineConfiguration"]
    assert vm["windowsConfiguration"] == {"enableAutomaticUpdates": False}


AUTOSCALE = [
    "autoscale.pending_tasks(max_low_priority=20, slots_per_node=2)",
    "autoscale.pending_tasks(max_dedicated=2, max_low_priority=8, spot_first=true, lookback_minutes=30, "
    "required_percent=50, deallocation='requeue', interval='PT15M')",
    "autoscale.active_and_running_tasks(max_dedicated=4)",
    "autoscale.active_and_running_tasks(max_low_priority=10, include_running=false, deallocation='terminate')",
    "autoscale.workday(dedicated=10, off_low_priority=2)",
    "autoscale.workday(low_priority=5, start_hour=6, end_hour=22, deallocation='retaineddata')",
    "autoscale.workday(dedicated=3, start_hour=16, end_hour=2, interval=15)",
    "autoscale.weekend(low_priority=50)",
    "autoscale.queue_depth(30)",
    "autoscale.queue_depth(12, min_nodes=2, tasks_per_node=4, node_type='dedicated', deallocation='requeue', "
    "lookback_minutes=30, required_percent=90, interval='PT1H30M')",
]


@pytest.mark.parametrize("call", AUTOSCALE)
def test_autoscale_presets_validate_and_run_in_the_emulator(repo: Path, call: str) -> None:
    assert check(repo, stack_with("scaleSettings", call)) == []
    auto = pool(repo, "scaleSettings", call)["scaleSettings"]["autoScale"]
    result = evaluate(auto["formula"])  # metrics are unknown to the emulator: a pool of 0 nodes
    assert (result.dedicated, result.low_priority) == (0, 0)
    assert re.fullmatch(r"PT(\d+H)?(\d+M)?", auto["evaluationInterval"])


START_TASKS = [
    ("start_tasks.shell(['echo ready'])", "/bin/bash -c 'set -euo pipefail; echo ready'"),
    ("start_tasks.apt_install(['ffmpeg', 'jq'], then=['ffmpeg -version'])",
     "apt-get install -y -q --no-install-recommends ffmpeg jq; ffmpeg -version'"),
    ("start_tasks.dnf_install(['jq'], epel=true)", "dnf install -y -q epel-release; dnf install -y -q jq'"),
    ("start_tasks.pip_install(['numpy==2.1', 'pandas>=2,<3'])", 'install -q "numpy==2.1" "pandas>=2,<3"'),
    ("start_tasks.wait_for_mount('scratch', 60)", "for i in $(seq 12); do mountpoint -q"),
    ("start_tasks.windows_features(['Web-Server', 'NET-Framework-45-Core'])",
     "Install-WindowsFeature -Name Web-Server,NET-Framework-45-Core"),
    ("start_tasks.powershell(['Write-Output ready'], admin=false, retries=0, wait=false)", "Write-Output ready\""),
]


@pytest.mark.parametrize(("call", "command"), START_TASKS)
def test_start_task_presets(repo: Path, call: str, command: str) -> None:
    assert check(repo, stack_with("startTask", call)) == []
    task = pool(repo, "startTask", call)["startTask"]
    assert command in task["commandLine"]
    assert task["userIdentity"]["autoUser"]["scope"] == "Pool"


def test_start_task_options(repo: Path) -> None:
    call = "start_tasks.shell(['env'], environment={'B': 2, 'A': 'x'}, admin=false, retries=5, wait=false)"
    task = pool(repo, "startTask", call)["startTask"]
    assert task["environmentSettings"] == [{"name": "A", "value": "x"}, {"name": "B", "value": "2"}]
    assert task["userIdentity"]["autoUser"]["elevationLevel"] == "NonAdmin"
    assert (task["maxTaskRetryCount"], task["waitForSuccess"]) == (5, False)


# --- the formulas size pools as documented -----------------------------------------------------


def formula_of(repo: Path, call: str) -> str:
    return str(pool(repo, "scaleSettings", call)["scaleSettings"]["autoScale"]["formula"])


def run_with(formula: str, **metrics: float) -> tuple[int, int, str]:
    """Evaluate as the emulator does, given task counts (`pending=7`, `active`, `running`; 0 when
    not given) and a time (`weekday`: Sunday 0, `hour`, UTC)."""
    names = {"pending": "$PendingTasks", "active": "$ActiveTasks", "running": "$RunningTasks"}
    known = {name: metrics.get(key, 0) for key, name in names.items()}
    weekday, hour = int(metrics.get("weekday", 1)), int(metrics.get("hour", 12))
    sunday = datetime(2023, 11, 19, tzinfo=UTC)  # a Sunday
    now = (sunday + timedelta(days=weekday, hours=hour)).timestamp()
    result = evaluate(formula, known, now)
    return result.dedicated, result.low_priority, result.deallocation


@pytest.mark.parametrize(("call", "metrics", "expected"), [
    ("autoscale.pending_tasks(max_low_priority=20, slots_per_node=2)", {"pending": 7}, (0, 4)),
    ("autoscale.pending_tasks(max_low_priority=20, slots_per_node=2)", {"pending": 500}, (0, 20)),
    ("autoscale.pending_tasks(max_dedicated=3, max_low_priority=20)", {"pending": 10}, (3, 7)),
    ("autoscale.pending_tasks(max_dedicated=3, max_low_priority=5, spot_first=true)", {"pending": 7}, (2, 5)),
    ("autoscale.pending_tasks(max_dedicated=3)", {"pending": 0}, (0, 0)),
    ("autoscale.active_and_running_tasks(max_dedicated=10)", {"active": 3, "running": 4}, (7, 0)),
    ("autoscale.active_and_running_tasks(max_dedicated=10, include_running=false)", {"active": 3, "running": 4},
     (3, 0)),
    ("autoscale.workday(dedicated=10, off_low_priority=2)", {"weekday": 3, "hour": 9}, (10, 0)),
    ("autoscale.workday(dedicated=10, off_low_priority=2)", {"weekday": 3, "hour": 18}, (0, 2)),
    ("autoscale.workday(dedicated=10, off_low_priority=2)", {"weekday": 6, "hour": 9}, (0, 2)),
    ("autoscale.weekend(low_priority=50, off_dedicated=1)", {"weekday": 0}, (0, 50)),
    ("autoscale.weekend(low_priority=50, off_dedicated=1)", {"weekday": 5}, (1, 0)),
    # a range across midnight UTC (8:00-18:00 Pacific): the hours after midnight belong to the day before
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 5, "hour": 20}, (3, 0)),
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 6, "hour": 1}, (3, 0)),
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 6, "hour": 16}, (0, 0)),
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 1, "hour": 1}, (0, 0)),
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 2, "hour": 1}, (3, 0)),
    ("autoscale.workday(dedicated=3, start_hour=16, end_hour=2)", {"weekday": 2, "hour": 12}, (0, 0)),
    ("autoscale.workday(low_priority=4, start_hour=0, end_hour=24)", {"weekday": 4, "hour": 23}, (0, 4)),
    ("autoscale.queue_depth(30, tasks_per_node=4)", {"active": 41, "running": 8}, (0, 13)),
    ("autoscale.queue_depth(10)", {"active": 41}, (0, 10)),
    ("autoscale.queue_depth(10, min_nodes=2, node_type='dedicated')", {}, (2, 0)),
])
def test_autoscale_formulas_respect_caps_and_schedules(repo: Path, call: str, metrics: dict[str, float],
                                                       expected: tuple[int, int]) -> None:
    dedicated, low_priority, _ = run_with(formula_of(repo, call), **metrics)
    assert (dedicated, low_priority) == expected


@pytest.mark.parametrize(("option", "azure"), [("taskcompletion", "TaskCompletion"), ("requeue", "Requeue"),
                                               ("terminate", "Terminate"), ("RetainedData", "RetainedData")])
def test_deallocation_option(repo: Path, option: str, azure: str) -> None:
    formula = formula_of(repo, f"autoscale.queue_depth(5, deallocation='{option}')")
    assert run_with(formula, active=1)[2] == azure


# --- bad parameters: an error at the stack line that called the preset -------------------------


@pytest.mark.parametrize(("field", "call", "message"), [
    ("deploymentConfiguration", "images.almalinux(7)", "images.almalinux: release is 8 or 9, not 7"),
    ("deploymentConfiguration", "images.windows_server(2016)", "images.windows_server: year is 2019 or 2022"),
    ("deploymentConfiguration", "images.ubuntu_2204(data_disks='big')", "images: data_disks is a list of disks"),
    ("scaleSettings", "autoscale.pending_tasks()", "give max_dedicated or max_low_priority (or both) above 0"),
    ("scaleSettings", "autoscale.pending_tasks(max_low_priority=2.5)",
     "max_low_priority is a whole number of at least 0, not 2.5"),
    ("scaleSettings", "autoscale.pending_tasks(max_low_priority=-1)", "max_low_priority is a whole number"),
    ("scaleSettings", "autoscale.pending_tasks(max_low_priority=4, deallocation='later')",
     "deallocation is requeue, terminate, taskcompletion or retaineddata, not later"),
    ("scaleSettings", "autoscale.workday(dedicated=2, start_hour=25)",
     "start_hour (UTC hour) is a whole number from 0 to 23, not 25"),
    ("scaleSettings", "autoscale.workday(dedicated=2, start_hour=9, end_hour=9)",
     "start_hour and end_hour are both 9: working hours would be empty"),
    ("scaleSettings", "autoscale.weekend()", "every node count is 0"),
    ("scaleSettings", "autoscale.queue_depth(3, required_percent=101)",
     "required_percent is a whole number from 0 to 100"),
    ("scaleSettings", "autoscale.pending_tasks(max_low_priority=4, interval='PT1M')",
     "interval is from PT5M to PT168H, such as \"PT15M\" or \"PT1H\" (or whole minutes: 15), not PT1M"),
    ("scaleSettings", "autoscale.pending_tasks(max_low_priority=4, interval='5m')", "interval is from PT5M to PT168H"),
    ("scaleSettings", "autoscale.weekend(low_priority=4, interval='PT169H')", "interval is from PT5M to PT168H"),
    ("scaleSettings", "autoscale.workday(dedicated=4, interval='P1D')", "interval is from PT5M to PT168H"),
    ("scaleSettings", "autoscale.queue_depth(3, min_nodes=5)", "min_nodes (5) is above max_nodes (3)"),
    ("scaleSettings", "autoscale.queue_depth(3, node_type='spot')", 'node_type is "lowpriority" or "dedicated"'),
    ("scaleSettings", "autoscale.queue_depth()", "give max_nodes, the most nodes the pool may have"),
    ("startTask", "start_tasks.apt_install('jq')", "start_tasks.apt_install: give a non-empty list"),
    ("startTask", "start_tasks.apt_install(['jq; rm -rf /'])", '"jq; rm -rf /" is not a plain name'),
    ("startTask", "start_tasks.pip_install(['x$(id)'])", '"x$(id)" is not a plain name'),
    ("startTask", "start_tasks.shell([\"echo 'x'\"])", "a command may not hold a single quote"),
    ("startTask", "start_tasks.shell('echo x')", "commands is a list of strings"),
    ("startTask", "start_tasks.apt_install(['jq'], environment=['A=1'])", "environment is a mapping of NAME: value"),
    ("startTask", "start_tasks.apt_install(['jq'], retries='many')",
     "retries (maxTaskRetryCount) is a whole number from 0 to 100, or -1 for no limit, not many"),
    ("startTask", "start_tasks.shell(['true'], admin='yes')", "admin is true or false, not yes"),
    ("startTask", "start_tasks.wait_for_mount('scratch', timeout_seconds='soon')",
     "timeout_seconds is a whole number of seconds, at least 5, not soon"),
])
def test_bad_parameters_point_at_the_call(repo: Path, field: str, call: str, message: str) -> None:
    text = stack_with(field, call)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if call in text_line)
    found = check(repo, text)
    assert len(found) == 1, found
    assert found[0].startswith(f"stacks/s.yaml.j2:{line}:"), found
    assert message in found[0]


@pytest.mark.parametrize(("interval", "iso"), [(15, "PT15M"), ("pt1h30m", "PT1H30M"), ("PT168H", "PT168H"),
                                               ("PT5M", "PT5M")])
def test_interval_forms(repo: Path, interval: object, iso: str) -> None:
    call = f"autoscale.active_and_running_tasks(max_dedicated=1, interval={interval!r})"
    assert check(repo, stack_with("scaleSettings", call)) == []
    assert pool(repo, "scaleSettings", call)["scaleSettings"]["autoScale"]["evaluationInterval"] == iso


def test_strings_from_the_command_line_are_accepted_for_every_kind_of_parameter(repo: Path) -> None:
    """--var gives strings: "true", "3", "-1" work where true, 3 and -1 do."""
    call = "start_tasks.shell(['true'], admin=vars.admin, wait=vars.wait, retries=vars.retries)"
    path = repo / "stacks" / "s.yaml.j2"
    path.write_text(stack_with("startTask", call), encoding="utf-8")
    stack = load_stack(path, "stacks/s.yaml.j2", variables={"admin": "False", "wait": "true", "retries": "-1"})
    task = next(r.spec for r in stack.of_kind(Kind.POOL))["startTask"]
    assert (task["userIdentity"]["autoUser"]["elevationLevel"], task["waitForSuccess"], task["maxTaskRetryCount"]) == (
        "NonAdmin", True, -1)


def test_numbers_from_the_command_line_are_accepted(repo: Path) -> None:
    """--var gives strings: "20" is as good as 20 for a count."""
    text = stack_with("scaleSettings", "autoscale.pending_tasks(max_low_priority=vars.cap)")
    path = repo / "stacks" / "s.yaml.j2"
    path.write_text(text, encoding="utf-8")
    stack = load_stack(path, "stacks/s.yaml.j2", variables={"cap": "20"})
    formula = next(r.spec for r in stack.of_kind(Kind.POOL))["scaleSettings"]["autoScale"]["formula"]
    assert "min(20, max(0, $nodes - $TargetDedicatedNodes))" in formula


# --- the media stack: one file, two environments ---------------------------------------------------


def media(env: str | None) -> dict[str, Any]:
    variables = None
    if env is not None:
        from deployer.stack.template import load_variables

        variables = load_variables([REPO / "stacks" / "envs" / f"{env}.yaml"])
    stack = load_stack(REPO / "stacks" / "media-transcode.yaml.j2", variables=variables)
    resources = {str(r.address): r for r in stack.resources}
    transcode = resources["batchAccounts.media.pools.transcode"].spec
    formula = transcode["scaleSettings"]["autoScale"]["formula"]
    return {
        "resource group": stack.target.resource_group,
        "storage": resources["storageAccounts.media"].name,
        "batch": resources["batchAccounts.media"].name,
        "vm size": transcode["vmSize"],
        "slots": transcode["taskSlotsPerNode"],
        "caps": run_with(formula, pending=10_000)[:2],
        "share GiB": resources["storageAccounts.media.fileShares.scratch"].spec["quotaGiB"],
    }


def test_media_stack_dev_and_prod_from_one_file() -> None:
    assert media("dev") == {"resource group": "rg-media-dev", "storage": "stmediatranscodedev",
                            "batch": "bamediatranscodedev", "vm size": "Standard_F4s_v2", "slots": 1,
                            "caps": (0, 4), "share GiB": 100}
    assert media("prod") == {"resource group": "rg-media-prod", "storage": "stmediatranscodeprod",
                             "batch": "bamediatranscodeprod", "vm size": "Standard_F16s_v2", "slots": 4,
                             "caps": (4, 40), "share GiB": 2048}
    assert media(None) == media("dev")  # the stack's own defaults are dev's: same resources, same sizes


def examples() -> list[tuple[str, str]]:
    """Every `Example: ...` of the templates' documentation, as (template, call)."""
    found = []
    for path in sorted((REPO / "templates").glob("*.j2")):
        for call in re.findall(r"^\s*Example: (.+?)(?: -#\})?$", path.read_text(encoding="utf-8"), re.MULTILINE):
            found.append((path.name, call))
    return found


FIELD = {"images.j2": ("deploymentConfiguration", "images"), "autoscale.j2": ("scaleSettings", "autoscale"),
         "start_tasks.j2": ("startTask", "start_tasks")}


@pytest.mark.parametrize(("template", "call"), examples())
def test_documented_examples_work(repo: Path, template: str, call: str) -> None:
    field, module = FIELD[template]
    assert check(repo, stack_with(field, f"{module}.{call}")) == []


def test_every_macro_has_a_documented_example() -> None:
    documented = {(template, call.split("(")[0]) for template, call in examples()}
    for path in sorted((REPO / "templates").glob("*.j2")):
        for name in re.findall(r"\{%-?\s*macro\s+([a-z]\w*)\(", path.read_text()):
            assert (path.name, name) in documented, f"{path.name}: {name} has no `Example:` in its documentation"


def test_every_macro_of_every_template_is_covered() -> None:
    """A preset added to templates/ without a case here fails this test."""
    tested = " ".join([c for c, *_ in IMAGES] + AUTOSCALE + [c for c, _ in START_TASKS])
    for path in sorted((REPO / "templates").glob("*.j2")):
        module = {"images.j2": "images", "autoscale.j2": "autoscale", "start_tasks.j2": "start_tasks"}[path.name]
        for name in re.findall(r"\{%-?\s*macro\s+([a-z]\w*)\(", path.read_text()):
            assert f"{module}.{name}(" in tested, f"{path.name}: {name} has no test case"
