"""How fast does the local node agent run tasks, and what does it cost per task?

Queues N tasks of `true` (through azure-batch's create_tasks, as any client would) on a pool of
4 nodes x 8 slots in a fresh local data directory, then creates the pool and times until the job
is done. The agent is the real background process (`python -m deployer.emulator.agent`); its own
CPU time (not its children's) and peak RSS are read from /proc while it runs. The baseline is a
bare `subprocess.run(["true"])` loop in this process.

    .venv/bin/python bench/local_tasks.py [--tasks 10000] [--nodes 4] [--slots 8] [--bare 2000]

Prints: tasks/s of the agent, its wall time and CPU time per task, the bare loop's time per task,
the agent's overhead per task (its CPU per task: what it spends besides starting the process,
which the bare loop pays too, is the difference), and the agent's peak RSS for N/10 and N tasks
(flat = memory does not grow with the task count).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """The process's own user + system CPU seconds (children excluded)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _proc_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_agent(n: int, nodes: int, slots: int) -> dict[str, float]:
    from azure.batch import models as bm

    from deployer.azure import Clients
    from deployer.emulator.agent import control, settings
    from deployer.emulator.batch_data import models
    from deployer.emulator.core import Store

    os.environ["DEPLOY_EMULATOR_RESIZE_SECONDS"] = "0"
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as tmp:
        data_dir = Path(tmp)
        store = Store(data_dir)
        settings.configure(store, execute=True)
        c = Clients.for_emulator_embedded(data_dir)
        c.resource.resource_groups.create_or_update("rg", {"location": "westeurope"})
        account = c.batch_mgmt.batch_account.begin_create("rg", "babench", {"location": "westeurope"}).result()
        data = c.batch_data(account.account_endpoint)
        data.create_job(bm.BatchJobCreateOptions(id="j", pool_info=bm.BatchPoolInfo(pool_id="p")))
        data.create_tasks("j", [bm.BatchTaskCreateOptions(id=f"t{i:06d}", command_line="true") for i in range(n)])
        deadline = time.monotonic() + 30
        while control.agent_pid(data_dir) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = control.agent_pid(data_dir)
        assert pid is not None, "the agent did not start"
        cpu0 = _proc_cpu(pid)
        t0 = time.perf_counter()
        c.batch_mgmt.pool.create("rg", "babench", "p", {"properties": {
            "vmSize": "Standard_D2s_v3",
            "deploymentConfiguration": {"virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "ubuntu-jammy", "sku": "22_04-lts"},
                "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": nodes}},
            "taskSlotsPerNode": slots}})
        job_key = f"{account.id.lower()}/jobs/j"
        while store.any_state(models.KIND_TASK, ("active", "running"), parent=job_key):
            time.sleep(0.02)
        wall = time.perf_counter() - t0
        cpu = _proc_cpu(pid) - cpu0
        hwm = _proc_hwm_kib(pid)
        failed = sum(1 for d in store.list(models.KIND_TASK, parent=job_key)
                     if (d.body["meta"].get("exec") or {}).get("exitCode") != 0)
        c.close()
        deadline = time.monotonic() + 30
        while control.agent_running(data_dir) and time.monotonic() < deadline:
            time.sleep(0.1)
        return {"wall": wall, "cpu": cpu, "hwm_kib": hwm, "failed": failed}


def run_bare(n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        subprocess.run(["true"], check=True)
    return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--bare", type=int, default=2_000)
    args = ap.parse_args()

    bare = run_bare(args.bare)
    print(f"bare subprocess.run loop: {args.bare} x true, {bare * 1000:.2f} ms per task ({1 / bare:.0f} tasks/s)")
    small = run_agent(max(1, args.tasks // 10), args.nodes, args.slots)
    big = run_agent(args.tasks, args.nodes, args.slots)
    n = args.tasks
    print(f"agent, {n} x true on {args.nodes} nodes x {args.slots} slots (cores: {os.cpu_count()}):")
    print(f"  wall {big['wall']:.1f} s = {n / big['wall']:.0f} tasks/s, {big['wall'] / n * 1000:.2f} ms per task")
    print(f"  agent CPU (own, children excluded) {big['cpu']:.1f} s = {big['cpu'] / n * 1000:.2f} ms per task")
    print(f"  overhead per task vs the bare loop (wall): {(big['wall'] / n - bare) * 1000:+.2f} ms")
    print(f"  tasks not exiting 0: {int(big['failed'])}")
    print(f"  agent peak RSS: {small['hwm_kib'] / 1024:.1f} MiB at {n // 10} tasks, "
          f"{big['hwm_kib'] / 1024:.1f} MiB at {n} tasks")


if __name__ == "__main__":
    main()
