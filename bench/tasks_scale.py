"""One job of N tasks from a `parametricSweep`: what `deploy apply` costs as N grows (issue 14).

For each size (default 3,000, 10,000, 30,000 and 100,000) and each injected latency (0 and 50 ms
per request): a served emulator (`deploy emulator serve`, a process of its own, so the deployer's
CPU and memory are measured apart from the emulator's) and `deploy apply` in a child process:

* add requests (POST .../addtaskcollection) and all requests, from the emulator's request log;
* wall time, CPU seconds and CPU per task of the deploy process, its peak resident memory;
* the emulator's own time (sum of the request log's `ms`): when it dominates, the emulator, not
  the deployer, is the bottleneck;
* then a re-apply: its add requests (0 expected) and task listings (at most 1);
* and (at the largest size, latency 0) kill -9 of an apply after a random number of add
  requests, a re-apply, and the tasks counted: N distinct ids, none twice.

    .venv/bin/python bench/tasks_scale.py [--sizes 3000,10000,30000,100000] [--latencies 0,50]
                                          [--kill-at-size 100000] [--apply-max N] [--seed 1]

Measured (2-core shared machine, 2026-12-05, after the emulator's add-collection became one key
lookup per id and its job reads stopped reading every task; `--latencies 0 --kill-at-size 10000`):

    tasks    adds  requests  wall     deploy CPU  CPU/task  peak RSS  emulator time  re-apply adds/listings
    3,000      30     42      2.0 s     1.68 s    0.559 ms   70 MB       3.2 s         0 / 0  (1.5 s)
   10,000     100    112      3.2 s     2.42 s    0.242 ms   75 MB       8.6 s         0 / 0  (1.4 s)
   30,000     300    312     10.1 s     7.52 s    0.251 ms   77 MB      30.1 s         0 / 0  (2.0 s)
  100,000   1,000  1,012     29.5 s    21.56 s    0.216 ms   83 MB      88.1 s         0 / 0  (4.0 s)
  plan only, 100,000: 3.3 s wall, 3.33 s CPU, 53 MB; Markdown 2,074 characters, text 33 lines

  marginal deploy CPU per task: 0.255 ms (10k->30k), 0.201 ms (30k->100k): linear.
  kill -9 after 18 add requests of a 10,000-task apply, then re-apply: 79 add requests, 10,000
  tasks listed, 10,000 distinct ids (none twice).

Emulator time is the sum of its requests' durations (the deployer sends add windows in parallel,
so it exceeds the wall time); it now grows linearly with the tasks too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stack_parts import SWEEP_ON_IDLE_POOL  # bench/stack_parts.py (the script's folder)

REPO = Path(__file__).resolve().parents[1]

STACK = """\
stack: bench
target: {{kind: emulator, endpoint: "{endpoint}", caFile: "{ca}", resourceGroup: rg-bench, location: westeurope}}
storageAccounts:
  data: {{name: stbench01}}
batchAccounts:
  main:
    name: babench01
    autoStorage: data
