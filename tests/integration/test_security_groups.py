"""Network security groups through azure-mgmt-network against the emulator, and a stack's
`securityGroups` applied, updated in place, planned empty and destroyed on the local target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from deployer.cli import main

RG = "rg-nsg"


def _rule(name: str, priority: int, direction: str = "Inbound") -> dict[str, Any]:
    return {"name": name, "properties": {"priority": priority, "direction": direction, "access": "Allow",
                                         "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
                                         "destinationAddressPrefix": "*", "destinationPortRange": "22"}}


def test_security_groups_through_the_sdk(emulator: Any) -> None:
    clients = emulator.clients
    clients.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
    nsgs = clients.network.network_security_groups
    group = nsgs.begin_create_or_update(RG, "nsg-a", {"location": "westeurope", "properties": {
        "securityRules": [_rule("ssh", 200), _rule("ssh-out", 200, "Outbound")]}}).result()
    assert [r.name for r in group.security_rules] == ["ssh", "ssh-out"]
    assert {r.name for r in group.default_security_rules} >= {"DenyAllInBound", "AllowInternetOutBound"}
    with pytest.raises(HttpResponseError) as taken:
        nsgs.begin_create_or_update(RG, "nsg-b", {"location": "westeurope", "properties": {
            "securityRules": [_rule("a", 300), _rule("b", 300)]}}).result()
    assert taken.value.error is not None and taken.value.error.code == "SecurityRuleParameterPriorityAlreadyTaken"

    subnet = {"name": "nodes", "properties": {"addressPrefix": "10.1.0.0/24",
                                              "networkSecurityGroup": {"id": group.id.replace("nsg-a", "nsg-x")}}}
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
                                                     "subnets": [subnet]}}
    with pytest.raises(HttpResponseError) as missing:
        clients.network.virtual_networks.begin_create_or_update(RG, "vnet", body).result()
    assert missing.value.error is not None and missing.value.error.code == "InvalidResourceReference"
    subnet["properties"]["networkSecurityGroup"] = {"id": group.id}
    clients.network.virtual_networks.begin_create_or_update(RG, "vnet", body).result()
    assert [s.id.rsplit("/", 1)[-1] for s in nsgs.get(RG, "nsg-a").subnets] == ["nodes"]
    with pytest.raises(HttpResponseError) as in_use:
        nsgs.begin_delete(RG, "nsg-a").result()
    assert in_use.value.error is not None and in_use.value.error.code == "InUseNetworkSecurityGroupCannotBeDeleted"
    assert [g.name for g in nsgs.list(RG)] == ["nsg-a"]


STACK = """\
stack: nsg-stack
target: {kind: local, resourceGroup: rg-nsg-stack, location: westeurope}
networks:
  hpc:
    name: vnet-hpc
    addressSpace: [10.40.0.0/16]
    securityGroups:
      nodes:
        rules:
          - {name: ssh-office, priority: 200, direction: Inbound, access: Allow, protocol: Tcp,
             sourceAddressPrefix: 203.0.113.0/24, destinationPortRange: "22"}
          - {name: no-ssh, priority: PRIORITY, direction: Inbound, access: Deny, protocol: Tcp,
             destinationPortRange: "22"}
    subnets:
      nodes: {addressPrefix: 10.40.0.0/20, securityGroup: nodes}
"""


def test_stack_security_groups_apply_update_destroy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("PRIORITY", "300"))
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    capsys.readouterr()
    stack.write_text(STACK.replace("PRIORITY", "310"))
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert "securityRules.no-ssh.priority: 300 -> 310" in out and "1 to change" in out
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    assert main(["destroy", str(stack), "--target", "local", "--auto-approve"]) == 0
    out = capsys.readouterr().out
    assert "Destroy complete: 2 done, 0 failed" in out
