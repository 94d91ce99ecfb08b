"""Diff rules of jobs, job schedules, Batch accounts, applications, storage accounts, file shares,
containers and networks: table-driven (desired change, expected action and paths)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deployer.plan import Action, Change, StaticContext, diff_resource
from deployer.resources import (
    application,
    batch_account,
    container,
    file_share,
    job,
    job_schedule,
    network,
    storage_account,
)
from deployer.resources.rules import KindRules

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-demo/providers"
STORAGE_ID = f"{SUB}/Microsoft.Storage/storageAccounts/stdemo"


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def run(rules: KindRules, spec: dict[str, Any] | None, live: dict[str, Any] | None,
        context: StaticContext | None = None) -> Change:
    return diff_resource(rules, spec, live, context or StaticContext(location="westeurope", ids={
        "storageAccounts.data": STORAGE_ID}), address=f"{rules.kind.value}s.example")


def paths(change: Change) -> set[str]:
    return {f.path for f in change.fields}


# --- jobs -------------------------------------------------------------------------------------------

JOB: dict[str, Any] = {
    "pool": "p1",
    "priority": 100,
    "constraints": {"maxWallClockTime": "P1D"},
    "onAllTasksComplete": "terminateJob",
    "jobReleaseTask": {"commandLine": "/bin/bash -c 'rm -rf /mnt/x'"},
    "metadata": {"team": "media"},
    "tasks": [{"id": "t1", "commandLine": "echo one"}, {"id": "t2", "commandLine": "echo two"}],
}


def live_job(changes: dict[str, Any] | None = None, spec: dict[str, Any] = JOB) -> dict[str, Any]:
    body = {
        "id": "example", "url": "https://acct.westeurope.batch.azure.com/jobs/example", "eTag": "0x8D4100FC49F0278",
        "lastModified": "2025-01-01T00:00:00Z", "creationTime": "2025-01-01T00:00:00Z", "state": "active",
        "priority": 100, "maxParallelTasks": -1, "allowTaskPreemption": False, "usesTaskDependencies": False,
        "constraints": {"maxWallClockTime": "1.00:00:00", "maxTaskRetryCount": 0},
        "poolInfo": {"poolId": "P1"},
        "jobReleaseTask": {"id": "jobrelease", "commandLine": "/bin/bash -c 'rm -rf /mnt/x'",
                           "maxWallClockTime": "PT15M", "retentionTime": "P7D",
                           "userIdentity": {"autoUser": {"scope": "task", "elevationLevel": "nonadmin"}}},
        "executionInfo": {"startTime": "2025-01-01T00:00:00Z", "poolId": "P1"},
        "onAllTasksComplete": "terminatejob", "onTaskFailure": "noaction",
        "metadata": [{"name": "team", "value": "media"}, {"name": "deployer.stack", "value": "demo"},
                     {"name": "deployer.fingerprint.tasks", "value": job.tasks_fingerprint(spec)}],
    }
    return merged(body, changes or {})


def test_a_job_as_azure_returns_it_is_no_change() -> None:
    change = run(job.RULES, JOB, live_job())
    assert change.action == Action.NO_OP, change.fields
    assert change.etag == "0x8D4100FC49F0278" and change.warnings == ()


JOB_CHANGES = {
    "priority": ({"priority": 200}, Action.UPDATE, {"priority"}),
    "constraints": ({"constraints": {"maxTaskRetryCount": 3}}, Action.UPDATE, {"constraints.maxTaskRetryCount"}),
    "maxWallClockTime": ({"constraints": {"maxWallClockTime": "PT12H"}}, Action.UPDATE,
                         {"constraints.maxWallClockTime"}),
    "maxParallelTasks": ({"maxParallelTasks": 4}, Action.UPDATE, {"maxParallelTasks"}),
    "allowTaskPreemption": ({"allowTaskPreemption": True}, Action.UPDATE, {"allowTaskPreemption"}),
    "metadata": ({"metadata": {"team": "video"}}, Action.UPDATE, {"metadata.team"}),
    "onAllTasksComplete back to noaction": ({"onAllTasksComplete": "noaction"}, Action.REPLACE,
                                            {"onAllTasksComplete"}),
    "displayName": ({"displayName": "Transcode"}, Action.REPLACE, {"displayName"}),
    "pool": ({"pool": "p2"}, Action.REPLACE, {"pool"}),
    "onTaskFailure": ({"onTaskFailure": "performExitOptionsJobAction"}, Action.REPLACE, {"onTaskFailure"}),
    "usesTaskDependencies": ({"usesTaskDependencies": True}, Action.REPLACE, {"usesTaskDependencies"}),
    "commonEnvironmentSettings": ({"commonEnvironmentSettings": [{"name": "A", "value": "1"}]}, Action.REPLACE,
                                  {"commonEnvironmentSettings"}),
    "jobReleaseTask": ({"jobReleaseTask": {"commandLine": "true"}}, Action.REPLACE, {"jobReleaseTask.commandLine"}),
    "jobManagerTask": ({"jobManagerTask": {"id": "m", "commandLine": "run"}}, Action.REPLACE, {"jobManagerTask"}),
    # a job's tasks are not job fields: they are planned one by one (tests/unit/plan/test_tasks.py)
    "tasks": ({"tasks": [{"id": "t1", "commandLine": "echo uno"}]}, Action.NO_OP, set()),
}


@pytest.mark.parametrize(("changes", "action", "expected"), JOB_CHANGES.values(), ids=JOB_CHANGES.keys())
def test_job_field_rules(changes: dict[str, Any], action: Action, expected: set[str]) -> None:
    change = run(job.RULES, merged(JOB, changes), live_job())
    assert (change.action, paths(change)) == (action, expected)
    if action == Action.REPLACE:
        assert set(change.replace_paths) == expected
        assert all(f.forces_replacement for f in change.fields)


def test_on_all_tasks_complete_may_become_terminatejob_in_place() -> None:
    spec = merged(JOB, {"onAllTasksComplete": "noaction"})
    change = run(job.RULES, merged(JOB, {}), live_job({"onAllTasksComplete": "noaction"}, spec))
    assert change.action == Action.UPDATE and paths(change) == {"onAllTasksComplete"}


def test_job_defaults_equal_their_absence() -> None:
    """Jobs_GetJob's defaults: unlimited wall clock, no retries, no parallel limit, noaction."""
    spec = {"pool": "p1"}
    live = live_job({"priority": 0, "constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S"},
                     "onAllTasksComplete": "noaction", "jobReleaseTask": None, "metadata": []}, spec)
    live["metadata"] = [{"name": "deployer.fingerprint.tasks", "value": job.tasks_fingerprint(spec)}]
    assert run(job.RULES, spec, live).action == Action.NO_OP


