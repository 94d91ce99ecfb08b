"""No phantom diffs, on Azure's own examples: for every published example whose request can be
written as a stack, the stack (desired) against the example's response (live) plans nothing.

Where an example's response contradicts its own request (Microsoft's examples are hand-written;
the README of the examples lists such cases), the test names the exact fields that differ: the
plan must report those and only those — a real difference is never normalized away. Every example
file is either a case here or skipped with its reason, so a new example cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from deployer.plan import Action, StaticContext, diff_resource
from deployer.resources import batch_account, file_share, job, pool, storage_account
from deployer.resources.rules import KindRules
from tests.unit.plan import examples as ex


def test_the_examples_are_in_the_repository():
    assert ex.available(), f"missing test data: {ex.SPEC}"

MGMT = "batch/resource-manager/Microsoft.Batch/"
STORAGE = "storage/resource-manager/Microsoft.Storage/stable/2025-08-01/examples/"
DATA = "batch/Azure.Batch/examples/2025-06-01.21.0/"
DATA_STABLE = "batch/data-plane/Azure.Batch/stable/2025-06-01.21.0/examples/"

Build = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], StaticContext]]


def _pool_create(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    body = ex.request_body(example)
    return ex.pool_spec(body["properties"], body.get("identity"), body.get("tags")), StaticContext()


def _pool_patch(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    """A PATCH changes what it sends and leaves the rest: the stack is the pool as it was (read
    from the response) with the request's properties applied; an empty object removes."""
    spec = ex.pool_spec_from_response(live)
    for name, value in ex.pool_spec(ex.request_body(example)["properties"]).items():
        if value == {}:
            spec.pop(name, None)
        else:
            spec[name] = value
    return spec, StaticContext()


