"""Mount credentials on the local target: a `storage:` mount gets its key from the account by
listKeys at plan/apply time; a blobfuse mount with a managed identity needs no key at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deployer.cli import main

IDENTITY = ("/subscriptions/00000000-0000-0000-0000-0000000000d1/resourceGroups/rg-mounts/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-reader")

STACK = """\
stack: mounts
target:
  kind: local
  subscription: 00000000-0000-0000-0000-0000000000d1
  resourceGroup: rg-mounts
  location: westeurope
storageAccounts:
  data:
    name: stmountsdata
    sku: Standard_LRS
    kind: StorageV2
    containers: [inputs]
batchAccounts:
  main:
    name: bamounts
    pools:
      readers:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts, version: latest}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        identity:
          type: UserAssigned
          userAssignedIdentities: [IDENTITY]
        mountConfiguration:
          - azureBlobFileSystemConfiguration:
              storage: data
              containerName: inputs
              relativeMountPath: inputs
MOUNT_CREDENTIAL
"""


def list_keys_requests(state: Path) -> list[str]:
    log = state / "requests.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    return [e["path"] for e in entries if e["path"].lower().split("?")[0].endswith("/listkeys")]


@pytest.mark.parametrize(("credential", "reads_key"), [
    ("              identityReference: {resourceId: IDENTITY}", False),
    ("", True),  # no identity: the deployer fetches the account key
])
def test_identity_mounts_need_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], credential: str, reads_key: bool) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(state))
    stack = tmp_path / "mounts.yaml"
    stack.write_text(STACK.replace("MOUNT_CREDENTIAL\n", credential + "\n" if credential else "")
                     .replace("IDENTITY", IDENTITY))
    assert main(["apply", str(stack), "--auto-approve"]) == 0, capsys.readouterr()
    assert main(["plan", str(stack), "--detailed-exitcode"]) == 0, capsys.readouterr()
    reads = list_keys_requests(state)
    assert bool(reads) == reads_key, reads
    assert all("stmountsdata" in path for path in reads)
