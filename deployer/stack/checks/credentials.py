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
(`autoStorageContainerName` resource files are read with the Batch account's auto-storage.)
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
TASK_KEYS = ("jobManagerTask", "jobPreparationTask", "jobReleaseTask")


def check(view: StackView) -> None:
    stack_accounts = {str(account.value.get("name")).lower() for account in view.storage_accounts()
                      if isinstance(account.value.get("name"), str)}
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
            _resource_file(view, (*task.path, "resourceFiles", index), mapping(resource), stack_accounts)
    for _account, pool in view.pools():
        start = mapping(pool.value.get("startTask"))
        for index, resource in enumerate(sequence(start.get("resourceFiles"))):
            _resource_file(view, (*pool.path, "startTask", "resourceFiles", index), mapping(resource),
                           stack_accounts)


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


def _resource_file(view: StackView, path: PathKey, resource: dict[str, Any], accounts: set[str]) -> None:
    if resource.get("identityReference"):
        return
    for key in ("storageContainerUrl", "httpUrl"):
        url = resource.get(key)
        if not isinstance(url, str) or "sig=" in url:
            continue
        host = (urlsplit(url).hostname or "").lower()
        account, _, rest = host.partition(".")
        if rest.startswith("blob.") and account in accounts:
            view.error((*path, key),
                       f"{key} is a container of this stack's storage account {account!r}, which is private: "
                       f"the nodes could not read it; {RESOURCE_WAYS}")
