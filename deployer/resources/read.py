"""Read the live state a stack can touch: one list call per collection, in parallel.

Never a GET per resource (DESIGN.md principle 6): the resource group's storage accounts,
networks and Batch accounts are three list calls; then, for each account that matters (declared
by the stack or owned by it), its containers, shares, pools, applications, jobs and schedules are
one list each, all in flight at once. Tasks are read only for a job whose recorded task digest
moved (`list_tasks`: one `$select` listing pass of that job), never a GET per task.

Everything comes back as REST JSON (Azure's camelCase shape), the form the kinds' canonical_live
functions take. Management models are serialized with `serialize(keep_readonly=True)`; the Batch
data-plane models are already mappings with REST names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from deployer.errors import AzureError
from deployer.resources.ownership import STACK_KEY
from deployer.stack.model import Kind, Stack

# The fields a plan needs from a job; everything else (stats) stays on the server. executionInfo
# names a job's auto pool (poolId): Batch's pool for the stack's job, not foreign to its account.
JOB_SELECT = [
    "id", "displayName", "eTag", "lastModified", "state", "priority", "maxParallelTasks", "allowTaskPreemption",
    "constraints", "poolInfo", "onAllTasksComplete", "onTaskFailure", "usesTaskDependencies", "metadata",
    "jobManagerTask", "jobPreparationTask", "jobReleaseTask", "commonEnvironmentSettings", "executionInfo",
]


@dataclass
class LiveAccount:
    """A Batch account and what lives inside it, each keyed by its Azure name (ids lower-cased)."""

    account: dict[str, Any]
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LiveStorage:
    account: dict[str, Any]
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    shares: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LiveState:
    """Everything read, keyed by Azure name (lower-cased where Azure compares names so)."""

    resource_group_exists: bool = True
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    security_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-cased name
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)  # by lower-cased name
    storage: dict[str, LiveStorage] = field(default_factory=dict)
    batch: dict[str, LiveAccount] = field(default_factory=dict)


def rest(model: Any) -> dict[str, Any]:
    """A management or data-plane SDK model as Azure's REST JSON."""
    if isinstance(model, dict):
        return model
    serialize = getattr(model, "serialize", None)
    if callable(serialize):
        return dict(serialize(keep_readonly=True))
    as_dict = getattr(model, "as_dict", None)
    if callable(as_dict):
        return dict(as_dict())
    return dict(model)


def _tags(document: dict[str, Any]) -> dict[str, str]:
    return document.get("tags") or {}


def owned_by(document: dict[str, Any], stack: str) -> bool:
    return _tags(document).get(STACK_KEY) == stack


def read_live(stack: Stack, clients: Any, *, parallelism: int = 16) -> LiveState:
    """Read what the stack declares or owns in its resource group, in as few requests as the APIs allow."""
    rg = stack.target.resource_group
    if not rg:
        raise AzureError("the stack's target has no resourceGroup: nothing to read")
    wanted_storage = {r.name for r in stack.of_kind(Kind.STORAGE_ACCOUNT)}
    wanted_batch = {r.name for r in stack.of_kind(Kind.BATCH_ACCOUNT)}
    wanted_networks = {r.name.lower() for r in stack.of_kind(Kind.NETWORK)}
    wanted_groups = {r.name.lower() for r in stack.of_kind(Kind.SECURITY_GROUP)}
    state = LiveState()
    if not _call("resource group", lambda: clients.resource.resource_groups.check_existence(rg)):
        state.resource_group_exists = False
        return state  # nothing exists yet: everything will be created
    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="read") as pool:
        networks = pool.submit(_list, "virtual networks", lambda: clients.network.virtual_networks.list(rg))
        storage = pool.submit(_list, "storage accounts",
                              lambda: clients.storage.storage_accounts.list_by_resource_group(rg))
        batch = pool.submit(_list, "Batch accounts",
                            lambda: clients.batch_mgmt.batch_account.list_by_resource_group(rg))
        groups = pool.submit(_list, "network security groups",
                             lambda: clients.network.network_security_groups.list(rg)) if wanted_groups else None
        for group in groups.result() if groups is not None else []:
            name = str(group.get("name", "")).lower()
            if name in wanted_groups or owned_by(group, stack.name):
                state.security_groups[name] = group
        for vnet in networks.result():
            name = str(vnet.get("name", "")).lower()
            if name in wanted_networks or owned_by(vnet, stack.name):
                state.networks[name] = vnet
        inner = []
        uploads = _uploads(stack)
        for account in storage.result():
            name = account["name"]
            if name in wanted_storage or owned_by(account, stack.name):
                live = state.storage[name] = LiveStorage(account)
                inner.append(pool.submit(_read_storage, clients, rg, live, uploads.get(name, {})))
        for account in batch.result():
            name = account["name"]
            if name in wanted_batch or owned_by(account, stack.name):
                live_account = state.batch[name] = LiveAccount(account)
                inner.extend(_read_batch(pool, clients, rg, live_account))
        for future in inner:
            future.result()
    if any(True for _ in stack.of_kind(Kind.IDENTITY)):
        _read_identities(stack, clients, rg, state)
    return state