def _pool_get(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    """A stack written by copying a GET response (user passwords as secret references)."""
    spec = ex.pool_spec_from_response(live)
    for account in spec.get("userAccounts", []):
        account["password"] = {"secret": f"env:PASSWORD_{account['name'].upper()}"}
    return spec, StaticContext(secrets={"env:PASSWORD_USERNAME1": "s3cret!"})


def _batch_account(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    body = ex.request_body(example)
    spec, ids = ex.batch_account_spec(body)
    return spec, StaticContext(location=body.get("location", live.get("location")), ids=ids)


def _batch_account_get(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    spec, ids = ex.batch_account_spec(live)
    return spec, StaticContext(location=live["location"], ids=ids)


def _storage_account(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    body = ex.request_body(example)
    spec = ex.storage_account_spec(body)
    if "sku" not in body:  # a PATCH: what it does not send stays as it was
        spec.update(sku=live["sku"]["name"], kind=live["kind"])
        spec.setdefault("tags", live.get("tags", {}))
    return spec, StaticContext(location=body.get("location", live["location"]))


def _storage_account_get(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    return ex.storage_account_spec(live), StaticContext(location=live["location"])


def _file_share(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    return ex.file_share_spec(ex.request_body(example)), StaticContext()


def _file_share_get(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    return ex.file_share_spec(live), StaticContext()


def _job(example: dict[str, Any], live: dict[str, Any]) -> tuple[dict[str, Any], StaticContext]:
    return ex.job_spec(ex.request_body(example)), StaticContext()


@dataclass(frozen=True)
class Case:
    file: str
    rules: KindRules
    build: Build
    disagreements: frozenset[str] = frozenset()  # fields where the response contradicts the request
    live_from: str | None = None  # another example whose response is the live side
    warnings: int = 0


def case(file: str, rules: KindRules, build: Build, *disagreements: str, live_from: str | None = None,
         warnings: int = 0) -> Case:
    return Case(file, rules, build, frozenset(disagreements), live_from, warnings)


VMC = "deploymentConfiguration.virtualMachineConfiguration"
P = pool.RULES

CASES = [
    # --- pools: create requests against their responses ------------------------------------------
    case(MGMT + "Batch/examples/2025-06-01/PoolCreate_PublicIPs.json", P, _pool_create),
    case(MGMT + "Batch/examples/2025-06-01/PoolCreate_SecurityProfile.json", P, _pool_create),
    case(MGMT + "Batch/examples/2025-06-01/PoolCreate_VirtualMachineConfiguration_Extensions.json", P, _pool_create),
    # asks for Standard_d2s_v3, the response shows STANDARD_D2_V3: another size, not another case
    case(MGMT + "Batch/examples/2025-06-01/PoolCreate_VirtualMachineConfiguration_ManagedOSDisk.json", P,
         _pool_create, "vmSize"),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_AcceleratedNetworking.json", P, _pool_create),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_DualStackNetworking.json", P, _pool_create),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_NoPublicIPAddresses.json", P, _pool_create),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_SharedImageGallery.json", P, _pool_create),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_UpgradePolicy.json", P, _pool_create),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_UserAssignedIdentities.json", P, _pool_create),
    # the response turns data disk 1's Premium_LRS into Standard_LRS and drops the ephemeral OS disk
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolCreate_VirtualMachineConfiguration.json", P, _pool_create,
         f'{VMC}.dataDisks["1"].managedDisk.storageAccountType', f"{VMC}.osDisk"),
    case(MGMT + "stable/2025-06-01/examples/PoolCreate_MinimalVirtualMachineConfiguration.json", P, _pool_create),
    # an example of the preview shape (an older commit): 2025-06-01 has no properties.resourceTags,
    # the stack's resourceTags are the pool's top-level tags (PoolCreate_Tags.json), which it lacks
    case(MGMT + "stable/2025-06-01/examples/PoolCreate_ResourceTags.json", P, _pool_create,
         "tags.TagName1", "tags.TagName2"),
    case(MGMT + "stable/2025-06-01/examples/PoolCreate_Tags.json", P, _pool_create),
    # --- pools: PATCH requests ----------------------------------------------------------------------
    # asks for $TargetDedicatedNodes=34, the response shows $TargetDedicated=34 (the legacy alias)
    case(MGMT + "Batch/examples/2025-06-01/PoolUpdate_EnableAutoScale.json", P, _pool_patch,
         "scaleSettings.autoScale.formula"),
    case(MGMT + "Batch/examples/2025-06-01/PoolUpdate_OtherProperties.json", P, _pool_patch),
    case(MGMT + "Batch/examples/2025-06-01/PoolUpdate_RemoveStartTask.json", P, _pool_patch),
    # asks for 5 dedicated nodes, the response shows a target of 1
    case(MGMT + "Batch/examples/2025-06-01/PoolUpdate_ResizePool.json", P, _pool_patch,
         "scaleSettings.fixedScale.targetDedicatedNodes"),
    # --- pools: a stack copied from a GET response (user passwords without fingerprints: warned) ---
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolGet.json", P, _pool_get, warnings=1),
    case(MGMT + "stable/2025-06-01/examples/PoolGet.json", P, _pool_get, warnings=1),
    case(MGMT + "Batch/stable/2025-06-01/examples/PoolGet_SecurityProfile.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolGet_AcceleratedNetworking.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolGet_UpgradePolicy.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolGet_VirtualMachineConfiguration_Extensions.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolGet_VirtualMachineConfiguration_MangedOSDisk.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolDisableAutoScale.json", P, _pool_get),
    case(MGMT + "Batch/examples/2025-06-01/PoolStopResize.json", P, _pool_get),
    # --- Batch accounts -------------------------------------------------------------------------------
    # the keyVaultReference URL is http:// (the stack schema wants https://); compared all the same
    case(MGMT + "Batch/examples/2025-06-01/BatchAccountCreate_BYOS.json", batch_account.RULES, _batch_account),
    case(MGMT + "Batch/examples/2025-06-01/BatchAccountCreate_Default.json", batch_account.RULES, _batch_account),
    case(MGMT + "Batch/examples/2025-06-01/BatchAccountCreate_SystemAssignedIdentity.json", batch_account.RULES,
         _batch_account),
    case(MGMT + "Batch/examples/2025-06-01/BatchAccountCreate_UserAssignedIdentity.json", batch_account.RULES,
         _batch_account),
    case(MGMT + "Batch/examples/2025-06-01/BatchAccountUpdate.json", batch_account.RULES, _batch_account),
    # asks for the default allocation mode (BatchService), the response shows UserSubscription
    case(MGMT + "Batch/examples/2025-06-01/PrivateBatchAccountCreate.json", batch_account.RULES, _batch_account,
         "poolAllocationMode"),
    case(MGMT + "Batch/examples/2025-06-01/PrivateBatchAccountGet.json", batch_account.RULES, _batch_account_get),
    case(MGMT + "Batch/stable/2025-06-01/examples/BatchAccountGet.json", batch_account.RULES, _batch_account_get),
    # --- storage accounts and file shares -----------------------------------------------------------
    case(STORAGE + "StorageAccountCreate.json", storage_account.RULES, _storage_account),
    case(STORAGE + "StorageAccountUpdate.json", storage_account.RULES, _storage_account),
    case(STORAGE + "StorageAccountGetProperties.json", storage_account.RULES, _storage_account_get),
    case(STORAGE + "FileSharesPut.json", file_share.RULES, _file_share),
    case(STORAGE + "FileSharesPut_NFS.json", file_share.RULES, _file_share),
    case(STORAGE + "FileSharesPatch.json", file_share.RULES, _file_share),  # share metadata: not managed
    case(STORAGE + "FileSharesGet.json", file_share.RULES, _file_share_get),
    # --- jobs: the basic create request against the GET of that job ----------------------------------
    case(DATA + "Jobs_CreateJob_Basic.json", job.RULES, _job, live_from=DATA + "Jobs_GetJob.json"),
]

SKIPPED = {
    DATA + "Jobs_CreateJob_Complex.json": "an auto-pool job: a stack job always names a pool",
    DATA + "Jobs_GetJob.json": "the live side of Jobs_CreateJob_Basic",
    DATA + "Jobs_ListJobs.json": "a list response: the same job as Jobs_GetJob",
    DATA + "Jobs_ReplaceJob.json": "no response body",
    DATA_STABLE + "Jobs_UpdateJob.json": "no response body",
    DATA + "Pools_CreatePool_MountConfiguration.json": "data-plane pool API (pools go through management)",
    DATA + "Pools_ReplacePoolProperties.json": "data-plane pool API, no response body",
    DATA + "Pools_UpdatePool.json": "data-plane pool API, no response body",
    DATA_STABLE + "Pools_CreatePool_ResourceTags.json": "data-plane pool API, no response body",
    DATA_STABLE + "Pools_CreatePool_VirtualMachineConfiguration.json": "data-plane pool API, no response body",
    DATA_STABLE + "Pools_EnablePoolAutoscale.json": "data-plane pool action, no response body",
    DATA_STABLE + "Pools_GetPool_Basic.json": "data-plane pool shape (pools go through management)",
    DATA_STABLE + "Pools_ListPools_Basic.json": "data-plane pool shape (pools go through management)",
    DATA + "Tasks_CreateTaskCollection_Basic.json": "tasks: compared by their job's fingerprint",
    DATA + "Tasks_CreateTaskCollection_Complex.json": "tasks: compared by their job's fingerprint",
    DATA + "Tasks_CreateTask_Basic.json": "tasks: compared by their job's fingerprint",
    DATA_STABLE + "Tasks_GetTask.json": "tasks: compared by their job's fingerprint",
    DATA_STABLE + "Tasks_ListTasks.json": "tasks: compared by their job's fingerprint",
    MGMT + "Batch/examples/2025-06-01/PoolListWithFilter.json": "a $select projection, not whole pools",
    MGMT + "Batch/stable/2025-06-01/examples/PoolList.json": "a list response: the same pool as PoolGet",
    MGMT + "Batch/stable/2025-06-01/examples/PoolDelete.json": "no body",
    MGMT + "Batch/stable/2025-06-01/examples/BatchAccountDelete.json": "no body",
    MGMT + "Batch/stable/2025-06-01/examples/BatchAccountList.json": "a list response: the same as BatchAccountGet",
    MGMT + "Batch/stable/2025-06-01/examples/BatchAccountListByResourceGroup.json":
        "a list response: the same as BatchAccountGet",
    STORAGE + "StorageAccountListByResourceGroup.json": "a list response (see StorageAccountGetProperties)",
    STORAGE + "FileSharesList.json": "a list response: shares as in FileSharesGet",
}


def test_every_example_is_a_case_or_skipped_for_a_reason() -> None:
    covered = {c.file for c in CASES} | set(SKIPPED)
    assert sorted(set(ex.example_files()) - covered) == []
    assert sorted(covered - set(ex.example_files())) == []


def _runs() -> list[Any]:
    runs = []
    for c in CASES:
        source = c.live_from or c.file
        for status, body in ex.responses(ex.load(source)):
            runs.append(pytest.param(c, body, id=f"{c.file.rsplit('/', 1)[-1]}:{status}"))
    return runs


@pytest.mark.parametrize(("c", "live"), _runs())
def test_request_against_response_plans_only_what_the_example_contradicts(c: Case, live: dict[str, Any]) -> None:
    spec, context = c.build(ex.load(c.file), live)
    change = diff_resource(c.rules, spec, live, context, address=f"{c.rules.kind.value}s.example")
    differing = {f.path for f in change.fields}
    assert differing == set(c.disagreements), [f"{f.path}: {f.before!r} -> {f.after!r}" for f in change.fields]
    if not c.disagreements:
        assert change.action == Action.NO_OP
        assert len(change.warnings) == c.warnings, change.warnings


@pytest.mark.parametrize("c", [c for c in CASES if c.rules is pool.RULES], ids=lambda c: c.file.rsplit("/", 1)[-1])
def test_every_top_level_pool_property_azure_returns_is_known(c: Case) -> None:
    """Each property Azure returns is a table row, server-set or knowingly unmanaged: a new one
    (an API version adding a field) fails here instead of becoming a silent blind spot."""
    from deployer import contracts

    defined = contracts.document(contracts.BATCH_MANAGEMENT).definition("PoolProperties").props
    for _, body in ex.responses(ex.load(c.live_from or c.file)):
        known = set(P.tree.children) | set(P.server_set) | set(P.unmanaged)
        # older examples show resourceTags, which the 2025-06-01 definition does not have
        assert set(body["properties"]) - known - ({"resourceTags"} - set(defined)) == set()
        assert set(body) - {"properties", "identity"} - known == set()


def test_batch_account_properties_azure_returns_are_known() -> None:
    rules = batch_account.RULES
    known = set(rules.tree.children) | set(rules.server_set) | set(rules.unmanaged)
    for c in CASES:
        if c.rules is rules:
            for _, body in ex.responses(ex.load(c.file)):
                assert set(body["properties"]) - known == set()
                assert set(body) - {"properties"} - known == set()
