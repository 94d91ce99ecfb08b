"""Does the local target's cost grow with the work, not with its square?

For each N: a stack of N pools x 10 jobs x 10 tasks on the local target (a fresh data
directory), `deploy apply --auto-approve`, then `deploy plan --detailed-exitcode` (which must find
no change). Each command runs in its own process; the table shows wall time, CPU time (user +
system of that process), the number of emulator requests (from requests.jsonl) and the CPU per
request, which should stay flat as N grows (within 1.5x from the smallest N to the largest).

    .venv/bin/python bench/scale_local.py [--sizes 10,100,500] [--execute]

By default the stack says `target.execute: false` (tasks are not run: this measures the
deployer and the emulator, not 50,000 processes); `--execute` runs them with the node agent
(the apply then also pays for starting the agent).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stack_parts import UBUNTU_VM  # bench/stack_parts.py (the script's folder)

HEAD = """\
stack: scale
target: {{kind: local, resourceGroup: rg-scale, location: westeurope, execute: {execute}}}
batchAccounts:
  main:
    name: bascale01
    pools:
"""
POOL = "      pool{i:03d}:\n" + UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {{targetDedicatedNodes: 1}}
        taskSlotsPerNode: 4
"""
JOB = """\
      job{i:04d}:
        pool: pool{p:03d}
        tasks:
{tasks}"""
TASK = """\
          - id: t{k}
            commandLine: "true"
"""


def stack_text(n: int, execute: bool) -> str:
    tasks = "".join(TASK.format(k=k) for k in range(10))
    jobs = "".join(JOB.format(i=i, p=i // 10, tasks=tasks) for i in range(n * 10))
    return (HEAD.format(execute="true" if execute else "false") + "".join(POOL.format(i=i) for i in range(n))
            + "    jobs:\n" + jobs)


def run(args: list[str], env: dict[str, str], log: Path) -> tuple[int, float, float, int]:
    """(exit code, wall s, CPU s, requests) of one deploy command in its own process."""
    before = len(log.read_text().splitlines()) if log.exists() else 0
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deployer", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode not in (0, 2):
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
    after = len(log.read_text().splitlines()) if log.exists() else 0
    return proc.returncode, wall, cpu, after - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,100,500")
    ap.add_argument("--execute", action="store_true")
    opts = ap.parse_args()
    rows = []
    for n in [int(x) for x in opts.sizes.split(",")]:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            stack = Path(tmp) / "scale.yaml"
            stack.write_text(stack_text(n, opts.execute), encoding="utf-8")
            state = Path(tmp) / "state"
            env = {**os.environ, "DEPLOY_LOCAL_DIR": str(state), "DEPLOY_EMULATOR_RESIZE_SECONDS": "0",
                   "DEPLOY_EMULATOR_BATCH_QUOTAS": f"poolQuota={n + 10},activeJobAndJobScheduleQuota={n * 10 + 10}"}
            env.pop("DEPLOY_LOCAL_EXECUTE", None)
            log = state / "requests.jsonl"
            code, wall, cpu, reqs = run(["apply", str(stack), "--auto-approve"], env, log)
            rows.append((n, "apply", code, wall, cpu, reqs))
            print(json.dumps(dict(zip(("N", "command", "exit", "wall_s", "cpu_s", "requests"), rows[-1], strict=True))),
                  flush=True)
            code, wall, cpu, reqs = run(["plan", str(stack), "--detailed-exitcode"], env, log)
            rows.append((n, "plan", code, wall, cpu, reqs))
            print(json.dumps(dict(zip(("N", "command", "exit", "wall_s", "cpu_s", "requests"), rows[-1], strict=True))),
                  flush=True)
            if opts.execute:  # leave no agent behind
                from deployer.emulator.agent import control

                deadline = time.monotonic() + 600
                while control.agent_running(state) and time.monotonic() < deadline:
                    time.sleep(0.5)
    print()
    print(f"{'N pools':>8} {'command':>8} {'exit':>4} {'wall s':>8} {'CPU s':>8} {'requests':>9} {'CPU ms/req':>10}")
    for n, command, code, wall, cpu, reqs in rows:
        per = cpu / reqs * 1000 if reqs else float("nan")
        print(f"{n:>8} {command:>8} {code:>4} {wall:>8.1f} {cpu:>8.1f} {reqs:>9} {per:>10.2f}")
    print("(plan exit 0 = no changes; the CPU includes the process start, ~1 s)")


if __name__ == "__main__":
    main()