""" + SWEEP_ON_IDLE_POOL + """\
            id: "frame-{{0:6}}"
            commandLine: "/bin/bash -c 'render --frame {{0}} --out frame-{{0:6}}.png'"
            environmentSettings: [{{name: FRAME, value: "{{0}}"}}]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """`deploy emulator serve` in a process of its own."""

    def __init__(self, data: Path, latency_ms: float) -> None:
        self.data = data
        self.port = free_port()
        env = {**os.environ, "DEPLOY_EMULATOR_LATENCY_MS": str(latency_ms)} if latency_ms else dict(os.environ)
        env.pop("DEPLOY_EMULATOR_FAULTS", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "deployer", "emulator", "serve", "--port",
                                      str(self.port), "--data", str(data)], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        assert self.proc.stdout is not None
        for _ in range(3):
            line = self.proc.stdout.readline()
            if line.startswith("CA file:"):
                self.ca = line.split(":", 1)[1].strip()
        self.endpoint = f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def log(data: Path) -> list[dict[str, Any]]:
    path = data / "requests.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def apply(stack: Path, kill_after_adds: int | None = None, data: Path | None = None,
          command: tuple[str, ...] = ("apply", "--auto-approve")) -> dict[str, Any]:
    """`deploy apply` as a child: wall, CPU and peak memory (wait4 rusage of that child only)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "deployer", command[0], str(stack), *command[1:]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=stack.parent)
    killed = False
    if kill_after_adds is not None and data is not None:
        while proc.poll() is None:
            if sum(1 for e in log(data) if e["path"].split("?")[0].endswith("/addtaskcollection")) >= kill_after_adds:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.05)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and not killed:
        raise SystemExit(f"apply failed ({code}):\n{out[-3000:]}\n{err[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "killed": killed, "out": out}


def count_tasks(endpoint: str, ca: str) -> tuple[int, int]:
    """(tasks listed, distinct ids) of the job, through the SDK."""
    from deployer.azure import Clients

    clients = Clients.for_emulator_served(endpoint, ca)
    try:
        account = clients.batch_mgmt.batch_account.get("rg-bench", "babench01")
        data = clients.batch_data(account.account_endpoint)
        ids = [t.id for t in data.list_tasks("sweep", select=["id"])]
    finally:
        clients.close()
    dupes = Counter(i.casefold() for i in ids)
    return len(ids), len(dupes)


def adds(entries: list[dict[str, Any]]) -> int:
    return sum(1 for e in entries if e["method"] == "POST" and e["path"].split("?")[0].endswith("/addtaskcollection"))


def listings(entries: list[dict[str, Any]]) -> int:
    return sum(1 for e in entries if e["method"] == "GET" and e["path"].split("?")[0].endswith("/tasks")
               and "skiptoken" not in e["path"].lower())


def one(size: int, latency: float, work: Path, kill: bool, rng: random.Random,
        apply_max: int = 10**9) -> dict[str, Any]:
    data = work / f"emu-{size}-{int(latency)}{'-kill' if kill else ''}"
    data.mkdir()
    served = Served(data, latency)
    try:
        stack = data / "bench.yaml"
        stack.write_text(STACK.format(endpoint=served.endpoint, ca=served.ca, count=size))
        row: dict[str, Any] = {"tasks": size, "latency_ms": latency}
        if not kill:  # the plan of the job's creation, as a pull request would show it
            markdown = apply(stack, command=("plan", "--format", "markdown"))
            text = apply(stack, command=("plan",))
            row.update(plan_wall_s=round(text["wall"], 1), plan_cpu_s=round(text["cpu"], 2),
                       plan_rss_mb=round(text["rss_mb"]), markdown_chars=len(markdown["out"]),
                       text_lines=len(text["out"].splitlines()))
        if size > apply_max:
            return row
        if kill:
            at = rng.randint(1, max(1, size // 100 - 1))
            first = apply(stack, kill_after_adds=at, data=data)
            row["killed_after_adds"] = at if first["killed"] else None
        before = len(log(data))
        result = apply(stack)
        entries = log(data)[before:]
        row.update(adds=adds(entries), requests=len(entries), wall_s=round(result["wall"], 1),
                   cpu_s=round(result["cpu"], 2), cpu_ms_per_task=round(1000 * result["cpu"] / size, 3),
                   peak_rss_mb=round(result["rss_mb"]), emulator_s=round(sum(e.get("ms") or 0 for e in entries) / 1000,
                                                                         1))
        before = len(log(data))
        again = apply(stack)
        entries = log(data)[before:]
        row.update(reapply_adds=adds(entries), reapply_task_listings=listings(entries),
                   reapply_wall_s=round(again["wall"], 1))
        total, distinct = count_tasks(served.endpoint, served.ca)
        row.update(tasks_listed=total, distinct_ids=distinct)
        return row
    finally:
        served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3000,10000,30000,100000")
    parser.add_argument("--latencies", default="0,50")
    parser.add_argument("--kill-at-size", type=int, default=None, help="kill -9 mid-submission at this size "
                        "(default: the largest), latency 0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--apply-max", type=int, default=10**9, help="above this size only plan (the emulator's "
                        "add-collection is O(tasks in the job): applying 100,000 takes hours on it today)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    latencies = [float(v) for v in args.latencies.split(",")]
    kill_size = max(sizes) if args.kill_at_size is None else args.kill_at_size  # 0: no kill -9 run
    rng = random.Random(args.seed)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    rows = []
    with tempfile.TemporaryDirectory(prefix="tasks-scale-") as tmp:
        for latency in latencies:
            for size in sizes:
                row = one(size, latency, Path(tmp), kill=False, rng=rng, apply_max=args.apply_max)
                rows.append(row)
                print(json.dumps(row), flush=True)
        if kill_size:
            row = one(kill_size, 0, Path(tmp), kill=True, rng=rng, apply_max=max(args.apply_max, kill_size))
            row["scenario"] = "kill -9 mid-submission, then re-apply"
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = [r for r in rows if r["latency_ms"] == 0 and "scenario" not in r and "cpu_ms_per_task" in r]
    if len(base) > 1:
        per = [r["cpu_ms_per_task"] for r in base]
        print(f"CPU per task (latency 0): {min(per)} .. {max(per)} ms: ratio {max(per) / min(per):.2f} "
              "(includes the process's fixed start-up: imports, the plan's reads)")
        base.sort(key=lambda r: r["tasks"])
        steps = [(b["cpu_s"] - a["cpu_s"]) * 1000 / (b["tasks"] - a["tasks"])
                 for a, b in zip(base, base[1:], strict=False)]
        print("marginal CPU per task between sizes: " + ", ".join(f"{x:.3f} ms" for x in steps)
              + (f": ratio {max(steps) / min(steps):.2f}" if min(steps) > 0 else ""))


if __name__ == "__main__":
    main()