def test_tasks_that_moved_but_cannot_be_read_are_not_compared_and_say_so() -> None:
    from deployer.plan.tasks import plan_job_tasks

    live = live_job()
    live["metadata"] = [m for m in live["metadata"] if m["name"] != "deployer.fingerprint.tasks"]
    change = plan_job_tasks(run(job.RULES, JOB, live), JOB, live, None, lister=None)
    assert change.action == Action.NO_OP
    assert change.warnings == ("the job's tasks differ from what was recorded, but they cannot be read here: "
                               "not compared",)


def test_deleting_a_job_says_what_it_stops() -> None:
    live = live_job()
    live["_deployer"] = {"taskCounts": {"active": 4, "running": 2, "completed": 9}}
    change = run(job.RULES, None, live)
    assert change.action == Action.DELETE
    assert change.warnings == ("the job's tasks are deleted: 2 running, 4 waiting to run",)


# --- job schedules ----------------------------------------------------------------------------------

SCHEDULE: dict[str, Any] = {
    "schedule": {"recurrenceInterval": "PT1H", "doNotRunUntil": "2025-01-01T00:00:00Z"},
    "jobSpecification": {"pool": "p1", "priority": 5, "jobManagerTask": {"id": "m", "commandLine": "run"}},
    "metadata": {"team": "media"},
}
LIVE_SCHEDULE: dict[str, Any] = {
    "id": "nightly", "eTag": "0x1", "state": "active", "creationTime": "2025-01-01T00:00:00Z",
    "schedule": {"recurrenceInterval": "01:00:00", "doNotRunUntil": "2025-01-01T01:00:00.0000000+01:00"},
    "jobSpecification": {"poolInfo": {"poolId": "p1"}, "priority": 5, "maxParallelTasks": -1,
                         "onAllTasksComplete": "noaction", "onTaskFailure": "noaction",
                         "constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S", "maxTaskRetryCount": 0},
                         "jobManagerTask": {"id": "m", "commandLine": "run", "requiredSlots": 1,
                                            "killJobOnCompletion": True, "runExclusive": True,
                                            "allowLowPriorityNode": True,
                                            "constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S",
                                                            "retentionTime": "P7D", "maxTaskRetryCount": 0},
                                            "userIdentity": {"autoUser": {"scope": "Task",
                                                                          "elevationLevel": "NonAdmin"}}}},
    "executionInfo": {"nextRunTime": "2025-01-01T02:00:00Z"},
    "metadata": [{"name": "deployer.stack", "value": "demo"}, {"name": "team", "value": "media"}],
}

