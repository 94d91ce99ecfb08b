"""Auto pools: a job's `autoPool` → the Batch service API's `poolInfo.autoPoolSpecification`.

The pool settings come from a stack pool used as a template (`template: POOL`) or inline
(`pool: {...}`), in the stack's (management API) names, and are rewritten into the data plane's
PoolSpecification names: nodeAgentSKUId, top-level target node counts or enableAutoScale with the
formula, enableInterNodeCommunication, subnetId from a `subnet:` reference, application package
references by id, metadata as a name/value list. Secrets are resolved only here, when the job is
created. The job records a fingerprint of `autoPool` (deployer.resources.job): a changed auto pool
replaces the job, and Batch creates (and, unless keepAlive, deletes) the pool with it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from deployer.errors import ApplyError
from deployer.resources.rules import DiffContext, resolve_secrets
from deployer.stack.model import Address, DesiredResource, Stack

PASS = ("displayName", "vmSize", "taskSlotsPerNode", "taskSchedulingPolicy", "userAccounts", "startTask",
        "mountConfiguration", "targetNodeCommunicationMode", "resourceTags", "upgradePolicy")


def pool_info(stack: Stack, job: DesiredResource, context: DiffContext) -> dict[str, Any]:
    auto: Mapping[str, Any] = job.spec["autoPool"]
    account = Address(job.address.parts[:2])
    if auto.get("template"):
        template = stack.get(account.child("pools", str(auto["template"])))
        if template is None:
            raise ApplyError(f"{job.address}: autoPool.template {auto['template']!r} is not a pool of the stack")
        spec: Mapping[str, Any] = template.spec
    else:
        spec = auto.get("pool") or {}
    out: dict[str, Any] = {"poolLifetimeOption": str(auto.get("poolLifetimeOption") or "job"),
                           "keepAlive": bool(auto.get("keepAlive", False)),
                           "pool": specification(spec, account, context, str(job.address))}
    if auto.get("autoPoolIdPrefix"):
        out["autoPoolIdPrefix"] = auto["autoPoolIdPrefix"]
    return {"autoPoolSpecification": out}


def specification(spec: Mapping[str, Any], account: Address, context: DiffContext, where: str) -> dict[str, Any]:
    """A stack pool (management API names) as the data plane's PoolSpecification."""
    pool = resolve_secrets(copy.deepcopy(dict(spec)), context)
    out: dict[str, Any] = {k: pool[k] for k in PASS if k in pool}
    vmc = dict((pool.get("deploymentConfiguration") or {}).get("virtualMachineConfiguration") or {})
    if "nodeAgentSkuId" in vmc:
        vmc["nodeAgentSKUId"] = vmc.pop("nodeAgentSkuId")
    out["virtualMachineConfiguration"] = vmc
    scale = pool.get("scaleSettings") or {}
    if "autoScale" in scale:
        out["enableAutoScale"] = True
        out["autoScaleFormula"] = scale["autoScale"].get("formula")
        if scale["autoScale"].get("evaluationInterval"):
            out["autoScaleEvaluationInterval"] = scale["autoScale"]["evaluationInterval"]
    else:
        fixed = scale.get("fixedScale") or {}
        out.update({k: fixed[k] for k in ("targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout")
                    if k in fixed})
    if pool.get("interNodeCommunication"):
        out["enableInterNodeCommunication"] = str(pool["interNodeCommunication"]).lower() == "enabled"
    network = dict(pool.get("networkConfiguration") or {})
    if isinstance(network.get("subnet"), str):
        net, _, subnet = network.pop("subnet").partition(".")
        network["subnetId"] = context.resource_id(Address(("networks", net, "subnets", subnet)))
    if network:
        out["networkConfiguration"] = network
    if isinstance(pool.get("metadata"), Mapping):
        out["metadata"] = [{"name": k, "value": str(v)} for k, v in pool["metadata"].items()]
    refs = pool.get("applicationPackages") or []
    if refs:
        out["applicationPackageReferences"] = [
            {"applicationId": r["application"], **({"version": r["version"]} if r.get("version") else {})}
            for r in refs]
    for mount in out.get("mountConfiguration") or []:
        if any(isinstance(c, Mapping) and c.get("storage") for c in mount.values()):
            raise ApplyError(f"{where}: an auto pool's mounts name their account (accountName, accountKey or "
                             "identityReference); `storage:` references are resolved for stack pools only")
    return out
