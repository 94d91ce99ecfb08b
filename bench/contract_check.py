"""What the API contract check costs per request at the emulator's edge.

Times `deployer.emulator.core.contract.check_request` on the bodies the deployer sends most: a pool
PUT (management API) and a 100-task collection (Batch service), after the definitions are compiled
(the first use, also timed). Prints microseconds per request.

    .venv/bin/python bench/contract_check.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import json
import time

from deployer.emulator.core import contract
from deployer.emulator.core.messages import Request
from deployer.emulator.core.routing import Route

POOL = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Batch/batchAccounts/{account}/pools/{pool}"
POOL_BODY = {"tags": {"cost": "x"}, "properties": {
    "vmSize": "Standard_D2s_v3",
    "deploymentConfiguration": {"virtualMachineConfiguration": {
        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
        "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
    "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 2, "nodeDeallocationOption": "TaskCompletion"}},
    "startTask": {"commandLine": "true", "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}}},
    "metadata": [{"name": "a", "value": "b"}], "taskSlotsPerNode": 2}}
TASKS = {"value": [{"id": f"t{i}", "commandLine": "/bin/bash -c true", "userIdentity": {"username": "runner"},
                    "exitConditions": {"default": {"jobAction": "none"}},
                    "outputFiles": [{"filePattern": "*.txt", "destination": {"container": {
                        "containerUrl": "https://a.blob.core.windows.net/c"}},
                        "uploadOptions": {"uploadCondition": "tasksuccess"}}]} for i in range(100)]}


def timed(route: Route, method: str, body: dict, repeat: int) -> float:
    raw = json.dumps(body).encode()
    started = time.perf_counter()
    for _ in range(repeat):
        req = Request(method, "/x", "api-version=2025-06-01", {}, raw)
        contract.check_request(route, req)
    return (time.perf_counter() - started) / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    options = parser.parse_args()
    pool = Route("PUT", POOL, lambda req: None)
    tasks = Route("POST", "/batch/{account}/jobs/{job_id}/addtaskcollection", lambda req: None)
    started = time.perf_counter()
    timed(pool, "PUT", POOL_BODY, 1)
    timed(tasks, "POST", TASKS, 1)
    print(f"first use (read both documents, compile): {(time.perf_counter() - started) * 1000:.1f} ms")
    print(f"pool PUT: {timed(pool, 'PUT', POOL_BODY, options.repeat):.1f} µs per request (JSON parse included)")
    print(f"100-task collection: {timed(tasks, 'POST', TASKS, max(1, options.repeat // 10)):.1f} µs per request")
    unchecked = Route("GET", POOL, lambda req: None)
    print(f"a GET: {timed(unchecked, 'GET', {}, options.repeat):.2f} µs per request")


if __name__ == "__main__":
    main()
