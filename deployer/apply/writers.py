"""Writers: one `Change` of a plan made real through the Azure SDK clients.

    writer = Writers(stack, clients, context)
    writer.apply(change)            # create / update / drain / replace / delete, LROs awaited

Every body carries the ownership marker and the fingerprints of the write-only values it sends
(`rest.to_rest`); logical references are resolved through the `ApplyContext` at apply time
(subnet ids, mount URLs and account keys, application ids); secrets are resolved only here and
never printed, logged or saved. Updates send If-Match with the change's ETag where the API takes
one (pools, jobs, job schedules); pool creates send If-None-Match: *.

Every call that writes goes through `deployer.apply.idempotent` (`settle` for creates and updates,
`remove` for deletes) with a read-back saying what "done" looks like for it, so a write whose
answer was lost, or that the SDK resent, is neither failed nor made twice (the read-backs are the
`_owned` / `_landed` / `_in_sync` / `_exists` helpers below).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deployer.apply.context import ApplyContext
from deployer.apply.idempotent import exists, remove, settle
from deployer.apply.rest import for_management, for_service, to_rest
from deployer.errors import ApplyError
from deployer.plan.drift import APPLIED, applied_digest
from deployer.plan.model import Action, Change, thaw
from deployer.resources import normalize as n
from deployer.resources import rules_for
from deployer.resources.ownership import STACK_KEY, fingerprint_key, with_markers
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

    def marked(self, kind: Kind, body: Mapping[str, Any], recorded: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`body` with this stack's markers: its name, the fingerprints `recorded`, and on accounts
        and networks the file that declares them (deployer.stack.identity)."""
        return with_markers(kind, body, self.stack.name, recorded, stack_file=self.stack.file_id)

    # --- entry points ---------------------------------------------------------------------------

    def ensure_resource_group(self) -> None:
        rg = self.clients.resource.resource_groups
        if not rg.check_existence(self.rg):
            rg.create_or_update(self.rg, {"location": self.stack.target.location or "westeurope",
                                          "tags": {STACK_KEY: self.stack.name}})  # created here: owned

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
        recorded[APPLIED] = applied_digest(desired)  # plan --refresh-only tells drift from pending changes
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

    # --- read-backs: what "done" looks like after a lost answer (deployer.apply.idempotent) -------

    def _owned(self, kind: Kind, get: Callable[[], Any]) -> dict[str, Any] | None:
        """The live resource when it carries this stack's marker (a create of ours that landed)."""
        from deployer.resources.ownership import Ownership, ownership
        from deployer.resources.read import rest

        body = rest(get())
        return body if ownership(kind, body, self.stack.name) is Ownership.OWNED else None

    @staticmethod
    def _landed(get: Callable[[], Any]) -> dict[str, Any] | None:
        """The live ARM resource when it exists and finished provisioning (a PUT that landed)."""
        from deployer.resources.read import rest

        body = rest(get())
        state = str((body.get("properties") or {}).get("provisioningState") or "Succeeded")
        return body if state.casefold() == "succeeded" else None

    def _in_sync(self, resource: DesiredResource, get: Callable[[], Any]) -> bool | None:
        """True when the live resource already is what the stack says (an update that landed)."""
        from deployer.plan.diff import diff_resource
        from deployer.resources.read import rest

        change = diff_resource(rules_for(resource.kind), resource, rest(get()), self.context,
                               address=resource.address, name=resource.name)
        return True if change.action == Action.NO_OP else None

    @staticmethod
    def _exists(get: Callable[[], Any]) -> Callable[[], bool]:
        return lambda: exists(get)

    # --- create ---------------------------------------------------------------------------------

    def create(self, resource: DesiredResource) -> None:
        getattr(self, f"create_{_method(resource.kind)}")(resource)

    def create_network(self, resource: DesiredResource) -> None:
        vnets = self.clients.network.virtual_networks
        body = self._network_body(resource)
        settle(lambda: vnets.begin_create_or_update(self.rg, resource.name, body).result(),
               lambda: self._landed(lambda: vnets.get(self.rg, resource.name)))

    def _network_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        subnets = [{"name": name, "properties": {
            **{k: v for k, v in subnet.items() if k not in ("serviceEndpoints", "networkSecurityGroup")},
            **({"networkSecurityGroup": {"id": subnet["networkSecurityGroup"]}}
               if subnet.get("networkSecurityGroup") else {}),
            **({"serviceEndpoints": [{"service": s} for s in subnet["serviceEndpoints"]]}
               if subnet.get("serviceEndpoints") else {})}}
            for name, subnet in (body.get("subnets") or {}).items()]
        rest = {"location": body.get("location"), "tags": body.get("tags") or {},
                "properties": {"addressSpace": {"addressPrefixes": body.get("addressSpace") or []},
                               "subnets": subnets}}
        return self.marked(Kind.NETWORK, rest, recorded)

    def _storage_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        top = {k: body.pop(k) for k in ("location", "kind", "tags") if k in body}
        rest: dict[str, Any] = {**top, "sku": {"name": body.pop("sku", "Standard_LRS")}, "properties": body}
        rest.setdefault("kind", "StorageV2")
        return self.marked(Kind.STORAGE_ACCOUNT, rest, recorded)

    def create_storage_account(self, resource: DesiredResource) -> None:
        accounts = self.clients.storage.storage_accounts
        body = self._storage_body(resource)
        settle(lambda: accounts.begin_create(self.rg, resource.name, body).result(),
               lambda: self._landed(lambda: accounts.get_properties(self.rg, resource.name)))

    def create_container(self, resource: DesiredResource) -> None:
        body, _ = self.body(resource, metadata_as_map=True)
        containers, account = self.clients.storage.blob_containers, self.account_name(resource.address)
        settle(lambda: containers.create(self.rg, account, resource.name, {"properties": body}),
               self._exists(lambda: containers.get(self.rg, account, resource.name)))

    def _share_body(self, resource: DesiredResource) -> dict[str, Any]:
        from deployer.resources.file_share import REST_NAMES

        body, _ = self.body(resource)
        return {"properties": {REST_NAMES.get(k, k): v for k, v in body.items()}}

    def create_file_share(self, resource: DesiredResource) -> None:
        shares, account = self.clients.storage.file_shares, self.account_name(resource.address)
        body = self._share_body(resource)
        settle(lambda: shares.create(self.rg, account, resource.name, body),
               self._exists(lambda: shares.get(self.rg, account, resource.name)))

    def _batch_account_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        top = {k: body.pop(k) for k in ("location", "identity", "tags") if k in body}
        return self.marked(Kind.BATCH_ACCOUNT, {**top, "properties": body}, recorded)

    def create_batch_account(self, resource: DesiredResource) -> None:
        accounts = self.clients.batch_mgmt.batch_account
        body = self._batch_account_body(resource)
        settle(lambda: accounts.begin_create(self.rg, resource.name, body).result(),
               lambda: self._landed(lambda: accounts.get(self.rg, resource.name)))

    def create_application(self, resource: DesiredResource) -> None:
        body, _ = self.body(resource)
        account = self.account_name(resource.address)
        props = {k: v for k, v in body.items() if k in ("displayName", "allowUpdates")}
        apps = self.clients.batch_mgmt.application
        settle(lambda: apps.create(self.rg, account, resource.name, {"properties": props}),
               self._exists(lambda: apps.get(self.rg, account, resource.name)))
        self._sync_versions(resource, account)
        if body.get("defaultVersion"):
            default = {"properties": {"defaultVersion": body["defaultVersion"]}}
            settle(lambda: apps.update(self.rg, account, resource.name, default))

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
            self._delete_version(account, resource.name, version)

    def _delete_version(self, account: str, application: str, version: str) -> None:
        packages = self.clients.batch_mgmt.application_package
        remove(lambda: packages.delete(self.rg, account, application, version),
               self._exists(lambda: packages.get(self.rg, account, application, version)), poll=self.poll)

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
        get = lambda: packages.get(self.rg, account, resource.name, version)  # noqa: E731
        created = rest(settle(lambda: packages.create(self.rg, account, resource.name, version,
                                                      {"tags": {CONTENT_TAG: digest}}), get))
        url = (created.get("properties") or {}).get("storageUrl") or created.get("storageUrl")
        options = dict(getattr(self.clients, "_blob_options", {}) or {})
        if getattr(self.clients, "target", "azure") != "azure":
            from deployer.azure.clients import _fast_storage_retry

            options.setdefault("retry_policy", _fast_storage_retry())
        blob = BlobClient.from_blob_url(str(url), **options)
        blob.upload_blob(data, overwrite=True)

        def active() -> bool | None:
            state = str((rest(get()).get("properties") or {}).get("state") or "")
            return True if state.casefold() == "active" else None

        settle(lambda: packages.activate(self.rg, account, resource.name, version, {"format": "zip"}), active)

    def _pool_body(self, resource: DesiredResource) -> dict[str, Any]:
        body, recorded = self.body(resource)
        identity = body.pop("identity", None)
        tags = body.pop("tags", None)  # the pool resource's ARM tags, beside its properties
        rest: dict[str, Any] = {"properties": body}
        if identity:
            rest["identity"] = identity
        if tags:
            rest["tags"] = tags
        return for_management(self.marked(Kind.POOL, rest, recorded), "Pool")

    def create_pool(self, resource: DesiredResource) -> None:
        from azure.core import MatchConditions

        account = self.account_name(resource.address)
        pools, body = self.clients.batch_mgmt.pool, self._pool_body(resource)
        # a lost answer: the resent If-None-Match: * create meets the pool (412); ours if it has our marker
        settle(lambda: pools.create(self.rg, account, resource.name, body, match_condition=MatchConditions.IfMissing),
               lambda: self._owned(Kind.POOL, lambda: pools.get(self.rg, account, resource.name)))
        if self.wait_for_nodes:  # steady is not enough: it must have got its nodes (issue 13)
            from deployer.ops.nodes import check_allocated

            check_allocated(self._wait_pool(account, resource.name, want_empty=False), self.context.batch_data(account))

    def _job_body(self, resource: DesiredResource) -> tuple[dict[str, Any], dict[str, str]]:
        body, recorded = self.body(resource)
        body.pop("tasks", None)
        pool = body.pop("pool", None)
        if pool is not None:
            body["poolInfo"] = {"poolId": pool}
        if body.pop("autoPool", None) is not None:  # issue 17: deployer.resources.auto_pool
            from deployer.resources.auto_pool import pool_info

            body["poolInfo"] = pool_info(self.stack, resource, self.context)
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
        created = self.marked(Kind.JOB, {"id": resource.name, **body},
                              {**recorded, "tasks": PENDING})
        options = models.BatchJobCreateOptions(for_service(created, "BatchJobCreateOptions"))
        settle(lambda: data.create_job(options), lambda: self._owned(Kind.JOB, lambda: data.get_job(resource.name)))
        digest = Digest()

        def streamed() -> Any:
            for task in iter_tasks(resource.spec, self.stack.base_dir, self.context):
                digest.add(task)  # the stack's form: the plan digests the same
                yield task

        add_tasks(data, resource.name, streamed(), self.context, str(resource.address),
                  self._task_progress(resource), prepare=self._instances(resource))
        self._record_tasks(data, resource, body, recorded, digest.hexdigest(), final_on_complete)

    def _instances(self, resource: DesiredResource) -> Any:
        """Resolves `numberOfInstances: pool` in a task about to be added (one pool read, if any needs it)."""
        from deployer.apply.instances import resolve_pool_instances

        return lambda task: resolve_pool_instances(self, resource, [task])[0]

    def _task_progress(self, resource: DesiredResource) -> Any:
        report = self.on_progress
        return (lambda message: report(str(resource.address), message)) if callable(report) else None

    def _record_tasks(self, data: Any, resource: DesiredResource, body: dict[str, Any], recorded: dict[str, str],
                      digest: str, on_complete: Any = None) -> None:
        """Record the task digest on the job once every task is in (and restore onAllTasksComplete)."""
        from azure.batch import models

        from deployer.resources.tasks import record

        final = self.marked(Kind.JOB, {"metadata": body.get("metadata") or []},
                            {**recorded, "tasks": record(digest)})
        patch: dict[str, Any] = {"metadata": final["metadata"]}
        if on_complete and n.ci(on_complete) != "noaction":
            patch["onAllTasksComplete"] = on_complete
        options = models.BatchJobUpdateOptions(for_service(patch, "BatchJobUpdateOptions"))
        settle(lambda: data.update_job(resource.name, options))  # safe to repeat

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
        created = self.marked(Kind.JOB_SCHEDULE, {"id": resource.name, **body}, recorded)
        options = models.BatchJobScheduleCreateOptions(for_service(created, "BatchJobScheduleCreateOptions"))
        settle(lambda: data.create_job_schedule(options),
               lambda: self._owned(Kind.JOB_SCHEDULE, lambda: data.get_job_schedule(resource.name)))

    # --- update ---------------------------------------------------------------------------------

    def update(self, resource: DesiredResource, change: Change) -> None:
        getattr(self, f"update_{_method(resource.kind)}")(resource, change)

    def update_network(self, resource: DesiredResource, change: Change) -> None:
        self.create_network(resource)

    def update_storage_account(self, resource: DesiredResource, change: Change) -> None:
        body = self._storage_body(resource)
        body.pop("location", None)
        settle(lambda: self.clients.storage.storage_accounts.update(self.rg, resource.name, body))

    def update_container(self, resource: DesiredResource, change: Change) -> None:
        body, _ = self.body(resource, metadata_as_map=True)
        body.setdefault("metadata", {})
        body.setdefault("publicAccess", "None")
        settle(lambda: self.clients.storage.blob_containers.update(
            self.rg, self.account_name(resource.address), resource.name, {"properties": body}))

    def create_security_group(self, resource: DesiredResource) -> None:  # issue 17
        from deployer.apply.security_groups import group_body

        self.clients.network.network_security_groups.begin_create_or_update(
            self.rg, resource.name, group_body(self, resource)).result()

    def update_security_group(self, resource: DesiredResource, change: Change) -> None:
        self.create_security_group(resource)

    def delete_security_group(self, change: Change) -> None:
        self.clients.network.network_security_groups.begin_delete(self.rg, change.name).result()

    def create_identity(self, resource: DesiredResource) -> None:  # issue 17
        from deployer.apply.identities import sync

        sync(self, resource)

    def update_identity(self, resource: DesiredResource, change: Change) -> None:
        self.create_identity(resource)

    def delete_identity(self, change: Change) -> None:
        from deployer.apply.identities import delete

        delete(self, change)

    def create_upload(self, resource: DesiredResource) -> None:  # files into a container (issue 17)
        from deployer.apply.uploads import sync

        sync(self, resource)

    def update_upload(self, resource: DesiredResource, change: Change) -> None:
        self.create_upload(resource)

    def delete_upload(self, change: Change) -> None:
        """Uploads never delete blobs; the container's own deletion takes them."""

    def update_file_share(self, resource: DesiredResource, change: Change) -> None:
        body = self._share_body(resource)
        settle(lambda: self.clients.storage.file_shares.update(self.rg, self.account_name(resource.address),
                                                               resource.name, body))

    def update_batch_account(self, resource: DesiredResource, change: Change) -> None:
        body = self._batch_account_body(resource)
        body.pop("location", None)
        props = body.get("properties") or {}
        for fixed in ("poolAllocationMode", "keyVaultReference"):
            props.pop(fixed, None)
        settle(lambda: self.clients.batch_mgmt.batch_account.update(self.rg, resource.name, body))

    def update_application(self, resource: DesiredResource, change: Change) -> None:
        """allowUpdates first (it decides whether a changed zip may replace a version), then the
        packages, then defaultVersion (which must name a version that exists by then)."""
        body, _ = self.body(resource)
        account = self.account_name(resource.address)
        apps = self.clients.batch_mgmt.application
        props = {k: v for k, v in body.items() if k in ("displayName", "allowUpdates")}
        if props:
            settle(lambda: apps.update(self.rg, account, resource.name, {"properties": props}))
        self._sync_versions(resource, account)
        if body.get("defaultVersion"):
            default = {"properties": {"defaultVersion": body["defaultVersion"]}}
            settle(lambda: apps.update(self.rg, account, resource.name, default))

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
        pools = self.clients.batch_mgmt.pool
        settle(lambda: pools.update(self.rg, account, resource.name, for_management(body, "Pool"), **kwargs),
               lambda: self._in_sync(resource, lambda: pools.get(self.rg, account, resource.name)))

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
            marked = self.marked(Kind.JOB, body, recorded)
            fields = ("priority", "maxParallelTasks", "allowTaskPreemption", "constraints", "onAllTasksComplete",
                      "metadata")
            patch: dict[str, Any] = {k: marked[k] for k in fields if k in marked}
            patch.setdefault("priority", 0)
            kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                      if change.etag else {})
            options = models.BatchJobUpdateOptions(for_service(patch, "BatchJobUpdateOptions"))
            settle(lambda: data.update_job(resource.name, options, **kwargs),
                   lambda: self._in_sync(resource, lambda: data.get_job(resource.name)))
            if plan is None or not plan.is_change:
                return
        if plan is not None and plan.is_change:
            apply_task_plan(data, resource.name, plan, resource.spec, self.context, str(resource.address),
                            self.stack.base_dir, self._task_progress(resource), prepare=self._instances(resource))
        self._record_tasks(data, resource, body, recorded, digest)

    def update_job_schedule(self, resource: DesiredResource, change: Change) -> None:
        from azure.batch import models
        from azure.core import MatchConditions

        data = self.context.batch_data(self.account_name(resource.address))
        body, recorded = self._schedule_body(resource)
        self._schedule_tasks(resource, recorded)
        marked = self.marked(Kind.JOB_SCHEDULE, body, recorded)
        patch: dict[str, Any] = {k: marked[k] for k in ("schedule", "jobSpecification", "metadata") if k in marked}
        kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                  if change.etag else {})
        patch = for_service(patch, "BatchJobScheduleUpdateOptions")
        settle(lambda: data.update_job_schedule(resource.name, models.BatchJobScheduleUpdateOptions(patch), **kwargs),
               lambda: self._in_sync(resource, lambda: data.get_job_schedule(resource.name)))

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
            settle(lambda: pools.disable_auto_scale(self.rg, account, resource.name))  # safe to repeat
        zero = {"properties": {"scaleSettings": {"fixedScale": {"targetDedicatedNodes": 0,
                                                                "targetLowPriorityNodes": 0}}}}
        kwargs: dict[str, Any] = ({"etag": change.etag, "match_condition": MatchConditions.IfNotModified}
                                  if change.etag and not scale.get("autoScale") else {})

        def zeroed() -> bool | None:
            fixed = ((rest(pools.get(self.rg, account, resource.name)).get("properties") or {})
                     .get("scaleSettings") or {}).get("fixedScale") or {}
            targets = (fixed.get("targetDedicatedNodes"), fixed.get("targetLowPriorityNodes"))
            return True if fixed and all(not t for t in targets) else None

        settle(lambda: pools.update(self.rg, account, resource.name, zero, **kwargs), zeroed)
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

    # A delete is done when the resource is gone: 404 (a resent DELETE, or a rerun after kill -9) is
    # done, 409 "being deleted" waits until it is gone (deployer.apply.idempotent.remove).

    def delete_network(self, change: Change) -> None:
        vnets = self.clients.network.virtual_networks
        remove(lambda: vnets.begin_delete(self.rg, change.name).result(),
               self._exists(lambda: vnets.get(self.rg, change.name)), poll=self.poll)

    def delete_storage_account(self, change: Change) -> None:
        accounts = self.clients.storage.storage_accounts
        remove(lambda: accounts.delete(self.rg, change.name),
               self._exists(lambda: accounts.get_properties(self.rg, change.name)), poll=self.poll)

    def delete_container(self, change: Change) -> None:
        containers, account = self.clients.storage.blob_containers, self.account_name(change.address)
        remove(lambda: containers.delete(self.rg, account, change.name),
               self._exists(lambda: containers.get(self.rg, account, change.name)), poll=self.poll)

    def delete_file_share(self, change: Change) -> None:
        shares, account = self.clients.storage.file_shares, self.account_name(change.address)
        remove(lambda: shares.delete(self.rg, account, change.name),
               self._exists(lambda: shares.get(self.rg, account, change.name)), poll=self.poll)

    def delete_batch_account(self, change: Change) -> None:
        accounts = self.clients.batch_mgmt.batch_account
        remove(lambda: accounts.begin_delete(self.rg, change.name).result(),
               self._exists(lambda: accounts.get(self.rg, change.name)), poll=self.poll)

    def delete_application(self, change: Change) -> None:
        from deployer.resources.read import rest

        account = self.account_name(change.address)
        packages = self.clients.batch_mgmt.application_package
        for package in packages.list(self.rg, account, change.name):
            self._delete_version(account, change.name, str(rest(package).get("name")))
        apps = self.clients.batch_mgmt.application
        remove(lambda: apps.delete(self.rg, account, change.name),
               self._exists(lambda: apps.get(self.rg, account, change.name)), poll=self.poll)

    def delete_pool(self, change: Change) -> None:
        pools, account = self.clients.batch_mgmt.pool, self.account_name(change.address)
        remove(lambda: pools.begin_delete(self.rg, account, change.name).result(),
               self._exists(lambda: pools.get(self.rg, account, change.name)), poll=self.poll)

    def delete_job(self, change: Change) -> None:
        data = self.context.batch_data(self.account_name(change.address))
        remove(lambda: data.begin_delete_job(change.name, polling_interval=self.poll).result(),
               self._exists(lambda: data.get_job(change.name)), poll=self.poll)

    def delete_job_schedule(self, change: Change) -> None:
        data = self.context.batch_data(self.account_name(change.address))
        remove(lambda: data.begin_delete_job_schedule(change.name, polling_interval=self.poll).result(),
               self._exists(lambda: data.get_job_schedule(change.name)), poll=self.poll)


def _method(kind: Kind | str) -> str:
    return {
        Kind.NETWORK: "network", Kind.STORAGE_ACCOUNT: "storage_account", Kind.CONTAINER: "container",
        Kind.FILE_SHARE: "file_share", Kind.BATCH_ACCOUNT: "batch_account", Kind.APPLICATION: "application",
        Kind.POOL: "pool", Kind.JOB: "job", Kind.JOB_SCHEDULE: "job_schedule", Kind.UPLOAD: "upload",
        Kind.SECURITY_GROUP: "security_group", Kind.IDENTITY: "identity",
    }[Kind(kind)]


__all__ = ["PENDING", "Writers", "fingerprint_key", "thaw"]
