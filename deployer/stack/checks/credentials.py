"""Storage the nodes reach must come with a credential, or Azure fails long after apply.

An output file's destination is written by the node when the task ends: Azure accepts a task
whose destination is a bare container URL, and every upload then fails. A resource file in a
private container of this stack is read before the task starts: without a credential the task
fails to start. Each needs one of:

- `identityReference`: a user-assigned identity of the pool (preferred: no secret to rotate);
- `sas: {expiry: P7D}` (output destinations given as `storage` + `container`): the deployer makes
  a write-only SAS scoped to the container at apply time, from the account's key;
- a SAS URL given as a secret reference (`containerUrl: {secret: …}`, `storageContainerUrl` /
  `httpUrl`), so the token is never written in the stack.
(`autoStorageContainerName` resource files are read with the Batch account's auto-storage; a
container the stack opens to the public — `publicAccess: Blob` for its blobs, `Container` also for
listing — needs no credential to be read.) A `taskPerFile` factory makes each task a resource file
with its blob's URL: its source needs `identityReference` unless its container is public.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from deployer.stack.checks.view import Node, StackView, mapping, sequence
from deployer.stack.loader import PathKey

OUTPUT_WAYS = ("give it a credential: identityReference (a pool identity; preferred), "
               "sas: {expiry: P7D} with storage + container (the deployer makes a write-only SAS at apply time), "
               "or containerUrl: {secret: …} (a SAS URL)")
RESOURCE_WAYS = ("give it a credential: identityReference (a pool identity; preferred), a SAS URL as "
                 "{secret: …}, or autoStorageContainerName for a container of the auto-storage account")
FACTORY_WAYS = ("each task reads its file by URL, and the container is private: give the source an "
                "identityReference (a pool identity), or open the container with publicAccess: Blob")
TASK_KEYS = ("jobManagerTask", "jobPreparationTask", "jobReleaseTask")


def check(view: StackView) -> None:
    stack_accounts = {str(account.value.get("name")).lower() for account in view.storage_accounts()
                      if isinstance(account.value.get("name"), str)}
    public = _public_containers(view)
    for task in _tasks(view):
        for index, output in enumerate(sequence(task.value.get("outputFiles"))):
            container = mapping(mapping(mapping(output).get("destination")).get("container"))
            if container.get("sas") and task.name in TASK_KEYS:
                view.error((*task.path, "outputFiles", index, "destination", "container", "sas"),
                           f"sas is made at apply time for the job's tasks only; the {task.name} is part of the "
                           "job the plan compares: use identityReference or containerUrl: {secret: …}", key=True)
            elif container and not _output_has_credential(container):
                view.error((*task.path, "outputFiles", index, "destination", "container"),
                           f"this output file destination has no credential: the task would run and every "
                           f"upload fail; {OUTPUT_WAYS}")
        for index, resource in enumerate(sequence(task.value.get("resourceFiles"))):
            _resource_file(view, (*task.path, "resourceFiles", index), mapping(resource), stack_accounts, public)
    for _account, pool in view.pools():
        start = mapping(pool.value.get("startTask"))
        for index, resource in enumerate(sequence(start.get("resourceFiles"))):
            _resource_file(view, (*pool.path, "startTask", "resourceFiles", index), mapping(resource),
                           stack_accounts, public)
    logical = {account.name: str(account.value.get("name")).lower() for account in view.storage_accounts()}
    for _account, job in [*view.jobs(), *view.schedules()]:
        factory = mapping(job.value.get("taskFactory"))
        source = mapping(factory.get("source"))
        if factory.get("type") != "taskPerFile" or not source or source.get("identityReference"):
            continue
        account_name = logical.get(str(source.get("storage")))
        if account_name and public.get((account_name, str(source.get("container")).lower())) is None:
            view.error((*job.path, "taskFactory", "source"), f"taskPerFile source: {FACTORY_WAYS}", key=True)


def _public_containers(view: StackView) -> dict[tuple[str, str], str]:
    """(storage account name, container) -> "Blob" | "Container", for the containers the stack opens
    to anonymous reads (lower case names)."""
    out: dict[tuple[str, str], str] = {}
    for account in view.storage_accounts():
        name = str(account.value.get("name")).lower()
        for container in sequence(account.value.get("containers")):
            entry = mapping(container)
            access = str(entry.get("publicAccess") or "None").capitalize()
            if access in ("Blob", "Container"):
                out[(name, str(entry.get("name")).lower())] = access
    return out


def _tasks(view: StackView) -> Iterator[Node]:
    for _account, job in view.jobs():
        yield from _job_tasks(view, job)
    for _account, schedule in view.schedules():
        spec = mapping(schedule.value.get("jobSpecification"))
        yield from _job_tasks(view, Node(schedule.name, spec, (*schedule.path, "jobSpecification")))


def _job_tasks(view: StackView, job: Node) -> Iterator[Node]:
    yield from view.items(job, "tasks")
    for key in TASK_KEYS:
        if isinstance(job.value.get(key), dict):
            yield Node(key, job.value[key], (*job.path, key))


def _output_has_credential(container: dict[str, Any]) -> bool:
    if container.get("identityReference") or container.get("sas"):
        return True
    url = container.get("containerUrl")
    return isinstance(url, dict) or (isinstance(url, str) and "sig=" in url)


def _resource_file(view: StackView, path: PathKey, resource: dict[str, Any], accounts: set[str],
                   public: dict[tuple[str, str], str]) -> None:
    if resource.get("identityReference"):
        return
    for key in ("storageContainerUrl", "httpUrl"):
        url = resource.get(key)
        if not isinstance(url, str) or "sig=" in url:
            continue
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        account, _, rest = host.partition(".")
        container = parts.path.strip("/").split("/", 1)[0].lower()
        opened = public.get((account, container))
        if opened == "Container" or (opened == "Blob" and key == "httpUrl"):
            continue  # anonymous reads (and listing, for Container) are allowed
        if rest.startswith("blob.") and account in accounts:
            view.error((*path, key),
                       f"{key} is a container of this stack's storage account {account!r}, which is private: "
                       f"the nodes could not read it; {RESOURCE_WAYS}")
