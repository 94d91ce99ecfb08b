"""The Batch-required security rules, table-driven: which rule sets deny what a pool needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.stack.checks.security_groups import decide
from deployer.stack.validate import validate_file


def rule(priority: int, direction: str, access: str, *, port: str = "*", remote: str = "*",
         protocol: str = "Tcp") -> dict[str, object]:
    side = "sourceAddressPrefix" if direction == "Inbound" else "destinationAddressPrefix"
    return {"name": f"r{priority}", "priority": priority, "direction": direction, "access": access,
            "protocol": protocol, "destinationPortRange": port, side: remote}


@pytest.mark.parametrize(("rules", "direction", "port", "expected"), [
    ([], "Outbound", 443, "Allow"),  # Azure's AllowInternetOutBound
    ([], "Inbound", 29876, "Deny"),  # Azure's DenyAllInBound
    ([rule(100, "Outbound", "Deny", port="443", remote="Internet")], "Outbound", 443, "Deny"),
    ([rule(100, "Outbound", "Deny", port="443", remote="Storage")], "Outbound", 443, "Allow"),
    ([rule(100, "Outbound", "Allow", port="443", remote="BatchNodeManagement.westeurope"),
      rule(200, "Outbound", "Deny")], "Outbound", 443, "Allow"),
    ([rule(300, "Outbound", "Allow", port="443", remote="BatchNodeManagement"),
      rule(200, "Outbound", "Deny")], "Outbound", 443, "Deny"),  # priority decides, not order
    ([rule(100, "Outbound", "Deny", protocol="Udp")], "Outbound", 443, "Allow"),
    ([rule(100, "Inbound", "Allow", port="29876-29877", remote="BatchNodeManagement")], "Inbound", 29876, "Allow"),
    ([rule(100, "Inbound", "Allow", port="22", remote="*")], "Inbound", 29876, "Deny"),
    ([rule(100, "Inbound", "Allow", port="29000-30000,22", remote="*")], "Inbound", 29876, "Allow"),
])
def test_decide(rules: list[dict[str, object]], direction: str, port: int, expected: str) -> None:
    assert decide(rules, direction, port, "BatchNodeManagement", "westeurope") == expected


STACK = """\
stack: nsg
target: {kind: local, resourceGroup: rg-nsg, location: westeurope}
networks:
  hpc:
    name: vnet-nsg
    addressSpace: [10.40.0.0/16]
    securityGroups:
      nodes:
        rules:
          - {name: no-out, priority: 100, direction: Outbound, access: Deny, protocol: "*"}
    subnets:
      nodes: {addressPrefix: 10.40.0.0/20, securityGroup: NODES_GROUP}
batchAccounts:
  main:
    name: bansg01
    pools:
      p:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts, version: latest}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        networkConfiguration: {subnet: hpc.nodes}
"""


def test_a_pool_subnet_that_blocks_batch_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(STACK.replace("NODES_GROUP", "nodes"))
    messages = [d.format() for d in validate_file(path).diagnostics]
    assert len(messages) == 1 and "denies outbound TCP 443 to BatchNodeManagement" in messages[0]
    assert messages[0].startswith(f"{path}:23:")  # the pool's `subnet:`


def test_a_subnet_names_a_group_of_its_network(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(STACK.replace("NODES_GROUP", "other"))
    messages = [d.message for d in validate_file(path).diagnostics]
    assert messages == ["security group 'other' is not one of network hpc's securityGroups (nodes)"]
