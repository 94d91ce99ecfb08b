"""The Batch service API shapes (`az batch pool|job|task create --json-file`) → stack shapes.

The data plane and the management API name some things differently (nodeAgentSKUId,
targetDedicatedNodes at the top level, enableInterNodeCommunication, maxTasksPerNode, runElevated,
blobSource); the stack uses the management names for pools and the data-plane names for jobs and
tasks. Everything copied as it is is recorded with `came_from`, so `fit` can name the source of
whatever the stack has no place for. Shared by batch_json, cli_template and shipyard.
"""

from __future__ import annotations

import re
from typing import Any

from deployer.convert.model import Conversion, Path

RETIRED = {
    "cloudServiceConfiguration": "Cloud Services pools were retired by Azure Batch (February 2024); "
                                 "the pool needs a virtualMachineConfiguration",
    "certificateReferences": "Batch certificates were retired (February 2024); use Azure Key Vault "
                             "through a VM extension or a start task",
    "applicationLicenses": "application licenses (rendering) were retired by Azure Batch",
    "targetNodeCommunicationMode": "the Batch management API 2025-06-01 has no node communication mode "
                                   "(classic communication was retired; every pool communicates the simplified way)",
}


def env_name(*parts: str) -> str:
    """An environment variable name for a secret, e.g. POOL_RENDER_USER_ADMIN_PASSWORD."""
    text = "_".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper() or "SECRET"


def pool(conv: Conversion, spec: dict[str, Any], src: str, address: Path) -> dict[str, Any]:
    """A data-plane PoolAddParameter (minus `id`) → a stack pool."""
    out: dict[str, Any] = {}
    spec = dict(spec)
    spec.pop("id", None)
    conv.came_from(address, src)
    pool_id = str(address[-1])
    for key in list(spec):
        if key in RETIRED:
            conv.drop(f"{src}.{key}", address, RETIRED[key])
            spec.pop(key)
    if "displayName" in spec:
        out["displayName"] = spec.pop("displayName")
    if "vmSize" in spec:
        out["vmSize"] = spec.pop("vmSize")
    vmc = spec.pop("virtualMachineConfiguration", None)
    if isinstance(vmc, dict):
        vmc = dict(vmc)
        if "nodeAgentSKUId" in vmc:
            vmc["nodeAgentSkuId"] = vmc.pop("nodeAgentSKUId")
        cc = vmc.get("containerConfiguration")
        if isinstance(cc, dict):
            cc = dict(cc)
            cc.setdefault("type", "DockerCompatible")
            regs = cc.get("containerRegistries")
            if isinstance(regs, list):
                where = "virtualMachineConfiguration.containerConfiguration.containerRegistries"
                cc["containerRegistries"] = [
                    registry(conv, r, f"{src}.{where}.{i}",
                             (*address, "deploymentConfiguration", "virtualMachineConfiguration",
                              "containerConfiguration", "containerRegistries", i), pool_id)
                    for i, r in enumerate(regs)]
            vmc["containerConfiguration"] = cc
        out["deploymentConfiguration"] = {"virtualMachineConfiguration": vmc}
        conv.came_from((*address, "deploymentConfiguration", "virtualMachineConfiguration"),
                       f"{src}.virtualMachineConfiguration")
    scale = scale_settings(conv, spec, src, address)
    if scale:
        out["scaleSettings"] = scale
    if "enableInterNodeCommunication" in spec:
        out["interNodeCommunication"] = "Enabled" if spec.pop("enableInterNodeCommunication") else "Disabled"
    if "networkConfiguration" in spec:
        out["networkConfiguration"] = spec.pop("networkConfiguration")
        conv.came_from((*address, "networkConfiguration"), f"{src}.networkConfiguration")
    for old in ("maxTasksPerNode", "taskSlotsPerNode"):
        if old in spec:
            out["taskSlotsPerNode"] = spec.pop(old)
            conv.came_from((*address, "taskSlotsPerNode"), f"{src}.{old}")
    if "taskSchedulingPolicy" in spec:
        out["taskSchedulingPolicy"] = spec.pop("taskSchedulingPolicy")
        conv.came_from((*address, "taskSchedulingPolicy"), f"{src}.taskSchedulingPolicy")
    if "userAccounts" in spec:
        out["userAccounts"] = [
            user_account(conv, u, f"{src}.userAccounts.{i}", (*address, "userAccounts", i), pool_id)
            for i, u in enumerate(spec.pop("userAccounts") or [])]
    if "metadata" in spec:
        out["metadata"] = metadata(spec.pop("metadata"))
        conv.came_from((*address, "metadata"), f"{src}.metadata")
    if "startTask" in spec:
        out["startTask"] = task_like(conv, spec.pop("startTask"), f"{src}.startTask", (*address, "startTask"), pool_id)
    if "applicationPackageReferences" in spec:
        refs = spec.pop("applicationPackageReferences") or []
        conv.drop(f"{src}.applicationPackageReferences", address,
                  "application packages: declare the application (with its package file) under the Batch "
                  "account's `applications` and list it in the pool's `applicationPackages`: "
                  + ", ".join(str(r.get("applicationId", "?")) for r in refs if isinstance(r, dict)))
    if "mountConfiguration" in spec:
        out["mountConfiguration"] = [
            mount(conv, m, f"{src}.mountConfiguration.{i}", (*address, "mountConfiguration", i), pool_id)
            for i, m in enumerate(spec.pop("mountConfiguration") or [])]
    for key in ("identity", "upgradePolicy", "resourceTags"):
        if key in spec:
            out[key] = spec.pop(key)
            conv.came_from((*address, key), f"{src}.{key}")
    out.update(spec)  # whatever is left: `fit` keeps what the stack knows and reports the rest
    return out


