"""What does rendering a stack template cost? `deploy validate` and `deploy render` on a stack
whose 1,000 pools come from a `{% for %}` loop over the presets of templates/ (image, autoscale
formula, start task), next to `deploy validate` on the same stack written out (the rendered
text itself, which takes the no-template fast path).

Prints best and median wall-clock seconds of fresh processes (as a CI step runs them) and the
peak memory (max RSS) of one validate run of each. Usage:

    .venv/bin/python bench/template_speed.py [--pools 1000] [--runs 5]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from processes import DEPLOY, peak_mib, size_and_runs, timed  # bench/processes.py (the script's folder)

STACK = """\
{% import 'images.j2' as images %}
{% import 'autoscale.j2' as autoscale %}
{% import 'start_tasks.j2' as start_tasks %}
stack: bench
target: {kind: local, resourceGroup: rg-bench, location: westeurope}
vars:
  pools: 1000
batchAccounts:
  main:
    name: babench01
    pools:
{%- for i in range(vars.pools) %}
      pool{{ '%04d' % i }}:
        vmSize: Standard_D2s_v3
        deploymentConfiguration: {{ images.ubuntu_2204() }}
        scaleSettings: {{ autoscale.pending_tasks(max_low_priority=4 + i % 97, slots_per_node=2) }}
        taskSlotsPerNode: 2
        startTask: {{ start_tasks.apt_install(["ffmpeg"]) }}
        metadata: {team: media, index: "{{ i }}"}
{%- endfor %}
"""


def main() -> None:
    options = size_and_runs(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()  # the templates/ folder is looked for up to a repository root
        shutil.copytree(Path(__file__).resolve().parents[1] / "templates", root / "templates")
        (root / "stacks").mkdir()
        templated = root / "stacks" / "templated.yaml.j2"
        templated.write_text(STACK, encoding="utf-8")
        var = ["--var-file", str(root / "vars.yaml")]
        (root / "vars.yaml").write_text(f"pools: {options.pools}\n", encoding="utf-8")
        rendered = subprocess.run([*DEPLOY, "render", str(templated), *var], capture_output=True, text=True)
        if rendered.returncode != 0:
            sys.exit(rendered.stderr)
        literal = root / "stacks" / "literal.yaml"
        literal.write_text(rendered.stdout, encoding="utf-8")
        size = len(rendered.stdout.encode()) / 1024
        rows = [
            (f"deploy render   (template, {options.pools} pools)", [*DEPLOY, "render", str(templated), *var]),
            (f"deploy validate (template, {options.pools} pools)", [*DEPLOY, "validate", str(templated), *var]),
            (f"deploy validate (written out, {size:.0f} KiB)", [*DEPLOY, "validate", str(literal)]),
        ]
        for label, args in rows:
            best, median, code = timed(args, options.runs)
            print(f"{label:<44} best {best:.3f} s  median {median:.3f} s  peak {peak_mib(args):.0f} MiB  exit {code}")
        print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus, {options.runs} runs each)")


if __name__ == "__main__":
    main()
