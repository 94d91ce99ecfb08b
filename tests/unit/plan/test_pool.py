"""Pool diff rules: what is no change, what changes in place, what needs an empty pool (replace or
drain), removals as explicit empty values, secrets by fingerprint, and loud losses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deployer.plan import Action, Plan, PlanTarget, StaticContext, diff_resource
from deployer.plan.render import render_json, render_markdown, render_text
from deployer.resources import normalize as n
from deployer.resources import pool
from deployer.resources.ownership import fingerprint_key
from deployer.resources.rules import fingerprint_for_field
from deployer.stack.model import Address, DesiredResource, Kind

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers"
SUBNET_ID = f"{SUB}/Microsoft.Network/virtualNetworks/vnet-demo/subnets/nodes"
APP_ID = f"{SUB}/Microsoft.Batch/batchAccounts/bademo/applications/ffmpeg"
STORAGE_KEY = "c3RvcmFnZS1rZXktMS1zZWNyZXQtdmFsdWU="
REGISTRY_PASSWORD = "registry-pa55word"
KEY_PATH = "mountConfiguration.scratch.azureFileShareConfiguration.accountKey"
REGISTRY_PATH = "startTask.containerSettings.registry.password"
ADDRESS = Address(("batchAccounts", "main", "pools", "transcode"))

CONTEXT = StaticContext(
    stack_name="demo",
    ids={"networks.hpc.subnets.nodes": SUBNET_ID, "batchAccounts.main.applications.ffmpeg": APP_ID},
    storage_names={"storageAccounts.data": "stdemo"},
    endpoints={"storageAccounts.data:file": "https://stdemo.file.core.windows.net/"},
    keys={"storageAccounts.data": STORAGE_KEY},
    secrets={"env:REGISTRY_PASSWORD": REGISTRY_PASSWORD},
)

SPEC: dict[str, Any] = {
    "vmSize": "Standard_D2s_v3",
    "deploymentConfiguration": {"virtualMachineConfiguration": {
        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts"},
        "nodeAgentSkuId": "batch.node.ubuntu 22.04",
    }},
    "scaleSettings": {"autoScale": {"formula": "$TargetDedicatedNodes = min(4, $PendingTasks.GetSample(1));",
                                    "evaluationInterval": "PT5M"}},
    "taskSlotsPerNode": 2,
    "metadata": {"team": "media", "owner": "ops"},
    "startTask": {
        "commandLine": "/bin/bash -c 'echo hi'",
        "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
        "containerSettings": {"imageName": "tools:1",
                              "registry": {"registryServer": "myacr.azurecr.io", "username": "puller",
                                           "password": {"secret": "env:REGISTRY_PASSWORD"}}},
    },
    "networkConfiguration": {"subnet": "hpc.nodes"},
    "applicationPackages": [{"application": "ffmpeg"}],
    "mountConfiguration": [{"azureFileShareConfiguration": {"storage": "data", "share": "scratch",
                                                            "relativeMountPath": "scratch"}}],
}

FINGERPRINTS = {
    KEY_PATH: fingerprint_for_field(pool.RULES, KEY_PATH, STORAGE_KEY),
    REGISTRY_PATH: fingerprint_for_field(pool.RULES, REGISTRY_PATH, REGISTRY_PASSWORD),
}

LIVE_PROPERTIES: dict[str, Any] = {
    "lastModified": "2025-05-01T10:00:00.1234567Z",
    "creationTime": "2025-05-01T10:00:00.1234567Z",
    "provisioningState": "Succeeded",
    "allocationState": "Steady",
    "vmSize": "STANDARD_D2S_V3",
    "interNodeCommunication": "Disabled",
    "taskSlotsPerNode": 2,
    "taskSchedulingPolicy": {"nodeFillType": "Spread", "jobDefaultOrder": "None"},
    "deploymentConfiguration": {"virtualMachineConfiguration": {
        "imageReference": {"publisher": "canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts",
                           "version": "latest"},
        "nodeAgentSkuId": "batch.node.ubuntu 22.04",
    }},
    "scaleSettings": {"autoScale": {"formula": "$TargetDedicatedNodes=min(4,$PendingTasks.GetSample(1))",
                                    "evaluationInterval": "PT5M"}},
    "autoScaleRun": {"evaluationTime": "2025-05-01T10:05:00Z", "results": "$TargetDedicatedNodes=3"},
    "metadata": [
        {"name": "owner", "value": "ops"},
        {"name": "deployer.stack", "value": "demo"},
        {"name": "team", "value": "media"},
        *({"name": fingerprint_key(path), "value": value} for path, value in FINGERPRINTS.items()),
    ],
    "startTask": {
        "commandLine": "/bin/bash -c 'echo hi'",
        "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
        "maxTaskRetryCount": 0,
        "waitForSuccess": True,
        "containerSettings": {"imageName": "tools:1", "workingDirectory": "TaskWorkingDirectory",
                              "registry": {"registryServer": "myacr.azurecr.io", "username": "puller"}},
    },
    "networkConfiguration": {"subnetId": SUBNET_ID.upper(), "dynamicVnetAssignmentScope": "none",
                             "enableAcceleratedNetworking": False},
    "applicationPackages": [{"id": APP_ID}],
    "mountConfiguration": [{"azureFileShareConfiguration": {
        "accountName": "stdemo", "azureFileUrl": "https://stdemo.file.core.windows.net/scratch",
        "relativeMountPath": "scratch"}}],
    "currentDedicatedNodes": 3,
    "currentLowPriorityNodes": 0,
    "targetNodeCommunicationMode": "Default",
    "currentNodeCommunicationMode": "Simplified",
}


def live_pool(changes: dict[str, Any] | None = None, *, running_tasks: int | None = None) -> dict[str, Any]:
    """The live pool as the management API returns it, with `changes` merged into its properties
    (None deletes)."""
    properties = copy.deepcopy(LIVE_PROPERTIES)
    _merge(properties, changes or {})
    body: dict[str, Any] = {"id": f"{SUB}/Microsoft.Batch/batchAccounts/bademo/pools/transcode",
                            "name": "transcode", "type": "Microsoft.Batch/batchAccounts/pools",
                            "etag": 'W/"0x8DDC34D4A01A419"', "properties": properties}
    if running_tasks is not None:
        body["_deployer"] = {"runningTasks": running_tasks}
    return body


def _merge(target: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict) and value:
            _merge(target[key], value)
        else:
            target[key] = value


def desired(changes: dict[str, Any] | None = None, **settings: Any) -> DesiredResource:
    spec = copy.deepcopy(SPEC)
    _merge(spec, changes or {})
    spec.update(settings)
    return DesiredResource(ADDRESS, Kind.POOL, "transcode", spec)


def diff(spec: DesiredResource | None, live: dict[str, Any] | None, context: StaticContext = CONTEXT):
    return diff_resource(pool, spec, live, context, address=ADDRESS)


def test_the_pool_as_azure_returns_it_is_no_change() -> None:
    change = diff(desired(), live_pool())
    assert change.action == Action.NO_OP, change.fields
    assert change.fields == () and change.warnings == ()
    assert change.etag == 'W/"0x8DDC34D4A01A419"'


# --- no phantom diffs -------------------------------------------------------------------------------

PHANTOMS = {
    "vmSize in lower case": ({}, {"vmSize": "standard_d2s_v3"}),
    "evaluationInterval as hh:mm:ss": ({}, {"scaleSettings": {"autoScale": {"evaluationInterval": "00:05:00"}}}),
    "formula with CRLF and other spacing": (
        {"scaleSettings": {"autoScale": {
            "formula": "$TargetDedicatedNodes =\r\n  min(4, $PendingTasks.GetSample(1))"}}},
        {}),
    "metadata in another order": ({}, {"metadata": list(reversed(LIVE_PROPERTIES["metadata"]))}),
    "defaults Azure fills in, absent live": ({}, {"taskSchedulingPolicy": None, "interNodeCommunication": None,
                                                  "networkConfiguration": {"dynamicVnetAssignmentScope": None}}),
    "defaults written in the stack": ({"taskSchedulingPolicy": {"nodeFillType": "spread"},
                                       "interNodeCommunication": "disabled",
                                       "startTask": {"waitForSuccess": True, "maxTaskRetryCount": 0},
                                       "networkConfiguration": {"enableAcceleratedNetworking": False,
                                                                "dynamicVnetAssignmentScope": "none"},
                                       "deploymentConfiguration": {"virtualMachineConfiguration": {
                                           "imageReference": {"version": "latest"}}}}, {}),
    "server-set fields moving": ({}, {"allocationState": "Resizing", "currentDedicatedNodes": 9,
                                      "provisioningStateTransitionTime": "2025-06-01T00:00:00Z",
                                      "resizeOperationStatus": {"targetDedicatedNodes": 9},
                                      "autoScaleRun": {"results": "$TargetDedicatedNodes=9"}}),
    "enum values in another case": ({}, {"startTask": {"userIdentity": {"autoUser": {"scope": "pool",
                                                                                      "elevationLevel": "admin"}}}}),
    "subnet id in another case": ({}, {"networkConfiguration": {"subnetId": SUBNET_ID.lower()}}),
    "file URL with a trailing slash": ({}, {"mountConfiguration": [{"azureFileShareConfiguration": {
        "accountName": "STDEMO", "azureFileUrl": "https://stdemo.file.core.windows.net/scratch/",
        "relativeMountPath": "scratch"}}]}),
    "empty lists Azure returns": ({}, {"userAccounts": []}),
    "identity None": ({}, {}),
}


@pytest.mark.parametrize(("spec_changes", "live_changes"), PHANTOMS.values(), ids=PHANTOMS.keys())
def test_no_phantom_diff(spec_changes: dict[str, Any], live_changes: dict[str, Any]) -> None:
    live = live_pool(live_changes)
    if "identity None" in str(spec_changes):  # pragma: no cover - documented below
        pass
    change = diff(desired(spec_changes), live)
    assert change.action == Action.NO_OP, [(f.path, f.before, f.after) for f in change.fields]


def test_identity_none_is_no_identity() -> None:
    live = live_pool()
    live["identity"] = {"type": "None"}
    assert diff(desired(), live).action == Action.NO_OP


def test_user_assigned_identities_as_a_list_or_a_map() -> None:
    ident = f"{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id-transcode"
    live = live_pool()
    live["identity"] = {"type": "UserAssigned",
                        "userAssignedIdentities": {ident.upper(): {"clientId": "c", "principalId": "p"}}}
    spec = desired(identity={"type": "UserAssigned", "userAssignedIdentities": [ident]})
    assert diff(spec, live).action == Action.NO_OP


# --- fields that change only on an empty pool -------------------------------------------------------

VMC = "deploymentConfiguration.virtualMachineConfiguration"
EMPTY_POOL_FIELDS = {
    "vmSize": ({"vmSize": "Standard_D4s_v3"}, ("vmSize",)),
    "deploymentConfiguration": ({"deploymentConfiguration": {"virtualMachineConfiguration": {
        "imageReference": {"sku": "24_04-lts"}}}}, (f"{VMC}.imageReference.sku",)),
    "networkConfiguration": ({"networkConfiguration": {"enableAcceleratedNetworking": True}},
                             ("networkConfiguration.enableAcceleratedNetworking",)),
    "mountConfiguration": ({"mountConfiguration": [
        *SPEC["mountConfiguration"],
        {"nfsMountConfiguration": {"source": "10.0.0.4:/home", "relativeMountPath": "home"}}]},
        ("mountConfiguration.home",)),
    "taskSlotsPerNode": ({"taskSlotsPerNode": 4}, ("taskSlotsPerNode",)),
    "taskSchedulingPolicy": ({"taskSchedulingPolicy": {"nodeFillType": "Pack"}},
                             ("taskSchedulingPolicy.nodeFillType",)),
    "userAccounts": ({"userAccounts": [{"name": "alice", "password": {"secret": "env:ALICE"}}]}, ("userAccounts",)),
    "interNodeCommunication": ({"interNodeCommunication": "Enabled"}, ("interNodeCommunication",)),
    "upgradePolicy": ({"upgradePolicy": {"mode": "manual"}}, ("upgradePolicy",)),
    "displayName": ({"displayName": "transcoders"}, ("displayName",)),
    "identity": ({"identity": {"type": "UserAssigned", "userAssignedIdentities": [f"{SUB}/x/y/z"]}},
                 ("identity.type", "identity.userAssignedIdentities")),
}


@pytest.mark.parametrize(("changes", "paths"), EMPTY_POOL_FIELDS.values(), ids=EMPTY_POOL_FIELDS.keys())
def test_empty_pool_fields_replace_by_default(changes: dict[str, Any], paths: tuple[str, ...]) -> None:
    change = diff(desired(changes), live_pool(running_tasks=5))
    assert change.action == Action.REPLACE
    assert change.replace_paths == paths
    assert [(f.path, f.forces_replacement, f.requires_empty_pool) for f in change.fields] == [
        (path, True, True) for path in paths]
    assert "changeStrategy: replace" in change.reason
    assert change.warnings[0] == "3 nodes and 5 running tasks affected"


@pytest.mark.parametrize(("changes", "paths"), EMPTY_POOL_FIELDS.values(), ids=EMPTY_POOL_FIELDS.keys())
def test_empty_pool_fields_drain_with_the_drain_strategy(changes: dict[str, Any], paths: tuple[str, ...]) -> None:
    change = diff(desired(changes, changeStrategy="drain"), live_pool(running_tasks=5))
    assert change.action == Action.DRAIN
    assert change.replace_paths == paths
    assert [(f.path, f.forces_replacement, f.requires_empty_pool) for f in change.fields] == [
        (path, False, True) for path in paths]
    assert "changeStrategy: drain" in change.reason
    assert "3 nodes and 5 running tasks affected" in change.warnings


@pytest.mark.parametrize(("changes", "paths"), EMPTY_POOL_FIELDS.values(), ids=EMPTY_POOL_FIELDS.keys())
def test_empty_pool_fields_update_in_place_on_a_pool_without_nodes(changes: dict[str, Any],
                                                                    paths: tuple[str, ...]) -> None:
    empty = {"currentDedicatedNodes": 0,
             "scaleSettings": {"autoScale": None, "fixedScale": {"targetDedicatedNodes": 0}}}
    spec = desired(changes, scaleSettings={"fixedScale": {"targetDedicatedNodes": 0}})
    change = diff(spec, live_pool(empty))
    assert change.action == Action.UPDATE
    assert tuple(f.path for f in change.fields) == paths
    assert change.replace_paths == ()
    assert "has none now" in change.reason


@pytest.mark.parametrize("strategy", ["replace", "drain"])
@pytest.mark.parametrize("spelling", ["tags", "resourceTags"])
def test_pool_tags_are_fixed_at_creation_whatever_the_strategy(strategy: str, spelling: str) -> None:
    change = diff(desired({spelling: {"cost": "media"}}, changeStrategy=strategy), live_pool())
    assert change.action == Action.REPLACE
    assert change.replace_paths == ("tags.cost",)
    assert "cannot change on an existing pool" in change.reason


@pytest.mark.parametrize("spelling", ["tags", "resourceTags"])
def test_pool_tags_are_the_pool_resources_top_level_tags(spelling: str) -> None:
    """2025-06-01 has no properties.resourceTags: either stack spelling is the pool's ARM `tags`,
    so the pool Azure returns (tags beside its properties) is no change."""
    live = live_pool()
    live["tags"] = {"cost": "media"}
    change = diff(desired({spelling: {"cost": "media"}}), live)
    assert change.action == Action.NO_OP, change.fields


def test_a_replace_field_and_an_empty_pool_field_together_replace() -> None:
    change = diff(desired({"tags": {"cost": "media"}, "vmSize": "Standard_D4s_v3"}, changeStrategy="drain"),
                  live_pool())
    assert change.action == Action.REPLACE
    assert set(change.replace_paths) == {"tags.cost", "vmSize"}
    assert all(f.forces_replacement for f in change.fields)


# --- fields that change on a live pool --------------------------------------------------------------

LIVE_FIELDS = {
    "metadata": ({"metadata": {"team": "video"}}, {"metadata.team"}),
    "formula": ({"scaleSettings": {"autoScale": {"formula": "$TargetDedicatedNodes = 2;"}}},
                {"scaleSettings.autoScale.formula"}),
    "evaluationInterval": ({"scaleSettings": {"autoScale": {"evaluationInterval": "PT10M"}}},
                           {"scaleSettings.autoScale.evaluationInterval"}),
    "fixed scale": ({"scaleSettings": {"autoScale": None, "fixedScale": {"targetDedicatedNodes": 2}}},
                    {"scaleSettings.fixedScale", "scaleSettings.autoScale"}),
    "startTask": ({"startTask": {"commandLine": "/bin/bash -c 'echo bye'"}}, {"startTask.commandLine"}),
    "applicationPackages": ({"applicationPackages": [{"application": "ffmpeg", "version": "6.1"}]},
                            {"applicationPackages.ffmpeg.version"}),
    "targetNodeCommunicationMode": ({"targetNodeCommunicationMode": "Simplified"}, {"targetNodeCommunicationMode"}),
}


@pytest.mark.parametrize(("changes", "paths"), LIVE_FIELDS.values(), ids=LIVE_FIELDS.keys())
def test_live_fields_update_in_place(changes: dict[str, Any], paths: set[str]) -> None:
    spec = desired()
    _merge(spec.spec, changes)
    change = diff(spec, live_pool())
    assert change.action == Action.UPDATE
    assert {f.path for f in change.fields} == paths
    assert not any(f.forces_replacement or f.requires_empty_pool for f in change.fields)
    assert change.replace_paths == () and change.warnings == ()


def test_a_field_diff_shows_before_and_after_as_written() -> None:
    change = diff(desired({"scaleSettings": {"autoScale": {"evaluationInterval": "00:10:00"}}}), live_pool())
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("scaleSettings.autoScale.evaluationInterval", "PT5M", "00:10:00")]


def test_a_default_appears_as_the_before_value() -> None:
    change = diff(desired({"taskSchedulingPolicy": {"nodeFillType": "Pack"}}),
                  live_pool({"taskSchedulingPolicy": None}))
    assert [(f.path, f.before, f.after) for f in change.fields] == [("taskSchedulingPolicy.nodeFillType", "Spread",
                                                                       "Pack")]


def test_removing_the_start_task_sends_an_empty_start_task() -> None:
    spec = desired()
    del spec.spec["startTask"]
    change = diff(spec, live_pool())
    assert change.action == Action.UPDATE
    [field] = change.fields
    assert field.path == "startTask" and field.after == {} and field.before["commandLine"] == "/bin/bash -c 'echo hi'"


def test_removing_every_mount_sends_an_empty_list() -> None:
    spec = desired()
    del spec.spec["mountConfiguration"]
    change = diff(spec, live_pool())
    assert change.action == Action.REPLACE
    [field] = change.fields
    assert (field.path, field.after, field.forces_replacement) == ("mountConfiguration", (), True)


def test_removing_metadata_removes_each_item() -> None:
    spec = desired()
    del spec.spec["metadata"]
    change = diff(spec, live_pool())
    assert {(f.path, f.before, f.after) for f in change.fields} == {("metadata.team", "media", None),
                                                                   ("metadata.owner", "ops", None)}


def test_scale_settings_removed_means_a_fixed_size_of_zero() -> None:
    spec = desired()
    del spec.spec["scaleSettings"]
    change = diff(spec, live_pool())
    assert change.action == Action.UPDATE
    assert {f.path for f in change.fields} == {"scaleSettings.autoScale"}


# --- write-only values ------------------------------------------------------------------------------


def test_an_unchanged_secret_is_no_change() -> None:
    assert diff(desired(), live_pool()).action == Action.NO_OP


def test_a_changed_mount_key_replaces_the_pool_and_stays_secret() -> None:
    context = StaticContext(**{**CONTEXT.__dict__, "keys": {"storageAccounts.data": "rotated-key-value=="}})
    change = diff(desired(), live_pool(), context)
    assert change.action == Action.REPLACE
    [field] = change.fields
    assert (field.path, field.before, field.after, field.sensitive) == (KEY_PATH, n.SENSITIVE, n.SENSITIVE, True)
    plan = Plan("demo", PlanTarget("azure", "sub", "rg-demo", "westeurope"), (change,))
    for rendering in (render_text(plan), render_json(plan), render_markdown(plan)):
        assert n.SENSITIVE in rendering
        assert "rotated-key-value" not in rendering and STORAGE_KEY not in rendering
        assert "pbkdf2" not in rendering


def test_a_changed_registry_password_updates_in_place() -> None:
    context = StaticContext(**{**CONTEXT.__dict__, "secrets": {"env:REGISTRY_PASSWORD": "new-password"}})
    change = diff(desired(), live_pool(), context)
    assert change.action == Action.UPDATE
    assert [(f.path, f.sensitive) for f in change.fields] == [(REGISTRY_PATH, True)]
    text = render_text(Plan("demo", PlanTarget("azure"), (change,)))
    assert f"~ {REGISTRY_PATH}: (sensitive)" in text and "new-password" not in text


def test_a_secret_without_a_recorded_fingerprint_is_not_compared_and_says_so() -> None:
    live = live_pool({"metadata": [m for m in LIVE_PROPERTIES["metadata"] if "fingerprint" not in m["name"]]})
    change = diff(desired(), live)
    assert change.action == Action.NO_OP
    assert len(change.warnings) == 2 and all("no fingerprint" in w for w in change.warnings)


def test_a_secret_that_cannot_be_resolved_is_not_compared_and_says_so() -> None:
    context = StaticContext(**{**CONTEXT.__dict__, "secrets": {}})
    change = diff(desired(), live_pool(), context)
    assert change.action == Action.NO_OP
    assert any("env:REGISTRY_PASSWORD could not be resolved" in w for w in change.warnings)


def test_a_removed_secret_is_a_change() -> None:
    spec = desired()
    del spec.spec["startTask"]["containerSettings"]["registry"]["password"]
    spec.spec["startTask"]["containerSettings"]["registry"]["identityReference"] = {"resourceId": f"{SUB}/x/y/id"}
    change = diff(spec, live_pool())
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("startTask.containerSettings.registry.identityReference", None, {"resourceId": f"{SUB}/x/y/id"}),
        (REGISTRY_PATH, n.SENSITIVE, None)]


@pytest.mark.parametrize(("secret", "action"), [(REGISTRY_PASSWORD, Action.NO_OP), ("another-key", Action.REPLACE)])
def test_a_secret_whose_object_azure_returns_empty_is_compared(secret: str, action: Action) -> None:
    """`linuxUserConfiguration: {sshPrivateKey}` reads back as `{}` (or not at all): the recorded
    fingerprint still stands for the key (the canary test found a phantom diff here)."""
    path = "userAccounts.operator.linuxUserConfiguration.sshPrivateKey"
    user = {"name": "operator", "password": {"secret": "env:REGISTRY_PASSWORD"},
            "linuxUserConfiguration": {"sshPrivateKey": {"secret": "env:SSH_KEY"}}}
    spec = desired(userAccounts=[user])
    recorded = [{"name": fingerprint_key(f"userAccounts.operator.{field}"),
                 "value": fingerprint_for_field(pool.RULES, f"userAccounts.operator.{field}", REGISTRY_PASSWORD)}
                for field in ("password", "linuxUserConfiguration.sshPrivateKey")]
    context = StaticContext(**{**CONTEXT.__dict__, "secrets": {"env:REGISTRY_PASSWORD": REGISTRY_PASSWORD,
                                                              "env:SSH_KEY": secret}})
    for returned in ({"name": "operator", "linuxUserConfiguration": {}}, {"name": "operator"}):
        live = live_pool({"userAccounts": [returned], "metadata": [*LIVE_PROPERTIES["metadata"], *recorded]})
        change = diff(spec, live, context)
        assert change.action == action, change.fields
        assert [f.path for f in change.fields] == ([] if action == Action.NO_OP else [path])


def test_node_deallocation_option_compares_what_azure_returns_or_the_fingerprint() -> None:
    path = "scaleSettings.fixedScale.nodeDeallocationOption"
    fixed = {"fixedScale": {"targetDedicatedNodes": 3, "nodeDeallocationOption": "TaskCompletion"}}
    spec = desired(scaleSettings=fixed)
    returned = live_pool({"scaleSettings": {"autoScale": None, "fixedScale": {
        "targetDedicatedNodes": 3, "nodeDeallocationOption": "taskcompletion"}}})
    assert diff(spec, returned).action == Action.NO_OP
    recorded = {"name": fingerprint_key(path), "value": fingerprint_for_field(pool.RULES, path, "TaskCompletion")}
    hidden = live_pool({"scaleSettings": {"autoScale": None, "fixedScale": {"targetDedicatedNodes": 3}},
                        "metadata": [*LIVE_PROPERTIES["metadata"], recorded]})
    assert diff(spec, hidden).action == Action.NO_OP
    back_to_default = desired(scaleSettings={"fixedScale": {"targetDedicatedNodes": 3}})
    change = diff(back_to_default, hidden)
    assert [(f.path, f.after) for f in change.fields] == [(path, "Requeue")]
    unknown = live_pool({"scaleSettings": {"autoScale": None, "fixedScale": {"targetDedicatedNodes": 3}}})
    change = diff(spec, unknown)
    assert change.action == Action.NO_OP and "not compared" in change.warnings[0]


# --- references --------------------------------------------------------------------------------------


def test_a_subnet_the_plan_creates_is_known_after_apply() -> None:
    context = StaticContext(**{**CONTEXT.__dict__, "ids": {"batchAccounts.main.applications.ffmpeg": APP_ID}})
    change = diff(desired(), live_pool(), context)
    assert change.action == Action.REPLACE
    assert [(f.path, f.after) for f in change.fields] == [("networkConfiguration.subnetId", n.KNOWN_AFTER_APPLY)]


def test_create_resolves_references_and_hides_keys() -> None:
    change = diff(desired(), None)
    assert change.action == Action.CREATE and change.before is None and change.etag is None
    assert change.after["networkConfiguration"]["subnetId"] == SUBNET_ID
    assert change.after["applicationPackages"]["ffmpeg"]["id"] == APP_ID
    mount = change.after["mountConfiguration"]["scratch"]["azureFileShareConfiguration"]
    assert mount["azureFileUrl"] == "https://stdemo.file.core.windows.net/scratch"
    assert mount["accountKey"] == n.SENSITIVE
    assert "changeStrategy" not in change.after and "protect" not in change.after


def test_markers_and_metadata_the_deployer_owns_are_not_desired_state() -> None:
    change = diff(desired(), live_pool())
    assert "deployer.stack" not in change.before["metadata"]
    assert not any(k.startswith("deployer.") for k in change.before["metadata"])


# --- loss ----------------------------------------------------------------------------------------------


def test_deleting_a_pool_says_what_it_stops() -> None:
    change = diff(None, live_pool(running_tasks=7))
    assert change.action == Action.DELETE and change.after is None
    assert change.warnings == ("3 nodes and 7 running tasks affected",)


def test_deleting_a_pool_without_task_counts_says_so() -> None:
    assert diff(None, live_pool()).warnings == ("3 nodes affected (running tasks not read)",)


def test_replacing_a_protected_pool_is_flagged() -> None:
    spec = desired({"vmSize": "Standard_D4s_v3"})
    spec = DesiredResource(spec.address, spec.kind, spec.name, spec.spec, protect=True)
    change = diff(spec, live_pool())
    assert change.action == Action.REPLACE
    assert "protected" in change.warnings[0]


def test_a_renamed_pool_is_replaced() -> None:
    live = live_pool()
    live["name"] = "transcode-old"
    change = diff(desired(), live)
    assert change.action == Action.REPLACE and change.replace_paths == ("name",)


def test_a_mount_on_a_storage_account_the_plan_creates() -> None:
    """Before the account exists its key and URL are known after apply (no warning); once it exists
    but its keys cannot be read, the key is not compared (a warning says so)."""
    fresh = StaticContext(**{**CONTEXT.__dict__, "keys": {}, "endpoints": {}, "storage_names": {}})
    change = diff(desired(), None, fresh)
    mount = change.after["mountConfiguration"]["scratch"]["azureFileShareConfiguration"]
    assert mount["accountKey"] == mount["azureFileUrl"] == mount["accountName"] == n.KNOWN_AFTER_APPLY
    assert change.warnings == ()
    unreadable = StaticContext(**{**CONTEXT.__dict__, "keys": {}})
    change = diff(desired(), live_pool(), unreadable)
    assert change.action == Action.NO_OP
    assert change.warnings == (f"{KEY_PATH}: the key of storageAccounts.data could not be resolved while planning, "
                               "so it was not compared; apply resolves it again",)
