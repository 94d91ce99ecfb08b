"""A small valid stack and helpers to break it one way at a time, for table-driven tests."""

from __future__ import annotations

from pathlib import Path

from deployer.errors import Diagnostic
from deployer.stack.validate import validate_file

# A pool's Ubuntu VM lines, indented for `batchAccounts.A.pools.P:`; end with scaleSettings of your own.
UBUNTU_VM = """\
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
            nodeAgentSkuId: batch.node.ubuntu 22.04
"""

# A pool of no nodes (nothing to wait for): the usual pool of an integration test's stack.
POOL = UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 0}
"""

BASE = """\
stack: demo
target:
  kind: local
  resourceGroup: rg-demo
  location: westeurope
storageAccounts:
  data:
    name: stdemo01
    containers: [input, output]
    fileShares:
      scratch: {quotaGiB: 10}
networks:
  hpc:
    name: vnet-demo
    addressSpace: [10.40.0.0/16]
    subnets:
      nodes: {addressPrefix: 10.40.0.0/20}
batchAccounts:
  main:
    name: bademo01
    autoStorage: data
    pools:
      p1:
""" + UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {targetDedicatedNodes: 1}
        taskSlotsPerNode: 2
    jobs:
      j1:
        pool: p1
        tasks:
          - id: t1
            commandLine: echo one
          - id: t2
            commandLine: echo two
"""


def mutate(old: str, new: str, base: str = BASE) -> str:
    assert base.count(old) == 1, f"{old!r} must occur exactly once in the base stack"
    return base.replace(old, new)


def validate_text(tmp_path: Path, text: str | bytes, name: str = "stack.yaml") -> list[Diagnostic]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return validate_file(path, name).diagnostics
