"""Batch Shipyard configurations (config.yaml, credentials.yaml, pool.yaml, jobs.yaml) → a stack.

Shipyard drove Batch through its own node preparation (Docker installed and images pulled by its
scripts, data moved with blobxfer, SSH users added after boot). The stack maps each setting to
what Batch itself offers — container pools (containerConfiguration + containerSettings),
fixed/auto scale, multi-instance tasks — and lists the rest, with the reason, as dropped.
Recognised by the top-level keys: credentials, batch_shipyard/global_resources,
pool_specification, job_specifications.
"""

from __future__ import annotations

import re
from typing import Any

from deployer.convert import skeleton
from deployer.convert.batch_api import env_name
from deployer.convert.model import Conversion, Path

TOP_KEYS = ("credentials", "batch_shipyard", "global_resources", "pool_specification", "job_specifications")

LOGIN = ("Shipyard added this SSH login user on every node after it started. Azure Batch has no "
         "declarative pool user with an SSH public key (pool userAccounts take a password, and "
         "sshPrivateKey only for inter-node SSH): add a node login user after nodes start, e.g. "
         "`az batch node user create --pool-id POOL --node-id NODE --name USER --ssh-public-key KEY`")
POOL_REASONS = {
    "ssh": LOGIN,
    "rdp": LOGIN.replace("SSH login user", "RDP login user").replace("--ssh-public-key KEY", "--password …"),
    "gpu": "GPU driver installation was done by Shipyard's node prep: use an image with drivers or a VM extension",
    "infiniband": "Shipyard's RDMA setup: use an HPC image (e.g. microsoft-dsvm/almalinux-hpc) on an RDMA VM size",
    "transfer_files_on_pool_creation": "data ingress at pool creation is Shipyard's own: upload the files to a "
                                       "container of the stack and use resourceFiles",
    "input_data": "data ingress is Shipyard's own (blobxfer): use resourceFiles from a container of the stack",
    "block_until_all_global_resources_loaded": "Batch pulls containerImageNames before a node takes tasks",
    "reboot_on_start_task_failed": "Shipyard's node recovery; Batch marks the node unusable instead",
    "attempt_recovery_on_unusable": "Shipyard's node recovery has no Batch equivalent",
    "upload_diagnostics_logs_on_unusable": "Shipyard's diagnostics upload has no Batch equivalent",
    "remote_access_control": "use networkConfiguration.endpointConfiguration (inbound NAT pools with "
                             "networkSecurityGroupRules)",
    "public_ips": "use networkConfiguration.publicIPAddressConfiguration with ipAddressIds",
    "container_runtimes": "Batch installs a Docker-compatible runtime; other runtimes need a start task",
    "per_job_auto_scratch": "Shipyard's per-job scratch volume has no Batch equivalent",
    "batch_insights_enabled": "Batch Insights was a Shipyard add-on",
    "prometheus": "Shipyard's Prometheus exporters have no Batch equivalent",
    "certificates": "Batch certificates were retired (February 2024); use Key Vault through a VM extension",
    "resource_files": "pool-level resource files were downloaded by Shipyard's node prep: add them to the "
                      "start task's resourceFiles",
}
JOB_REASONS = {
    "input_data": "data ingress is Shipyard's own (blobxfer): use resourceFiles from a container of the stack",
    "output_data": "data egress is Shipyard's own (blobxfer): use outputFiles to a container of the stack",
    "task_factory": "task factories generated tasks at submission: list the tasks, or generate them with the "
                    "stack's Jinja2 templating ({% for %})",
    "merge_task": "a merge task depends on factory-generated tasks: add it as a task with dependsOn",
    "auto_pool": "auto pools are not in the stack format yet: declare the pool under `pools`",
    "recurrence": "recurring jobs: declare a job schedule under `jobSchedules`",
    "gpus": "GPU access was arranged by Shipyard: add `--gpus all` to containerRunOptions on a GPU image",
    "gpu": "GPU access was arranged by Shipyard: add `--gpus all` to containerRunOptions on a GPU image",
    "infiniband": "Shipyard's RDMA setup has no declarative Batch equivalent",
    "singularity_image": "Singularity tasks: Batch runs Docker-compatible containers only",
    "data_volumes": "Shipyard's Docker volumes: mount storage with the pool's mountConfiguration",
    "shared_data_volumes": "Shipyard's shared volumes: mount storage with the pool's mountConfiguration",
    "environment_variables_keyvault_secret_id": "Key Vault environment secrets were fetched by Shipyard: "
                                                "read the secret in the task with the pool's identity",
    "mpi": "Shipyard wrapped the command in mpirun itself: write the mpirun line into commandLine",
    "shm_size": "use containerRunOptions: --shm-size",
    "allow_run_on_missing_image": "Shipyard's image check has no Batch equivalent",
    "federation_constraints": "Shipyard federations have no Batch equivalent",
    "exclusive": "use the job's maxParallelTasks or the pool's taskSlotsPerNode",
    "multi_instance_auto_complete": "Batch completes a multi-instance task with its primary",
}
CONFIG_REASONS = {
    "docker_volumes": "Shipyard's Docker volumes: mount storage with the pool's mountConfiguration",
    "volumes": "Shipyard's Docker volumes: mount storage with the pool's mountConfiguration",
    "singularity_images": "Batch runs Docker-compatible containers only",
    "data_replication": "Shipyard's peer-to-peer image distribution has no Batch equivalent",
}

