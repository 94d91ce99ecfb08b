"""What reading a big job costs on the local target: task listings, task counts, autoscale metrics.

`deploy status` and `deploy wait` list a job's tasks and read its task counts; the emulator's
autoscale reads every job's task counts at each evaluation. For each size (default 10,000 and
100,000 tasks in one job, added by `deploy apply --target local` from a parametric sweep) this
prints, through the real SDK client on the embedded emulator:

* a full listing (`list_tasks`, 1,000 a page): pages, seconds, and seconds of its slowest page;
* one listing with `$select=id` (what a re-apply reads);
* `get_job_task_counts` and the pool's autoscale metrics (`pool_task_metrics`), seconds each.

The pool has no node, so the tasks stay queued. By default the node agent is on, as on a laptop
(`target.execute`; it leaves by itself: DEPLOY_AGENT_STUCK_SECONDS=2); `--pretend` measures
DEPLOY_LOCAL_EXECUTE=0 instead, where tasks only pretend to run and every read of the job
simulates them (it reads all of its queued tasks).

    .venv/bin/python bench/task_reads.py [--sizes 10000,100000] [--pretend]

Measured (2-core shared machine, 2026-12-05), before -> after the emulator read tasks a page at
a time and settled pretend-mode jobs from their unfinished tasks only:

    node agent, 100,000 tasks: full listing 161 s -> 23 s (slowest page 1.77 -> 0.33 s),
        id listing 152 -> 13 s, taskcounts 1.54 -> 0.31 s, autoscale metrics 1.44 -> 0.31 s
    pretend, 10,000 tasks: apply 15.5 s -> 2.8 s, full listing 2.85 -> 1.69 s
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

from stack_parts import SWEEP_ON_IDLE_POOL  # bench/stack_parts.py (the script's folder)

STACK = """\
stack: reads
target: {{kind: local, resourceGroup: rg-reads, location: westeurope}}
storageAccounts:
  data: {{name: streads01}}
batchAccounts:
  main:
    name: bareads01
    autoStorage: data
""" + SWEEP_ON_IDLE_POOL + """\
            id: "t-{{0:6}}"
            commandLine: "/bin/bash -c 'echo {{0}}'"
"""


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def measure(count: int, pretend: bool) -> str:
    from deployer.azure import Clients
    from deployer.cli import main
    from deployer.emulator.batch_data import models
    from deployer.emulator.core import Store

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "local"
        os.environ.update(DEPLOY_LOCAL_DIR=str(data_dir), DEPLOY_LOCAL_EXECUTE="0" if pretend else "1",
                          DEPLOY_AGENT_STUCK_SECONDS="2")
        stack = Path(tmp) / "reads.yaml"
        stack.write_text(STACK.format(count=count), encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code, applied = timed(lambda: main(["apply", str(stack), "--auto-approve"]))
        assert code == 0, "apply failed"
        with Clients.for_emulator_embedded(data_dir) as clients:
            account = clients.batch_mgmt.batch_account.get("rg-reads", "bareads01")
            data = clients.batch_data(account.account_endpoint)
            pages, slowest, start = 0, 0.0, time.perf_counter()
            listing = data.list_tasks("sweep").by_page()
            while True:
                page_start = time.perf_counter()
                try:
                    tasks = list(next(listing))
                except StopIteration:
                    break
                pages += 1
                slowest = max(slowest, time.perf_counter() - page_start)
                assert tasks
            full = time.perf_counter() - start
            ids, ids_seconds = timed(lambda: [t.id for t in data.list_tasks("sweep", select=["id"])])
            assert len(ids) == count
            counts, counts_seconds = timed(lambda: data.get_job_task_counts("sweep"))
            assert counts.task_counts.active == count
            store = Store(data_dir)
            account_doc = next(d for d in store.list("batchAccount") if d.body.get("name") == "bareads01")
            metrics, metrics_seconds = timed(lambda: models.pool_task_metrics(store, account_doc, "idle"))
            assert metrics["$ActiveTasks"] == count
        _agent_gone(data_dir)
    return (f"{count:>7,} tasks  apply {applied:6.1f} s  full listing {pages:>3} pages {full:6.2f} s "
            f"(slowest page {slowest:.2f} s)  ids {ids_seconds:5.2f} s  taskcounts {counts_seconds:5.2f} s  "
            f"autoscale metrics {metrics_seconds:5.2f} s")


def _agent_gone(data_dir: Path) -> None:
    """Wait for the node agent of `data_dir` to leave (it does when tasks stay stuck), else stop it."""
    import signal

    from deployer.emulator.agent.control import agent_pid, agent_running

    deadline = time.monotonic() + 30
    while agent_running(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    pid = agent_pid(data_dir)
    if agent_running(data_dir) and pid:
        os.kill(pid, signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pretend", action="store_true", help="DEPLOY_LOCAL_EXECUTE=0: tasks only pretend to run")
    options = parser.parse_args()
    print("mode:", "pretend (DEPLOY_LOCAL_EXECUTE=0)" if options.pretend else "node agent (the default)")
    for size in (int(s) for s in options.sizes.split(",")):
        print(measure(size, options.pretend), flush=True)


if __name__ == "__main__":
    main()