SCHEDULE_CHANGES = {
    "none": ({}, Action.NO_OP, set()),
    "recurrence": ({"schedule": {"recurrenceInterval": "PT2H"}}, Action.UPDATE, {"schedule.recurrenceInterval"}),
    "job specification": ({"jobSpecification": {"priority": 6}}, Action.UPDATE, {"jobSpecification.priority"}),
    "job manager": ({"jobSpecification": {"jobManagerTask": {"commandLine": "run2"}}}, Action.UPDATE,
                    {"jobSpecification.jobManagerTask.commandLine"}),
    "metadata": ({"metadata": {"team": "x"}}, Action.UPDATE, {"metadata.team"}),
    "displayName": ({"displayName": "Nightly"}, Action.REPLACE, {"displayName"}),
}


@pytest.mark.parametrize(("changes", "action", "expected"), SCHEDULE_CHANGES.values(), ids=SCHEDULE_CHANGES.keys())
def test_job_schedule_rules(changes: dict[str, Any], action: Action, expected: set[str]) -> None:
    change = run(job_schedule.RULES, merged(SCHEDULE, changes), copy.deepcopy(LIVE_SCHEDULE))
    assert (change.action, paths(change)) == (action, expected)


# --- Batch accounts -----------------------------------------------------------------------------------

ACCOUNT: dict[str, Any] = {"name": "example", "autoStorage": "data", "poolAllocationMode": "BatchService",
                           "allowedAuthenticationModes": ["AAD"], "tags": {"env": "dev"}}
LIVE_ACCOUNT: dict[str, Any] = {
    "id": f"{SUB}/Microsoft.Batch/batchAccounts/example", "name": "example", "type": "Microsoft.Batch/batchAccounts",
    "location": "West Europe", "identity": {"type": "None"},
    "tags": {"deployer.stack": "demo", "env": "dev"},
    "properties": {"accountEndpoint": "example.westeurope.batch.azure.com", "provisioningState": "Succeeded",
                   "autoStorage": {"storageAccountId": STORAGE_ID.lower(), "lastKeySync": "2025-01-01T00:00:00Z"},
                   "poolAllocationMode": "BatchService", "publicNetworkAccess": "Enabled",
                   "allowedAuthenticationModes": ["AAD"], "dedicatedCoreQuota": 20, "poolQuota": 100},
}
KEY_VAULT = {"id": f"{SUB}/Microsoft.KeyVault/vaults/kv", "url": "https://kv.vault.azure.net/"}

ACCOUNT_CHANGES = {
    "none": ({}, {}, Action.NO_OP, set()),
    "location": ({}, {"location": "northeurope"}, Action.REPLACE, {"location"}),
    "poolAllocationMode": ({"poolAllocationMode": "UserSubscription", "keyVaultReference": KEY_VAULT}, {},
                           Action.REPLACE, {"poolAllocationMode", "keyVaultReference"}),
    "keyVaultReference": ({"keyVaultReference": KEY_VAULT}, {"properties": {"keyVaultReference": {
        "id": KEY_VAULT["id"], "url": "https://other.vault.azure.net/"}}}, Action.REPLACE, {"keyVaultReference.url"}),
    "autoStorage": ({"autoStorage": {"storageAccount": "data", "authenticationMode": "BatchAccountManagedIdentity"}},
                    {}, Action.UPDATE, {"autoStorage.authenticationMode"}),
    "allowedAuthenticationModes": ({"allowedAuthenticationModes": ["AAD", "SharedKey"]}, {}, Action.UPDATE,
                                   {"allowedAuthenticationModes"}),
    "publicNetworkAccess": ({"publicNetworkAccess": "Disabled"}, {}, Action.UPDATE, {"publicNetworkAccess"}),
    "tags": ({"tags": {"env": "prod"}}, {}, Action.UPDATE, {"tags.env"}),
    "identity": ({"identity": {"type": "SystemAssigned"}}, {}, Action.UPDATE, {"identity.type"}),
    "unset authentication modes are kept": ({"allowedAuthenticationModes": None}, {}, Action.NO_OP, set()),
}


