"""Batch pools: canonical forms and diff rules (management API shape, `Microsoft.Batch/.../pools`).

Canonical form: the pool's `properties` flattened to the top, plus `identity`; metadata as a map
without the deployer's markers; user accounts, data disks, extensions, inbound NAT pools and their
security rules, container registries and mounts as maps keyed by their identity (name, LUN,
priority, registry server, relative mount path); application packages as a map keyed by
application name (lower case) holding `{id, version}`; user-assigned identities as a sorted list of
ids. Logical references in the stack are resolved through the `DiffContext`: `subnet: net.sub`
becomes `subnetId`, `application: name` an application id, a mount's `storage:` (with `share:`)
an account name, file URL and account key.

What changes where follows the Batch management API: application packages, metadata, scale
settings, the start task and the target node communication mode change on a live pool; tags (the
pool resource's ARM tags, where `resourceTags` also goes) never change (replacement); every other
property only while the pool has zero nodes (EMPTY_POOL), and the pool's `changeStrategy`
(`replace`, the default, or `drain`) decides how the plan gets there. Removing the start task is
planned as `startTask: {}` and removing every mount as `mountConfiguration: []`, the explicit
values the API needs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.ownership import is_reserved, split_reserved
from deployer.resources.rules import (
    TASK_COMMON,
    DiffContext,
    Effect,
    Field,
    KindRules,
    annotation,
    apply_forms,
    insert_fingerprints,
    prefixed,
    resolve_secrets,
)
from deployer.stack.model import Address, Kind

U, E, R = Effect.UPDATE, Effect.EMPTY_POOL, Effect.REPLACE
VMC = "deploymentConfiguration.virtualMachineConfiguration"
NAT = "networkConfiguration.endpointConfiguration.inboundNatPools"
PIP = "networkConfiguration.publicIPAddressConfiguration"
MOUNT = "mountConfiguration.*"

#: stack settings that are not pool properties
STACK_ONLY = ("changeStrategy", "protect")


def _mount_key(mount: Mapping[str, Any]) -> Any:
    for config in mount.values():
        if isinstance(config, Mapping) and config.get("relativeMountPath") is not None:
            return config["relativeMountPath"]
    return None


def _application_key(ref: Mapping[str, Any]) -> Any:
    ident = ref.get("id")
    if isinstance(ident, str):
        return ident.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(ident, n.Unknown):
        return ident.what
    return None


FIELDS: tuple[Field, ...] = (
    Field("displayName", E),
    Field("vmSize", E, key=n.ci),
    # --- the image and the virtual machines -----------------------------------------------------
    Field("deploymentConfiguration", E),
    Field(f"{VMC}.imageReference.publisher", key=n.ci),
    Field(f"{VMC}.imageReference.offer", key=n.ci),
    Field(f"{VMC}.imageReference.sku", key=n.ci),
    Field(f"{VMC}.imageReference.version", key=n.ci, default="latest"),
    Field(f"{VMC}.imageReference.id", key=n.arm_id),
    Field(f"{VMC}.imageReference.sharedGalleryImageId", key=n.ci),
    Field(f"{VMC}.imageReference.communityGalleryImageId", key=n.ci),
    Field(f"{VMC}.imageReference.exactVersion", ignore=True),
    Field(f"{VMC}.nodeAgentSkuId", key=n.ci),
    Field(f"{VMC}.windowsConfiguration.enableAutomaticUpdates", default=True),
    Field(f"{VMC}.licenseType", key=n.ci),
    Field(f"{VMC}.dataDisks", form=n.keyed_by(n.field_key("lun"))),
    Field(f"{VMC}.dataDisks.*.caching", key=n.ci, default="None"),
    Field(f"{VMC}.dataDisks.*.storageAccountType", key=n.ci, default="Standard_LRS"),
    Field(f"{VMC}.dataDisks.*.managedDisk.storageAccountType", key=n.ci),
    Field(f"{VMC}.dataDisks.*.managedDisk.diskEncryptionSet.id", key=n.arm_id),
    Field(f"{VMC}.containerConfiguration.type", key=n.ci),
    Field(f"{VMC}.containerConfiguration.containerImageNames", unordered=True),
    Field(f"{VMC}.containerConfiguration.containerRegistries",
          form=n.keyed_by(lambda r: r.get("registryServer") or "docker.io", fold=n.ci)),
    Field(f"{VMC}.containerConfiguration.containerRegistries.*.registryServer", key=n.ci, default="docker.io"),
    Field(f"{VMC}.containerConfiguration.containerRegistries.*.password", sensitive=True),
    Field(f"{VMC}.containerConfiguration.containerRegistries.*.identityReference.resourceId", key=n.arm_id),
    Field(f"{VMC}.diskEncryptionConfiguration.targets", key=n.ci, unordered=True),
    Field(f"{VMC}.diskEncryptionConfiguration.customerManagedKey.keyUrl", key=n.url),
    Field(f"{VMC}.diskEncryptionConfiguration.customerManagedKey.identityReference.resourceId", key=n.arm_id),
    Field(f"{VMC}.nodePlacementConfiguration.policy", key=n.ci, default="Regional"),
    Field(f"{VMC}.extensions", form=n.keyed_by(n.field_key("name"))),
    Field(f"{VMC}.extensions.*.protectedSettings", sensitive=True),
    Field(f"{VMC}.extensions.*.provisionAfterExtensions", unordered=True),
    Field(f"{VMC}.osDisk.ephemeralOSDiskSettings.placement", key=n.ci),
    Field(f"{VMC}.osDisk.caching", key=n.ci),
    Field(f"{VMC}.osDisk.managedDisk.storageAccountType", key=n.ci),
    Field(f"{VMC}.osDisk.managedDisk.diskEncryptionSet.id", key=n.arm_id),
    Field(f"{VMC}.osDisk.writeAcceleratorEnabled", default=False),
    Field(f"{VMC}.securityProfile.securityType", key=n.ci),
    Field(f"{VMC}.securityProfile.proxyAgentSettings.enabled", default=False),
    Field(f"{VMC}.serviceArtifactReference.id", key=n.arm_id),
    # --- size: changes on a live pool; absent means a fixed size of zero -------------------------
    Field("scaleSettings", U, default={"fixedScale": {}}),
    Field("scaleSettings.fixedScale.targetDedicatedNodes", default=0),
    Field("scaleSettings.fixedScale.targetLowPriorityNodes", default=0),
    Field("scaleSettings.fixedScale.resizeTimeout", key=n.duration, default="PT15M"),
    Field("scaleSettings.fixedScale.nodeDeallocationOption", key=n.ci, default="Requeue", write_only=True,
          note="Azure does not always return it: compared by fingerprint when absent"),
    Field("scaleSettings.autoScale.formula", key=n.formula),
    Field("scaleSettings.autoScale.evaluationInterval", key=n.duration, default="PT15M"),
    # --- scheduling and networking: empty pool only ----------------------------------------------
    Field("interNodeCommunication", E, key=n.ci, default="Disabled"),
    Field("taskSlotsPerNode", E, default=1),
    Field("taskSchedulingPolicy", E, default={}),
    Field("taskSchedulingPolicy.nodeFillType", key=n.ci, default="Spread"),
    Field("taskSchedulingPolicy.jobDefaultOrder", key=n.ci, default="None"),
    Field("networkConfiguration", E, default={}),
    Field("networkConfiguration.subnetId", key=n.arm_id),
    Field("networkConfiguration.dynamicVnetAssignmentScope", key=n.ci, default="none"),
    Field("networkConfiguration.enableAcceleratedNetworking", default=False),
    Field(NAT, form=n.keyed_by(n.field_key("name"))),
    Field(f"{NAT}.*.protocol", key=n.ci),
    Field(f"{NAT}.*.networkSecurityGroupRules", form=n.keyed_by(n.field_key("priority"))),
    Field(f"{NAT}.*.networkSecurityGroupRules.*.access", key=n.ci),
    Field(f"{NAT}.*.networkSecurityGroupRules.*.sourcePortRanges", unordered=True),
    Field(f"{PIP}.provision", key=n.ci, default="BatchManaged"),
    Field(f"{PIP}.ipAddressIds", key=n.arm_id, unordered=True),
    Field(f"{PIP}.ipFamilies", key=n.ci, unordered=True),
    Field(f"{PIP}.ipTags", unordered=True),
    Field("userAccounts", E, form=n.keyed_by(n.field_key("name")), removal=[]),
    Field("userAccounts.*.password", sensitive=True),
    Field("userAccounts.*.elevationLevel", key=n.ci, default="NonAdmin"),
    Field("userAccounts.*.linuxUserConfiguration.sshPrivateKey", sensitive=True),
    Field("userAccounts.*.windowsUserConfiguration.loginMode", key=n.ci, default="Batch"),
    Field("mountConfiguration", E, form=n.keyed_by(_mount_key), removal=[]),
    Field(f"{MOUNT}.azureFileShareConfiguration.accountName", key=n.ci),
    Field(f"{MOUNT}.azureFileShareConfiguration.azureFileUrl", key=n.url),
    Field(f"{MOUNT}.azureFileShareConfiguration.accountKey", sensitive=True),
    Field(f"{MOUNT}.azureBlobFileSystemConfiguration.accountName", key=n.ci),
    Field(f"{MOUNT}.azureBlobFileSystemConfiguration.accountKey", sensitive=True),
    Field(f"{MOUNT}.azureBlobFileSystemConfiguration.sasKey", sensitive=True),
    Field(f"{MOUNT}.azureBlobFileSystemConfiguration.identityReference.resourceId", key=n.arm_id),
    Field(f"{MOUNT}.cifsMountConfiguration.password", sensitive=True),
    Field("identity", E, default={}),
    Field("identity.type", key=n.ci, default="None"),
    Field("identity.userAssignedIdentities", form=n.id_set, key=n.arm_id, unordered=True),
    Field("upgradePolicy", E),
    Field("upgradePolicy.mode", key=n.ci),
    Field("upgradePolicy.rollingUpgradePolicy.pauseTimeBetweenBatches", key=n.duration),
    # The pool resource's ARM `tags` (2025-06-01 has no `resourceTags`; the stack's old spelling
    # is read as `tags`), propagated by Batch to what it creates for the pool: fixed at creation.
    Field("tags", R, default={}),
    # --- live changes --------------------------------------------------------------------------
    Field("metadata", U, form=n.name_value_map, default={}),
    Field("startTask", U, removal={}),
    *prefixed("startTask", TASK_COMMON),
    Field("startTask.maxTaskRetryCount", default=0),
    Field("startTask.waitForSuccess", default=True),
    Field("applicationPackages", U, form=n.keyed_by(_application_key, fold=n.ci), removal=[]),
    Field("applicationPackages.*.id", key=n.arm_id),
    # Not in the 2025-06-01 management API's pool properties (`deploy validate` refuses it, naming
    # the api-version); compared by fingerprint should a stack still carry it.
    Field("targetNodeCommunicationMode", U, key=n.ci, default="Default", write_only=True),
)

SERVER_SET = (
    "id", "name", "type", "etag", "systemData", "lastModified", "creationTime", "provisioningState",
    "provisioningStateTransitionTime", "allocationState", "allocationStateTransitionTime",
    "currentDedicatedNodes", "currentLowPriorityNodes", "resizeOperationStatus", "autoScaleRun",
    "currentNodeCommunicationMode",
)
#: certificates: not in the stack format, never touched.
UNMANAGED = ("certificates",)


def account_of(address: Address) -> Address:
    """`batchAccounts.main.pools.p` -> `batchAccounts.main`."""
    return Address(address.parts[:2])


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: copy.deepcopy(v) for k, v in spec.items() if k not in STACK_ONLY}
    if "resourceTags" in body:  # the old spelling: the API has only the pool's top-level tags
        body["tags"] = {**(body.pop("resourceTags") or {}), **(body.get("tags") or {})}
    body = resolve_secrets(body, context)
    if isinstance(body.get("metadata"), Mapping):
        body["metadata"] = {k: v for k, v in body["metadata"].items() if not is_reserved(str(k))}
    network = body.get("networkConfiguration")
    if isinstance(network, dict) and isinstance(network.get("subnet"), str):
        ref = network.pop("subnet")
        vnet, _, subnet = ref.partition(".")
        network["subnetId"] = (context.resource_id(Address(("networks", vnet, "subnets", subnet)))
                               or n.Unknown(f"id of subnet {ref}"))
    if isinstance(body.get("applicationPackages"), list):
        body["applicationPackages"] = [_package(ref, context, account_of(address))
                                       for ref in body["applicationPackages"]]
    if isinstance(body.get("mountConfiguration"), list):
        body["mountConfiguration"] = [_mount(mount, context) for mount in body["mountConfiguration"]]
    return apply_forms(body, RULES.tree) or {}


def _package(ref: Any, context: DiffContext, account: Address) -> Any:
    if not isinstance(ref, Mapping) or "application" not in ref:
        return ref
    out = {k: v for k, v in ref.items() if k != "application"}
    name = str(ref["application"])
    out["id"] = name if name.startswith("/") else (
        context.resource_id(account.child("applications", name)) or n.Unknown(name))
    return out


def _mount(mount: Any, context: DiffContext) -> Any:
    if not isinstance(mount, Mapping):
        return mount
    out: dict[str, Any] = {}
    for kind, config in mount.items():
        if not isinstance(config, dict) or not isinstance(config.get("storage"), str):
            out[kind] = config
            continue
        config = dict(config)
        account = Address(("storageAccounts", config.pop("storage")))
        config["accountName"] = context.storage_account_name(account) or n.Unknown(f"name of {account}")
        needs_key, service = True, "blob"
        if kind == "azureFileShareConfiguration":
            share, service = config.pop("share", ""), "file"
            endpoint = context.storage_endpoint(account, "file")
            config["azureFileUrl"] = endpoint.rstrip("/") + "/" + share if endpoint else n.Unknown(
                f"URL of {account}.fileShares.{share}")
        elif kind == "azureBlobFileSystemConfiguration":
            needs_key = "identityReference" not in config
        if needs_key:
            key = context.storage_account_key(account)
            if key is None and context.storage_endpoint(account, service) is None:
                config["accountKey"] = n.Unknown(f"key of {account}")  # the account does not exist yet
            else:  # None here: it exists but its keys could not be read (not compared, with a warning)
                config["accountKey"] = n.Secret(f"the key of {account}", key)
        out[kind] = config
    return out


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = rest.get("properties")
    body: dict[str, Any] = dict(props) if isinstance(props, Mapping) else dict(rest)
    if "identity" in rest:
        body["identity"] = rest["identity"]
    if isinstance(rest.get("tags"), Mapping):
        body["tags"] = dict(rest["tags"])
    metadata, _, fingerprints = split_reserved(body.get("metadata"))
    body["metadata"] = metadata
    document = apply_forms(body, RULES.tree) or {}
    return insert_fingerprints(document, fingerprints, RULES)


def _properties(rest: Mapping[str, Any]) -> Mapping[str, Any]:
    props = rest.get("properties")
    return props if isinstance(props, Mapping) else rest


def node_count(rest: Mapping[str, Any]) -> int:
    props = _properties(rest)
    return int(props.get("currentDedicatedNodes") or 0) + int(props.get("currentLowPriorityNodes") or 0)


def is_empty(rest: Mapping[str, Any]) -> bool:
    """Zero nodes now, none coming: steady, and a fixed scale of zero (autoscale may add nodes)."""
    props = _properties(rest)
    if node_count(rest) or str(props.get("allocationState", "steady")).casefold() != "steady":
        return False
    scale = props.get("scaleSettings") or {}
    if scale.get("autoScale"):
        return False
    fixed = scale.get("fixedScale") or {}
    return not fixed.get("targetDedicatedNodes") and not fixed.get("targetLowPriorityNodes")


def loss(rest: Mapping[str, Any]) -> list[str]:
    nodes = node_count(rest)
    running = annotation(rest, "runningTasks")
    if isinstance(running, int):
        return [f"{_count(nodes, 'node')} and {_count(running, 'running task')} affected"]
    return [f"{_count(nodes, 'node')} affected (running tasks not read)"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


RULES = KindRules(
    kind=Kind.POOL,
    title="pool",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    unmanaged=UNMANAGED,
    loss=loss,
    is_empty=is_empty,
    strategy_setting="changeStrategy",
)