def _read_storage(clients: Any, rg: str, live: LiveStorage, uploads: dict[str, Any] | None = None) -> None:
    name = live.account["name"]
    containers = _by_name(_list(f"containers of {name}", lambda: clients.storage.blob_containers.list(rg, name)))
    live.containers = {k: v for k, v in containers.items() if not is_service_container(k)}
    live.shares = _by_name(_list(f"file shares of {name}", lambda: clients.storage.file_shares.list(rg, name)))
    for container, spec in (uploads or {}).items():
        if container in live.containers:
            _read_upload(clients, live, container, spec)


def _read_upload(clients: Any, live: LiveStorage, container: str, spec: dict[str, Any]) -> None:
    """One listing of a container that declares an upload (deployer.resources.upload)."""
    from deployer.resources.upload import read_blobs

    found = _call(f"blobs of {live.account['name']}/{container}",
                  lambda: read_blobs(clients, live.account, container, spec))
    live.containers[container].setdefault("_deployer", {})["upload"] = found


def _uploads(stack: Stack) -> dict[str, dict[str, Any]]:
    """Storage account name → container → upload spec, for the containers that declare uploads."""
    out: dict[str, dict[str, Any]] = {}
    for resource in stack.of_kind(Kind.UPLOAD):
        account = stack.get(type(resource.address)(resource.address.parts[:2]))
        if account is not None:
            out.setdefault(account.name, {})[resource.name] = resource.spec
    return out


def _read_batch(pool: ThreadPoolExecutor, clients: Any, rg: str, live: LiveAccount) -> list[Any]:
    name = live.account["name"]
    mgmt = clients.batch_mgmt

    def pools() -> None:
        live.pools = _by_name(_list(f"pools of {name}", lambda: mgmt.pool.list_by_batch_account(rg, name)))

    def applications() -> None:
        live.applications = _by_name(_list(f"applications of {name}", lambda: mgmt.application.list(rg, name)))
        for app_name, app in live.applications.items():  # one list per application: its active versions
            app.setdefault("_deployer", {})["packages"] = _active_packages(mgmt, rg, name, app_name)

    endpoint = (live.account.get("properties") or {}).get("accountEndpoint")
    futures = [pool.submit(pools), pool.submit(applications)]
    if endpoint:
        data = clients.batch_data(endpoint)

        def jobs() -> None:
            live.jobs = _by_id(_list(f"jobs of {name}", lambda: data.list_jobs(select=JOB_SELECT)))

        def schedules() -> None:
            live.schedules = _by_id(_list(f"job schedules of {name}", lambda: data.list_job_schedules()))

        futures += [pool.submit(jobs), pool.submit(schedules)]
    return futures


#: containers Azure Batch creates in an auto-storage account for application packages
_PACKAGE_CONTAINER = re.compile(r"^app-.+-[0-9a-f]{40}$")
#: the container the apply lock lives in (deployer.apply.lock.LOCK_CONTAINER)
LOCK_CONTAINER = "deployer-locks"


#: the container apply uploads job schedules' task files to (deployer.apply.schedule_tasks.CONTAINER)
TASKS_CONTAINER = "deployer-tasks"


def is_service_container(name: str) -> bool:
    """A container no stack declares: Batch's application packages, the deployer's lock and task files."""
    return name in (LOCK_CONTAINER, TASKS_CONTAINER) or bool(_PACKAGE_CONTAINER.match(name))


def _by_name(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item.get("name")): item for item in items}


