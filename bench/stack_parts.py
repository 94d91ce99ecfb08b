"""Pieces of the stacks the bench scripts build, as `str.format` templates (literal braces doubled)."""

from __future__ import annotations

# A pool's size and image, indented for `batchAccounts.A.pools.P:`.
UBUNTU_VM = """\
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {{publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}}
            nodeAgentSkuId: batch.node.ubuntu 22.04
"""

# A pool of no nodes (nothing to allocate or wait for).
EMPTY_POOL = UBUNTU_VM + """\
        scaleSettings:
          fixedScale: {{targetDedicatedNodes: 0}}
"""

# A Batch account's empty pool `idle` and its job `sweep` of `{count}` tasks from a parametric
# sweep, indented for `batchAccounts.A:`; the bench adds its task's lines (for `repeatTask:`).
SWEEP_ON_IDLE_POOL = """\
    pools:
      idle:
""" + EMPTY_POOL + """\
    jobs:
      sweep:
        pool: idle
        taskFactory:
          type: parametricSweep
          parameterSets: [{{start: 1, end: {count}}}]
          repeatTask:
"""
