"""Node and job lifecycle for the agent: nodes booting (directories, mounts, application
packages, start task), job preparation before a job's first task on a node and job release when
the job ends (recorded per node in the store, so a restarted agent still runs the release).

`NodeLifecycle` is mixed into `agent.Agent`; it uses the agent's store, nodes and aux processes.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

from .. import EMBEDDED_BASE_URL
from ..batch_data import models, pools
from ..batch_mgmt import models as mgmt
from ..core import Doc, Store, clock
from . import environment, files, layout, process, rules
from .node import Node, Proc
from .tasks import KIND_PREP, RELEASE_WALL_SECONDS, Aux, prep_key, seconds, start_info_failure

log = logging.getLogger("deployer.emulator.agent")


class NodeLifecycle:
    store: Store
    data_dir: Path
    nodes: dict[str, Node]
    aux: list[Aux]

    def _account(self, key: str) -> Doc | None:
        raise NotImplementedError

    def _node_of(self, doc: Doc, job: Doc, now: float) -> Node | None:
        account = self._account(job.parent)
        pool = mgmt.pool_of(self.store, account, str(doc.body["poolId"]), now) if account is not None else None
        if account is None or pool is None:
            return None
        return next((n for n in self._pool_nodes(account, pool, now) if n.id == doc.body["nodeId"]), None)

    # ==========================================================================================
    # nodes
    # ==========================================================================================

    def _pool_nodes(self, account: Doc, pool: Doc, now: float) -> list[Node]:
        """The pool's nodes now (created, mounted and start task started on first sight)."""
        props = mgmt.pool_properties(pool)
        per_node = int(props.get("taskSlotsPerNode") or 1)
        pid = pools.pool_id(pool)
        out = []
        for info in pools.nodes(pool, now):
            key = f"{pool.key}/nodes/{info.index}"
            node = self.nodes.get(key)
            if node is None or node.id != info.id:
                root = layout.node_root(self.data_dir, str(account.body["name"]), pid, info.id)
                ip = f"10.0.{info.index // 250}.{4 + info.index % 250}"
                node = Node(pool.key, account.key, str(account.body["name"]), pid, info.index, info.id,
                            info.dedicated, root, per_node, ip)
                self.nodes[key] = node
                self._boot(node, account, pool, now)
            node.capacity = per_node
            out.append(node)
        return out

    def _boot(self, node: Node, account: Doc, pool: Doc, now: float) -> None:
        props = mgmt.pool_properties(pool)
        node.make_dirs()
        try:
            files.mount_all(self.store, props.get("mountConfiguration"), self.data_dir, layout.mounts_dir(node.root))
            for app, version in files.package_refs(props.get("applicationPackages")):
                ref, path = files.install_package(self.store, account, app, version, layout.applications_dir(node.root))
                node.packages[ref] = path
        except (files.DataError, OSError) as exc:
            node.broken = True
            node.write_state(self.store, "unusable", start_info_failure(now, rules.failure_info(
                getattr(exc, "code", "NodeSetupFailed"), getattr(exc, "message", str(exc)))))
            return
        start = props.get("startTask") or {}
        if not start.get("commandLine"):
            node.ready = True
            node.write_state(self.store, "idle", None)
            return
        node.start_spec = start
        node.ready = not bool(start.get("waitForSuccess", True))
        self._spawn_start(node, now)

    def _spawn_start(self, node: Node, now: float) -> None:
        spec = node.start_spec
        sdir = layout.startup_dir(node.root)
        wd = sdir / "wd"
        wd.mkdir(parents=True, exist_ok=True)
        ctx = self._node_context(node)
        env = environment.task_environment(ctx, task_dir=sdir, identity=spec.get("userIdentity"),
                                           own=spec.get("environmentSettings"))
        env["AZ_BATCH_TASK_WORKING_DIR"] = str(wd)
        try:
            popen = self._fetch_and_spawn(node, spec, wd, env, sdir)
        except (files.DataError, process.SpawnError) as exc:
            self._start_task_ended(node, now, None, rules.failure_info(getattr(exc, "code", "CommandProgramNotFound"),
                                                                       str(exc)))
            return
        node.start = Proc(popen, now, None)
        self.aux.append(Aux("start", node, node.start, spec=spec, retries=node.start_retries))
        node.write_state(self.store, "starting", {"state": "running", "startTime": clock.iso(now),
                                                  "retryCount": node.start_retries})

    def sync_mounts(self, pool: Doc | None) -> None:
        """Write back what a task wrote under the pool's blob mounts (files.sync_blob_mounts); a
        failure is logged, as blobfuse's would reach only the process writing, and it has ended."""
        if pool is None:
            return
        try:
            files.sync_blob_mounts(self.store, mgmt.pool_properties(pool).get("mountConfiguration"), self.data_dir)
        except (OSError, files.DataError) as exc:
            log.warning("writing back the blob mounts of pool %s failed: %s", pool.key, exc)

    def _start_task_ended(self, node: Node, now: float, code: int | None, failure: dict[str, Any] | None) -> None:
        self.sync_mounts(self.store.get(mgmt.KIND_POOL, node.pool_key))
        spec = node.start_spec
        started = node.start.started if node.start else now
        node.start = None
        if failure is None and code not in (None, 0):
            failure = rules.exit_code_failure(code)
        if failure is not None and rules.may_retry(node.start_retries, int(spec.get("maxTaskRetryCount") or 0)):
            node.start_retries += 1
            self._spawn_start(node, now)
            return
        info: dict[str, Any] = {"state": "completed", "startTime": clock.iso(started), "endTime": clock.iso(now),
                                "retryCount": node.start_retries, "result": "failure" if failure else "success"}
        if code is not None:
            info["exitCode"] = code
        if failure is not None:
            info["failureInfo"] = failure
        waited = bool(spec.get("waitForSuccess", True))
        if failure is not None and waited:
            node.broken = True
            node.write_state(self.store, "starttaskfailed", info)
        else:
            node.ready = True
            node.write_state(self.store, "idle", info)

    def _node_context(self, node: Node, packages: dict[str, Path] | None = None) -> environment.NodeContext:
        return environment.NodeContext(
            account=node.account,
            account_url=f"{EMBEDDED_BASE_URL}/batch/{node.account}",  # the local target's account endpoint
            pool_id=node.pool_id,
            node_id=node.id,
            dedicated=node.dedicated,
            root=node.root,
            ip=node.ip,
            packages=dict(node.packages) if packages is None else packages,
        )

    # ==========================================================================================
    # job preparation and release
    # ==========================================================================================

    def _prep_ready(self, account: Doc, job: Doc, node: Node, now: float) -> bool:
        """Whether tasks of `job` may run on `node` (its preparation task started or done)."""
        prep = job.body.get("jobPreparationTask")
        if not prep:
            if job.body.get("jobReleaseTask") and job.key not in node.prepared:
                node.prepared[job.key] = "succeeded"  # the release task will run here when the job ends
                self._write_prep_info(job.key, node, "prep", {})
            return True
        state = node.prepared.get(job.key)
        if state is None:
            self._start_prep(account, job, node, now)
            state = node.prepared.get(job.key)
        wait = bool(prep.get("waitForSuccess", True))
        return state == "succeeded" or (not wait and state is not None)

    def _special_env(self, node: Node, job_id: str, task_dir: Path, spec: dict[str, Any]) -> dict[str, str]:
        ctx = self._node_context(node)
        jp = layout.job_dir(node.root, job_id) / layout.JOB_PREPARATION
        return environment.task_environment(ctx, task_dir=task_dir, job_id=job_id, task_id=str(spec.get("id") or ""),
                                            identity=spec.get("userIdentity"), job_prep_dir=jp,
                                            own=spec.get("environmentSettings"))

    def _fetch_and_spawn(self, node: Node, spec: dict[str, Any], wd: Path, env: dict[str, str],
                         task_dir: Path) -> subprocess.Popen[bytes]:
        """A start, preparation or release task's resource files into `wd`, then its process
        (stdout.txt and stderr.txt in `task_dir`). DataError or SpawnError when either fails."""
        account = self._account(node.account_key)
        if account is not None:
            files.download_resource_files(self.store, account, spec.get("resourceFiles"), wd,
                                          files.node_identities(self.store, node.pool_key))
        return process.spawn(str(spec["commandLine"]), wd, env, task_dir / "stdout.txt", task_dir / "stderr.txt")

    def _spawn_special(self, kind: str, node: Node, job_key: str, job_id: str, spec: dict[str, Any],
                       now: float, retries: int = 0) -> str | None:
        """Start a preparation or release task; its error message if it could not start."""
        tdir = layout.job_dir(node.root, job_id) / (layout.JOB_PREPARATION if kind == "prep" else layout.JOB_RELEASE)
        wd = tdir / "wd"
        wd.mkdir(parents=True, exist_ok=True)
        env = self._special_env(node, job_id, tdir, spec)
        try:
            popen = self._fetch_and_spawn(node, spec, wd, env, tdir)
        except (files.DataError, process.SpawnError) as exc:
            return str(exc)
        wall = seconds((spec.get("constraints") or {}).get("maxWallClockTime"))
        if kind == "release":
            wall = min(wall or RELEASE_WALL_SECONDS, RELEASE_WALL_SECONDS)
        self.aux.append(Aux(kind, node, Proc(popen, now, now + wall if wall else None), job_key, spec, retries))
        info: dict[str, Any] = {"state": "running", "startTime": clock.iso(now),
                                "taskRootDirectory": layout.task_relative(job_id, tdir.name)}
        if kind == "prep":  # a release task's execution info has no retryCount in the API (it is never retried)
            info["retryCount"] = retries
        self._write_prep_info(job_key, node, kind, info)
        return None

    def _start_prep(self, account: Doc, job: Doc, node: Node, now: float, retries: int = 0) -> None:
        node.prepared[job.key] = "running"
        error = self._spawn_special("prep", node, job.key, job.body["id"], job.body["jobPreparationTask"], now, retries)
        if error is not None:
            node.prepared[job.key] = "failed"
            self._write_prep_info(job.key, node, "prep", {"state": "completed", "result": "failure",
                                                         "failureInfo": rules.failure_info("PreparationFailed", error)})

    def _start_release(self, job: Doc, node: Node, now: float) -> None:
        self._set_prep_state(prep_key(job.key, node.id), "releasing")
        error = self._spawn_special("release", node, job.key, job.body["id"], job.body["jobReleaseTask"], now)
        if error is not None:
            self._write_prep_info(job.key, node, "release", {"state": "completed", "result": "failure",
                                                            "failureInfo": rules.failure_info("ReleaseFailed", error)})
            self._set_prep_state(prep_key(job.key, node.id), "released")

    def _write_prep_info(self, job_key: str, node: Node, kind: str, info: dict[str, Any]) -> None:
        """Record a preparation or release task's execution info for a node (the document's
        `meta.state` is `prepared` while a release task is due, so it is found by an index)."""
        job = self.store.get(models.KIND_JOB, job_key)
        if job is None:
            return
        key = prep_key(job_key, node.id)
        field_name = "jobPreparationTaskExecutionInfo" if kind == "prep" else "jobReleaseTaskExecutionInfo"

        def change(body: dict[str, Any]) -> dict[str, Any]:
            if not info:
                return body
            current = dict(body.get(field_name) or {})
            current.update(info)
            return {**body, field_name: current}

        with self.store.transaction():
            if self.store.get(KIND_PREP, key) is None:
                state = "prepared" if job.body.get("jobReleaseTask") else "released"
                self.store.put(KIND_PREP, key, {"poolId": node.pool_id, "nodeId": node.id, "index": node.index,
                                               "meta": {"state": state}}, parent=job_key)
            self.store.update(KIND_PREP, key, change)

    def _set_prep_state(self, key: str, state: str) -> None:
        self.store.update(KIND_PREP, key, lambda body: {**body, "meta": {**body.get("meta", {}), "state": state}})

    def _special_ended(self, a: Aux, code: int | None, failure: dict[str, Any] | None, now: float) -> None:
        assert a.job_key is not None
        if failure is None and code not in (None, 0):
            failure = rules.exit_code_failure(code)
        if a.kind == "prep" and failure is not None and rules.may_retry(
            a.retries, int((a.spec.get("constraints") or {}).get("maxTaskRetryCount") or 0)
        ):
            job = self.store.get(models.KIND_JOB, a.job_key)
            account = self._account(a.node.account_key)
            if job is not None and account is not None:
                self._start_prep(account, job, a.node, now, a.retries + 1)
                return
        info: dict[str, Any] = {"state": "completed", "endTime": clock.iso(now),
                                "result": "failure" if failure else "success"}
        if code is not None:
            info["exitCode"] = code
        if failure is not None:
            info["failureInfo"] = failure
        if a.kind == "prep":
            a.node.prepared[a.job_key] = "failed" if failure else "succeeded"
        self._write_prep_info(a.job_key, a.node, a.kind, info)
        if a.kind == "release":
            self._set_prep_state(prep_key(a.job_key, a.node.id), "released")
