"""Cross-checks between two places of a stack (pool ↔ task, pool ↔ network, job ↔ task): one
case per rule the schema's descriptions state, each breaking the small valid stack one way and
expecting exactly one error, at the line of the offending key; and the fixed form passing."""

from __future__ import annotations

import pytest

from tests.unit.stacks import mutate, validate_text

IDENTITY = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/reader"
OTHER = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/writer"
T1 = "          - id: t1\n            commandLine: echo one\n"
POOL_SLOTS = "        taskSlotsPerNode: 2\n"
POOL_IDENTITY = "        identity: {{type: UserAssigned, userAssignedIdentities: [{}]}}\n"
IMAGE_LINE = "            nodeAgentSkuId: batch.node.ubuntu 22.04\n"
CONTAINER_POOL = IMAGE_LINE + "            containerConfiguration: {type: DockerCompatible}\n"


def _task(extra: str) -> str:
    return mutate(T1, T1 + extra)


CASES = [
    # (name, stack text, the line's marker, message fragment, fixed stack text or None)
    ("container task on a pool without containerConfiguration",
     _task("            containerSettings: {imageName: ubuntu:22.04}\n"),
     "containerSettings", "runs in a container (containerSettings) but pool 'p1' has no containerConfiguration",
     mutate(IMAGE_LINE, CONTAINER_POOL, _task("            containerSettings: {imageName: ubuntu:22.04}\n"))),
    ("container start task on a pool without containerConfiguration",
     mutate(POOL_SLOTS, POOL_SLOTS + "        startTask:\n          commandLine: echo hi\n"
            "          containerSettings: {imageName: ubuntu:22.04}\n"),
     "containerSettings", "the pool's start task runs in a container", None),
    ("multi-instance task on a pool without interNodeCommunication",
     _task("            multiInstanceSettings: {numberOfInstances: 2, coordinationCommandLine: echo c}\n"),
     "multiInstanceSettings", "does not set `interNodeCommunication: Enabled`",
     mutate(POOL_SLOTS, POOL_SLOTS + "        interNodeCommunication: Enabled\n",
            _task("            multiInstanceSettings: {numberOfInstances: 2, coordinationCommandLine: echo c}\n"))),
    ("multi-instance task with requiredSlots above 1",
     mutate(POOL_SLOTS, POOL_SLOTS + "        interNodeCommunication: Enabled\n",
            _task("            multiInstanceSettings: {numberOfInstances: 2, coordinationCommandLine: echo c}\n"
                  "            requiredSlots: 2\n")),
     "requiredSlots", "its requiredSlots must be 1 (not 2)", None),
    ("requiredSlots above the pool's taskSlotsPerNode",
     _task("            requiredSlots: 4\n"),
     "requiredSlots", "needs 4 task slots but pool 'p1' has taskSlotsPerNode 2",
     _task("            requiredSlots: 2\n")),
    ("requiredSlots above the default of one slot per node",
     mutate(POOL_SLOTS, "", _task("            requiredSlots: 2\n")),
     "requiredSlots", "taskSlotsPerNode 1 (the default)", None),
    ("NoPublicIPAddresses without a subnet",
     mutate(POOL_SLOTS, POOL_SLOTS + "        networkConfiguration:\n"
            "          publicIPAddressConfiguration: {provision: NoPublicIPAddresses}\n"),
     "NoPublicIPAddresses", "and no subnet", None),
    ("task runs as a user the pool does not define",
     _task("            userIdentity: {userName: svc}\n"),
     "userName", "runs as user 'svc', which pool 'p1' does not define in userAccounts",
     mutate(POOL_SLOTS, POOL_SLOTS + "        userAccounts: [{name: svc, password: {secret: env:SVC_PASSWORD}}]\n",
            _task("            userIdentity: {userName: svc}\n"))),
    ("resource file read with an identity the pool does not have",
     mutate(POOL_SLOTS, POOL_SLOTS + POOL_IDENTITY.format(OTHER),
            _task("            resourceFiles:\n              - httpUrl: https://example.com/tool.sh\n"
                  "                filePath: tool.sh\n"
                  f"                identityReference: {{resourceId: {IDENTITY}}}\n")),
     "identityReference", "uses identity 'reader', which is not one of the identities of pool 'p1'",
     mutate(POOL_SLOTS, POOL_SLOTS + POOL_IDENTITY.format(IDENTITY),
            _task("            resourceFiles:\n              - httpUrl: https://example.com/tool.sh\n"
                  "                filePath: tool.sh\n"
                  f"                identityReference: {{resourceId: {IDENTITY}}}\n"))),
    ("jobReleaseTask without a jobPreparationTask",
     mutate("        pool: p1\n", "        pool: p1\n        jobReleaseTask: {commandLine: echo bye}\n"),
     "jobReleaseTask", "a jobReleaseTask needs a jobPreparationTask",
     mutate("        pool: p1\n", "        pool: p1\n        jobReleaseTask: {commandLine: echo bye}\n"
            "        jobPreparationTask: {commandLine: echo hi}\n")),
    ("jobAction without onTaskFailure performExitOptionsJobAction",
     _task("            exitConditions:\n              default: {jobAction: terminate}\n"),
     "jobAction", "takes effect only when the job sets `onTaskFailure: performExitOptionsJobAction`",
     mutate("        pool: p1\n", "        pool: p1\n        onTaskFailure: performExitOptionsJobAction\n",
            _task("            exitConditions:\n              default: {jobAction: terminate}\n"))),
]


@pytest.mark.parametrize(("text", "marker", "fragment", "fixed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cross_check(tmp_path, text, marker, fragment, fixed):
    found = validate_text(tmp_path, text)
    assert len(found) == 1, [d.format() for d in found]
    [diagnostic] = found
    lines = text.splitlines()
    assert marker in lines[diagnostic.line - 1], (diagnostic.format(), lines[diagnostic.line - 1])
    assert diagnostic.severity == "error"
    assert fragment in diagnostic.message, diagnostic.message
    if fixed is not None:
        assert [d.format() for d in validate_text(tmp_path, fixed)] == []


def test_tasks_of_a_pool_outside_the_stack_are_not_cross_checked(tmp_path):
    text = _task("            requiredSlots: 64\n")
    text = text.replace("    jobs:\n      j1:\n        pool: p1\n", "    jobs:\n      j1:\n        pool: p9\n")
    messages = [d.message for d in validate_text(tmp_path, text)]
    assert len(messages) == 1 and "pool 'p9' is not defined" in messages[0], messages
