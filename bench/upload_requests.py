"""Data in: requests and seconds for uploading files into a stack's container.

    .venv/bin/python bench/upload_requests.py [--files 1000] [--big-mb 20]

In a fresh local emulator (in-process, through azure-storage-blob): `deploy apply` of a stack whose
container declares `upload: {from: data/, pattern: "**/*.fq.gz", prefix: reads/}` over FILES small
files plus one BIG-MB file (uploaded in 4 MiB blocks); then `deploy plan`; then one file changed,
`deploy plan` and `deploy apply`. Prints, per step, the blob-service requests by method and the
plan's change count. The request log is the emulator's requests.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STACK = """stack: upload-bench
target: {kind: local, resourceGroup: rg-upload-bench, location: westeurope}
storageAccounts:
  data:
    name: stuploadbench01
    containers:
      - name: input
        upload: {from: data/, pattern: "**/*.fq.gz", prefix: reads/}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mb", type=int, default=20)
    args = parser.parse_args()
    from deployer.cli import main as deploy

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["DEPLOY_LOCAL_DIR"] = str(root / "state")
        data = root / "data"
        for i in range(args.files):
            folder = data / ("lane2" if i % 2 else "lane1")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"s{i:05d}.fq.gz").write_bytes(os.urandom(256 + i % 4096))
        if args.big_mb:
            (data / "big.fq.gz").write_bytes(os.urandom(args.big_mb * 1024 * 1024))
        (data / "notes.txt").write_text("not uploaded: does not match the pattern\n")
        stack = root / "stack.yaml"
        stack.write_text(STACK)
        log = root / "state" / "requests.jsonl"

        def step(name: str, *argv: str) -> None:
            before = len(log.read_text().splitlines()) if log.exists() else 0
            started = time.perf_counter()
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = deploy([*argv, str(stack), "--target", "local"])
            seconds = time.perf_counter() - started
            rows = [json.loads(line) for line in log.read_text().splitlines()[before:]]
            blob = Counter(r["method"] for r in rows if r["path"].startswith("/blob/"))
            gets = sum(1 for r in rows if r["path"].startswith("/blob/") and r["method"] == "GET")
            changes = next((line for line in out.getvalue().splitlines() if line.startswith(("Plan:", "No changes"))),
                           "")
            print(f"{name:<28} exit {code}  {seconds:6.2f}s  blob requests {sum(blob.values()):5d} "
                  f"({', '.join(f'{m} {c}' for m, c in sorted(blob.items())) or 'none'}; GETs {gets})  {changes}")

        print(f"{args.files} files + 1 file of {args.big_mb} MiB (4 MiB blocks)")
        step("apply (first upload)", "apply", "--auto-approve")
        step("plan again", "plan")
        (data / "lane1" / "s00000.fq.gz").write_bytes(b"changed")
        step("plan after 1 file changed", "plan")
        step("apply after 1 file changed", "apply", "--auto-approve")
        step("plan again", "plan")


if __name__ == "__main__":
    main()
