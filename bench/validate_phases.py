"""Where `deploy validate` of a 1,000-pool stack spends its time, phase by phase.

`bench/validate_speed.py` times whole processes; this runs the same stack through the phases of
`deployer.stack.validate.validate_file` in one process (after a warm-up run, cyclic GC paused as
validate pauses it) and prints milliseconds per phase: read, YAML composition (libyaml), the
alias measure (only when the text may hold an alias), building values and the source map,
spellings, each semantic check, the integer check and the schema check.

    .venv/bin/python bench/validate_phases.py [--pools 1000] [--runs 5]
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from processes import size_and_runs  # bench/processes.py (the script's folder)
from validate_speed import generate


def phases(path: Path) -> dict[str, float]:
    import yaml

    from deployer.stack import loader
    from deployer.stack.checks import CHECKS
    from deployer.stack.checks.view import StackView
    from deployer.stack.numbers import check_numbers
    from deployer.stack.schema import check_schema
    from deployer.stack.spellings import normalize_spellings

    out: dict[str, float] = {}

    def timed(name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = step()
        out[name] = out.get(name, 0.0) + (time.perf_counter() - start) * 1000
        return value

    text = timed("read", lambda: loader.read_stack_text(path, path.name))

    def compose() -> Any:
        parser = yaml.CSafeLoader(text)
        try:
            return parser.get_single_node()
        finally:
            parser.dispose()

    root = timed("compose", compose)
    if timed("alias?", lambda: loader._may_hold_alias(text)):
        timed("measure", lambda: loader._refuse_alias_bombs(root, path.name))
    builder = loader._Builder(path.name, text)
    data = timed("build", lambda: builder.build(root, ()))
    doc = loader.LoadedDocument(data=data, source=builder.source, text=text)
    timed("spellings", lambda: normalize_spellings(doc))
    view = StackView(doc, path.parent)
    for check in CHECKS:
        timed(check.__module__.rsplit(".", 1)[-1], lambda check=check: check(view))
    timed("numbers", lambda: check_numbers(doc))
    timed("schema", lambda: check_schema(doc))
    return out


def main() -> None:
    options = size_and_runs(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(generate(options.pools), encoding="utf-8")
        gc.disable()
        phases(path)  # warm-up: imports, compiled schema, caches of the first run
        runs = [phases(path) for _ in range(options.runs)]
    names = list(runs[0])
    medians = {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}
    print(f"validate phases, {options.pools} pools, median of {options.runs} runs (ms):")
    for name in names:
        print(f"  {name:<16} {medians[name]:7.1f}")
    print(f"  {'total':<16} {sum(medians.values()):7.1f}")


if __name__ == "__main__":
    main()
