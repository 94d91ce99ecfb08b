"""How fast are `deploy --help` and `deploy validate` on a 1,000-pool stack?

Prints wall-clock seconds (best and median of several runs, each a fresh process, as a CI
step would run it) and whether any Azure SDK module was imported. Usage:

    .venv/bin/python bench/validate_speed.py [--pools 1000] [--runs 5]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from processes import DEPLOY, size_and_runs, timed  # bench/processes.py (the script's folder)

POOL = """\
      pool{i:04d}:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference:
              {{publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts, version: latest}}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          autoScale:
            evaluationInterval: PT5M
            formula: |
              $samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 5);
              $tasks = $samples < 70 ? max(0, $PendingTasks.GetSample(1))
                : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 5)));
              $TargetLowPriorityNodes = min({cap}, $tasks);
              $NodeDeallocationOption = taskcompletion;
        taskSlotsPerNode: 2
        taskSchedulingPolicy: {{nodeFillType: Pack}}
        startTask:
          commandLine: /bin/bash -c "apt-get update && apt-get install -y ffmpeg"
          userIdentity: {{autoUser: {{scope: Pool, elevationLevel: Admin}}}}
          waitForSuccess: true
        mountConfiguration:
          - azureFileShareConfiguration: {{storage: data, share: scratch, relativeMountPath: scratch}}
        metadata: {{team: media, index: "{i}"}}
"""


def generate(pools: int) -> str:
    head = """\
stack: bench
target: {kind: local, resourceGroup: rg-bench, location: westeurope}
storageAccounts:
  data:
    name: stbench01
    containers: [input, output]
    fileShares:
      scratch: {quotaGiB: 100}
batchAccounts:
  main:
    name: babench01
    autoStorage: data
    pools:
"""
    return head + "".join(POOL.format(i=i, cap=4 + i % 97) for i in range(pools))  # formulas differ


def azure_modules_imported(stack: Path) -> list[str]:
    probe = (
        "import sys; from deployer.cli import main\n"
        f"code = main(['validate', {str(stack)!r}])\n"
        "print('AZURE:' + ','.join(sorted(m for m in sys.modules if m.startswith('azure'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("AZURE:")), "AZURE:")
    return [m for m in line[len("AZURE:"):].split(",") if m]


def main() -> None:
    options = size_and_runs(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Path(tmp) / "bench.yaml"
        stack.write_text(generate(options.pools), encoding="utf-8")
        size_kb = stack.stat().st_size / 1024
        env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} cpus"
        best, median, code = timed([*DEPLOY, "--help"], options.runs)
        print(f"deploy --help                       best {best:.3f} s  median {median:.3f} s  exit {code}")
        best, median, code = timed([*DEPLOY, "validate", str(stack)], options.runs)
        print(f"deploy validate ({options.pools} pools, {size_kb:.0f} KiB)  best {best:.3f} s  median {median:.3f} s  "
              f"exit {code}")
        imported = azure_modules_imported(stack)
        shown = " " + ", ".join(imported[:5]) if imported else ""
        print(f"Azure SDK modules imported by validate: {len(imported)}{shown}")
        print(f"({env_note}, {options.runs} runs each)")


if __name__ == "__main__":
    main()
