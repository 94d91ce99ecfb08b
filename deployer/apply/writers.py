"""Writers: one `Change` of a plan made real through the Azure SDK clients.

    writer = Writers(stack, clients, context)
    writer.apply(change)            # create / update / drain / replace / delete, LROs awaited

Every body carries the ownership marker and the fingerprints of the write-only values it sends
(`rest.to_rest`); logical references are resolved through the `ApplyContext` at apply time
(subnet ids, mount URLs and account keys, application ids); secrets are resolved only here and
never printed, logged or saved. Updates send If-Match with the change's ETag where the API takes
one (pools, jobs, job schedules); pool creates send If-None-Match: *.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deployer.apply.context import ApplyContext
from deployer.apply.rest import to_rest
from deployer.errors import ApplyError
from deployer.plan.model import Action, Change, thaw
from deployer.resources import normalize as n
from deployer.resources import rules_for
from deployer.resources.ownership import fingerprint_key, with_markers
from deployer.stack.model import Address, DesiredResource, Kind, Stack

#: recorded on a job until its tasks are all added: matches no fingerprint, so a run killed in
#: between plans the job's replacement instead of leaving it without its tasks
PENDING = "pending"


class Writers:
    def __init__(self, stack: Stack, clients: Any, context: ApplyContext, *, wait_for_nodes: bool = False,
                 poll: float | None = None) -> None:
        self.stack = stack
        self.clients = clients
        self.context = context
        self.rg = str(stack.target.resource_group)
        self.wait_for_nodes = wait_for_nodes
        azure = getattr(clients, "target", "azure") == "azure"
        #: `on_progress(address, message)`: how far a long step is (tasks added so far)
        self.on_progress: Any = None
        self.poll = poll if poll is not None else (5.0 if azure else 0.05)

    # --- entry points ---------------------------------------------------------------------------

    def ensure_resource_group(self) -> None:
        rg = self.clients.resource.resource_groups
        if not rg.check_existence(self.rg):
            rg.create_or_update(self.rg, {"location": self.stack.target.location or "westeurope"})

    def apply(self, change: Change, part: str | None = None) -> None:
        """Make one change; `part` is "delete" or "create" for the two halves of a replace."""
        resource = self.stack.get(change.address) if change.action != Action.DELETE else None
        action = change.action
        if action == Action.REPLACE:
            if part in (None, "delete"):
                self.delete(change)
            if part in (None, "create"):
                self.create(self._desired(change, resource))
        elif action == Action.CREATE:
            self.create(self._desired(change, resource))
        elif action == Action.UPDATE:
            self.update(self._desired(change, resource), change)
        elif action == Action.DRAIN:
            self.drain(self._desired(change, resource), change)
        elif action == Action.DELETE:
            self.delete(change)

    def _desired(self, change: Change, resource: DesiredResource | None) -> DesiredResource:
        if resource is None:
            raise ApplyError(f"{change.address}: not in the stack any more")
        return resource

    # --- helpers --------------------------------------------------------------------------------

    def account_name(self, address: Address) -> str:
        account = self.stack.get(Address(address.parts[:2]))
        return account.name if account is not None else address.parts[1]

    def body(self, resource: DesiredResource, *, metadata_as_map: bool = False) -> tuple[Any, dict[str, str]]:
        rules = rules_for(resource.kind)
        desired = rules.canonical_desired(resource.spec, self.context, resource.address)
        recorded: dict[str, str] = {}
        body = to_rest(desired, rules, recorded, where=str(resource.address), metadata_as_map=metadata_as_map)
        return body, recorded

    def _removals(self, resource: DesiredResource, change: Change, body: dict[str, Any]) -> dict[str, Any]:
        """The explicit values that remove top-level fields the stack dropped (`startTask: {}`)."""
        rules = rules_for(resource.kind)
        out: dict[str, Any] = {}
        for field in change.fields:
            top = field.path.split(".", 1)[0].split("[", 1)[0]
            if top in body:
                continue
            row = rules.field(top)
            if row is not None and row.removal is not n.MISSING:
                out[top] = copy.deepcopy(row.removal)
        return out

    def _changed_tops(self, change: Change) -> set[str]:
        return {f.path.split(".", 1)[0].split("[", 1)[0] for f in change.fields}

    # --- create ---------------------------------------------------------------------------------

    def create(self, resource: DesiredResource) -> None:
        getattr(self, f"create_{_method(resource.kind)}")(resource)

    def create_network(self, resource: DesiredResource) -> None:
        self.clients.network.virtual_networks.begin_create_or_update(
            self.rg, resource.name, self._network_body(resource)).result()

    def _network_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        subnets = [{"name": name, "properties": {
            **{k: v for k, v in subnet.items() if k != "serviceEndpoints"},
            **({"serviceEndpoints": [{"service": s} for s in subnet["serviceEndpoints"]]}
               if subnet.get("serviceEndpoints") else {})}}
            for name, subnet in (body.get("subnets") or {}).items()]
        rest = {"location": body.get("location"), "tags": body.get("tags") or {},
                "properties": {"addressSpace": {"addressPrefixes": body.get("addressSpace") or []},
                               "subnets": subnets}}
        return with_markers(Kind.NETWORK, rest, self.stack.name, recorded)

    def _storage_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        top = {k: body.pop(k) for k in ("location", "kind", "tags") if k in body}
        rest: dict[str, Any] = {**top, "sku": {"name": body.pop("sku", "Standard_LRS")}, "properties": body}
        rest.setdefault("kind", "StorageV2")
        return with_markers(Kind.STORAGE_ACCOUNT, rest, self.stack.name, recorded)

    def create_storage_account(self, resource: DesiredResource) -> None:
        self.clients.storage.storage_accounts.begin_create(self.rg, resource.name,
                                                           self._storage_body(resource)).result()

    def create_container(self, resource: DesiredResource) -> None:
        body, _ = self.body(resource, metadata_as_map=True)
        self.clients.storage.blob_containers.create(self.rg, self.account_name(resource.address), resource.name,
                                                    {"properties": body})

    def _share_body(self, resource: DesiredResource) -> dict[str, Any]:
        from deployer.resources.file_share import REST_NAMES

        body, _ = self.body(resource)
        return {"properties": {REST_NAMES.get(k, k): v for k, v in body.items()}}

    def create_file_share(self, resource: DesiredResource) -> None:
        self.clients.storage.file_shares.create(self.rg, self.account_name(resource.address), resource.name,
                                                self._share_body(resource))

    def _batch_account_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        top = {k: body.pop(k) for k in ("location", "identity", "tags") if k in body}
        return with_markers(Kind.BATCH_ACCOUNT, {**top, "properties": body}, self.stack.name, recorded)

    def create_batch_account(self, resource: DesiredResource) -> None:
        self.clients.batch_mgmt.batch_account.begin_create(self.rg, resource.name,
                                                           self._batch_account_body(resource)).result()

    def create_application(self, resource: DesiredResource) -> None:
        body, _ = self.body(resource)
        account = self.account_name(resource.address)
        props = {k: v for k, v in body.items() if k in ("displayName", "allowUpdates")}
        apps = self.clients.batch_mgmt.application
        apps.create(self.rg, account, resource.name, {"properties": props})
        self._sync_versions(resource, account)
        if body.get("defaultVersion"):
            apps.update(self.rg, account, resource.name, {"properties": {"defaultVersion": body["defaultVersion"]}})

    def _sync_versions(self, resource: DesiredResource, account: str) -> None:
        """Upload every version that is missing, not active, or whose zip differs from the one the
        deployer recorded (tag `deployer.sha256`); delete versions the stack no longer lists."""
        from deployer.resources.application import CONTENT_TAG
        from deployer.resources.read import rest

        packages = self.clients.batch_mgmt.application_package
        versions = resource.spec.get("versions") or {}
        live = {str(rest(p).get("name")): rest(p) for p in packages.list(self.rg, account, resource.name)}
        for version, spec in versions.items():
            found = live.get(str(version))
            path = self._package_file(resource, str(version), spec or {})
            digest = self.context.file_sha256(str((spec or {})["file"]))  # hashed once, when planning
            if digest is None:
                raise ApplyError(f"{resource.address}: version {version}: cannot read package file {path}")
            if found is not None and str((found.get("properties") or {}).get("state", "")).casefold() == "active":
                recorded = (found.get("tags") or {}).get(CONTENT_TAG)
                if recorded is None or recorded == digest:
                    continue  # unchanged, or uploaded by someone else (the plan said it was not compared)
                if resource.spec.get("allowUpdates") is False:
                    raise ApplyError(
                        f"{resource.address}: the zip of version {version} changed, but the application does not "
                        "allow updates (allowUpdates: false): publish the new zip as a new version")
            self._upload_version(resource, account, str(version), path.read_bytes(), digest)
        for version in set(live) - {str(v) for v in versions}:
            packages.delete(self.rg, account, resource.name, version)

    def _package_file(self, resource: DesiredResource, version: str, spec: Mapping[str, Any]) -> Path:
        path = self.stack.base_dir / str(spec.get("file", ""))
        if not spec.get("file") or not path.is_file():
            raise ApplyError(f"{resource.address}: version {version}: package file {spec.get('file')!r} not found")
        return path

    def _upload_version(self, resource: DesiredResource, account: str, version: str, data: bytes,
                        digest: str) -> None:
        from azure.storage.blob import BlobClient

        from deployer.resources.application import CONTENT_TAG
        from deployer.resources.read import rest

        packages = self.clients.batch_mgmt.application_package
        created = rest(packages.create(self.rg, account, resource.name, version, {"tags": {CONTENT_TAG: digest}}))
        url = (created.get("properties") or {}).get("storageUrl") or created.get("storageUrl")
        options = dict(getattr(self.clients, "_blob_options", {}) or {})
        blob = BlobClient.from_blob_url(str(url), **options)
        blob.upload_blob(data, overwrite=True)
        packages.activate(self.rg, account, resource.name, version, {"format": "zip"})

    def _pool_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        identity = body.pop("identity", None)
        rest: dict[str, Any] = {"properties": body}
        if identity:
            rest["identity"] = identity
        return with_markers(Kind.POOL, rest, self.stack.name, recorded)

    def create_pool(self, resource: DesiredResource) -> None:
        from azure.core import MatchConditions

        account = self.account_name(resource.address)
        self.clients.batch_mgmt.pool.create(self.rg, account, resource.name, self._pool_body(resource),
                                            match_condition=MatchConditions.IfMissing)
        if self.wait_for_nodes:  # steady is not enough: it must have got its nodes (issue 13)
            from deployer.ops.nodes import check_allocated

            check_allocated(self._wait_pool(account, resource.name, want_empty=False), self.context.batch_data(account))

    def _job_body(self, resource: DesiredResource) -> tuple[dict[str, Any], dict[str, str]]:
        body, recorded = self.body(resource)
        body.pop("tasks", None)
        pool = body.pop("pool", None)
        if pool is not None:
            body["poolInfo"] = {"poolId": pool}
        return body, recorded

    def create_job(self, resource: DesiredResource) -> None:
        from azure.batch import models

        from deployer.apply.tasks import add_tasks
        from deployer.resources.tasks import Digest, iter_tasks

        account = self.account_name(resource.address)
        data = self.context.batch_data(account)
        body, recorded = self._job_body(resource)
        final_on_complete = body.get("onAllTasksComplete")
        # Created with noaction and a pending task fingerprint: a job with terminatejob and no tasks
        # completes at once, and a run killed before the tasks are in leaves a job whose next plan
        # lists its tasks and adds only the missing ones.
        body["onAllTasksComplete"] = "noaction"
        created = with_markers(Kind.JOB, {"id": resource.name, **body}, self.stack.name,
                               {**recorded, "tasks": PENDING})
        data.create_job(models.BatchJobCreateOptions(created))
        digest = Digest()

        def streamed() -> Any:
            for task in iter_tasks(resource.spec, self.stack.base_dir, self.context):
                digest.add(task)
                yield task

        add_tasks(data, resource.name, streamed(), self.context, str(resource.address),
                  self._task_progress(resource))
        self._record_tasks(data, resource, body, recorded, digest.hexdigest(), final_on_complete)

    def _task_progress(self, resource: DesiredResource) -> Any:
        report = self.on_progress
        return (lambda message: report(str(resource.address), message)) if callable(report) else None

    def _record_tasks(self, data: Any, resource: DesiredResource, body: dict[str, Any], recorded: dict[str, str],
                      digest: str, on_complete: Any = None) -> None:
        """Record the task digest on the job once every task is in (and restore onAllTasksComplete)."""
        from azure.batch import models

        from deployer.resources.tasks import record

        final = with_markers(Kind.JOB, {"metadata": body.get("metadata") or []}, self.stack.name,
                             {**recorded, "tasks": record(digest)})
        patch: dict[str, Any] = {"metadata": final["metadata"]}
        if on_complete and n.ci(on_complete) != "noaction":
            patch["onAllTasksComplete"] = on_complete
        data.update_job(resource.name, models.BatchJobUpdateOptions(patch))

    def _schedule_body(self, resource: DesiredResource) -> tuple[dict[str, Any], dict[str, str]]:
        body, recorded = self.body(resource)
        spec = body.get("jobSpecification")
        if isinstance(spec, dict) and "pool" in spec:
            spec["poolInfo"] = {"poolId": spec.pop("pool")}
        return body, recorded

    def _schedule_tasks(self, resource: DesiredResource, recorded: dict[str, str]) -> None:
        """A schedule's tasks: its task file uploaded first, its digest recorded with the schedule."""
        from deployer.apply import schedule_tasks
        from deployer.resources.tasks import record

        if schedule_tasks.has_tasks(resource.spec):
            recorded["tasks"] = record(schedule_tasks.upload(self.stack, self.clients, self.context, resource))

    def create_job_schedule(self, resource: DesiredResource) -> None:
        from azure.batch import models

        data = self.context.batch_data(self.account_name(resource.address))
        body, recorded = self._schedule_body(resource)
        self._schedule_tasks(resource, recorded)
        created = with_markers(Kind.JOB_SCHEDULE, {"id": resource.name, **body}, self.stack.name, recorded)
        data.create_job_schedule(models.BatchJobScheduleCreateOptions(created))

    # --- update ---------------------------------------------------------------------------------

    def update(self, resource: DesiredResource, change: Change) -> None:
        getattr(self, f"update_{_method(resource.kind)}")(resource, change)

    def update_network(self, resource: DesiredResource, change: Change) -> None:
        self.create_network(resource)

    def update_storage_account(self, resource: DesiredResource, change: Change) -> None:
        body = self._storage_body(resource)
        body.pop("location", None)
        self.clients.storage.storage_accounts.update(self.rg, resource.name, body)

    def update_container(self, resource: DesiredResource, change: Change) -> None:
        body, _ = self.body(resource, metadata_as_map=True)
        body.setdefault("metadata", {})
        body.setdefault("publicAccess", "None")
        self.clients.storage.blob_containers.update(self.rg, self.account_name(resource.address), resource.name,
                                                    {"properties": body})

    def update_file_share(self, resource: DesiredResource, change: Change) -> None:
        self.clients.storage.file_shares.update(self.rg, self.account_name(resource.address), resource.name,
                                                self._share_body(resource))

    def update_batch_account(self, resource: DesiredResource, change: Change) -> None:
        body = self._batch_account_body(resource)
        body.pop("location", None)
        props = body.get("properties") or {}
        for fixed in ("poolAllocationMode", "keyVaultReference"):
            props.pop(fixed, None)
        self.clients.batch_mgmt.batch_account.update(self.rg, resource.name, body)

    def update_application(self, resource: DesiredResource, change: Change) -> None:
        """allowUpdates first (it decides whether a changed zip may replace a version), then the
        packages, then defaultVersion (which must name a version that exists by then)."""
        body, _ = self.body(resource)
        account = self.account_name(resource.address)
        apps = self.clients.batch_mgmt.application
        props = {k: v for k, v in body.items() if k in ("displayName", "allowUpdates")}
        if props:
            apps.update(self.rg, account, resource.name, {"properties": props})
        self._sync_versions(resource, account)
        if body.get("defaultVersion"):
            apps.update(self.rg, account, resource.name, {"properties": {"defaultVersion": body["defaultVersion"]}})

    def update_pool(self, resource: DesiredResource, change: Change, etag: str | None = None,
                    extra: set[str] | None = None) -> None:
        from azure.core import MatchConditions

        account = self.account_name(resource.address)
        full = self._pool_body(resource)
        props = full["properties"]
        tops = self._changed_tops(change) | {"metadata"} | (extra or set())
        sent = {k: v for k, v in props.items() if k in tops}
        sent.update(self._removals(resource, change, props))
        body: dict[str, Any] = {"properties": sent}
        if "identity" in tops:
            body["identity"] = full.get("identity") or {"type": "None"}
        tag = etag if etag is not None else change.etag
        kwargs: dict[str, Any] = {"etag": tag, "match_condition": MatchConditions.IfNotModified} if tag else {}
        self.clients.batch_mgmt.pool.update(self.rg, account, resource.name, body, **kwargs)

    def update_job(self, resource: DesiredResource, change: Change) -> None:
        """The job's own fields (if any changed) in place, then its tasks one by one; the task
        digest is recorded last, so a run stopped in between plans the rest again."""
        from azure.batch import models
        from azure.core import MatchConditions

        from deployer.apply.tasks import apply_task_plan
        from deployer.resources.tasks import digest_of, record

        data = self.context.batch_data(self.account_name(resource.address))
        body, recorded = self._job_body(resource)
        plan = change.tasks
        digest = plan.digest if plan is not None and plan.digest else digest_of(
            resource.spec, self.stack.base_dir, self.context)[0]
        if change.fields:
            recorded["tasks"] = record(digest) if plan is None or not plan.is_change else PENDING
            marked = with_markers(Kind.JOB, body, self.stack.name, recorded)
            fields = ("priority", "maxParallelTasks", "allowTaskPreemption", "constraints", "onAllTasksComplete",
                      "metadata")
            patch: dict[str, Any] = {k: marked[k] for k in fields if k in marked}
            patch.setdefault("priority", 0)
            kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                      if change.etag else {})
            data.update_job(resource.name, models.BatchJobUpdateOptions(patch), **kwargs)
            if plan is None or not plan.is_change:
                return
        if plan is not None and plan.is_change:
            apply_task_plan(data, resource.name, plan, resource.spec, self.context, str(resource.address),
                            self.stack.base_dir, self._task_progress(resource))
        self._record_tasks(data, resource, body, recorded, digest)

    def update_job_schedule(self, resource: DesiredResource, change: Change) -> None:
        from azure.batch import models
        from azure.core import MatchConditions

        data = self.context.batch_data(self.account_name(resource.address))
        body, recorded = self._schedule_body(resource)
        self._schedule_tasks(resource, recorded)
        marked = with_markers(Kind.JOB_SCHEDULE, body, self.stack.name, recorded)
        patch: dict[str, Any] = {k: marked[k] for k in ("schedule", "jobSpecification", "metadata") if k in marked}
        kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                  if change.etag else {})
        data.update_job_schedule(resource.name, models.BatchJobScheduleUpdateOptions(patch), **kwargs)

    # --- drain ----------------------------------------------------------------------------------

    def drain(self, resource: DesiredResource, change: Change) -> None:
        """Scale the pool to zero, wait until it is empty, update it, restore the (desired) scale."""
        from azure.core import MatchConditions

        from deployer.resources.read import rest

        account = self.account_name(resource.address)
        pools = self.clients.batch_mgmt.pool
        live = rest(pools.get(self.rg, account, resource.name))
        scale = (live.get("properties") or {}).get("scaleSettings") or {}
        if scale.get("autoScale"):
            pools.disable_auto_scale(self.rg, account, resource.name)
        zero = {"properties": {"scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0,
                                                                "targetLowPriorityNodes": 0}}}}
        kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                  if change.etag and not scale.get("autoScale") else {})
        pools.update(self.rg, account, resource.name, zero, **kwargs)
        emptied = self._wait_pool(account, resource.name, want_empty=True)
        self.update_pool(resource, change, etag=str(emptied.get("etag") or "") or None, extra={"scaleSettings"})

    def _wait_pool(self, account: str, pool: str, *, want_empty: bool, timeout: float = 3600) -> dict[str, Any]:
        from deployer.resources.read import rest

        deadline = time.monotonic() + timeout
        while True:
            live = rest(self.clients.batch_mgmt.pool.get(self.rg, account, pool))
            props = live.get("properties") or {}
            steady = str(props.get("allocationState", "")).casefold() == "steady"
            nodes = int(props.get("currentDedicatedNodes") or 0) + int(props.get("currentLowPriorityNodes") or 0)
            if steady and (nodes == 0 or not want_empty):
                return live
            if time.monotonic() > deadline:
                raise ApplyError(f"pool {pool}: not steady after {timeout:.0f} s")
            time.sleep(self.poll)

    # --- delete ---------------------------------------------------------------------------------

    def delete(self, change: Change) -> None:
        getattr(self, f"delete_{_method(change.kind)}")(change)

    def delete_network(self, change: Change) -> None:
        self.clients.network.virtual_networks.begin_delete(self.rg, change.name).result()

    def delete_storage_account(self, change: Change) -> None:
        self.clients.storage.storage_accounts.delete(self.rg, change.name)

    def delete_container(self, change: Change) -> None:
        self.clients.storage.blob_containers.delete(self.rg, self.account_name(change.address), change.name)

    def delete_file_share(self, change: Change) -> None:
        self.clients.storage.file_shares.delete(self.rg, self.account_name(change.address), change.name)

    def delete_batch_account(self, change: Change) -> None:
        self.clients.batch_mgmt.batch_account.begin_delete(self.rg, change.name).result()

    def delete_application(self, change: Change) -> None:
        from deployer.resources.read import rest

        account = self.account_name(change.address)
        packages = self.clients.batch_mgmt.application_package
        for package in packages.list(self.rg, account, change.name):
            packages.delete(self.rg, account, change.name, str(rest(package).get("name")))
        self.clients.batch_mgmt.application.delete(self.rg, account, change.name)

    def delete_pool(self, change: Change) -> None:
        self.clients.batch_mgmt.pool.begin_delete(self.rg, self.account_name(change.address), change.name).result()

    def delete_job(self, change: Change) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        data = self.context.batch_data(self.account_name(change.address))
        try:
            data.begin_delete_job(change.name, polling_interval=self.poll).result()
        except ResourceNotFoundError:
            pass

    def delete_job_schedule(self, change: Change) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        data = self.context.batch_data(self.account_name(change.address))
        try:
            data.begin_delete_job_schedule(change.name, polling_interval=self.poll).result()
        except ResourceNotFoundError:
            pass


def _method(kind: Kind | str) -> str:
    return {
        Kind.NETWORK: "network", Kind.STORAGE_ACCOUNT: "storage_account", Kind.CONTAINER: "container",
        Kind.FILE_SHARE: "file_share", Kind.BATCH_ACCOUNT: "batch_account", Kind.APPLICATION: "application",
        Kind.POOL: "pool", Kind.JOB: "job", Kind.JOB_SCHEDULE: "job_schedule",
    }[Kind(kind)]


__all__ = ["PENDING", "Writers", "fingerprint_key", "thaw"]