def scale_settings(conv: Conversion, spec: dict[str, Any], src: str, address: Path) -> dict[str, Any]:
    if spec.pop("enableAutoScale", False):
        auto: dict[str, Any] = {}
        if "autoScaleFormula" in spec:
            auto["formula"] = spec.pop("autoScaleFormula")
        if "autoScaleEvaluationInterval" in spec:
            auto["evaluationInterval"] = spec.pop("autoScaleEvaluationInterval")
        conv.came_from((*address, "scaleSettings", "autoScale"), src)
        for key in ("targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout"):
            if key in spec:
                conv.drop(f"{src}.{key}", address, f"`{key}` is ignored by Batch when enableAutoScale is true")
                spec.pop(key)
        return {"autoScale": auto}
    for key in ("autoScaleFormula", "autoScaleEvaluationInterval"):
        if key in spec:
            conv.drop(f"{src}.{key}", address, f"`{key}` is ignored by Batch when enableAutoScale is false")
            spec.pop(key)
    fixed = {key: spec.pop(key) for key in ("targetDedicatedNodes", "targetLowPriorityNodes", "resizeTimeout")
             if key in spec}
    conv.came_from((*address, "scaleSettings", "fixedScale"), src)
    return {"fixedScale": fixed} if fixed else {}


def metadata(items: Any) -> Any:
    """[{name, value}] → {name: value} (the stack's metadata is a map)."""
    if isinstance(items, list):
        return {str(i.get("name")): str(i.get("value", "")) for i in items if isinstance(i, dict)}
    return items


def user_account(conv: Conversion, user: dict[str, Any], src: str, address: Path, owner: str) -> dict[str, Any]:
    user = dict(user)
    conv.came_from(address, src)
    name = str(user.get("name", "user"))
    if "password" in user:
        user.pop("password")
        user["password"] = conv.secret(f"{src}.password", address, env_name(owner, name, "password"))
    else:
        # Batch requires a password; the source had none (a key-only login user, say)
        user["password"] = conv.secret(f"{src}.password", address, env_name(owner, name, "password"))
    linux = user.get("linuxUserConfiguration")
    if isinstance(linux, dict) and "sshPrivateKey" in linux:
        linux = dict(linux)
        linux.pop("sshPrivateKey")
        linux["sshPrivateKey"] = conv.secret(f"{src}.linuxUserConfiguration.sshPrivateKey", address,
                                             env_name(owner, name, "ssh_private_key"))
        user["linuxUserConfiguration"] = linux
    return user


def registry(conv: Conversion, reg: dict[str, Any], src: str, address: Path, owner: str) -> dict[str, Any]:
    reg = dict(reg)
    conv.came_from(address, src)
    if "userName" in reg:
        reg["username"] = reg.pop("userName")
    if "password" in reg:
        reg.pop("password")
        server = str(reg.get("registryServer", "docker.io")).split(".")[0]
        reg["password"] = conv.secret(f"{src}.password", address, env_name(server, "registry_password"))
    return reg


