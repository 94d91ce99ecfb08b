"""A job schedule's tasks, delivered to each job it creates: the task file apply uploads.

Batch's job specification cannot hold tasks: every recurrence creates a new, empty job. A stack's
`jobSchedules.NAME.tasks` / `taskFactory` are therefore uploaded by apply to the Batch account's
auto-storage account as `deployer-tasks/{schedule id}/tasks.jsonl` (one REST task body a line,
streamed) with `deployer-tasks/{schedule id}/submit_tasks.py` (`deployer/data/submit_tasks.py`);
the schedule's jobManagerTask downloads that prefix and runs the script, which adds the tasks to its
own job through the SDK's `create_tasks`. The schedule records the task digest in its metadata
(`deployer.fingerprint.tasks`): a plan says when the file must be uploaded again.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

from deployer.errors import ApplyError
from deployer.resources.tasks import Digest, iter_tasks
from deployer.stack.model import Address, DesiredResource, Stack

CONTAINER = "deployer-tasks"
TASK_FILE = "tasks.jsonl"
SCRIPT = "submit_tasks.py"


def has_tasks(spec: Any) -> bool:
    return bool(spec.get("tasks") or spec.get("taskFactory"))


def _auto_storage(stack: Stack, resource: DesiredResource) -> Address:
    account = stack.get(Address(resource.address.parts[:2]))
    auto = (account.spec.get("autoStorage") if account is not None else None)
    name = auto.get("storageAccount") if isinstance(auto, dict) else auto
    if not name:
        raise ApplyError(f"{resource.address}: a schedule's tasks go to the Batch account's auto-storage, "
                         "and it has none (autoStorage)")
    return Address(("storageAccounts", str(name)))


def upload(stack: Stack, clients: Any, context: Any, resource: DesiredResource) -> str:
    """Upload the schedule's task file and the submit script; returns the tasks' digest."""
    import json

    from azure.core.exceptions import ResourceExistsError

    from deployer.apply.tasks import rest_body

    endpoint = context.storage_endpoint(_auto_storage(stack, resource), "blob")
    if not endpoint:
        raise ApplyError(f"{resource.address}: the auto-storage account has no blob endpoint yet")
    service = clients.blob(endpoint)
    try:
        service.create_container(CONTAINER)
    except ResourceExistsError:
        pass
    digest = Digest()
    where = str(resource.address)

    def lines() -> Iterator[bytes]:
        for task in iter_tasks(resource.spec, stack.base_dir, context):
            digest.add(task)
            yield (json.dumps(rest_body(task, context, f"{where}.tasks.{task.get('id')}"),
                              separators=(",", ":")) + "\n").encode()

    prefix = resource.name.lower() + "/"
    service.get_blob_client(CONTAINER, prefix + TASK_FILE).upload_blob(lines(), overwrite=True)
    script = (resources.files("deployer") / "data" / SCRIPT).read_bytes()
    service.get_blob_client(CONTAINER, prefix + SCRIPT).upload_blob(script, overwrite=True)
    return digest.hexdigest()
