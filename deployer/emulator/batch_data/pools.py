"""Pools as the Batch data plane shows them: batch_mgmt's state, translated (read-only).

batch_mgmt owns pool state and stores it in the management API's shape; this module renders it
the way the data plane returns it (Pools_GetPool_Basic.json): flat `targetDedicatedNodes` /
`enableAutoScale` / `autoScaleFormula`, `virtualMachineConfiguration.nodeAgentSKUId`,
`applicationPackageReferences[].applicationId`, lower-case enum values (`steady`, `spread`,
`nonadmin`, ...), bare ETags. Nodes are synthesized from the pool's current node counts: ids
`tvmps_<64 hex>_d` (dedicated) / `_p` (low priority), stable per pool and index.

    render_pool(doc, base_url, account_name, now)   -> the data-plane BatchPool
    nodes(doc, now, busy)                           -> [NodeInfo]  (busy: node index -> running task slots)
    render_node(node, doc, base_url, account_name)  -> the data-plane BatchNode
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

from ..batch_mgmt import models as mgmt
from ..core import Doc, clock

NODE_AGENT_VERSION = "1.9.27"

# Enum-valued properties and the data plane's spelling of each value (the management API writes
# PascalCase, the data plane lower case, with a few camelCase exceptions).
_ENUM_KEYS = {
    "elevationLevel",
    "scope",
    "nodeFillType",
    "jobDefaultOrder",
    "caching",
    "storageAccountType",
    "provision",
    "protocol",
    "access",
    "loginMode",
    "dynamicVNetAssignmentScope",
    "dynamicVnetAssignmentScope",
    "mode",
    "policy",
    "placement",
    "securityType",
    "targets",
    "workingDirectory",
    "type",
    "ipFamilies",
    "nodeDeallocationOption",
    "securityEncryptionType",
}
_CAMEL = {
    "dockercompatible": "dockerCompatible",
    "cricompatible": "criCompatible",
    "trustedlaunch": "trustedLaunch",
    "confidentialvm": "confidentialVM",
    "taskworkingdirectory": "taskWorkingDirectory",
    "containerimagedefault": "containerImageDefault",
    "ipv4": "IPv4",
    "ipv6": "IPv6",
    "diskwithvmgueststate": "DiskWithVMGuestState",
    "nonpersistedtpm": "NonPersistedTPM",
    "vmgueststateonly": "VMGuestStateOnly",
}
# Keys whose values keep their case although they are called "type"/"mode"/"policy" elsewhere.
_KEEP_CASE_PARENTS = {"identity", "extensions", "settings"}
_RENAME: dict[str, str] = {
    "nodeAgentSkuId": "nodeAgentSKUId",
    "dynamicVnetAssignmentScope": "dynamicVNetAssignmentScope",
    "inboundNatPools": "inboundNATPools",
}


def _enum(value: str) -> str:
    low = value.lower()
    return _CAMEL.get(low, low)


def _translate(value: Any, parent: str = "") -> Any:
    """Rename the management API's keys and lower enum values, recursively."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key: str = _RENAME.get(k) or k
            if parent == "userIdentity" and k == "userName":
                key = "username"
            if parent == "cifsMountConfiguration" and k == "userName":
                key = "username"
            if parent == "imageReference" and k == "id":
                key = "virtualMachineImageId"
            if k in _ENUM_KEYS and parent not in _KEEP_CASE_PARENTS:
                if isinstance(v, str):
                    out[key] = _enum(v)
                    continue
                if isinstance(v, list) and all(isinstance(x, str) for x in v):
                    out[key] = [_enum(x) for x in v]
                    continue
            out[key] = _translate(v, k)
        return out
    if isinstance(value, list):
        return [_translate(v, parent) for v in value]
    return value