def _by_id(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # Batch ids are case-insensitive; index them lower-cased.
    return {str(item.get("id")).lower(): item for item in items}


def _list(what: str, call: Callable[[], Iterable[Any]]) -> list[dict[str, Any]]:
    return _call(what, lambda: [rest(item) for item in call()])


def _call(what: str, call: Callable[[], Any]) -> Any:
    from azure.core.exceptions import AzureError as SdkError
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    try:
        return call()
    except ClientAuthenticationError as exc:
        raise AzureError(
            f"reading {what} failed: could not sign in to Azure ({_first_line(str(exc))}); run `az login`, "
            "or configure workload identity or a managed identity (DefaultAzureCredential)") from None
    except HttpResponseError as exc:
        from deployer.azure.errors import describe

        raise AzureError(f"reading {what} failed: {describe(exc)}") from None
    except SdkError as exc:
        raise AzureError(f"reading {what} failed: {_first_line(str(exc))}") from None


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else "no details"


def list_tasks(data: Any, job_id: str) -> list[dict[str, Any]]:
    """A job's tasks, one listing pass with `$select` of what a task plan compares (and state)."""
    from deployer.resources.tasks import SELECT

    return _list(f"tasks of job {job_id}", lambda: data.list_tasks(job_id, select=list(SELECT)))


def list_blobs(clients: Any, endpoint: str, container: str, prefix: str) -> list[tuple[str, str]]:
    """(name, URL) of the blobs under `prefix` in a container (one paged listing), sorted by name;
    none when the container does not exist yet."""
    from azure.core.exceptions import ResourceNotFoundError

    client = clients.blob(endpoint).get_container_client(container)

    def listing() -> list[Any]:
        try:
            return list(client.list_blobs(name_starts_with=prefix or None))
        except ResourceNotFoundError:
            return []

    names = sorted(str(b.name) for b in _call(f"blobs of {container}", listing))
    base = endpoint.rstrip("/") + "/" + container + "/"
    from urllib.parse import quote

    return [(name, base + quote(name)) for name in names]


def annotate_running_tasks(live: LiveState, clients: Any, pools: Iterable[tuple[str, str]]) -> None:
    """For pools a plan would delete, replace or drain: count the tasks running on them now.

    One task-count request per active job on each such pool, only when the plan is destructive:
    the count goes into the pool's live JSON (`_deployer.runningTasks`) for the loss warning.
    """
    for account_name, pool_id in pools:
        account = live.batch.get(account_name)
        pool = next((p for name, p in (account.pools if account else {}).items() if name.lower() == pool_id.lower()),
                    None)
        endpoint = ((account.account if account else {}).get("properties") or {}).get("accountEndpoint")
        if account is None or pool is None or not endpoint:
            continue
        data = clients.batch_data(endpoint)
        running = 0
        for job in account.jobs.values():
            on_pool = str((job.get("poolInfo") or {}).get("poolId", "")).lower() == pool_id.lower()
            if on_pool and job.get("state", "active") == "active":
                running += _running_tasks(data, str(job["id"]))
        pool.setdefault("_deployer", {})["runningTasks"] = running


def _running_tasks(data: Any, job_id: str) -> int:
    counts = _call(f"task counts of job {job_id}", lambda: data.get_job_task_counts(job_id))
    return int(rest(counts).get("taskCounts", {}).get("running", 0))


def _active_packages(mgmt: Any, rg: str, account: str, application: str) -> dict[str, str | None]:
    """Active versions -> the content hash the deployer recorded in the package's tags (or None)."""
    from deployer.resources.application import CONTENT_TAG

    packages = _list(f"versions of application {application}",
                     lambda: mgmt.application_package.list(rg, account, application))
    return {str(p.get("name")): (p.get("tags") or {}).get(CONTENT_TAG) for p in packages
            if str((p.get("properties") or {}).get("state", "")).lower() == "active"}


def _read_identities(stack: Stack, clients: Any, rg: str, state: LiveState) -> None:
    """The group's user-assigned identities (one list) and their roles at the scopes the stack's
    identities use (one list per scope), attached as `_deployer.roles` (deployer.resources.identity)."""
    from deployer.resources.context import LiveContext
    from deployer.resources.identity import read_roles, scopes

    wanted = {r.name.lower() for r in stack.of_kind(Kind.IDENTITY)}
    msi = clients.msi.user_assigned_identities
    for identity in _list("managed identities", lambda: msi.list_by_resource_group(rg)):
        name = str(identity.get("name", "")).lower()
        if name in wanted or owned_by(identity, stack.name):
            state.identities[name] = identity
    principals = {str((i.get("properties") or i).get("principalId")) for i in state.identities.values()}
    existing = {str(live.account.get("id", "")).lower() for live in state.storage.values()}
    wanted_scopes = {s for s in scopes(stack, LiveContext(stack, state, clients)) if s.lower() in existing}
    found = _call("role assignments", lambda: read_roles(clients, wanted_scopes, principals)) if principals else {}
    for identity in state.identities.values():
        principal = str((identity.get("properties") or identity).get("principalId"))
        identity.setdefault("_deployer", {})["roles"] = found.get(principal, [])