@pytest.mark.parametrize(("changes", "live_changes", "action", "expected"), ACCOUNT_CHANGES.values(),
                         ids=ACCOUNT_CHANGES.keys())
def test_batch_account_rules(changes: dict[str, Any], live_changes: dict[str, Any], action: Action,
                             expected: set[str]) -> None:
    change = run(batch_account.RULES, merged(ACCOUNT, changes), merged(LIVE_ACCOUNT, live_changes))
    assert (change.action, paths(change)) == (action, expected)
    if action == Action.REPLACE:
        assert "deletes every pool" in change.warnings[0]


# --- applications -------------------------------------------------------------------------------------

APP = {"displayName": "FFmpeg", "allowUpdates": False, "defaultVersion": "6.1", "versions": {"6.1": {"file": "a.zip"}}}
ZIP_A, ZIP_B = "a" * 64, "b" * 64
FILES = StaticContext(location="westeurope", files={"a.zip": ZIP_A, "b.zip": ZIP_B})
LIVE_APP = {"name": "ffmpeg", "properties": {"displayName": "FFmpeg", "allowUpdates": False, "defaultVersion": "6.1"},
            "_deployer": {"packages": {"6.1": ZIP_A}}}


@pytest.mark.parametrize(("spec_changes", "live_packages", "action", "expected"), [
    ({}, {"6.1": ZIP_A}, Action.NO_OP, set()),
    ({}, None, Action.NO_OP, set()),  # packages not read: not compared
    ({"versions": {"7.0": {"file": "b.zip"}}, "defaultVersion": "7.0"}, {"6.1": ZIP_A}, Action.UPDATE,
     {'packages["7.0"]', "defaultVersion"}),
    ({}, {"6.1": ZIP_A, "6.0": ZIP_B}, Action.UPDATE, {'packages["6.0"]'}),  # a version the stack dropped
    ({}, {"6.1": None, "6.0": None}, Action.UPDATE, {'packages["6.0"]'}),  # dropped, even without a hash
    ({}, {"6.1": ZIP_B}, Action.UPDATE, {'packages["6.1"].content'}),  # the zip changed, same version
    ({}, {"6.1": None}, Action.NO_OP, set()),  # uploaded by someone else: content not compared
    ({}, {}, Action.UPDATE, {"packages"}),  # the only version is gone
], ids=["same", "unread", "new version", "dropped version", "dropped unrecorded", "zip changed", "unrecorded",
        "version gone"])
def test_application_rules(spec_changes: dict[str, Any], live_packages: dict[str, Any] | None, action: Action,
                           expected: set[str]) -> None:
    live = {k: v for k, v in LIVE_APP.items() if k != "_deployer"}
    if live_packages is not None:
        live["_deployer"] = {"packages": live_packages}
    change = run(application.RULES, merged(APP, spec_changes), live, FILES)
    assert (change.action, paths(change)) == (action, expected)


def test_a_changed_zip_shows_both_hashes() -> None:
    change = run(application.RULES, APP, merged(LIVE_APP, {"_deployer": {"packages": {"6.1": ZIP_B}}}), FILES)
    [field] = change.fields
    assert (field.before, field.after) == ("sha256:" + "b" * 16, "sha256:" + "a" * 16)


def test_a_package_without_a_recorded_hash_says_it_was_not_compared() -> None:
    change = run(application.RULES, APP, {**LIVE_APP, "_deployer": {"packages": {"6.1": None}}}, FILES)
    assert change.action == Action.NO_OP and "not compared" in change.warnings[0]


# --- storage accounts ---------------------------------------------------------------------------------

STORAGE: dict[str, Any] = {"name": "example", "sku": "Standard_LRS", "kind": "StorageV2", "accessTier": "Hot",
                           "allowBlobPublicAccess": False, "tags": {"env": "dev"}}