# platform images Shipyard knew → Batch node agent SKU (Shipyard derived it; the stack states it)
NODE_AGENTS = [
    (r"ubuntuserver|ubuntu-server", r"16\.04", "batch.node.ubuntu 16.04"),
    (r"ubuntuserver|ubuntu-server", r"18\.04", "batch.node.ubuntu 18.04"),
    (r"focal|ubuntu", r"20[._]04", "batch.node.ubuntu 20.04"),
    (r"jammy|ubuntu", r"22[._]04", "batch.node.ubuntu 22.04"),
    (r"centos", r"^7", "batch.node.centos 7"),
    (r"centos", r"^8", "batch.node.centos 8"),
    (r"debian", r"10", "batch.node.debian 10"),
    (r"windows", r".", "batch.node.windows amd64"),
]


def is_shipyard(data: Any) -> bool:
    return isinstance(data, dict) and any(k in data for k in TOP_KEYS)


def convert(conv: Conversion, files: list[tuple[str, dict[str, Any]]]) -> None:
    merged: dict[str, tuple[str, Any]] = {}
    for name, data in files:
        for key, value in data.items():
            if key in TOP_KEYS:
                merged[key] = (name, value)
            else:
                conv.drop(f"{name}: {key}", (), "not a Shipyard section the stack format can express "
                          "(RemoteFS, monitoring, federation and Slurm clusters are Shipyard's own)")
    pool_file, pool_spec = merged.get("pool_specification", ("pool.yaml", {}))
    pool_id = str(pool_spec.get("id", "pool")) if isinstance(pool_spec, dict) else "pool"
    creds_file, creds = merged.get("credentials", ("credentials.yaml", {}))
    location = _credentials_location(creds)
    skeleton.start(conv, pool_id, location)
    registries = _credentials(conv, creds_file, creds or {})
    config_file, settings = merged.get("batch_shipyard", ("config.yaml", {}))
    _batch_shipyard(conv, config_file, settings or {})
    res_file, resources = merged.get("global_resources", ("config.yaml", {}))
    images, pool_registries = _global_resources(conv, res_file, resources or {}, registries)
    if isinstance(pool_spec, dict) and pool_spec:
        _pool(conv, pool_file, pool_spec, images, pool_registries)
    jobs_file, jobs = merged.get("job_specifications", ("jobs.yaml", []))
    for i, job in enumerate(jobs or []):
        _job(conv, f"{jobs_file}: job_specifications.{i}", job, pool_id, pool_spec or {})


def _placeholder(value: Any) -> bool:
    return not isinstance(value, str) or not value or value.startswith("<")


def _credentials_location(creds: Any) -> str | None:
    url = (((creds or {}).get("batch") or {}).get("account_service_url")) if isinstance(creds, dict) else None
    m = re.match(r"https://([a-z0-9]+)\.([a-z0-9]+)\.batch\.azure\.com", url or "")
    return m.group(2) if m else None


