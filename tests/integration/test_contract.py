"""Azure's API contract: the emulator answers as the definitions say, and the deployer sends what
they define.

- At the emulator's edge (both modes, through the real SDK pipelines): the management API drops
  properties it does not define and ignores read-only ones, stores enum values in its own case and
  refuses values outside the set with ARM's envelope (target and details); the Batch service
  refuses undefined properties with its BatchError (`values` naming the property).
- Conformance: applying every example stack and tests/integration/stacks/contract-features.yaml
  sends only bodies that validate against the vendored definitions (0 unknown properties, 0 enum
  values in another case or outside the set), and every JSON response the emulator gives back
  validates against the response definitions. The figures are printed (`pytest -s`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest

from deployer.cli import main
from deployer.emulator.core import contract
from tests.integration.conftest import Emulator
from tests.integration.copies import copy_stacks

REPO = Path(__file__).resolve().parents[2]
FEATURES = Path(__file__).resolve().parent / "stacks" / "contract-features.yaml"
RG = "rg-contract"
ACCOUNT = "bacontract01"
API = "2025-06-01"
IMAGE = {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts", "version": "latest"}


def _pool_body(**properties: Any) -> dict[str, Any]:
    return {"properties": {
        "vmSize": "Standard_D2s_v3",
        "deploymentConfiguration": {"virtualMachineConfiguration": {
            "imageReference": IMAGE, "nodeAgentSkuId": "batch.node.ubuntu 22.04"}},
        "scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0}},
        **properties,
    }}


class Account:
    def __init__(self, emulator: Emulator) -> None:
        c = emulator.clients
        c.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
        self.endpoint = c.batch_mgmt.batch_account.begin_create(RG, ACCOUNT, {"location": "westeurope"}).result(
        ).account_endpoint
        self.emulator = emulator
        self.base = (f"/subscriptions/{emulator.subscription}/resourceGroups/{RG}/providers/Microsoft.Batch"
                     f"/batchAccounts/{ACCOUNT}")

    def arm(self, method: str, suffix: str, body: Any = None) -> tuple[int, Any]:
        req = HttpRequest(method, self.base + suffix, params={"api-version": API}, json=body)
        resp = self.emulator.clients.batch_mgmt.send_request(req)
        return resp.status_code, (resp.json() if resp.text() else None)

    def data(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        client = self.emulator.clients.batch_data(self.endpoint)
        req = HttpRequest(method, f"https://{self.endpoint}{path}", params={"api-version": API}, json=body)
        try:
            resp = client.send_request(req)
        except HttpResponseError as exc:  # azure-batch's send_request raises on an error status
            resp = exc.response
        return resp.status_code, (resp.json() if resp.text() else None)


@pytest.fixture
def account(emulator: Emulator) -> Account:
    return Account(emulator)


# --- the management API (ARM): drop, ignore, canonicalize, refuse ------------------------------------


@pytest.mark.contract_violation  # sends properties 2025-06-01 does not define
def test_arm_drops_properties_the_api_version_does_not_define(account: Account) -> None:
    status, _ = account.arm("PUT", "/pools/p1", _pool_body(resourceTags={"cost": "x"},
                                                          targetNodeCommunicationMode="Simplified"))
    assert status == 200
    _, pool = account.arm("GET", "/pools/p1")
    assert "resourceTags" not in pool["properties"]
    assert "targetNodeCommunicationMode" not in pool["properties"]


def test_arm_ignores_read_only_properties(account: Account) -> None:
    status, _ = account.arm("PUT", "/pools/p1", _pool_body(allocationState="Resizing", currentDedicatedNodes=7))
    assert status == 200
    _, pool = account.arm("GET", "/pools/p1")
    assert pool["properties"]["allocationState"] == "Steady"
    assert pool["properties"]["currentDedicatedNodes"] == 0


@pytest.mark.contract_violation  # sends enum values in another case
def test_arm_stores_enum_values_in_the_api_case(account: Account) -> None:
    account.arm("PUT", "/pools/p1", _pool_body(interNodeCommunication="enabled",
                                               taskSchedulingPolicy={"nodeFillType": "pack"}))
    _, pool = account.arm("GET", "/pools/p1")
    assert pool["properties"]["interNodeCommunication"] == "Enabled"
    assert pool["properties"]["taskSchedulingPolicy"]["nodeFillType"] == "Pack"


def test_arm_refuses_an_enum_value_outside_the_set_naming_the_property(account: Account) -> None:
    status, body = account.arm("PUT", "/pools/p1", _pool_body(taskSchedulingPolicy={"nodeFillType": "Diagonal"}))
    assert status == 400
    error = body["error"]
    assert error["code"] == "InvalidRequestContent"
    assert error["target"] == "properties.taskSchedulingPolicy.nodeFillType"
    assert "Spread, Pack" in error["details"][0]["message"]
    assert account.arm("GET", "/pools/p1")[0] == 404


# --- the Batch service: refuses what it does not define -------------------------------------------------


def test_batch_service_refuses_a_property_it_does_not_define(account: Account) -> None:
    account.arm("PUT", "/pools/p1", _pool_body())
    assert account.data("POST", "/jobs", {"id": "j1", "poolInfo": {"poolId": "p1"}})[0] == 201
    task = {"id": "t1", "commandLine": "true", "userIdentity": {"userName": "runner"}}
    status, body = account.data("POST", "/jobs/j1/tasks", task)
    assert status == 400
    assert body["code"] == "InvalidRequestBody"
    values = {v["key"]: v["value"] for v in body["values"]}
    assert values["PropertyName"] == "userIdentity.userName"
    assert "'userName' does not exist on type 'UserIdentity'" in values["Reason"]
    task["userIdentity"] = {"username": "runner"}
    assert account.data("POST", "/jobs/j1/tasks", task)[0] == 201


@pytest.mark.contract_violation  # sends enum values in another case
def test_batch_service_stores_enum_values_in_its_case(account: Account) -> None:
    account.arm("PUT", "/pools/p1", _pool_body())
    account.data("POST", "/jobs", {"id": "j1", "poolInfo": {"poolId": "p1"}, "onAllTasksComplete": "terminateJob"})
    _, job = account.data("GET", "/jobs/j1")
    assert job["onAllTasksComplete"] == "terminatejob"


# --- conformance: what the deployer sends, what the emulator answers ---------------------------------------


def _run(*args: str) -> int:
    return main(list(args))


def test_applying_every_stack_sends_and_receives_only_what_the_definitions_define(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = copy_stacks(tmp_path)
    (stacks / FEATURES.name).write_text(FEATURES.read_text())
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    monkeypatch.setenv("DEPLOY_EMULATOR_TASK_SECONDS", "0.2")
    monkeypatch.setenv("HPC_SMB_PASSWORD", "smb-password")
    monkeypatch.setenv("FEATURES_RUNNER_PASSWORD", "runner-password")
    names = sorted(p.name for p in stacks.glob("*.yaml"))
    with contract.recording() as rec:
        for name in names:
            path = str(stacks / name)
            assert _run("apply", path, "--target", "local", "--auto-approve") == 0, capsys.readouterr().out
            assert _run("plan", path, "--target", "local", "--detailed-exitcode") == 0, capsys.readouterr().out
        for name in names:
            if "protect: true" in (stacks / name).read_text():
                continue  # hpc: protected resources are not destroyed
            assert _run("destroy", str(stacks / name), "--target", "local", "--auto-approve",
                        "--allow-data-loss") == 0, capsys.readouterr()
    capsys.readouterr()
    figures = rec.figures()
    with capsys.disabled():
        print(f"\ncontract conformance over {len(names)} stacks: {json.dumps(figures)}")
    assert rec.problems() == []
    assert figures["request bodies"] > 20 and figures["responses"] > 50


def test_the_features_stack_sends_username_and_top_level_pool_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FEATURES_RUNNER_PASSWORD", "runner-password")
    path = str(FEATURES)
    assert _run("apply", path, "--target", "local", "--auto-approve") == 0, capsys.readouterr().out
    assert _run("plan", path, "--target", "local", "--detailed-exitcode") == 0, capsys.readouterr().out
    from deployer.azure import Clients

    with Clients.for_emulator_embedded(tmp_path / "state",
                                       subscription_id="00000000-0000-0000-0000-0000000000f1") as clients:
        pool = clients.batch_mgmt.pool.get("rg-features", "bafeatures01", "tagged")
        assert pool.tags == {"cost": "research", "owner": "team-a"}
        account = clients.batch_mgmt.batch_account.get("rg-features", "bafeatures01")
        data = clients.batch_data(account.account_endpoint)
        task = data.get_task("pipeline", "first")
        assert task.user_identity.username == "runner"
        assert task.exit_conditions.default.job_action == "none"
        assert data.get_job("pipeline").task_failure_mode == "performexitoptionsjobaction"


# --- Azure's whole error ------------------------------------------------------------------------------

BAD_SUBNET_STACK = """\
stack: refused
target:
  kind: local
  resourceGroup: rg-refused
  location: westeurope
