"""Broken stacks, one mistake each: the exact message and the exact line and column.

Each case is a small edit of the valid stack in tests/unit/stacks.py (line numbers below are
lines of that stack after the edit). A case asserts the first diagnostic at its position, so
a check that reports the right thing in the wrong place fails too.
"""

from __future__ import annotations

import pytest

from tests.unit.stacks import BASE, mutate, validate_text

POOL_END = "        taskSlotsPerNode: 2\n"
TASK_END = "            commandLine: echo two\n"
AUTOSCALE = """\
        scaleSettings:
          autoScale:
            evaluationInterval: PT5M
            formula: |
              $pending = $PendingTasks.GetSample(1);
              $TargetDedicatedNodes = min(4, $pending +);
"""

CASES = [
    # (id, edited stack text, line, column, message)
    ("misspelled pool key", mutate("        vmSize:", "        vmsize:"), 24, 9,
     "unknown key 'vmsize' in pool 'p1'; did you mean 'vmSize'?"),
    ("misspelled top-level key", mutate("networks:\n", "network:\n"), 12, 1,
     "unknown key 'network' at the top level of the stack; did you mean 'networks'?"),
    ("bad logical name", mutate("storageAccounts:\n  data:", "storageAccounts:\n  9data:"), 7, 3,
     "'9data' is not a valid name here: logical names start with a letter"),
    ("bad target kind", mutate("kind: local", "kind: lokal"), 3, 9,
     "'lokal' is not one of azure, local, emulator; did you mean 'local'?"),
    ("missing stack name", mutate("stack: demo\n", ""), 1, 1,
     "missing required key 'stack' at the top level of the stack"),
    ("wrong type", mutate("taskSlotsPerNode: 2", "taskSlotsPerNode: two"), 31, 27,
     "expected an integer, got a string ('two')"),
    ("storage account name", mutate("name: stdemo01", "name: StDemo_01"), 8, 11,
     "storage account name 'StDemo_01' is not a valid name: 3–24 lowercase letters and digits"),
    ("batch account name too short", mutate("name: bademo01", "name: ba"), 20, 11,
     "Batch account name 'ba' is not a valid name: 3–24 lowercase letters and digits"),
    ("job id", mutate("      j1:", "      j/1:"), 33, 7,
     "job id 'j/1' is not a valid name: up to 64 letters, digits, hyphens and underscores"),
    ("container name", mutate("[input, output]", "[input, Output_1]"), 9, 25,
     "container name 'Output_1' is not a valid name"),
    ("share name", mutate("      scratch: {quotaGiB: 10}", "      Scratch: {quotaGiB: 10}"), 11, 7,
     "file share name 'Scratch' is not a valid name"),
    ("duplicate storage account name",
     mutate("networks:\n", "  more:\n    name: stdemo01\nnetworks:\n"), 13, 11,
     "storage account name 'stdemo01' is also used by storageAccounts.data; names must be unique"),
    ("auto-storage reference", mutate("autoStorage: data", "autoStorage: dta"), 21, 18,
     "storage account 'dta' is not defined in storageAccounts; did you mean 'data'?"),
    ("job's pool reference", mutate("pool: p1", "pool: p2"), 34, 15,
     "pool 'p2' is not defined in Batch account 'main'; did you mean 'p1'?"),
    ("subnet reference", mutate(POOL_END, POOL_END + "        networkConfiguration: {subnet: hpc.nodez}\n"),
     32, 40,
     "subnet 'nodez' is not defined in network 'hpc'; did you mean 'nodes'?"),
    ("network reference", mutate(POOL_END, POOL_END + "        networkConfiguration: {subnet: hcp.nodes}\n"),
     32, 40,
     "network 'hcp' is not defined in networks; did you mean 'hpc'?"),
    ("mount's share reference", mutate(POOL_END, POOL_END + """\
        mountConfiguration:
          - azureFileShareConfiguration: {storage: data, share: scratchy, relativeMountPath: s}
"""), 33, 65, "file share 'scratchy' is not defined in storage account 'data'; did you mean 'scratch'?"),
    ("mount's storage reference", mutate(POOL_END, POOL_END + """\
        mountConfiguration:
          - azureFileShareConfiguration: {storage: dat, share: scratch, relativeMountPath: s}
"""), 33, 52, "storage account 'dat' is not defined in storageAccounts; did you mean 'data'?"),
    ("application package reference", mutate(POOL_END, POOL_END + """\
        applicationPackages: [{application: ffmpeg}]
"""), 32, 45, "application 'ffmpeg' is not defined in Batch account 'main'; the stack defines no applications"),
    ("formula syntax error",
     mutate("        scaleSettings:\n          fixedScale: {targetDedicatedNodes: 1}\n", AUTOSCALE), 34, 56,
     "autoscale formula:"),
    ("formula assigns unknown service variable",
     mutate("        scaleSettings:\n          fixedScale: {targetDedicatedNodes: 1}\n",
            AUTOSCALE.replace("$TargetDedicatedNodes = min(4, $pending +);", "$TargetDedicated = 2;")), 34, 15,
     "did you mean $TargetDedicatedNodes?"),
    ("fixed and auto scale together",
     mutate("          fixedScale: {targetDedicatedNodes: 1}\n",
            "          fixedScale: {targetDedicatedNodes: 1}\n"
            "          autoScale: {formula: '$TargetDedicatedNodes = 1;'}\n"),
     30, 11, "give only one of fixedScale, autoScale"),
    ("task slots over the VM size's limit", mutate("taskSlotsPerNode: 2", "taskSlotsPerNode: 9"), 31, 27,
     "taskSlotsPerNode 9 is more than Standard_D2s_v3 allows: at most 8 (4 × 2 vCPUs, capped at 256)"),
    ("node agent does not match image", mutate("batch.node.ubuntu 22.04", "batch.node.ubuntu 20.04"), 28, 29,
     "nodeAgentSkuId 'batch.node.ubuntu 20.04' does not match image "
     "canonical/0001-com-ubuntu-server-jammy/22_04-lts; use 'batch.node.ubuntu 22.04'"),
    ("duplicate task id", mutate("- id: t2", "- id: T1"), 38, 17,
     "duplicate task id 'T1' in job 'j1' (also tasks[0]); task ids must be unique within a job, ignoring case"),
    ("task depends on unknown task", mutate(TASK_END, TASK_END + "            dependsOn: {taskIds: [t11]}\n"),
     40, 35, "task 't11' is not defined in job 'j1'; did you mean 't1'?"),
    ("dependencies without usesTaskDependencies",
     mutate(TASK_END, TASK_END + "            dependsOn: {taskIds: [t1]}\n"),
     40, 13, "does not set `usesTaskDependencies: true`"),
    ("secret in clear text", mutate(POOL_END, POOL_END + """\
        mountConfiguration:
          - cifsMountConfiguration:
              source: //server/share
              userName: batch
              password: hunter2
              relativeMountPath: smb
"""), 36, 25, "write a reference"),
    ("bad duration", mutate("          fixedScale: {targetDedicatedNodes: 1}",
                            "          fixedScale: {targetDedicatedNodes: 1, resizeTimeout: 15min}"), 30, 64,
     "expected an ISO-8601 duration such as PT15M"),
    ("duplicate key", mutate("    name: stdemo01\n", "    name: stdemo01\n    name: stdemo02\n"), 9, 5,
     "duplicate key 'name' (first defined at line 8)"),
    ("tab indentation", mutate("    name: bademo01", "\tname: bademo01"), 20, 1,
     "tab character in indentation; YAML indents with spaces only"),
    ("malformed flow list", mutate("[input, output]", "[input, output"), 10, 15,
     "invalid YAML"),
    ("object tag", mutate("location: westeurope", "location: !!python/object/apply:os.system [ls]"), 5, 13,
     "is not allowed in a stack"),
    ("application default version", mutate("    autoStorage: data\n", """\
    autoStorage: data
    applications:
      tool:
        defaultVersion: "2.0"
        versions:
          "1.0": {file: tool.zip}
"""), 24, 25, "version '2.0' is not defined in application 'tool'"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_stack(tmp_path, text, line, column, message):
    (tmp_path / "tool.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    diagnostics = validate_text(tmp_path, text)
    assert diagnostics, "expected at least one diagnostic"
    matching = [d for d in diagnostics if message in d.message]
    assert matching, f"no diagnostic says {message!r}; got: {[d.format() for d in diagnostics]}"
    assert (matching[0].line, matching[0].column) == (line, column), matching[0].format()


def test_the_base_stack_is_valid(tmp_path):
    assert validate_text(tmp_path, BASE) == []


@pytest.mark.parametrize(
    ("content", "message", "position"),
    [
        (b"", "the file is empty", (1, 1)),
        (b"# nothing here\n", "the file is empty", (1, 1)),
        (b"stack: demo\nnote: caf\xe9\n", "byte 0xe9 is not valid UTF-8; save the file as UTF-8", (2, 10)),
        (b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
         b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
         b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", "alias bomb", (6, 4)),
        (b"- just\n- a list\n", "expected a mapping, got a list", (1, 1)),
    ],
)
def test_unreadable_files(tmp_path, content, message, position):
    diagnostics = validate_text(tmp_path, content)
    assert message in diagnostics[0].message
    assert (diagnostics[0].line, diagnostics[0].column) == position


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "stack.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    from deployer.stack.validate import validate_file

    (diagnostic,) = validate_file(path, "stack.yaml").diagnostics
    assert diagnostic.message.startswith("file is 52.4 MB, over the 8 MB limit")


def test_directory_instead_of_file(tmp_path):
    from deployer.stack.validate import validate_file

    (diagnostic,) = validate_file(tmp_path, "dir").diagnostics
    assert diagnostic.format() == "dir: error: is a directory; give the path of a stack file (.yaml) inside it"


def test_every_error_in_one_run(tmp_path):
    text = mutate("pool: p1", "pool: p2", mutate("kind: local", "kind: lokal"))
    messages = [d.message for d in validate_text(tmp_path, text)]
    assert any("lokal" in m for m in messages) and any("'p2'" in m for m in messages)