def _start_task(task: dict[str, Any]) -> dict[str, Any]:
    out = _translate(task, "startTask")
    ordered: dict[str, Any] = {"commandLine": out.pop("commandLine", "")}
    if "containerSettings" in out:
        ordered["containerSettings"] = out.pop("containerSettings")
    for k in ("resourceFiles", "environmentSettings"):
        if k in out:
            ordered[k] = out.pop(k)
    identity = out.pop("userIdentity", None) or {}
    if not identity.get("username"):
        auto = identity.get("autoUser") or {}
        identity = {
            "autoUser": {"scope": auto.get("scope", "task"), "elevationLevel": auto.get("elevationLevel", "nonadmin")}
        }
    ordered["userIdentity"] = identity
    ordered["maxTaskRetryCount"] = out.pop("maxTaskRetryCount", 0)
    ordered["waitForSuccess"] = out.pop("waitForSuccess", False)
    ordered.update(out)
    return ordered


def _identity(identity: Any) -> Any:
    if not isinstance(identity, dict):
        return None
    out: dict[str, Any] = {"type": identity.get("type", "None")}
    users = identity.get("userAssignedIdentities")
    if isinstance(users, dict) and users:
        out["userAssignedIdentities"] = [
            {"resourceId": rid, **{k: v for k, v in (val or {}).items() if k in ("clientId", "principalId")}}
            for rid, val in users.items()
        ]
    return out


def pool_id(doc: Doc) -> str:
    return str(doc.body["name"])


def pool_url(base_url: str, account_name: str, pid: str) -> str:
    return f"{base_url}/batch/{account_name}/pools/{pid}"


def render_pool(doc: Doc, base_url: str, account_name: str, now: float | None = None) -> dict[str, Any]:
    """The pool in the data plane's shape (Pools_GetPool_Basic.json)."""
    now = clock.now() if now is None else now
    st = mgmt.pool_state(doc, now)
    arm = mgmt.render_pool(doc, now)  # secrets already stripped
    p = copy.deepcopy(arm["properties"])
    pid = pool_id(doc)
    out: dict[str, Any] = {"id": pid}
    if p.get("displayName"):
        out["displayName"] = p["displayName"]
    out["url"] = pool_url(base_url, account_name, pid)
    out["eTag"] = doc.etag
    out["lastModified"] = p["lastModified"]
    out["creationTime"] = p["creationTime"]
    out["state"] = "deleting" if st.deleting else "active"
    out["stateTransitionTime"] = clock.iso(st.provisioning_state_transition_time)
    out["allocationState"] = st.allocation_state.lower()
    out["allocationStateTransitionTime"] = clock.iso(st.allocation_state_transition_time)
    out["vmSize"] = str(p.get("vmSize", "")).lower()
    scale = p.get("scaleSettings") or {}
    auto = scale.get("autoScale")
    fixed = scale.get("fixedScale") or {}
    out["resizeTimeout"] = fixed.get("resizeTimeout") or st.resize_timeout or "PT15M"
    if st.resize_errors:
        out["resizeErrors"] = [
            {
                "code": e.get("code"),
                "message": e.get("message"),
                "values": [{"name": d.get("code"), "value": d.get("message")} for d in e.get("details") or []],
            }
            for e in st.resize_errors
        ]
    out["currentDedicatedNodes"] = st.current_dedicated
    out["currentLowPriorityNodes"] = st.current_low_priority
    if auto is not None:
        out["targetDedicatedNodes"] = st.target_dedicated
        out["targetLowPriorityNodes"] = st.target_low_priority
    else:
        out["targetDedicatedNodes"] = int(fixed.get("targetDedicatedNodes", 0) or 0)
        out["targetLowPriorityNodes"] = int(fixed.get("targetLowPriorityNodes", 0) or 0)
    out["enableAutoScale"] = auto is not None
    if auto is not None:
        out["autoScaleFormula"] = auto.get("formula")
        out["autoScaleEvaluationInterval"] = auto.get("evaluationInterval") or "PT15M"
        run = p.get("autoScaleRun")
        if run:
            dp_run: dict[str, Any] = {"timestamp": run.get("evaluationTime")}
            if run.get("results") is not None:
                dp_run["results"] = run["results"]
            if run.get("error"):
                err = run["error"]
                dp_run["error"] = {
                    "code": err.get("code"),
                    "message": err.get("message"),
                    "values": [{"name": d.get("code"), "value": d.get("message")} for d in err.get("details") or []],
                }
            out["autoScaleRun"] = dp_run
    out["enableInterNodeCommunication"] = str(p.get("interNodeCommunication", "Disabled")).lower() == "enabled"
    if p.get("networkConfiguration"):
        out["networkConfiguration"] = _translate(p["networkConfiguration"], "networkConfiguration")
    if p.get("startTask"):
        out["startTask"] = _start_task(p["startTask"])
    if p.get("applicationPackages"):
        out["applicationPackageReferences"] = [
            {
                "applicationId": mgmt.application_name_of(ref.get("id", "")),
                **({"version": ref["version"]} if ref.get("version") else {}),
            }
            for ref in p["applicationPackages"]
            if isinstance(ref, dict)
        ]
    out["taskSlotsPerNode"] = p.get("taskSlotsPerNode", 1)
    out["taskSchedulingPolicy"] = _translate(
        p.get("taskSchedulingPolicy") or {"nodeFillType": "Spread"}, "taskSchedulingPolicy"
    )
    if p.get("userAccounts"):
        out["userAccounts"] = _translate(p["userAccounts"], "userAccounts")
    if p.get("metadata"):
        out["metadata"] = [{"name": m.get("name"), "value": m.get("value", "")} for m in p["metadata"]]
    if p.get("mountConfiguration"):
        out["mountConfiguration"] = _translate(p["mountConfiguration"], "mountConfiguration")
    identity = _identity(arm.get("identity"))
    if identity is not None:
        out["identity"] = identity
    if p.get("upgradePolicy"):
        out["upgradePolicy"] = _translate(p["upgradePolicy"], "upgradePolicy")
    vmc = (p.get("deploymentConfiguration") or {}).get("virtualMachineConfiguration")
    if vmc:
        out["virtualMachineConfiguration"] = _translate(vmc, "virtualMachineConfiguration")
    return out


