"""`identities:` — user-assigned identities (azure-mgmt-msi) and their role assignments
(azure-mgmt-authorization) on the stack's storage accounts, against the local emulator: created,
planned empty, a changed role replaced (the old assignment deleted), destroyed with its
assignments. And the emulator through the SDK: Azure's refusals for assignments."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from deployer.azure import Clients
from deployer.cli import main

STACK = """\
stack: ids
target: {kind: local, resourceGroup: rg-ids, location: westeurope}
storageAccounts:
  data:
    name: stidstest01
    containers: [input, output]
identities:
  worker:
    name: id-worker
    roles:
      - {role: Storage Blob Data Contributor, storage: data}
      - {role: Storage Blob Data Reader, storage: data, container: CONTAINER}
"""
CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def _assignments(state: Path) -> list[tuple[str, str]]:
    clients = Clients.for_emulator_embedded(state)
    try:
        account = clients.storage.storage_accounts.get_properties("rg-ids", "stidstest01")
        principal = clients.msi.user_assigned_identities.get("rg-ids", "id-worker").principal_id
        found = clients.authorization.role_assignments.list_for_scope(
            account.id, filter=f"principalId eq '{principal}'")
        return sorted((a.role_definition_id.rsplit("/", 1)[-1], a.scope.rsplit("/", 1)[-1]) for a in found)
    finally:
        clients.close()


def test_identity_roles_apply_change_destroy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(state))
    stack = tmp_path / "stack.yaml"
    stack.write_text(STACK.replace("CONTAINER", "input"))
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    reader = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    assert _assignments(state) == sorted([(CONTRIBUTOR, "stidstest01"), (reader, "input")])
    stack.write_text(STACK.replace("CONTAINER", "output"))
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 2
    assert main(["apply", str(stack), "--target", "local", "--auto-approve"]) == 0
    assert main(["plan", str(stack), "--target", "local", "--detailed-exitcode"]) == 0
    assert _assignments(state) == sorted([(CONTRIBUTOR, "stidstest01"), (reader, "output")])
    capsys.readouterr()
    assert main(["destroy", str(stack), "--target", "local", "--auto-approve", "--allow-data-loss"]) == 0
    assert "Destroy complete: 4 done, 0 failed" in capsys.readouterr().out


def test_role_assignments_through_the_sdk(emulator: Any) -> None:
    clients = emulator.clients
    clients.resource.resource_groups.create_or_update("rg-ra", {"location": "westeurope"})
    identity = clients.msi.user_assigned_identities.create_or_update("rg-ra", "id-a", {"location": "westeurope"})
    again = clients.msi.user_assigned_identities.create_or_update("rg-ra", "id-a", {"location": "westeurope",
                                                                                   "tags": {"a": "b"}})
    assert again.principal_id == identity.principal_id and again.tags == {"a": "b"}
    scope = f"/subscriptions/{emulator.subscription}/resourceGroups/rg-ra"
    role = f"/subscriptions/{emulator.subscription}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
    body = {"properties": {"roleDefinitionId": role, "principalId": identity.principal_id,
                           "principalType": "ServicePrincipal"}}
    roles = clients.authorization.role_assignments
    first = roles.create(scope, str(uuid.uuid4()), body)
    for name, payload, code in [
        (str(uuid.uuid4()), body, "RoleAssignmentExists"),
        ("not-a-guid", body, "InvalidRoleAssignmentRequest"),
        (str(uuid.uuid4()), {"properties": {**body["properties"], "principalId": str(uuid.uuid4())}},
         "PrincipalNotFound"),
    ]:
        with pytest.raises(HttpResponseError) as refused:
            roles.create(scope, name, payload)
        assert refused.value.error is not None and refused.value.error.code == code
    assert [a.name for a in roles.list_for_scope(scope)] == [first.name]
    roles.delete(scope, first.name)
    assert list(roles.list_for_scope(scope)) == []
