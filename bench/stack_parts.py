"""Pieces of the stacks the bench scripts build, as `str.format` templates (literal braces doubled)."""

from __future__ import annotations

# A pool of no nodes (nothing to allocate or wait for), indented for `batchAccounts.A.pools.P:`.
EMPTY_POOL = """\
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {{publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        scaleSettings:
          fixedScale: {{targetDedicatedNodes: 0}}
"""