def mount(conv: Conversion, m: dict[str, Any], src: str, address: Path, owner: str) -> dict[str, Any]:
    m = dict(m)
    conv.came_from(address, src)
    for kind, cfg in list(m.items()):
        if not isinstance(cfg, dict):
            continue
        cfg = dict(cfg)
        here = f"{src}.{kind}"
        conv.came_from((*address, kind), here)
        if kind == "cifsMountConfiguration" and "username" in cfg:
            cfg["userName"] = cfg.pop("username")
        for secret in ("accountKey", "sasKey", "password"):
            if secret in cfg:
                cfg.pop(secret)
                label = cfg.get("accountName") or cfg.get("userName") or cfg.get("relativeMountPath") or kind
                cfg[secret] = conv.secret(f"{here}.{secret}", address, env_name(str(label), secret))
        m[kind] = cfg
    return m


def task_like(conv: Conversion, task: dict[str, Any], src: str, address: Path, owner: str) -> dict[str, Any]:
    """A start/job-manager/preparation/release task or a task: old names → current names."""
    task = dict(task)
    conv.came_from(address, src)
    if "runElevated" in task:
        elevated = task.pop("runElevated")
        task.setdefault("userIdentity", {"autoUser": {"scope": "Task",
                                                      "elevationLevel": "Admin" if elevated else "NonAdmin"}})
        conv.came_from((*address, "userIdentity"), f"{src}.runElevated")
    if isinstance(task.get("resourceFiles"), list):
        task["resourceFiles"] = [resource_file(r) for r in task["resourceFiles"]]
    if isinstance(task.get("containerSettings"), dict) and isinstance(task["containerSettings"].get("registry"), dict):
        cs = dict(task["containerSettings"])
        cs["registry"] = registry(conv, cs["registry"], f"{src}.containerSettings.registry",
                                  (*address, "containerSettings", "registry"), owner)
        task["containerSettings"] = cs
    return task


def resource_file(r: Any) -> Any:
    if isinstance(r, dict) and "blobSource" in r:
        r = dict(r)
        r["httpUrl"] = r.pop("blobSource")
    return r


JOB_KEYS = ("displayName", "priority", "maxParallelTasks", "allowTaskPreemption", "constraints",
            "onAllTasksComplete", "onTaskFailure", "usesTaskDependencies", "commonEnvironmentSettings")


def job(conv: Conversion, spec: dict[str, Any], src: str, address: Path, pools: set[str]) -> dict[str, Any] | None:
    """A data-plane JobAddParameter (minus `id`) → a stack job, or None when it names no pool of
    the converted stack (recorded as dropped)."""
    spec = dict(spec)
    spec.pop("id", None)
    conv.came_from(address, src)
    info = spec.pop("poolInfo", {}) or {}
    pool_id = info.get("poolId") if isinstance(info, dict) else None
    auto = info.get("autoPoolSpecification") if isinstance(info, dict) else None
    if isinstance(auto, dict):  # a pool created with the job: the stack's `autoPool` with the pool inline
        here = f"{src}.poolInfo.autoPoolSpecification"
        conv.came_from((*address, "autoPool"), here)
        auto_pool: dict[str, Any] = {k: auto[k] for k in ("keepAlive", "poolLifetimeOption", "autoPoolIdPrefix")
                                     if k in auto}
        if isinstance(auto.get("pool"), dict):
            auto_pool["pool"] = pool(conv, auto["pool"], f"{here}.pool", (*address, "autoPool", "pool"))
        out_auto: dict[str, Any] = {"autoPool": auto_pool}
        for key in JOB_KEYS:
            if key in spec:
                out_auto[key] = spec.pop(key)
        out_auto.update({k: v for k, v in spec.items() if k not in ("jobManagerTask", "jobPreparationTask",
                                                                      "jobReleaseTask", "metadata")})
        for key in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask"):
            if key in spec:
                out_auto[key] = task_like(conv, spec[key], f"{src}.{key}", (*address, key), str(address[-1]))
        if "metadata" in spec:
            out_auto["metadata"] = metadata(spec["metadata"])
        return out_auto
    if not isinstance(pool_id, str) or pool_id not in pools:
        conv.drop(src, address[:-2], f"the job runs on pool {pool_id!r}, which is not among the converted "
                  "sources: convert the pool's JSON together with the job's")
        return None
    out: dict[str, Any] = {"pool": pool_id}
    for key in JOB_KEYS:
        if key in spec:
            out[key] = spec.pop(key)
    for key in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask"):
        if key in spec:
            out[key] = task_like(conv, spec.pop(key), f"{src}.{key}", (*address, key), str(address[-1]))
    if "metadata" in spec:
        out["metadata"] = metadata(spec.pop("metadata"))
        conv.came_from((*address, "metadata"), f"{src}.metadata")
    out.update(spec)
    return out
