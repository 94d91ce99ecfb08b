"""Hostile input (issue 10): each reproduction through `deploy validate` in its own process, with
its exit code, wall time, peak memory and first line of output.

    .venv/bin/python bench/hostile_input.py

Every case should exit 1 with one diagnostic line, in well under a second and under ~100 MB
(before the fixes: tracebacks, "internal error", and up to 9.36 GB for the template cases).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.unit.stacks import BASE  # noqa: E402


def cases(folder: Path) -> list[tuple[str, list[str]]]:
    def stack(name: str, text: str | bytes) -> str:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    def app(file: str) -> str:
        return BASE.replace("    autoStorage: data\n", "    autoStorage: data\n    applications:\n      a:\n"
                            f"        versions:\n          '1': {{file: {file}}}\n")

    task = "commandLine: echo one"
    return [
        ("integer of 4,301 digits", [stack("int.yaml", BASE.replace("taskSlotsPerNode: 2",
                                                                    "taskSlotsPerNode: " + "9" * 4301))]),
        ("999 levels of nesting", [stack("deep.yaml", BASE + "x: " + "[" * 999 + "]" * 999 + "\n")]),
        ("file name with [/b]", [stack("a[/b].yaml", BASE.replace("pool: p1", "pool: p2"))]),
        ("304-character zip name", [stack("app.yaml", app("z" * 300 + ".zip"))]),
        ("/dev/zero as a zip", [stack("zero-app.yaml", app("/dev/zero"))]),
        ("/dev/zero as the stack", ["/dev/zero"]),
        ("/dev/zero as a var file", [stack("ok.yaml", BASE), "--var-file", "/dev/zero"]),
        ("'x'.center(10**9)", [stack("center.yaml", BASE.replace(task, "commandLine: \"{{ 'x'.center(10**9) }}\""))]),
        ("'%9999999999s'|format", [stack("fmt.yaml", BASE.replace(
            task, "commandLine: \"{{ '%9999999999s'|format('x') }}\""))]),
        ("2.0 as an integer", [stack("float.yaml", BASE.replace("taskSlotsPerNode: 2", "taskSlotsPerNode: 2.0"))]),
        ("!!float '1e+308'", [stack("big.yaml", BASE.replace("taskSlotsPerNode: 2",
                                                              "taskSlotsPerNode: !!float '1e+308'"))]),
        ("NUL character", [stack("nul.yaml", BASE.replace(task, "commandLine: echo \x00one"))]),
        ("UTF-16 file", [stack("u16.yaml", BASE.encode("utf-16"))]),
    ]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / ".git").mkdir()
        env = {**os.environ, "NO_COLOR": "1"}
        print(f"{'case':28} {'exit':>4} {'seconds':>8} {'peak MB':>8}  first line")
        worst = 0.0
        for name, args in cases(folder):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "deployer", "validate", *args], capture_output=True,
                                  text=True, env=env, cwd=folder, timeout=120)
            elapsed = time.perf_counter() - started
            peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
            worst = max(worst, peak)
            first = (done.stderr.strip().splitlines() or [""])[0].replace(str(folder) + "/", "")
            print(f"{name:28} {done.returncode:>4} {elapsed:>8.2f} {peak:>8.0f}  {first[:110]}")
        print(f"largest peak so far among the children: {worst:.0f} MB (ru_maxrss is a running maximum)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