LIVE_STORAGE: dict[str, Any] = {
    "id": STORAGE_ID, "name": "example", "type": "Microsoft.Storage/storageAccounts", "location": "West Europe",
    "kind": "StorageV2", "sku": {"name": "Standard_LRS", "tier": "Standard"},
    "tags": {"deployer.stack": "demo", "env": "dev"},
    "properties": {"accessTier": "Hot", "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                   "supportsHttpsTrafficOnly": True, "provisioningState": "Succeeded",
                   "primaryEndpoints": {"blob": "https://example.blob.core.windows.net/"}},
}

STORAGE_CHANGES = {
    "none": ({}, {}, Action.NO_OP, set()),
    "location": ({}, {"location": "eastus"}, Action.REPLACE, {"location"}),
    "name": ({"name": "renamed"}, {}, Action.REPLACE, {"name"}),
    "sku within a tier": ({"sku": "Standard_GRS"}, {}, Action.UPDATE, {"sku"}),
    "sku across tiers": ({"sku": "Premium_LRS"}, {}, Action.REPLACE, {"sku"}),
    "kind upgrade": ({}, {"kind": "Storage"}, Action.UPDATE, {"kind"}),
    "kind change": ({"kind": "BlockBlobStorage"}, {}, Action.REPLACE, {"kind"}),
    "accessTier": ({"accessTier": "Cool"}, {}, Action.UPDATE, {"accessTier"}),
    "minimumTlsVersion": ({"minimumTlsVersion": "TLS1_3"}, {}, Action.UPDATE, {"minimumTlsVersion"}),
    "allowSharedKeyAccess": ({"allowSharedKeyAccess": False}, {}, Action.UPDATE, {"allowSharedKeyAccess"}),
    "publicNetworkAccess": ({"publicNetworkAccess": "Disabled"}, {}, Action.UPDATE, {"publicNetworkAccess"}),
    "allowBlobPublicAccess": ({"allowBlobPublicAccess": True}, {}, Action.UPDATE, {"allowBlobPublicAccess"}),
    "tags": ({"tags": {"env": "dev", "cost": "x"}}, {}, Action.UPDATE, {"tags.cost"}),
    "unset access tier is kept": ({"accessTier": None}, {"properties": {"accessTier": "Cool"}}, Action.NO_OP, set()),
    "defaults equal their absence": ({"sku": None, "kind": None, "allowBlobPublicAccess": None}, {}, Action.NO_OP,
                                     set()),
}


@pytest.mark.parametrize(("changes", "live_changes", "action", "expected"), STORAGE_CHANGES.values(),
                         ids=STORAGE_CHANGES.keys())
def test_storage_account_rules(changes: dict[str, Any], live_changes: dict[str, Any], action: Action,
                               expected: set[str]) -> None:
    spec = merged(STORAGE, changes)
    change = diff_resource(storage_account.RULES, spec, merged(LIVE_STORAGE, live_changes),
                           StaticContext(location="westeurope"), address="storageAccounts.data",
                           name=spec["name"])
    assert (change.action, paths(change)) == (action, expected)
    if action == Action.REPLACE:
        assert change.warnings == ("all data in storage account example is lost: blobs, file shares, queues and "
                                   "tables",)


def test_deleting_a_storage_account_says_its_data_is_lost() -> None:
    change = run(storage_account.RULES, None, LIVE_STORAGE)
    assert change.action == Action.DELETE and "all data in storage account example is lost" in change.warnings[0]


# --- file shares and containers -------------------------------------------------------------------------

SHARE = {"quotaGiB": 100, "accessTier": "TransactionOptimized"}
LIVE_SHARE = {"name": "scratch", "etag": '"0x8D592D74CC20EBA"', "properties": {
    "shareQuota": 100, "enabledProtocols": "SMB", "accessTier": "TransactionOptimized",
    "lastModifiedTime": "2025-01-01T00:00:00Z", "shareUsageBytes": 1234}}

SHARE_CHANGES = {
    "none": ({}, Action.NO_OP, set()),
    "quota": ({"quotaGiB": 200}, Action.UPDATE, {"quotaGiB"}),
    "accessTier": ({"accessTier": "Hot"}, Action.UPDATE, {"accessTier"}),
    "protocol": ({"protocol": "NFS", "rootSquash": "NoRootSquash"}, Action.REPLACE, {"protocol", "rootSquash"}),
    "unset quota is kept": ({"quotaGiB": None}, Action.NO_OP, set()),
}


