"""The built wheel is a working `deploy`: presets (package data), schema and emulator included,
found without the repository. Builds the wheel from a copy of the sources (pip wheel, no build
isolation, no network), installs it alone into a fresh venv whose only other path is this
environment's dependencies, and applies a stack that imports presets from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STACK = """\
{% import 'images.j2' as images %}
{% import 'autoscale.j2' as autoscale %}
{% import 'start_tasks.j2' as start_tasks %}
stack: wheel
target: {kind: local, resourceGroup: rg-wheel, location: westeurope}
storageAccounts:
  data: {name: stwheel01, sku: Standard_LRS, kind: StorageV2, minimumTlsVersion: TLS1_2}
batchAccounts:
  main:
    name: bawheel01
    autoStorage: data
    pools:
      p1:
        vmSize: Standard_D2s_v3
        deploymentConfiguration: {{ images.ubuntu_2204() }}
        scaleSettings: {{ autoscale.pending_tasks(max_low_priority=2) }}
        startTask: {{ start_tasks.apt_install(["jq"]) }}
"""


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_wheel_applies_a_stack_with_presets_from_an_empty_folder(tmp_path: Path) -> None:
    # 1. the wheel, from a copy of what a checkout has (no build/ or egg-info left in the repository)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("deployer", "templates", "schemas"):
        shutil.copytree(ROOT / name, src / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                 str(src)], tmp_path, env)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("batch_deployer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("deployer/templates/images.j2", "deployer/templates/autoscale.j2",
                     "deployer/templates/start_tasks.j2", "deployer/data/stack.schema.json",
                     "deployer/emulator/core/app.py", "deployer/emulator/batch_mgmt/__init__.py"):
        assert required in names

    # 2. a fresh venv with only the wheel; the dependencies come from this environment's site-packages
    #    (a path, not its .pth files: this checkout's editable install is not visible there)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       tmp_path, env).stdout.strip())
    (purelib / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                    tmp_path, env)
    assert installed.returncode == 0, installed.stderr

    # 3. an empty folder, no repository, no templates/ anywhere above it
    work = tmp_path / "empty"
    work.mkdir()
    (work / "stack.yaml.j2").write_text(STACK, encoding="utf-8")
    clean = {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"}
    where = run([str(python), "-c", "import deployer; print(deployer.__file__)"], work, clean)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    deploy = str(venv / "bin" / "deploy")
    assert run([deploy, "validate", "stack.yaml.j2"], work, clean).returncode == 0
    assert '"$schema"' in run([deploy, "schema"], work, clean).stdout
    applied = run([deploy, "apply", "stack.yaml.j2", "--auto-approve"], work, clean)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    again = run([deploy, "plan", "stack.yaml.j2", "--detailed-exitcode"], work, clean)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (work / ".deploy").is_dir()
