"""`deploy validate` catches what Azure would accept and then fail on, or silently drop.

- an output file destination without a credential (Azure accepts the task; every upload fails):
  refused with its line and the three ways to give one; each way is accepted;
- a resource file in a private container of this stack without a credential (a container opened
  to the public needs none), and a `taskPerFile` source likewise;
- a pool property the targeted api-version (Batch management 2025-06-01) does not define.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.stacks import mutate, validate_text

TASK_END = "            commandLine: echo two\n"

BY_ID = "identityReference: {resourceId: %s}"
IDENTITY = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-nodes")


def with_output(container: str) -> str:
    return mutate(TASK_END, TASK_END + (
        "            outputFiles:\n"
        "              - filePattern: out.txt\n"
        "                destination:\n"
        f"                  container: {container}\n"
        "                uploadOptions: {uploadCondition: taskSuccess}\n"))


def with_resource(entry: str) -> str:
    return mutate(TASK_END, TASK_END + "            resourceFiles:\n" f"              - {entry}\n")


def with_pool_identity(text: str) -> str:
    """A task reads with an identity of its pool (validate refuses one the pool does not have)."""
    slots = "        taskSlotsPerNode: 2\n"
    assert text.count(slots) == 1
    return text.replace(slots, slots + "        identity:\n          type: UserAssigned\n"
                        f"          userAssignedIdentities: [{IDENTITY}]\n")


def with_factory(source: str) -> str:
    """Job j1's tasks from one task per blob of `source`."""
    old = "        tasks:\n          - id: t1\n            commandLine: echo one\n          - id: t2\n"
    return mutate(old + TASK_END, "        taskFactory:\n          type: taskPerFile\n"
                  f"          source: {source}\n"
                  "          repeatTask: {id: 'f-{fileName}', commandLine: 'process {filePath}'}\n")


def public_input(access: str, text: str) -> str:
    """The stack's `input` container open to anonymous reads (`Blob` or `Container`)."""
    old = "    containers: [input, output]\n"
    assert text.count(old) == 1
    return text.replace(old, f"    containers: [{{name: input, publicAccess: {access}}}, output]\n")


OUTPUT_ERROR = ("this output file destination has no credential: the task would run and every upload fail; "
                "give it a credential: identityReference (a pool identity; preferred), sas: {expiry: P7D} with "
                "storage + container (the deployer makes a write-only SAS at apply time), or containerUrl: "
                "{secret: …} (a SAS URL)")

REFUSED = [
    # (id, stack text, line, column, message)
    ("output to a stack container, no credential",
     with_output("{storage: data, container: output}"), 43, 30, OUTPUT_ERROR),
    ("output to a bare container URL",
     with_output("{containerUrl: 'https://other.blob.core.windows.net/out'}"), 43, 30, OUTPUT_ERROR),
    ("resource file from a private container of the stack",
     with_resource("{storageContainerUrl: 'https://stdemo01.blob.core.windows.net/input'}"), 41, 39,
     "storageContainerUrl is a container of this stack's storage account 'stdemo01', which is private: the "
     "nodes could not read it; give it a credential: identityReference (a pool identity; preferred), a SAS URL "
     "as {secret: …}, or autoStorageContainerName for a container of the auto-storage account"),
    ("a taskPerFile source in a private container, no identity",
     with_factory("{storage: data, container: input}"), 37, 11,
     "taskPerFile source: each task reads its file by URL, and the container is private: give the source an "
     "identityReference (a pool identity), or open the container with publicAccess: Blob"),
    ("a container listed from a container open to blobs only",
     public_input("Blob", with_resource("{storageContainerUrl: 'https://stdemo01.blob.core.windows.net/input'}")),
     41, 39,
     "storageContainerUrl is a container of this stack's storage account 'stdemo01', which is private: the "
     "nodes could not read it; give it a credential: identityReference (a pool identity; preferred), a SAS URL "
     "as {secret: …}, or autoStorageContainerName for a container of the auto-storage account"),
    ("a pool property 2025-06-01 does not define",
     mutate("        taskSlotsPerNode: 2\n",
            "        taskSlotsPerNode: 2\n        targetNodeCommunicationMode: Simplified\n"),
     32, 9,
     "targetNodeCommunicationMode is not a pool property in the Batch management API 2025-06-01 (the version "
     "this deployer uses): Azure would drop it and the setting would have no effect; remove it"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused(tmp_path: Path, text: str, line: int, column: int, message: str) -> None:
    errors = [d for d in validate_text(tmp_path, text) if d.severity == "error"]
    assert [(d.line, d.column, d.message) for d in errors] == [(line, column, message)]


ACCEPTED = {
    "identityReference": with_pool_identity(
        with_output("{storage: data, container: output, %s}" % (BY_ID % IDENTITY))),
    "a SAS the deployer makes": with_output("{storage: data, container: output, sas: {expiry: P7D}}"),
    "a SAS URL as a secret": with_output("{containerUrl: {secret: env:OUTPUT_SAS_URL}}"),
    "resource file with identityReference": with_pool_identity(with_resource(
        "{storageContainerUrl: 'https://stdemo01.blob.core.windows.net/input', %s}" % (BY_ID % IDENTITY))),
    "resource file as a SAS URL secret": with_resource("{httpUrl: {secret: env:INPUT_SAS_URL}, filePath: in.txt}"),
    "resource file from auto-storage": with_resource("{autoStorageContainerName: input}"),
    "resource file from elsewhere": with_resource(
        "{httpUrl: 'https://example.com/tool.tar.gz', filePath: tool.tar.gz}"),
    "resource file by URL from a public container": public_input("Blob", with_resource(
        "{httpUrl: 'https://stdemo01.blob.core.windows.net/input/a.txt', filePath: a.txt}")),
    "container listed from a public container": public_input("Container", with_resource(
        "{storageContainerUrl: 'https://stdemo01.blob.core.windows.net/input'}")),
    "taskPerFile with a pool identity": with_pool_identity(
        with_factory("{storage: data, container: input, %s}" % (BY_ID % IDENTITY))),
    "taskPerFile from a public container": public_input("Blob", with_factory("{storage: data, container: input}")),
    "pool tags in both spellings": mutate(
        "        taskSlotsPerNode: 2\n",
        "        taskSlotsPerNode: 2\n        tags: {a: b}\n        resourceTags: {c: d}\n"),
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted(tmp_path: Path, text: str) -> None:
    assert [d.format() for d in validate_text(tmp_path, text) if d.severity == "error"] == []
