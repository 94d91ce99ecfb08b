"""How many requests does `deploy plan` send for a big Batch account, and how long does it take?

Builds one Batch account with 200 pools and 2,000 jobs in a fresh local emulator (through the SDK
clients), then runs `deploy plan` on a stack declaring them, with 50 ms of latency injected into
every emulator request. Prints the plan's request count (from the emulator's request log) and
wall time, next to what a one-GET-per-resource reader sends for the same resources (measured:
it really sends them, without latency, then the time at 50 ms is that count times the latency if
sent one after another).

    .venv/bin/python bench/plan_requests.py [--pools 200] [--jobs 2000] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stack_parts import EMPTY_POOL  # bench/stack_parts.py (the script's folder)

STACK_HEAD = """\
stack: bench
target: {kind: local, resourceGroup: rg-bench, location: westeurope}
batchAccounts:
  main:
    name: babench01
    pools:
"""
POOL = "      pool{i:03d}:\n" + EMPTY_POOL
JOB = """\
      job{i:04d}:
        pool: pool{p:03d}
        priority: {priority}
"""


def build_live(state: Path, pools: int, jobs: int) -> None:
    from azure.batch import models as bm

    from deployer.azure import Clients

    os.environ["DEPLOY_EMULATOR_BATCH_QUOTAS"] = "poolQuota=1000,activeJobAndJobScheduleQuota=10000"
    clients = Clients.for_emulator_embedded(state)
    rg = "rg-bench"
    clients.resource.resource_groups.create_or_update(rg, {"location": "westeurope"})
    account = clients.batch_mgmt.batch_account.begin_create(
        rg, "babench01", {"location": "westeurope", "tags": {"deployer.stack": "bench"}}).result()
    for i in range(pools):
        clients.batch_mgmt.pool.create(rg, "babench01", f"pool{i:03d}", {"properties": {
            "vmSize": "Standard_D2s_v3",
            "deploymentConfiguration": {"virtualMachineConfiguration": {
                "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy",
                                   "sku": "22_04-lts"},
                "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}},
            "metadata": [{"name": "deployer.stack", "value": "bench"}]}})
    data = clients.batch_data(account.account_endpoint)
    for i in range(jobs):
        data.create_job(bm.BatchJobCreateOptions(
            id=f"job{i:04d}", priority=i % 7, pool_info=bm.BatchPoolInfo(pool_id=f"pool{i % pools:03d}"),
            metadata=[bm.BatchMetadataItem(name="deployer.stack", value="bench")]))
    clients.close()


def naive_reader(state: Path, pools: int, jobs: int) -> int:
    """What a reader that GETs each resource sends: count it for real."""
    from deployer.azure import Clients

    log = state / "requests.jsonl"
    before = len(log.read_text().splitlines())
    clients = Clients.for_emulator_embedded(state)
    rg = "rg-bench"
    clients.resource.resource_groups.get(rg)
    account = clients.batch_mgmt.batch_account.get(rg, "babench01")
    for i in range(pools):
        clients.batch_mgmt.pool.get(rg, "babench01", f"pool{i:03d}")
    data = clients.batch_data(account.account_endpoint)
    for i in range(jobs):
        data.get_job(f"job{i:04d}")
    clients.close()
    return len(log.read_text().splitlines()) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        stack = Path(tmp) / "bench.yaml"
        stack.write_text(STACK_HEAD + "".join(POOL.format(i=i) for i in range(options.pools)) + "    jobs:\n"
                         + "".join(JOB.format(i=i, p=i % options.pools, priority=i % 7) for i in range(options.jobs)),
                         encoding="utf-8")
        started = time.perf_counter()
        build_live(state, options.pools, options.jobs)
        print(f"built {options.pools} pools and {options.jobs} jobs in {time.perf_counter() - started:.1f} s")
        log = state / "requests.jsonl"
        log.unlink()
        env = {**os.environ, "DEPLOY_LOCAL_DIR": str(state), "DEPLOY_EMULATOR_LATENCY_MS": str(options.latency_ms)}
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "deployer", "plan", str(stack), "--format", "json"],
                              env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            raise SystemExit(f"deploy plan failed with exit code {proc.returncode}")
        summary = json.loads(proc.stdout)["summary"]
        requests = [json.loads(line) for line in log.read_text().splitlines()]
        print(f"deploy plan: {len(requests)} requests, {elapsed:.2f} s wall at {options.latency_ms:.0f} ms latency "
              f"(process start included); summary {summary}")
        for r in requests:
            print(f"    {r['method']:4} {r['path']}")
        naive = naive_reader(state, options.pools, options.jobs)
        print(f"one GET per resource: {naive} requests, {naive * options.latency_ms / 1000:.1f} s at "
              f"{options.latency_ms:.0f} ms if sent one after another")


if __name__ == "__main__":
    main()
