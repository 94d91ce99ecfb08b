"""Every name a stack uses to point at another of its resources must resolve.

References are by logical name (the keys of `storageAccounts`, `networks`, pools...), so a typo
is caught here, with the names that do exist, instead of at apply time as an Azure 404.
"""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

from deployer.stack.checks.view import Node, StackView, mapping, sequence, sub
from deployer.stack.loader import PathKey


def check(view: StackView) -> None:
    storage = {node.name: node for node in view.storage_accounts()}
    networks = {node.name: node for node in view.networks()}
    for account in view.batch_accounts():
        _auto_storage(view, account, storage)
        _applications(view, account)
        pools = {node.name for node in view.children(account, "pools")}
        for pool in view.children(account, "pools"):
            _subnet(view, pool, networks)
            _mounts(view, pool, storage)
            _package_refs(view, account, pool.value.get("applicationPackages"), (*pool.path, "applicationPackages"))
        for job in view.children(account, "jobs"):
            _pool_ref(view, job.value.get("pool"), (*job.path, "pool"), pools, account)
            auto = job.value.get("autoPool")
            if isinstance(auto, dict):  # an auto pool's template (issue 17)
                _pool_ref(view, auto.get("template"), (*job.path, "autoPool", "template"), pools, account)
            _tasks(view, account, job, storage)
        for schedule in view.children(account, "jobSchedules"):
            spec = sub(schedule, "jobSpecification")
            if spec is not None:
                _pool_ref(view, spec.value.get("pool"), (*spec.path, "pool"), pools, account)


def _missing(view: StackView, path: PathKey, what: str, name: object, known: list[str], where: str) -> None:
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.5)  # short ids: p1 ~ p2
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif known:
        hint = f"; the stack defines {', '.join(sorted(known))}"
    else:
        hint = f"; the stack defines no {what}s{where}"
    view.error(path, f"{what} {name!r} is not defined{where}{hint}")


def _auto_storage(view: StackView, account: Node, storage: dict[str, Node]) -> None:
    value = account.value.get("autoStorage")
    path: PathKey = (*account.path, "autoStorage")
    if isinstance(value, dict):
        value, path = value.get("storageAccount"), (*path, "storageAccount")
    if isinstance(value, str) and value not in storage:
        _missing(view, path, "storage account", value, list(storage), " in storageAccounts")


def _applications(view: StackView, account: Node) -> None:
    for app in view.children(account, "applications"):
        versions = mapping(app.value.get("versions"))
        default = app.value.get("defaultVersion")
        if isinstance(default, str) and default not in versions:
            _missing(view, (*app.path, "defaultVersion"), "version", default, list(versions),
                     f" in application {app.name!r}")
        for version in view.children(app, "versions"):
            file = version.value.get("file")
            if not isinstance(file, str):
                continue
            target = view.base_dir / file
            problem = package_file_problem(target)
            if problem:
                view.error((*version.path, "file"), f"application package file {file!r} {problem}")


def package_file_problem(target: Path) -> str:
    """Why an application zip cannot be uploaded, or "": it must be a regular file (a device or a
    pipe would be read forever), and a name the file system refuses is said so, not raised."""
    try:
        info = target.stat()
    except FileNotFoundError:
        return f"not found (looked for {target}); paths are relative to the stack file"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or type(exc).__name__}"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file; give the path of a zip file"
    return ""


def _package_refs(view: StackView, account: Node, refs: object, path: PathKey) -> None:
    apps = {node.name: node for node in view.children(account, "applications")}
    for index, ref in enumerate(sequence(refs)):
        if not isinstance(ref, dict):
            continue
        name = ref.get("application")
        if not isinstance(name, str) or name.startswith("/"):
            continue  # an ARM id of an application outside the stack: Azure resolves it
        if name not in apps:
            _missing(view, (*path, index, "application"), "application", name, list(apps),
                     f" in Batch account {account.name!r}")
            continue
        versions = mapping(apps[name].value.get("versions"))
        version = ref.get("version")
        if isinstance(version, str) and version not in versions:
            _missing(view, (*path, index, "version"), "version", version, list(versions),
                     f" of application {name!r}")
        elif version is None and "defaultVersion" not in apps[name].value:
            view.error((*path, index),
                       f"application {name!r} has no defaultVersion; give `version:` here or "
                       "set `defaultVersion` on the application")


