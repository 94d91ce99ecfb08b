"""`az batch pool create --json-file` / `az batch job create --json-file` documents (the Batch
service API's PoolAddParameter / JobAddParameter) → a stack. A job converts when its pool is
among the sources (a stack job names a pool of the stack)."""

from __future__ import annotations

from typing import Any

from deployer.convert import batch_api, skeleton
from deployer.convert.model import Conversion


def is_pool(data: Any) -> bool:
    return isinstance(data, dict) and "id" in data and (
        "vmSize" in data or "virtualMachineConfiguration" in data or "cloudServiceConfiguration" in data)


def is_job(data: Any) -> bool:
    return isinstance(data, dict) and "id" in data and "poolInfo" in data


def convert(conv: Conversion, files: list[tuple[str, dict[str, Any]]]) -> None:
    for file, data in sorted(files, key=lambda f: not is_pool(f[1])):  # pools first: jobs name them
        ident = str(data["id"])
        skeleton.start(conv, ident)
        if is_pool(data):
            address = ("batchAccounts", "main", "pools", ident)
            skeleton.pools(conv)[ident] = batch_api.pool(conv, data, f"{file}: $", address)
        else:
            address = ("batchAccounts", "main", "jobs", ident)
            job = batch_api.job(conv, data, f"{file}: $", address, set(skeleton.pools(conv)))
            if job is not None:
                skeleton.jobs(conv)[ident] = job
