"""Apply under faults: does the HPC stack converge (a second plan is empty)?

    .venv/bin/python bench/apply_faults.py [--runs 20] [--kills 20] [--stack stacks/hpc.yaml]

1. `--runs` times, in a fresh local emulator with DEPLOY_EMULATOR_FAULTS=429=0.04,500=0.03,reset=0.03:
   `deploy apply` (re-run once if it exited 1), then `deploy plan --detailed-exitcode` without
   faults; converged = exit 0.
2. `--kills` times: start `deploy apply`, SIGKILL it at a random moment, run it again to the end,
   then check the plan is empty and no resource exists twice (one pool, one job, their tasks once).
Prints one line per run and the totals.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY = [sys.executable, "-m", "deployer"]
FAULTS = "429=0.04,500=0.03,reset=0.03"


def env_for(state: Path, faults: str | None, seed: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DEPLOY_LOCAL_DIR=str(state), DEPLOY_EMULATOR_RESIZE_SECONDS="0.2", DEPLOY_EMULATOR_TASK_SECONDS="0.2",
               HPC_SMB_PASSWORD=env.get("HPC_SMB_PASSWORD", "bench-secret"), DEPLOY_EMULATOR_SEED=str(seed))
    env.pop("DEPLOY_EMULATOR_FAULTS", None)
    if faults:
        env["DEPLOY_EMULATOR_FAULTS"] = faults
    return env


def deploy(args: list[str], env: dict[str, str]) -> int:
    return subprocess.run([*DEPLOY, *args], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode


def converged(stack: str, state: Path) -> bool:
    return deploy(["plan", stack, "--target", "local", "--detailed-exitcode"], env_for(state, None, 0)) == 0


def duplicates(stack: str, state: Path) -> list[str]:
    """Resources that exist more than once (tasks of a job, pools, jobs) in the stack's accounts."""
    os.environ["DEPLOY_LOCAL_DIR"] = str(state)
    from deployer.azure import Clients
    from deployer.resources.read import rest
    from deployer.stack.model import Kind, load_stack

    loaded = load_stack(Path(stack))
    clients = Clients.for_emulator_embedded(state)
    rg = str(loaded.target.resource_group)
    found = []
    for account in loaded.of_kind(Kind.BATCH_ACCOUNT):
        pools = [rest(p)["name"].lower() for p in clients.batch_mgmt.pool.list_by_batch_account(rg, account.name)]
        found += [f"pool {p}" for p in set(pools) if pools.count(p) > 1]
        endpoint = rest(clients.batch_mgmt.batch_account.get(rg, account.name))["properties"]["accountEndpoint"]
        data = clients.batch_data(endpoint)
        for job in loaded.of_kind(Kind.JOB):
            tasks = [t.id for t in data.list_tasks(job.name)]
            wanted = [t["id"] for t in job.spec.get("tasks") or []]
            if sorted(tasks) != sorted(wanted):
                found.append(f"tasks of {job.name}: {sorted(tasks)}")
    clients.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stack", default="stacks/hpc.yaml")
    args = parser.parse_args()
    rng = random.Random(5)
    ok = 0
    first_try = 0
    started = time.monotonic()
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp)
            env = env_for(state, FAULTS, 1000 + i)
            code = deploy(["apply", args.stack, "--target", "local", "--auto-approve"], env)
            again = "-"
            first_try += code == 0
            if code != 0:  # a permanent failure (retries exhausted): a re-run finishes the job
                again = str(deploy(["apply", args.stack, "--target", "local", "--auto-approve"], env))
            good = converged(args.stack, state)
            ok += good
            print(f"faults run {i + 1:2d}: apply exit {code}, re-run exit {again}, converged {good}", flush=True)
    print(f"faults: {ok}/{args.runs} converged, {first_try} of them on the first apply ({FAULTS}) "
          f"in {time.monotonic() - started:.1f}s", flush=True)
    killed_ok = 0
    started = time.monotonic()
    for i in range(args.kills):
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp)
            env = env_for(state, None, 0)
            process = subprocess.Popen([*DEPLOY, "apply", args.stack, "--target", "local", "--auto-approve"],
                                       env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            delay = rng.uniform(0.25, 0.85)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait()
            code = deploy(["apply", args.stack, "--target", "local", "--auto-approve"], env)
            good = converged(args.stack, state)
            dups = duplicates(args.stack, state)
            killed_ok += good and not dups
            print(f"kill run {i + 1:2d}: killed after {delay:.2f}s (exit {process.returncode}), re-run exit {code}, "
                  f"converged {good}, duplicates {dups or 'none'}", flush=True)
    print(f"kill -9: {killed_ok}/{args.kills} converged without duplicates in {time.monotonic() - started:.1f}s")
    return 0 if ok == args.runs and killed_ok == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