# -- nodes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeInfo:
    index: int
    id: str
    dedicated: bool
    state: str  # idle | running
    allocation_time: float
    running_slots: int
    start_task_info: dict[str, Any] | None = None  # as the node agent ran it (None: not run here)


def node_id(doc: Doc, index: int, dedicated: bool) -> str:
    digest = hashlib.sha256(f"{doc.key}/{index}".encode()).hexdigest()
    return f"tvmps_{digest}_{'d' if dedicated else 'p'}"


def capacity(doc: Doc, now: float) -> tuple[int, int, float]:
    """(nodes, task slots per node, time since when they are there) of a pool at `now`."""
    st = mgmt.pool_state(doc, now)
    if st.deleting or st.gone:
        return 0, 1, now
    slots = int(mgmt.pool_properties(doc).get("taskSlotsPerNode", 1) or 1)
    if st.allocation_state == "Steady":
        since = st.allocation_state_transition_time
    else:  # resizing: the nodes it has are the ones it had when the resize started
        since = doc.body["meta"].get("created", now) if st.resize_start is None else st.resize_start
        r = doc.body["meta"].get("resize") or {}
        if r and r.get("from") == [0, 0]:
            since = now
    return st.current_nodes, slots, since


def nodes(
    doc: Doc, now: float, busy: dict[int, int] | None = None, agent: dict[int, dict[str, Any]] | None = None
) -> list[NodeInfo]:
    """The pool's nodes at `now`: dedicated first, then low priority; `busy` = running slots per
    index; `agent` = the node agent's record per index (its state: starting, starttaskfailed...)."""
    st = mgmt.pool_state(doc, now)
    if st.gone:
        return []
    _, _, since = capacity(doc, now)
    busy = busy or {}
    agent = agent or {}
    out = []
    for i in range(st.current_nodes):
        dedicated = i < st.current_dedicated
        used = busy.get(i, 0)
        state = "running" if used else "idle"
        record = agent.get(i) or {}
        nid = node_id(doc, i, dedicated)
        agent_state = record.get("meta", {}).get("state") if record.get("id") == nid else None
        if agent_state in ("starting", "starttaskfailed", "unusable"):
            state = str(agent_state)
        info = record.get("startTaskInfo") if record.get("id") == nid else None
        out.append(NodeInfo(i, nid, dedicated, state, since, used, info))
    return out


