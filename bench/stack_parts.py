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
