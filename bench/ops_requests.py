"""How many requests do `deploy status` and one `deploy wait` poll send? (deployer.ops)

1. The hpc stack (stacks/hpc.yaml: 1 Batch account, 1 pool, 1 job) applied to a fresh local
   emulator; then `deploy status` (a process of its own, its requests read from the emulator's
   request log) and the first and a later `deploy wait` poll (StackReader.read(failed_tasks=0),
   in-process: the later polls do not list the Batch accounts again).
2. One job of --tasks tasks (default 100,000; the first THROUGH_API added through the SDK's
   create_tasks, 100 per request, the rest written into the emulator's store: see THROUGH_API) on
   a pool with no nodes: the same figures, the wall time of `deploy status`, and for
   comparison what counting the tasks by listing them sends (list_tasks with $select=id,state,
   1,000 per page: really sent up to 10,000 tasks, computed beyond).

    .venv/bin/python bench/ops_requests.py [--tasks 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BIG_STACK = """\
stack: bench
target: {kind: local, resourceGroup: rg-bench, location: westeurope}
batchAccounts:
  main:
    name: babench01
    pools:
      idle:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 0}
    jobs:
      big:
        pool: idle
"""


def log_lines(state: Path) -> list[str]:
    log = state / "requests.jsonl"
    return log.read_text().splitlines() if log.exists() else []


def deploy(state: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "DEPLOY_LOCAL_DIR": str(state), "HPC_SMB_PASSWORD": "bench-only"}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "deployer", *args], env=env, capture_output=True, text=True,
                          cwd=REPO)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"deploy {' '.join(args)} failed with exit code {proc.returncode}")
    return elapsed, proc.stdout


def measure(label: str, state: Path, stack_file: Path, target: list[str]) -> None:
    from deployer.azure import Clients
    from deployer.ops.reader import StackReader
    from deployer.stack.model import load_stack

    before = len(log_lines(state))
    elapsed, _ = deploy(state, "status", str(stack_file), *target, "--format", "json")
    status = log_lines(state)[before:]
    print(f"{label}: deploy status: {len(status)} requests, {elapsed:.2f} s wall (process start included)")
    for line in status:
        entry = json.loads(line)
        print(f"    {entry['method']} {entry['path']}  ({entry['ms']:.0f} ms in the emulator)")
    os.environ["DEPLOY_LOCAL_DIR"] = str(state)
    clients = Clients.for_emulator_embedded(state)
    reader = StackReader(load_stack(stack_file), clients)
    for poll in ("first", "later"):
        before = len(log_lines(state))
        started = time.perf_counter()
        reader.read(failed_tasks=0)
        print(f"{label}: deploy wait, {poll} poll: {len(log_lines(state)) - before} requests, "
              f"{time.perf_counter() - started:.2f} s")
    clients.close()


def build_big(state: Path, tasks: int) -> None:
    from azure.batch import models as bm

    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(state)
    rg = "rg-bench"
    clients.resource.resource_groups.create_or_update(rg, {"location": "westeurope"})
    account = clients.batch_mgmt.batch_account.begin_create(
        rg, "babench01", {"location": "westeurope", "tags": {"deployer.stack": "bench"}}).result()
    clients.batch_mgmt.pool.create(rg, "babench01", "idle", {"properties": {
        "vmSize": "Standard_D2s_v3",
        "deploymentConfiguration": {"virtualMachineConfiguration": {
            "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
            "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}},
        "metadata": [{"name": "deployer.stack", "value": "bench"}]}})
    data = clients.batch_data(account.account_endpoint)
    data.create_job(bm.BatchJobCreateOptions(id="big", pool_info=bm.BatchPoolInfo(pool_id="idle"),
                                             metadata=[bm.BatchMetadataItem(name="deployer.stack", value="bench")]))
    through_api = min(tasks, THROUGH_API)
    data.create_tasks("big", [bm.BatchTaskCreateOptions(id=f"t{i:06d}", command_line="/bin/true")
                              for i in range(through_api)])
    if tasks > through_api:
        _store_tasks(clients, through_api, tasks)
    clients.close()


#: tasks added through the SDK (create_tasks, 100 per request); the rest are written straight into
#: the emulator's store: today's emulator reads every task of the job on each addtaskcollection,
#: so adding 100,000 through the API takes the better part of an hour (quadratic)
THROUGH_API = 2_000


def _store_tasks(clients: object, first: int, last: int) -> None:
    """Tasks first..last-1 as the emulator's add_task_collection stores them, in one transaction."""
    from deployer.emulator.batch_data import models as data_models
    from deployer.emulator.batch_mgmt import models as mgmt_models
    from deployer.emulator.core import clock

    store = clients.app.store  # type: ignore[attr-defined]
    account = mgmt_models.account_by_name(store, "babench01")
    assert account is not None
    job = data_models.require_job(store, account, "big")
    now = clock.now()
    with store.transaction():
        for i in range(first, last):
            task_id = f"t{i:06d}"
            store.put(data_models.KIND_TASK, data_models.task_key(job, task_id),
                      data_models._new_task_body(task_id, {"commandLine": "/bin/true"}, now), parent=job.key)


def listing_to_count(state: Path, tasks: int) -> None:
    """What counting by listing costs: really sent up to 10,000 tasks; computed beyond (today's
    emulator spends seconds per page on a job of 100,000 tasks, so sending them all takes minutes)."""
    if tasks > 10_000:
        print(f"for comparison, counting by listing the tasks: {-(-tasks // 1000)} requests (computed: "
              "list_tasks pages hold at most 1,000 tasks)")
        return
    from deployer.azure import Clients

    clients = Clients.for_emulator_embedded(state)
    endpoint = clients.batch_mgmt.batch_account.get("rg-bench", "babench01").account_endpoint
    before = len(log_lines(state))
    started = time.perf_counter()
    n = sum(1 for _ in clients.batch_data(endpoint).list_tasks("big", select=["id", "state"]))
    print(f"for comparison, counting by listing the tasks ($select=id,state): {len(log_lines(state)) - before} "
          f"requests, {time.perf_counter() - started:.1f} s for {n} tasks (measured)")
    clients.close()


def stop_agent(state: Path) -> None:
    """Stop the data directory's background node agent, if one runs: its tasks are queued on pools
    that never get a node (hpc over quota, `idle` at 0), so it would not leave by itself and would
    outlive the temporary directory."""
    import signal

    from deployer.emulator.agent import control

    pid = control.agent_pid(state)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)  # the agent kills what it started and leaves
    deadline = time.monotonic() + 30
    while control.agent_running(state) and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    options = parser.parse_args()
    os.environ.setdefault("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    os.environ["DEPLOY_EMULATOR_TASK_SECONDS"] = "3600"  # tasks stay running: the counts are what a wait polls
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "stacks", root / "stacks")
        shutil.copytree(REPO / "templates", root / "templates")
        (root / ".git").mkdir()
        states = [root / "hpc-state", root / "big-state"]
        try:
            state = states[0]
            hpc = root / "stacks" / "hpc.yaml"
            deploy(state, "apply", str(hpc), "--target", "local", "--auto-approve")
            measure("hpc", state, hpc, ["--target", "local"])

            state = states[1]
            big = root / "big.yaml"
            big.write_text(BIG_STACK, encoding="utf-8")
            started = time.perf_counter()
            build_big(state, options.tasks)
            print(f"built one job of {options.tasks} tasks in {time.perf_counter() - started:.1f} s")
            measure(f"{options.tasks} tasks", state, big, [])
            listing_to_count(state, options.tasks)
        finally:
            for state in states:
                stop_agent(state)


if __name__ == "__main__":
    main()
