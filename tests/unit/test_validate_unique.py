"""Duplicate keys inside lists Azure keys by name (issue 10): an error at the second occurrence.

Each case is a small edit of the valid stack in tests/unit/stacks.py; line and column are those
of the second occurrence's identifying value in the edited stack.
"""

from __future__ import annotations

import pytest

from tests.unit.stacks import mutate, validate_text

POOL_END = "        taskSlotsPerNode: 2\n"
TASK_END = "            commandLine: echo two\n"
VMC_END = "            nodeAgentSkuId: batch.node.ubuntu 22.04\n"

CASES = [
    # (id, edited stack text, line, column, message)
    ("user accounts", mutate(POOL_END, POOL_END + """\
        userAccounts:
          - {name: alice, password: {secret: env:A}}
          - {name: alice, password: {secret: env:B}, elevationLevel: Admin}
"""), 34, 20, "duplicate user account 'alice' (also userAccounts[0]); Azure keys a pool's user accounts by name, "
     "so one of them would be silently dropped"),
    ("start task environment", mutate(POOL_END, POOL_END + """\
        startTask:
          commandLine: echo start
          environmentSettings:
            - {name: MODE, value: a}
            - {name: OTHER, value: b}
            - {name: MODE, value: c}
"""), 37, 22, "duplicate environment variable 'MODE' (also environmentSettings[0]); a task's environment holds "
     "each name once"),
    ("task environment", mutate(TASK_END, TASK_END + """\
            environmentSettings:
              - name: X
              - name: X
                value: "2"
"""), 42, 23, "duplicate environment variable 'X' (also environmentSettings[0])"),
    ("job common environment", mutate("        pool: p1\n", """\
        pool: p1
        commonEnvironmentSettings: [{name: A, value: "1"}, {name: A, value: "2"}]
"""), 35, 67, "duplicate environment variable 'A' (also commonEnvironmentSettings[0]); a job's common environment"),
    ("VM extensions", mutate(VMC_END, VMC_END + """\
            extensions:
              - {name: ama, publisher: Microsoft.Azure.Monitor, type: AzureMonitorLinuxAgent}
              - {name: ama, publisher: Microsoft.Azure.Monitor, type: AzureMonitorLinuxAgent}
"""), 31, 24, "duplicate VM extension 'ama' (also extensions[0])"),
    ("data disk LUNs", mutate(VMC_END, VMC_END + """\
            dataDisks:
              - {lun: 0, diskSizeGB: 10}
              - {lun: 0, diskSizeGB: 20}
"""), 31, 23, "duplicate data disk LUN 0 (also dataDisks[0]); each data disk of a node needs its own LUN"),
    ("containers", mutate("[input, output]", "[input, output, input]"), 9, 33,
     "duplicate container 'input' (also containers[0]); a storage account holds each container name once"),
    # already caught elsewhere, kept here so the whole family is covered in one table
    ("mount paths", mutate(POOL_END, POOL_END + """\
        mountConfiguration:
          - azureFileShareConfiguration: {storage: data, share: scratch, relativeMountPath: s}
          - azureFileShareConfiguration: {storage: data, share: scratch, relativeMountPath: s}
"""), 34, 93, "relativeMountPath 's' is already used by mountConfiguration[0]"),
    ("metadata", mutate(POOL_END, POOL_END + "        metadata: {team: a, team: b}\n"), 32, 29,
     "duplicate key 'team'"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_duplicate_in_keyed_list(tmp_path, text, line, column, message):
    diagnostics = validate_text(tmp_path, text)
    matching = [d for d in diagnostics if message in d.message]
    assert matching, f"no diagnostic says {message!r}; got: {[d.format() for d in diagnostics]}"
    assert len(matching) == 1, [d.format() for d in matching]
    assert (matching[0].line, matching[0].column, matching[0].severity) == (line, column, "error"), \
        matching[0].format()


def test_distinct_keys_are_fine(tmp_path):
    text = mutate(POOL_END, POOL_END + """\
        userAccounts:
          - {name: alice, password: {secret: env:A}}
          - {name: bob, password: {secret: env:B}}
        startTask:
          commandLine: echo start
          environmentSettings: [{name: A}, {name: a}, {name: B}]
""")
    assert validate_text(tmp_path, text) == []


def test_deep_nesting_does_not_recurse():
    """The walk is iterative: a stack nested thousands of levels deep is no RecursionError."""
    from types import SimpleNamespace

    from deployer.stack.checks.unique import check
    from deployer.stack.checks.view import StackView
    from deployer.stack.loader import Position

    deep: dict = {"userAccounts": [{"name": "x"}, {"name": "x"}]}
    for _ in range(5000):
        deep = {"a": [deep]}
    source = SimpleNamespace(file="f", value=lambda path: Position(1, 1))
    view = StackView(SimpleNamespace(data=deep, source=source))  # type: ignore[arg-type]
    check(view)
    assert [d.message.split(" (")[0] for d in view.diagnostics] == ["duplicate user account 'x'"]