def render_node(node: NodeInfo, doc: Doc, base_url: str, account_name: str, running_tasks: int = 0) -> dict[str, Any]:
    props = mgmt.readable_properties(doc)  # the start task's registry password stays out
    vmc = (props.get("deploymentConfiguration") or {}).get("virtualMachineConfiguration") or {}
    image = _translate(vmc.get("imageReference") or {}, "imageReference")
    allocated = clock.iso(node.allocation_time)
    pid = pool_id(doc)
    out: dict[str, Any] = {
        "id": node.id,
        "url": f"{pool_url(base_url, account_name, pid)}/nodes/{node.id}",
        "state": node.state,
        "schedulingState": "enabled",
        "stateTransitionTime": allocated,
        "lastBootTime": allocated,
        "allocationTime": allocated,
        "ipAddress": f"10.0.{node.index // 250}.{4 + node.index % 250}",
        "affinityId": f"TVM:{node.id}",
        "vmSize": str(props.get("vmSize", "")).lower(),
        "totalTasksRun": 0,
        "runningTasksCount": running_tasks,
        "runningTaskSlotsCount": node.running_slots,
        "totalTasksSucceeded": 0,
        "isDedicated": node.dedicated,
        "endpointConfiguration": {"inboundEndpoints": []},
        "nodeAgentInfo": {"version": NODE_AGENT_VERSION, "lastUpdateTime": allocated},
        "virtualMachineInfo": {"imageReference": image},
    }
    if props.get("startTask"):
        out["startTask"] = _start_task(props["startTask"])
    if props.get("startTask") and node.start_task_info is not None:
        out["startTaskInfo"] = copy.deepcopy(node.start_task_info)
    elif props.get("startTask"):
        out["startTaskInfo"] = {
            "state": "completed",
            "startTime": allocated,
            "endTime": allocated,
            "exitCode": 0,
            "retryCount": 0,
            "result": "success",
        }
    return out


def empty_counts() -> dict[str, int]:
    return {
        "creating": 0,
        "idle": 0,
        "offline": 0,
        "preempted": 0,
        "rebooting": 0,
        "reimaging": 0,
        "running": 0,
        "starting": 0,
        "startTaskFailed": 0,
        "leavingPool": 0,
        "unknown": 0,
        "unusable": 0,
        "waitingForStartTask": 0,
        "deallocated": 0,
        "deallocating": 0,
        "total": 0,
        "upgradingOS": 0,
    }


def node_counts(doc: Doc, node_list: list[NodeInfo]) -> dict[str, Any]:
    """One entry of GET /nodecounts: {"poolId", "dedicated": {...}, "lowPriority": {...}}."""
    dedicated, low = empty_counts(), empty_counts()
    for n in node_list:
        bucket = dedicated if n.dedicated else low
        bucket[n.state] += 1
        bucket["total"] += 1
    return {"poolId": pool_id(doc), "dedicated": dedicated, "lowPriority": low}


# -- writes through the data plane (batch_mgmt keeps the rules; this only translates) ---------------

