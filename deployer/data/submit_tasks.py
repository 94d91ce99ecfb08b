"""Add the tasks of a task file to the job this runs in: the job manager task of a scheduled job.

`deploy apply` uploads, for a job schedule with `tasks` or a `taskFactory`, the file
`deployer-tasks/{schedule id}/tasks.jsonl` (one task a line, as the Batch REST API takes it) and this script
beside it to the Batch account's auto-storage. The schedule's jobManagerTask downloads both and runs

    python3 submit_tasks.py tasks.jsonl

with Batch's `AZ_BATCH_ACCOUNT_URL` and `AZ_BATCH_JOB_ID`. It signs in with the pool's managed
identity (`AZURE_CLIENT_ID` in the task's environmentSettings names a user-assigned one; the
identity needs a Batch data-plane role on the account): the Batch service API 2025-06-01 has no
`authenticationTokenSettings` any more. Where Batch still hands the task a job token
(`AZ_BATCH_AUTHENTICATION_TOKEN`: older api-versions, the emulator's tests), that token is used. The
tasks are added through the azure-batch SDK's `create_tasks` (100 per request, concurrent; installed
with pip when the node lacks it), a window of 5,000 at a time, so any number of tasks fits in little
memory. Ids are stable: run again (a retried job manager), it adds only what is missing (TaskExists
counts as added).

Stdlib only besides azure-batch (and azure-identity for the managed identity). `DEPLOYER_CA_FILE`
(tests and the local emulator): the CA bundle to trust.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

WINDOW = 5000


def _sdk() -> Any:
    try:
        from azure.batch import BatchClient
    except ImportError:  # a plain node image: install the SDK for this user
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--user", "azure-batch"], check=True)
        import site

        sys.path.append(site.getusersitepackages())
        from azure.batch import BatchClient
    return BatchClient


class _Token:
    """The job's authentication token as an azure-core token credential."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, 2**31 - 1)


def _managed_identity() -> Any:
    try:
        from azure.identity import ManagedIdentityCredential
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--user", "azure-identity"], check=True)
        from azure.identity import ManagedIdentityCredential
    return ManagedIdentityCredential(client_id=os.environ.get("AZURE_CLIENT_ID"))


def _lines(path: str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: submit_tasks.py TASKS.jsonl", file=sys.stderr)
        return 2
    client_type = _sdk()
    from azure.batch import models

    url = os.environ["AZ_BATCH_ACCOUNT_URL"].rstrip("/")
    job = os.environ["AZ_BATCH_JOB_ID"]
    options: dict[str, Any] = {}
    if os.environ.get("DEPLOYER_CA_FILE"):
        options["connection_verify"] = os.environ["DEPLOYER_CA_FILE"]
    token = os.environ.get("AZ_BATCH_AUTHENTICATION_TOKEN")
    client = client_type(url, _Token(token) if token else _managed_identity(), **options)
    window: list[Any] = []
    added = 0
    for task in _lines(argv[0]):
        window.append(models.BatchTaskCreateOptions(task))
        if len(window) >= WINDOW:
            client.create_tasks(job, window, max_concurrency=8)
            added += len(window)
            window = []
            print(f"tasks added: {added}", flush=True)
    if window:
        client.create_tasks(job, window, max_concurrency=8)
        added += len(window)
    print(f"tasks added: {added}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