@pytest.mark.parametrize(("changes", "action", "expected"), SHARE_CHANGES.values(), ids=SHARE_CHANGES.keys())
def test_file_share_rules(changes: dict[str, Any], action: Action, expected: set[str]) -> None:
    change = run(file_share.RULES, merged(SHARE, changes), LIVE_SHARE)
    assert (change.action, paths(change)) == (action, expected)
    if action == Action.REPLACE:
        assert change.replace_paths == ("protocol",)
        assert change.warnings == ("all files in share scratch are lost",)


def test_deleting_a_share_says_its_files_are_lost() -> None:
    assert run(file_share.RULES, None, LIVE_SHARE).warnings == ("all files in share scratch are lost",)


CONTAINER = {"name": "output", "metadata": {"purpose": "renditions"}}
LIVE_CONTAINER = {"name": "output", "properties": {"publicAccess": "None", "metadata": {"purpose": "renditions"},
                                                   "leaseState": "Available", "hasLegalHold": False}}


@pytest.mark.parametrize(
    ("changes", "action", "expected"),
    [({}, Action.NO_OP, set()),
     ({"publicAccess": "Blob"}, Action.UPDATE, {"publicAccess"}),
     ({"metadata": {"purpose": "x"}}, Action.UPDATE, {"metadata.purpose"})],
)
def test_container_rules(changes: dict[str, Any], action: Action, expected: set[str]) -> None:
    change = run(container.RULES, merged(CONTAINER, changes), LIVE_CONTAINER)
    assert (change.action, paths(change)) == (action, expected)


def test_deleting_a_container_says_its_blobs_are_lost() -> None:
    assert run(container.RULES, None, LIVE_CONTAINER).warnings == ("all blobs in container output are lost",)


# --- networks ---------------------------------------------------------------------------------------------

NETWORK: dict[str, Any] = {"name": "example", "addressSpace": ["10.40.0.0/16"], "subnets": {
    "nodes": {"name": "snet-nodes", "addressPrefix": "10.40.0.0/20", "serviceEndpoints": ["Microsoft.Storage"]}}}
LIVE_NETWORK: dict[str, Any] = {
    "name": "example", "location": "westeurope", "etag": 'W/"1"', "tags": {"deployer.stack": "demo"},
    "properties": {"provisioningState": "Succeeded", "resourceGuid": "g",
                   "addressSpace": {"addressPrefixes": ["10.40.0.0/16"]},
                   "subnets": [{"name": "snet-nodes", "id": f"{SUB}/x", "properties": {
                       "addressPrefix": "10.40.0.0/20", "privateEndpointNetworkPolicies": "Disabled",
                       "serviceEndpoints": [{"service": "Microsoft.Storage", "locations": ["westeurope"],
                                             "provisioningState": "Succeeded"}]}}]},
}

NETWORK_CHANGES = {
    "none": ({}, Action.NO_OP, set()),
    "address space": ({"addressSpace": ["10.40.0.0/16", "10.41.0.0/16"]}, Action.UPDATE, {"addressSpace"}),
    "subnet prefix": ({"subnets": {"nodes": {"addressPrefix": "10.40.0.0/21"}}}, Action.UPDATE,
                      {"subnets.snet-nodes.addressPrefix"}),
    "new subnet": ({"subnets": {"other": {"addressPrefix": "10.40.16.0/24"}}}, Action.UPDATE, {"subnets.other"}),
    "service endpoints": ({"subnets": {"nodes": {"serviceEndpoints": []}}}, Action.UPDATE,
                          {"subnets.snet-nodes.serviceEndpoints"}),
}


@pytest.mark.parametrize(("changes", "action", "expected"), NETWORK_CHANGES.values(), ids=NETWORK_CHANGES.keys())
def test_network_rules(changes: dict[str, Any], action: Action, expected: set[str]) -> None:
    change = run(network.RULES, merged(NETWORK, changes), LIVE_NETWORK)
    assert (change.action, paths(change)) == (action, expected)


def test_moving_a_network_replaces_it() -> None:
    change = run(network.RULES, NETWORK, LIVE_NETWORK, StaticContext(location="northeurope"))
    assert (change.action, change.replace_paths) == (Action.REPLACE, ("location",))