def _pool_ref(view: StackView, pool: object, path: PathKey, pools: set[str], account: Node) -> None:
    if isinstance(pool, str) and pool not in pools:
        _missing(view, path, "pool", pool, list(pools), f" in Batch account {account.name!r}")


def _subnet(view: StackView, pool: Node, networks: dict[str, Node]) -> None:
    config = sub(pool, "networkConfiguration")
    if config is None or not isinstance(config.value.get("subnet"), str):
        return
    ref: str = config.value["subnet"]
    path = (*config.path, "subnet")
    network_name, _, subnet_name = ref.partition(".")
    if not subnet_name:
        view.error(path, f"subnet reference {ref!r} must be NETWORK.SUBNET (logical names), "
                   "or use subnetId with a full resource id")
        return
    if network_name not in networks:
        _missing(view, path, "network", network_name, list(networks), " in networks")
        return
    subnets = mapping(networks[network_name].value.get("subnets"))
    if subnet_name not in subnets:
        _missing(view, path, "subnet", subnet_name, list(subnets), f" in network {network_name!r}")


def _mounts(view: StackView, pool: Node, storage: dict[str, Node]) -> None:
    for mount in view.items(pool, "mountConfiguration"):
        files = sub(mount, "azureFileShareConfiguration")
        if files is not None and isinstance(files.value.get("storage"), str):
            account = _storage_ref(view, files, storage)
            share = files.value.get("share")
            if account is not None and isinstance(share, str):
                shares = mapping(account.value.get("fileShares"))
                if share not in shares:
                    _missing(view, (*files.path, "share"), "file share", share, list(shares),
                             f" in storage account {account.name!r}")
        blobs = sub(mount, "azureBlobFileSystemConfiguration")
        if blobs is not None and isinstance(blobs.value.get("storage"), str):
            account = _storage_ref(view, blobs, storage)
            container = blobs.value.get("containerName")
            if account is not None and isinstance(container, str):
                names = container_names(account)
                if container not in names:
                    _missing(view, (*blobs.path, "containerName"), "container", container, names,
                             f" in storage account {account.name!r}")


def _storage_ref(view: StackView, config: Node, storage: dict[str, Node]) -> Node | None:
    name = config.value["storage"]
    if name not in storage:
        _missing(view, (*config.path, "storage"), "storage account", name, list(storage), " in storageAccounts")
        return None
    return storage[name]


def container_names(account: Node) -> list[str]:
    names = []
    for entry in sequence(account.value.get("containers")):
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str):
            names.append(name)
    return names


def _tasks(view: StackView, account: Node, job: Node, storage: dict[str, Node]) -> None:
    tasks = list(view.items(job, "tasks"))
    ids = {t.value["id"] for t in tasks if isinstance(t.value.get("id"), str)}
    uses_dependencies = job.value.get("usesTaskDependencies") is True
    for task in tasks:
        _package_refs(view, account, task.value.get("applicationPackageReferences"),
                      (*task.path, "applicationPackageReferences"))
        depends = sub(task, "dependsOn")
        if depends is None:
            continue
        if not uses_dependencies:
            view.error(depends.path, f"task depends on other tasks but job {job.name!r} does not set "
                       "`usesTaskDependencies: true`", key=True)
        for index, other in enumerate(sequence(depends.value.get("taskIds"))):
            if isinstance(other, str) and other not in ids:
                _missing(view, (*depends.path, "taskIds", index), "task", other, sorted(ids),
                         f" in job {job.name!r}")
            elif other == task.value.get("id"):
                view.error((*depends.path, "taskIds", index), f"task {other!r} depends on itself")