batchAccounts:
  main:
    name: barefused01
    pools:
      isolated:
        vmSize: Standard_D2s_v3
        deploymentConfiguration:
          virtualMachineConfiguration:
            imageReference: {publisher: canonical, offer: 0001-com-ubuntu-server-jammy, sku: 22_04-lts}
            nodeAgentSkuId: batch.node.ubuntu 22.04
        networkConfiguration:
          subnetId: >-
            /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-refused/providers/Microsoft.Network/virtualNetworks/vnet-gone/subnets/nodes
"""  # noqa: E501


def test_a_refusal_prints_every_detail_and_the_stack_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    path = tmp_path / "refused.yaml"
    path.write_text(BAD_SUBNET_STACK)
    assert _run("apply", str(path), "--target", "local", "--auto-approve") == 1
    out = capsys.readouterr().out
    assert "InvalidPropertyValue: The value provided for one of the properties in the request body is invalid." in out
    assert "PropertyName: networkConfiguration.subnetId" in out
    assert "Reason: The specified subnet '/subscriptions/" in out and "does not exist" in out
    assert f"declared at {path}:10:7" in out


# --- output files: the SAS the deployer makes works, and only for what it is for ---------------------------


def test_an_output_destination_gets_a_write_only_container_sas_the_blob_service_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from urllib.parse import parse_qs

    from azure.core.exceptions import HttpResponseError as BlobError

    from deployer.azure import Clients

    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HPC_SMB_PASSWORD", "smb-password")
    assert _run("apply", str(stacks / "hpc.yaml"), "--target", "local", "--auto-approve") == 0
    out = capsys.readouterr().out
    with Clients.for_emulator_embedded(tmp_path / "state",
                                       subscription_id="00000000-0000-0000-0000-000000000000") as clients:
        account = clients.batch_mgmt.batch_account.get("rg-hpc", "bahpcweu")
        task = clients.batch_data(account.account_endpoint).get_task("wing-study", "postprocess")
        url = task.output_files[0].destination.container.container_url
        base, _, token = url.partition("?")
        assert token and token not in out  # made at apply time, never printed
        query = parse_qs(token)
        assert query["sp"] == ["w"] and query["sr"] == ["c"]  # write-only, the container only
        assert base.endswith("/results")
        blob_url = base.rsplit("/", 1)[0]  # the account's blob endpoint (path-style on the emulator)
        service = clients.blob(blob_url, credential=token)
        service.get_container_client("results").upload_blob("wing-a320/loads.csv", b"1,2,3\n")
        with pytest.raises(BlobError) as refused:  # cannot read what it wrote
            service.get_container_client("results").download_blob("wing-a320/loads.csv").readall()
        assert refused.value.status_code == 403
        with pytest.raises(BlobError) as elsewhere:  # nor write to another container
            service.get_container_client("inputs").upload_blob("x.txt", b"x")
        assert elsewhere.value.status_code == 403
        keys = clients.storage.storage_accounts.list_keys("rg-hpc", "sthpcresults")
        storage_key = keys.as_dict()["keys"][0]["value"]
        owner = clients.blob(blob_url, credential={"account_name": "sthpcresults", "account_key": storage_key})
        assert owner.get_container_client("results").download_blob("wing-a320/loads.csv").readall() == b"1,2,3\n"


# --- response details Azure's definitions fix ------------------------------------------------------------


@pytest.mark.parametrize(("nodes", "reported"), [(1, True), (0, False)])
def test_a_pool_create_reports_a_resize_when_there_is_one(account: Account, nodes: int, reported: bool) -> None:
    """As Microsoft's examples: PoolCreate_Tags.json (1 node) has resizeOperationStatus,
    PoolCreate_PublicIPs.json (0 nodes) has none."""
    scale = {"fixedScale": {"targetDedicatedNodes": nodes}}
    status, pool = account.arm("PUT", "/pools/p1", _pool_body(scaleSettings=scale))
    assert status == 200
    ros = pool["properties"].get("resizeOperationStatus")
    assert (ros is not None) is reported
    if ros is not None:
        assert ros["targetDedicatedNodes"] == nodes and ros["startTime"] and ros["resizeTimeout"] == "PT15M"


def test_an_autoscale_run_follows_a_formula_change_at_once(account: Account) -> None:
    account.arm("PUT", "/pools/p1", _pool_body(scaleSettings={"autoScale": {"formula": "$TargetDedicatedNodes=1;"}}))
    status, pool = account.arm("PATCH", "/pools/p1", {"properties": {"scaleSettings": {
        "autoScale": {"formula": "$TargetDedicatedNodes=0;"}}}})
    assert status == 200
    assert pool["properties"]["autoScaleRun"]["results"].startswith("$TargetDedicatedNodes=0;")
    _, again = account.arm("GET", "/pools/p1")
    assert again["properties"]["autoScaleRun"] == pool["properties"]["autoScaleRun"]


def test_task_collection_and_task_counts_answer_with_the_jobs_etag(account: Account) -> None:
    account.arm("PUT", "/pools/p1", _pool_body())
    client = account.emulator.clients.batch_data(account.endpoint)

    def send(method: str, path: str, body: Any = None) -> Any:
        return client.send_request(HttpRequest(method, f"https://{account.endpoint}{path}",
                                               params={"api-version": API}, json=body))

    created = send("POST", "/jobs", {"id": "j1", "poolInfo": {"poolId": "p1"}})
    collection = send("POST", "/jobs/j1/addtaskcollection", {"value": [{"id": "t1", "commandLine": "true"}]})
    counts = send("GET", "/jobs/j1/taskcounts")
    job = send("GET", "/jobs/j1")
    for resp in (collection, counts):
        assert resp.status_code == 200
        assert resp.headers["ETag"] == job.headers["ETag"] and resp.headers["Last-Modified"]
    assert created.headers["ETag"]


def test_storage_answers_enum_values_in_its_own_case(emulator: Emulator) -> None:
    """Microsoft.Storage 2025-08-01 (azure-mgmt-storage's generated enums): LeaseStatus Locked /
    Unlocked, LeaseState Available / Leased / …, KeyPermission Read / Full."""
    from azure.mgmt.storage import models as sm

    c = emulator.clients
    c.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
    c.storage.storage_accounts.begin_create(RG, "stcontract01", {
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}).result()
    c.storage.file_shares.create(RG, "stcontract01", "scratch", {"properties": {"shareQuota": 10}})
    base = (f"/subscriptions/{emulator.subscription}/resourceGroups/{RG}/providers/Microsoft.Storage"
            "/storageAccounts/stcontract01")

    def get(method: str, suffix: str) -> Any:
        resp = c.storage.send_request(HttpRequest(method, base + suffix, params={"api-version": "2025-08-01"}))
        assert resp.status_code == 200, resp.text()
        return resp.json()

    share = get("GET", "/fileServices/default/shares/scratch")["properties"]
    assert share["leaseStatus"] in [v.value for v in sm.LeaseStatus]
    assert share["leaseState"] in [v.value for v in sm.LeaseState]
    keys = get("POST", "/listKeys")["keys"]
    assert {k["permissions"] for k in keys} <= {v.value for v in sm.KeyPermission}


def test_nested_recorders_are_removed_by_identity() -> None:
    """The run's recorder and each test's nest; two empty recorders are equal as dataclasses, and
    removing the inner one by equality took the outer one out (the run's figures were lost)."""
    from deployer.emulator.core import contract

    with contract.recording() as outer:
        with contract.recording() as inner:
            assert contract._observers[-2:] == [outer, inner]
        assert contract._observers[-1] is outer
    assert all(o is not outer and o is not inner for o in contract._observers)