# Data-plane enum value (lower case) -> the management API's spelling.
_MGMT_ENUM = {
    v.lower(): v
    for v in (
        "Task",
        "Pool",
        "None",
        "ReadOnly",
        "ReadWrite",
        "Requeue",
        "Terminate",
        "TaskCompletion",
        "RetainedData",
        "Spread",
        "Pack",
        "DockerCompatible",
        "CriCompatible",
        "TaskWorkingDirectory",
        "ContainerImageDefault",
        "CacheDisk",
        "OsDisk",
        "TemporaryDisk",
        "NonAdmin",
        "Admin",
        "TCP",
        "UDP",
        "BatchManaged",
        "UserManaged",
        "NoPublicIPAddresses",
        "IPv4",
        "IPv6",
        "CreationTime",
        "Batch",
        "Interactive",
        "Allow",
        "Deny",
        "Regional",
        "Zonal",
        "NonPersistedTPM",
        "VMGuestStateOnly",
        "DiskWithVMGuestState",
        "trustedLaunch",
        "confidentialVM",
        "Standard_LRS",
        "Premium_LRS",
        "StandardSSD_LRS",
        "automatic",
        "manual",
        "rolling",
    )
}
_MGMT_RENAME = {v: k for k, v in _RENAME.items()}
_LOWER_IN_MGMT = {"dynamicVNetAssignmentScope"}  # the management API spells these values in lower case too


def _to_mgmt(value: Any, parent: str = "") -> Any:
    """The inverse of `_translate`: data-plane names and enum spellings -> the management API's."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key: str = _MGMT_RENAME.get(k) or k
            if parent in ("userIdentity", "cifsMountConfiguration") and k == "username":
                key = "userName"
            if parent == "imageReference" and k == "virtualMachineImageId":
                key = "id"
            if k in _ENUM_KEYS and parent not in _KEEP_CASE_PARENTS and k not in _LOWER_IN_MGMT:
                if isinstance(v, str):
                    out[key] = _MGMT_ENUM.get(v.lower(), v)
                    continue
                if isinstance(v, list) and all(isinstance(x, str) for x in v):
                    out[key] = [_MGMT_ENUM.get(x.lower(), x) for x in v]
                    continue
            out[key] = _to_mgmt(v, k)
        return out
    if isinstance(value, list):
        return [_to_mgmt(v, parent) for v in value]
    return value


def package_refs_to_mgmt(account: Doc, refs: Any) -> list[dict[str, Any]]:
    out = []
    for ref in refs or []:
        if isinstance(ref, dict) and ref.get("applicationId"):
            app = str(ref["applicationId"])
            item: dict[str, Any] = {"id": app if app.startswith("/") else f"{account.body['id']}/applications/{app}"}
            if ref.get("version"):
                item["version"] = ref["version"]
            out.append(item)
    return out


def scale_settings(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("enableAutoScale"):
        return {
            "autoScale": {
                "formula": body.get("autoScaleFormula") or "",
                "evaluationInterval": body.get("autoScaleEvaluationInterval") or "PT15M",
            }
        }
    return {
        "fixedScale": {
            "resizeTimeout": body.get("resizeTimeout") or "PT15M",
            "targetDedicatedNodes": body.get("targetDedicatedNodes") or 0,
            "targetLowPriorityNodes": body.get("targetLowPriorityNodes") or 0,
        }
    }


def update_to_mgmt(account: Doc, body: dict[str, Any]) -> dict[str, Any]:
    """The management API's pool properties for what a data-plane add/patch names."""
    props: dict[str, Any] = {}
    for k in ("displayName", "vmSize", "taskSlotsPerNode", "metadata"):
        if body.get(k) is not None:
            props[k] = copy.deepcopy(body[k])
    if body.get("virtualMachineConfiguration") is not None:
        props["deploymentConfiguration"] = {
            "virtualMachineConfiguration": _to_mgmt(body["virtualMachineConfiguration"], "virtualMachineConfiguration")
        }
    if body.get("enableInterNodeCommunication") is not None:
        props["interNodeCommunication"] = "Enabled" if body["enableInterNodeCommunication"] else "Disabled"
    for k in (
        "networkConfiguration",
        "startTask",
        "taskSchedulingPolicy",
        "userAccounts",
        "mountConfiguration",
        "upgradePolicy",
    ):
        if body.get(k) is not None:
            props[k] = _to_mgmt(body[k], k)
    if body.get("applicationPackageReferences") is not None:
        props["applicationPackages"] = package_refs_to_mgmt(account, body["applicationPackageReferences"])
    return props
