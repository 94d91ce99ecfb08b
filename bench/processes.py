"""Timing fresh `deploy` processes, as a CI step runs them: shared by the bench scripts."""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time

DEPLOY = [sys.executable, "-m", "deployer"]


def timed(args: list[str], runs: int) -> tuple[float, float, int]:
    """(best, median) wall-clock seconds of `runs` fresh runs of `args`, and the last exit code."""
    samples, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        code = proc.returncode
        if code != 0:
            sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
    return min(samples), statistics.median(samples), code


def peak_mib(args: list[str]) -> float:
    """Max RSS of one run (children's rusage: a fresh process each time, so the max is this one's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(args, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


def size_and_runs(doc: str | None) -> argparse.Namespace:
    """`--pools N --runs N`, the options of the speed benchmarks (`doc`: the script's docstring)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()
