"""Fixtures for the node agent: an emulator (embedded and served) whose tasks really run.

    def test_x(agent_batch):                       # both modes; the agent runs in a thread
        d = agent_batch.data                        # azure.batch.BatchClient on the account
        d.create_job(new_job("j")); d.create_tasks("j", [...])
        task = agent_batch.wait_task("j", "t1")     # until completed (fails the test at timeout)
        agent_batch.file("j", "t1", "stdout.txt")   # get-task-file through the SDK

The account, its auto-storage and a pool (2 nodes, 2 slots each unless said otherwise) are made
through the management SDK, as the deployer does; pools resize at once.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.batch import models as bm

from deployer.emulator.agent import control, settings
from deployer.emulator.core import Store

RG = "rg-agent"
LOCATION = "westeurope"
ACCOUNT = "baagent01"
STORAGE = "stagent01"
POOL = "workers"
TIMEOUT = 30.0


@dataclass
class AgentBatch:
    emulator: Any
    endpoint: str
    data: Any  # azure.batch.BatchClient
    agent: control.AgentThread | None  # None: the background process, started on demand
    storage_account_id: str

    def pool(self, pool_id: str = POOL, *, nodes: int = 2, slots: int = 2, identity: Any = None, **props: Any) -> None:
        body: dict[str, Any] = {
            "vmSize": "Standard_D2s_v3",
            "deploymentConfiguration": {
                "virtualMachineConfiguration": {
                    "imageReference": {"publisher": "canonical", "offer": "ubuntu-jammy", "sku": "22_04-lts"},
                    "nodeAgentSkuId": "batch.node.ubuntu 22.04",
                }
            },
            "scaleSettings": {"fixedScale": {"targetDedicatedNodes": nodes}},
            "taskSlotsPerNode": slots,
            **props,
        }
        pool: dict[str, Any] = {"properties": body, **({"identity": identity} if identity else {})}
        self.emulator.clients.batch_mgmt.pool.create(RG, ACCOUNT, pool_id, pool)

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def wait_task(self, job_id: str, task_id: str, state: str = "completed", timeout: float = TIMEOUT) -> Any:
        def done() -> Any:
            t = self.data.get_task(job_id, task_id)
            return t if t.state == state else None

        return self.wait(done, f"task {job_id}/{task_id} {state}", timeout)

    def wait_job(self, job_id: str, state: str = "completed", timeout: float = TIMEOUT) -> Any:
        def done() -> Any:
            j = self.data.get_job(job_id)
            return j if j.state == state else None

        return self.wait(done, f"job {job_id} {state}", timeout)

    def file(self, job_id: str, task_id: str, path: str) -> str:
        return b"".join(self.data.download_task_file(job_id, task_id, path)).decode()

    def blob_url(self, container: str, blob: str = "") -> str:
        base = f"{self.emulator.endpoint}/blob/{STORAGE}/{container}"
        return f"{base}/{blob}" if blob else base

    def sas_url(self, container: str, permission: str = "w", hours: float = 1.0) -> str:
        """The container's URL with a service SAS signed with the account's key (negative `hours`:
        already expired), as the deployer makes for `sas: {expiry}`."""
        import datetime

        from azure.storage.blob import generate_container_sas

        keys = self.emulator.clients.storage.storage_accounts.list_keys(RG, STORAGE)
        key = keys.keys_property[0].value
        token = generate_container_sas(STORAGE, container, account_key=key, permission=permission,
                                       expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours))
        return f"{self.blob_url(container)}?{token}"

    def container(self, name: str) -> Any:
        svc = self.emulator.clients.blob(f"{self.emulator.endpoint}/blob/{STORAGE}")
        c = svc.get_container_client(name)
        if not c.exists():
            c.create_container()
        return c


def new_job(job_id: str, pool_id: str = POOL, **kw: Any) -> bm.BatchJobCreateOptions:
    return bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id), **kw)


def task(task_id: str, command: str, **kw: Any) -> bm.BatchTaskCreateOptions:
    return bm.BatchTaskCreateOptions(id=task_id, command_line=command, **kw)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_EMULATOR_JOB_TRANSITION_SECONDS", "0.05")
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0")
    monkeypatch.setenv("DEPLOY_AGENT_IDLE_SECONDS", "0.3")  # background agents leave soon after the work


@pytest.fixture
def agent_batch(emulator: Any) -> Iterator[AgentBatch]:
    yield from _make(emulator)


@pytest.fixture
def process_agent_batch(embedded_emulator: Any) -> Iterator[AgentBatch]:
    """Embedded, with the agent as the local target runs it: a background process started on
    demand. Teardown waits for it to leave by itself (and kills it, failing, if it does not)."""
    yield from _make(embedded_emulator, thread=False)


def _make(emulator: Any, *, thread: bool = True) -> Iterator[AgentBatch]:
    c = emulator.clients
    c.resource.resource_groups.create_or_update(RG, {"location": LOCATION})
    storage = c.storage.storage_accounts.begin_create(
        RG, STORAGE, {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    ).result()
    account = c.batch_mgmt.batch_account.begin_create(
        RG, ACCOUNT, {"location": LOCATION, "properties": {"autoStorage": {"storageAccountId": storage.id}}}
    ).result()
    data_dir = Path(emulator.data_dir)
    if thread:
        agent: control.AgentThread | None = control.start_thread(data_dir)
    else:
        agent = None
        settings.configure(Store(data_dir), execute=True)
    try:
        yield AgentBatch(emulator, account.account_endpoint, c.batch_data(account.account_endpoint), agent, storage.id)
    finally:
        if agent is not None:
            agent.stop()
        else:
            assert wait_agent_gone(data_dir), "the background agent did not stop by itself"


def wait_agent_gone(data_dir: Path, timeout: float = 30.0) -> bool:
    """Wait for the data directory's agent to leave; kill it (by its pid) and say so if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not control.agent_running(data_dir):
            return True
        time.sleep(0.1)
    pid = control.agent_pid(data_dir)
    if pid:
        os.kill(pid, signal.SIGKILL)
    return False