def _credentials(conv: Conversion, file: str, creds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    src = f"{file}: credentials"
    registries: dict[str, dict[str, Any]] = {}
    for key, value in creds.items():
        here = f"{src}.{key}"
        if key == "batch" and isinstance(value, dict):
            url = value.get("account_service_url")
            m = re.match(r"https://([a-z0-9]+)\.([a-z0-9]+)\.batch\.azure\.com", url or "")
            if m:
                skeleton.batch_account(conv, m.group(1))
            else:
                skeleton.batch_account(conv)
                conv.review(f"{here}.account_service_url", ("batchAccounts", "main"),
                            "no account URL given (a placeholder): the Batch account name is made up, pick your own")
            for sub in value:
                if sub == "account_service_url":
                    continue
                reason = {"account_key": "not needed: the deployer signs in with Azure AD "
                                         "(DefaultAzureCredential) and never uses account keys",
                          "aad": "the deployer signs in with DefaultAzureCredential (az login, managed or "
                                 "workload identity)",
                          "resource_group": "the stack's target.resourceGroup holds its accounts"}.get(
                              sub, "no equivalent in the stack format")
                if sub == "resource_group" and not _placeholder(value[sub]):
                    conv.stack["target"]["resourceGroup"] = value[sub]
                    continue
                conv.drop(f"{here}.{sub}", ("batchAccounts", "main"), reason)
        elif key == "storage" and isinstance(value, dict):
            for logical, acct in value.items():
                name = acct.get("account") if isinstance(acct, dict) else None
                skeleton.storage_account(conv, _logical(logical), None if _placeholder(name) else name)
                if _placeholder(name):
                    conv.review(f"{here}.{logical}.account", ("storageAccounts", _logical(logical)),
                                "no account name given (a placeholder): the name is made up, pick your own")
                for sub in (acct or {}):
                    if sub == "account" or (sub == "endpoint" and acct[sub] == "core.windows.net"):
                        continue
                    reason = ("not needed: the deployer reads keys through Azure Resource Manager when a "
                              "mount needs one" if sub in ("account_key", "sas_key") else
                              "the stack's target.cloud names a sovereign cloud" if sub == "endpoint" else
                              "no equivalent in the stack format")
                    conv.drop(f"{here}.{logical}.{sub}", ("storageAccounts", _logical(logical)), reason)
        elif key == "docker_registry" and isinstance(value, dict):
            for server, login in value.items():
                registries[server] = login if isinstance(login, dict) else {}
        elif key == "management" and isinstance(value, dict):
            for sub, item in value.items():
                if sub == "subscription_id" and not _placeholder(item):
                    conv.stack["target"]["subscription"] = item
                    continue
                conv.drop(f"{here}.{sub}", ("target",), "the deployer signs in with DefaultAzureCredential"
                          if sub == "aad" else "no equivalent in the stack format")
        else:
            conv.drop(here, (), "no equivalent in the stack format (the deployer reads no credentials file)")
    return registries


def _logical(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_-]", "-", name)
    return text if text[:1].isalpha() else f"s{text}"


def _batch_shipyard(conv: Conversion, file: str, settings: dict[str, Any]) -> None:
    for key, value in settings.items():
        if key == "storage_account_settings":
            skeleton.auto_storage(conv, _logical(str(value)))
            continue
        conv.drop(f"{file}: batch_shipyard.{key}", (), "Shipyard's own settings (its metadata tables, "
                  "SAS expiry, encryption of its config) have no equivalent in the stack format")


def _global_resources(conv: Conversion, file: str, res: dict[str, Any],
                      logins: dict[str, dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    images: list[str] = []
    registries: list[dict[str, Any]] = []
    for key, value in res.items():
        here = f"{file}: global_resources.{key}"
        if key == "docker_images" and isinstance(value, list):
            images = [str(v) for v in value]
        elif key == "files" and isinstance(value, list):
            for i, entry in enumerate(value):
                _ingress(conv, f"{here}.{i}", entry)
        elif key == "additional_registries" and isinstance(value, dict):
            for kind, servers in value.items():
                if kind != "docker":
                    conv.drop(f"{here}.{kind}", (), "Batch logs in to Docker registries only")
                    continue
                for server in servers or []:
                    registries.append(_registry(conv, here, server, logins.get(server, {})))
        else:
            conv.drop(here, (), CONFIG_REASONS.get(key, "no equivalent in the stack format"))
    return images, registries


def _ingress(conv: Conversion, src: str, entry: Any) -> None:
    """`data ingress` of local files into a container → the container's `upload:`."""
    source = entry.get("source") if isinstance(entry, dict) else None
    dest = entry.get("destination") if isinstance(entry, dict) else None
    path = source.get("path") if isinstance(source, dict) else None
    transfer = dest.get("data_transfer") if isinstance(dest, dict) else None
    remote = transfer.get("remote_path") if isinstance(transfer, dict) else None
    if (not isinstance(source, dict) or not isinstance(dest, dict) or not isinstance(transfer, dict)
            or not isinstance(path, str) or not isinstance(remote, str) or not remote.strip("/")):
        conv.drop(src, (), "only local files into a blob container (source.path, destination.data_transfer."
                  "remote_path) become an upload; this ingress goes elsewhere (a file share, a remote filesystem)")
        return
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path) or ".." in path.split("/"):
        conv.drop(src, (), f"the files come from {path!r}, outside the stack's folder: copy them beside the "
                  "stack and declare `upload: {from: …}` on the container")
        return
    container, _, rest = remote.strip("/").partition("/")
    logical = _logical(str(dest.get("storage_account_settings") or skeleton.STORAGE))
    skeleton.storage_account(conv, logical)
    includes = [str(p) for p in (source.get("include") or [])]
    upload: dict[str, Any] = {"from": path}
    if len(includes) == 1:
        upload["pattern"] = includes[0] if "/" in includes[0] else f"**/{includes[0]}"
    if rest:
        upload["prefix"] = rest + "/"
    containers = skeleton.storage_account(conv, logical).setdefault("containers", [])
    containers[:] = [c for c in containers
                     if c != container and not (isinstance(c, dict) and c.get("name") == container)]
    containers.append({"name": container, "upload": upload})
    address: Path = ("storageAccounts", logical, "containers")
    conv.review(src, address, f"Shipyard's `data ingress` of {path} became an upload into container {container} "
                "(applied with the stack; `from` is relative to the stack file)")
    for key in sorted(set(source) - {"path", "include"}):
        conv.drop(f"{src}.source.{key}", address, "the upload takes one `pattern`" if key == "exclude"
                  else "no equivalent in the stack format")
    if len(includes) > 1:
        conv.drop(f"{src}.source.include", address, "the upload takes one `pattern`: split it into containers "
                  "or widen the pattern")
        upload.pop("pattern", None)
    for key in sorted(set(transfer) - {"remote_path"}):
        conv.drop(f"{src}.destination.data_transfer.{key}", address, "blobxfer's transfer options have no "
                  "equivalent: uploads are parallel and chunked by the deployer")


def _registry(conv: Conversion, src: str, server: str, login: dict[str, Any]) -> dict[str, Any]:
    reg: dict[str, Any] = {"registryServer": server}
    if login.get("username"):
        reg["username"] = login["username"]
        reg["password"] = conv.secret(f"{src}.{server}", (), env_name(server.split(".")[0], "registry_password"))
    return reg


def _pool(conv: Conversion, file: str, spec: dict[str, Any], images: list[str],
          registries: list[dict[str, Any]]) -> None:
    src = f"{file}: pool_specification"
    pool_id = str(spec.get("id", "pool"))
    address: Path = ("batchAccounts", "main", "pools", pool_id)
    conv.came_from(address, src)
    pool: dict[str, Any] = {}
    vmc: dict[str, Any] = {}
    for key, value in spec.items():
        here = f"{src}.{key}"
        if key == "id":
            continue
        if key == "vm_size":
            pool["vmSize"] = value
        elif key == "vm_configuration" and isinstance(value, dict):
            vmc = _image(conv, here, value, address)
        elif key == "vm_count" and isinstance(value, dict):
            fixed = pool.setdefault("scaleSettings", {}).setdefault("fixedScale", {})
            for sub, item in value.items():
                name = {"dedicated": "targetDedicatedNodes", "low_priority": "targetLowPriorityNodes"}.get(sub)
                if name:
                    fixed[name] = item
                else:
                    conv.drop(f"{here}.{sub}", address, "no equivalent in the stack format")
        elif key == "resize_timeout":
            pool.setdefault("scaleSettings", {}).setdefault("fixedScale", {})["resizeTimeout"] = _duration(value)
        elif key == "autoscale" and isinstance(value, dict):
            if value.get("formula"):
                auto = {"formula": value["formula"]}
                if value.get("evaluation_interval"):
                    auto["evaluationInterval"] = _duration(value["evaluation_interval"])
                pool["scaleSettings"] = {"autoScale": auto}
            for sub in value:
                if sub not in ("formula", "evaluation_interval"):
                    conv.drop(f"{here}.{sub}", address, "Shipyard's autoscale scenarios generated a formula: "
                              "write the formula in scaleSettings.autoScale" if sub == "scenario"
                              else "no equivalent in the stack format")
        elif key in ("max_tasks_per_node", "task_slots_per_node"):
            pool["taskSlotsPerNode"] = value
        elif key == "node_fill_type":
            pool["taskSchedulingPolicy"] = {"nodeFillType": str(value).capitalize()}
        elif key == "inter_node_communication_enabled":
            pool["interNodeCommunication"] = "Enabled" if value else "Disabled"
        elif key == "additional_node_prep" and isinstance(value, dict):
            _node_prep(conv, here, value, pool, address)
        elif key == "virtual_network" and isinstance(value, dict):
            _network(conv, here, value, pool, address)
        else:
            conv.drop(here, address, POOL_REASONS.get(key, "no equivalent in the stack format"))
    if images or registries:
        cc: dict[str, Any] = {"type": "DockerCompatible"}
        if images:
            cc["containerImageNames"] = images
        if registries:
            cc["containerRegistries"] = registries
        vmc["containerConfiguration"] = cc
    if "scaleSettings" in pool and "autoScale" in pool["scaleSettings"] and "fixedScale" in pool["scaleSettings"]:
        del pool["scaleSettings"]["fixedScale"]
        conv.drop(f"{src}.vm_count", address, "Batch ignores the node counts when autoscale is enabled")
    pool["deploymentConfiguration"] = {"virtualMachineConfiguration": vmc}
    ordered: dict[str, Any] = {k: pool[k] for k in ("vmSize", "deploymentConfiguration") if k in pool}
    ordered.update({k: v for k, v in pool.items() if k not in ordered})
    skeleton.pools(conv)[pool_id] = ordered


def _image(conv: Conversion, src: str, value: dict[str, Any], address: Path) -> dict[str, Any]:
    vmc: dict[str, Any] = {}
    for key, image in value.items():
        here = f"{src}.{key}"
        if key == "platform_image" and isinstance(image, dict):
            ref = {k: image[k] for k in ("publisher", "offer", "sku", "version") if k in image}
            ref.setdefault("version", "latest")
            vmc["imageReference"] = ref
            vmc["nodeAgentSkuId"] = _node_agent(ref)
            conv.review(here, address, f"Shipyard derived the node agent; the stack states it: {vmc['nodeAgentSkuId']}")
            for sub in image:
                if sub not in ref:
                    conv.drop(f"{here}.{sub}", address, "Shipyard's native-container mode: the stack's pool "
                              "is always a Batch container pool" if sub == "native"
                              else "no equivalent in the stack format")
        elif key == "custom_image" and isinstance(image, dict):
            if image.get("arm_image_id"):
                vmc["imageReference"] = {"id": image["arm_image_id"]}
            if image.get("node_agent"):
                vmc["nodeAgentSkuId"] = image["node_agent"]
            for sub in image:
                if sub not in ("arm_image_id", "node_agent"):
                    conv.drop(f"{here}.{sub}", address, "no equivalent in the stack format")
        else:
            conv.drop(here, address, "no equivalent in the stack format")
    return vmc


def _node_agent(ref: dict[str, Any]) -> str:
    offer = f"{ref.get('publisher', '')} {ref.get('offer', '')}".lower()
    sku = str(ref.get("sku", "")).lower()
    for offer_re, sku_re, agent in NODE_AGENTS:
        if re.search(offer_re, offer) and re.search(sku_re, sku):
            return agent
    return "batch.node.ubuntu 22.04"


def _duration(value: Any) -> Any:
    """Shipyard wrote durations as HH:MM:SS or D.HH:MM:SS (Python timedelta); Batch wants ISO 8601."""
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d+):(\d+)", str(value))
    if not m:
        return value
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups())
    text = "P" + (f"{days}D" if days else "") + "T"
    text += (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{seconds}S" if seconds else "")
    return text if text != "PT" else "PT0S"


def _node_prep(conv: Conversion, src: str, prep: dict[str, Any], pool: dict[str, Any], address: Path) -> None:
    commands = prep.get("commands") or {}
    lines = [*(commands.get("pre") or []), *(commands.get("post") or [])]
    if lines:
        joined = " && ".join(str(c) for c in lines).replace('"', '\\"')
        pool["startTask"] = {"commandLine": f'/bin/bash -c "{joined}"',
                             "userIdentity": {"autoUser": {"scope": "Pool", "elevationLevel": "Admin"}},
                             "waitForSuccess": True}
        conv.review(f"{src}.commands", address, "Shipyard ran these around its own node prep; here they are "
                    "the pool's start task, run as admin")
    env = prep.get("environment_variables")
    if isinstance(env, dict) and "startTask" in pool:
        pool["startTask"]["environmentSettings"] = [{"name": k, "value": str(v)} for k, v in env.items()]
    for sub in prep:
        carried = sub == "commands" or (sub == "environment_variables" and "startTask" in pool)
        if not carried:
            conv.drop(f"{src}.{sub}", address, "no equivalent in the stack format")


def _network(conv: Conversion, src: str, net: dict[str, Any], pool: dict[str, Any], address: Path) -> None:
    if net.get("arm_subnet_id"):
        pool["networkConfiguration"] = {"subnetId": net["arm_subnet_id"]}
        handled = {"arm_subnet_id"}
    elif net.get("name") and isinstance(net.get("subnet"), dict):
        subnet = net["subnet"]
        logical = _logical(str(net["name"]))
        sub_logical = _logical(str(subnet.get("name", "nodes")))
        network = {"name": net["name"], "addressSpace": [net.get("address_space", "10.0.0.0/16")],
                   "subnets": {sub_logical: {"addressPrefix": subnet.get("address_prefix", "10.0.0.0/20")}}}
        conv.stack.setdefault("networks", {})[logical] = network
        pool["networkConfiguration"] = {"subnet": f"{logical}.{sub_logical}"}
        handled = {"name", "address_space", "subnet", "create_nonexistent", "resource_group"}
        for sub in subnet:
            if sub not in ("name", "address_prefix"):
                conv.drop(f"{src}.subnet.{sub}", address, "no equivalent in the stack format")
    else:
        handled = set()
    for sub in net:
        if sub not in handled:
            conv.drop(f"{src}.{sub}", address, "no equivalent in the stack format")


def _job(conv: Conversion, src: str, spec: dict[str, Any], pool_id: str, pool_spec: dict[str, Any]) -> None:
    job_id = str(spec.get("id", "job"))
    address: Path = ("batchAccounts", "main", "jobs", job_id)
    job: dict[str, Any] = {"pool": pool_id}
    job_container: dict[str, Any] = {}
    tasks: list[dict[str, Any]] = []
    for key, value in spec.items():
        here = f"{src}.{key}"
        if key == "id":
            continue
        if key == "auto_complete":
            job["onAllTasksComplete"] = "terminatejob" if value else "noaction"
        elif key == "priority":
            job["priority"] = value
        elif key == "environment_variables" and isinstance(value, dict):
            job["commonEnvironmentSettings"] = [{"name": k, "value": str(v)} for k, v in value.items()]
        elif key == "max_task_retries":
            job.setdefault("constraints", {})["maxTaskRetryCount"] = value
        elif key == "max_wall_time":
            job.setdefault("constraints", {})["maxWallClockTime"] = _duration(value)
        elif key == "max_parallel_tasks":
            job["maxParallelTasks"] = value
        elif key in ("remove_container_after_exit",):
            job_container["rm"] = value
        elif key == "tasks" and isinstance(value, list):
            for i, task in enumerate(value):
                converted = _task(conv, f"{here}.{i}", task, address, len(tasks), pool_spec)
                if converted is not None:
                    tasks.append(converted)
        else:
            conv.drop(here, address, JOB_REASONS.get(key, "no equivalent in the stack format"))
    if any("dependsOn" in t for t in tasks):
        job["usesTaskDependencies"] = True
    if tasks:
        job["tasks"] = tasks
    skeleton.jobs(conv)[job_id] = job


def _task(conv: Conversion, src: str, spec: dict[str, Any], job_address: Path, index: int,
          pool_spec: dict[str, Any]) -> dict[str, Any] | None:
    if "task_factory" in spec:
        conv.drop(src, job_address, JOB_REASONS["task_factory"])
        return None
    task: dict[str, Any] = {"id": str(spec.get("id", f"task-{index:05d}"))}
    address: Path = (*job_address, "tasks", index)
    run_options: list[str] = []
    for key, value in spec.items():
        here = f"{src}.{key}"
        if key == "id":
            continue
        if key == "command":
            task["commandLine"] = str(value)
            if spec.get("docker_image") and not str(value).startswith(("/", "bash", "sh ", "python")):
                conv.review(here, address, "Shipyard passed this to the image's entrypoint; Batch runs the "
                            "command line in the container the same way, check it")
        elif key == "docker_image":
            task.setdefault("containerSettings", {})["imageName"] = value
        elif key == "environment_variables" and isinstance(value, dict):
            task["environmentSettings"] = [{"name": k, "value": str(v)} for k, v in value.items()]
        elif key == "resource_files" and isinstance(value, list):
            files = []
            for i, r in enumerate(value):
                url = r.get("blob_source") or r.get("http_url") if isinstance(r, dict) else None
                if not isinstance(url, str) or not re.match(r"https?://", url):
                    conv.drop(f"{here}.{i}", address, f"the source {url!r} is not a URL (a placeholder?)")
                    continue
                f: dict[str, Any] = {"httpUrl": url, "filePath": r.get("file_path") or url.rsplit("/", 1)[-1]}
                if r.get("file_mode"):
                    f["fileMode"] = str(r["file_mode"])
                files.append(f)
            if files:
                task["resourceFiles"] = files
        elif key == "depends_on" and isinstance(value, list):
            task.setdefault("dependsOn", {})["taskIds"] = [str(v) for v in value]
        elif key == "depends_on_range" and isinstance(value, list) and len(value) == 2:
            task.setdefault("dependsOn", {})["taskIdRanges"] = [{"start": value[0], "end": value[1]}]
        elif key == "max_task_retries":
            task.setdefault("constraints", {})["maxTaskRetryCount"] = value
        elif key == "max_wall_time":
            task.setdefault("constraints", {})["maxWallClockTime"] = _duration(value)
        elif key == "retention_time":
            task.setdefault("constraints", {})["retentionTime"] = _duration(value)
        elif key == "additional_docker_run_options" and isinstance(value, list):
            run_options += [str(v) for v in value]
        elif key == "remove_container_after_exit":
            if value:
                run_options.append("--rm")
        elif key == "multi_instance" and isinstance(value, dict):
            task["multiInstanceSettings"] = _multi_instance(conv, here, value, address, pool_spec)
        else:
            conv.drop(here, address, JOB_REASONS.get(key, "no equivalent in the stack format"))
    if run_options and "containerSettings" in task:
        task["containerSettings"]["containerRunOptions"] = " ".join(run_options)
    if "commandLine" not in task:
        conv.drop(src, job_address, "a task without a command: Batch needs a command line")
        return None
    return task


def _multi_instance(conv: Conversion, src: str, mi: dict[str, Any], address: Path,
                    pool_spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mi.items():
        here = f"{src}.{key}"
        if key == "num_instances":
            if isinstance(value, int):
                out["numberOfInstances"] = value
            else:
                out["numberOfInstances"] = "pool"
                count = pool_spec.get("vm_count") or {}
                if (count.get("low_priority") or 0) and (count.get("dedicated") or 0):
                    conv.review(here, address, f"{value}: `pool` counts dedicated and spot nodes together")
        elif key == "coordination_command":
            if value:
                out["coordinationCommandLine"] = str(value)
        elif key == "resource_files":
            conv.drop(here, address, "use multiInstanceSettings.commonResourceFiles (needs URLs)")
        else:
            conv.drop(here, address, JOB_REASONS.get(key, "no equivalent in the stack format"))
    if "coordinationCommandLine" not in out:
        out["coordinationCommandLine"] = "/bin/bash -c true"
        conv.review(src, address, "Shipyard started the container on every node itself; Batch needs a "
                    "coordination command, here one that does nothing")
    return out
