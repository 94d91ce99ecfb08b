"""SAS URLs are secrets: a URL field holding a SAS signature (`sig=`) in clear is an error.

A shared access signature grants access to storage to whoever holds the URL, so it belongs in
a secret reference like any key (`httpUrl: {secret: env:INPUT_SAS_URL}`), resolved only while
applying and shown as `(sensitive)` in plans. Checked in the fields that take a URL to storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from deployer.stack.checks.view import Node, StackView, sub
from deployer.stack.loader import PathKey

URL_FIELDS = frozenset({"containerUrl", "httpUrl", "storageContainerUrl", "sasKey"})
_SIGNATURE = re.compile(r"(?:^|[?&])sig=", re.IGNORECASE)


def check(view: StackView) -> None:
    for path, key, value in _url_fields(view):
        if _SIGNATURE.search(value):
            view.error(path, f"{key} holds a SAS token (sig=) in clear: a SAS grants access to whoever reads "
                       f"it, so it is a secret; write `{key}: {{secret: env:NAME}}` (or file:/keyvault:) and "
                       "keep the URL out of the stack")


def _url_fields(view: StackView) -> Iterator[tuple[PathKey, str, str]]:
    """Every URL-to-storage field: tasks' resource and output files, blob mounts' SAS keys."""
    for place in _places(view):
        for key in URL_FIELDS:
            value = place.value.get(key)
            if isinstance(value, str):
                yield (*place.path, key), key, value


def _places(view: StackView) -> Iterator[Node]:
    for _account, pool in view.pools():
        for mount in view.items(pool, "mountConfiguration"):
            blob = sub(mount, "azureBlobFileSystemConfiguration")
            if blob is not None:
                yield blob
        start = sub(pool, "startTask")
        if start is not None:
            yield from _task_places(view, start)
    for _account, job in [*view.jobs(), *view.schedules()]:
        spec = sub(job, "jobSpecification") or job
        for name in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask"):
            task = sub(spec, name)
            if task is not None:
                yield from _task_places(view, task)
        for task in view.items(spec, "tasks"):
            yield from _task_places(view, task)


def _task_places(view: StackView, task: Node) -> Iterator[Node]:
    yield from view.items(task, "resourceFiles")
    for output in view.items(task, "outputFiles"):
        container = sub(output, "destination", "container")
        if container is not None:
            yield container
