"""GitOps kit figures: policy checks, export + import of an estate, plan requests after it.

    .venv/bin/python bench/gitops.py [--pools 3] [--jobs 2] [--repeat 5]

1. `deploy check` on the three example stacks (text and SARIF), median of --repeat runs, in process.
2. On a fresh local emulator: an account with --pools pools and --jobs jobs made by plain SDK
   calls; then `deploy export --import` (seconds, requests) and `deploy plan --detailed-exitcode`
   on the written stack (seconds, requests, exit code: 0 = plans empty).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IMAGE = {"imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
                            "version": "latest"}, "nodeAgentSkuId": "batch.node.ubuntu 22.04"}


def quiet(argv: list[str]) -> int:
    from deployer.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def requests(state: Path) -> int:
    log = state / "requests.jsonl"
    return sum(1 for _ in log.open()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pools", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    stacks = sorted(str(p) for p in (REPO / "stacks").glob("*.yaml"))
    os.chdir(REPO)
    for fmt in ("text", "sarif"):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            quiet(["check", *stacks, "--format", fmt])
            times.append(time.perf_counter() - start)
        print(f"deploy check ({len(stacks)} example stacks, {fmt}): median {statistics.median(times) * 1000:.0f} ms")

    from azure.batch import models

    from deployer.azure import Clients

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        os.environ["DEPLOY_LOCAL_DIR"] = str(state)
        c = Clients.for_emulator_embedded(state)
        rg = "rg-bench"
        c.resource.resource_groups.create_or_update(rg, {"location": "westeurope"})
        c.storage.storage_accounts.begin_create(rg, "stbench01", {"location": "westeurope", "kind": "StorageV2",
                                                                  "sku": {"name": "Standard_LRS"}}).result()
        sid = (f"/subscriptions/{c.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Storage/"
               "storageAccounts/stbench01")
        c.batch_mgmt.batch_account.begin_create(rg, "babench01", {"location": "westeurope", "properties": {
            "autoStorage": {"storageAccountId": sid}}}).result()
        for i in range(args.pools):
            c.batch_mgmt.pool.create(rg, "babench01", f"p{i}", {"properties": {
                "vmSize": "Standard_D2s_v3", "deploymentConfiguration": {"virtualMachineConfiguration": IMAGE},
                "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}}}})
        data = c.batch_data(c.batch_mgmt.batch_account.get(rg, "babench01").account_endpoint)
        for i in range(args.jobs):
            data.create_job(models.BatchJobCreateOptions({"id": f"j{i}", "poolInfo": {"poolId": f"p{i % args.pools}"}}))
        c.close()
        out = Path(tmp) / "estate.yaml"
        before = requests(state)
        start = time.perf_counter()
        code = quiet(["export", "--target", "local", "-g", rg, "--account", "babench01", "--out", str(out), "--import",
                      "--yes"])
        took = time.perf_counter() - start
        print(f"export --import ({args.pools} pools, {args.jobs} jobs): exit {code}, {took:.2f} s, "
              f"{requests(state) - before} requests")
        before = requests(state)
        start = time.perf_counter()
        code = quiet(["plan", str(out), "--detailed-exitcode"])
        took = time.perf_counter() - start
        print(f"plan of the exported stack: exit {code} (0 = empty), {took:.2f} s, {requests(state) - before} requests")
        print(json.dumps({"stackLines": len(out.read_text().splitlines())}))


if __name__ == "__main__":
    main()
