"""The node agent: runs the tasks of a data directory's Batch jobs on this machine.

One loop (`Agent.tick`), owning every task's state once execution is on (batch_data's timer
simulation is then off for all jobs):

1. reap: processes that ended -> output files, exit conditions, retries, the task's
   executionInfo (and the job actions its exit options ask for) written to the store;
2. enforce: maxWallClockTime and tasks terminated or deleted through the API (their stored
   document moved on) -> the whole process group is killed;
3. jobs: every job not yet completed (one indexed query), settled as the data plane settles it;
   jobs that ended get their job release task on every node that ran their preparation;
4. schedule: for each active job by priority, its queued tasks (an indexed query, no more than
   the free slots unless dependencies must be checked) go to nodes with free slots, spread or
   pack, after the node's start task (waitForSuccess) and the job's preparation task
   (lifecycle.NodeLifecycle, mixed in).

Every state change is a store write with the etag the agent last wrote, so an API call that
changed a task in between (terminate, delete, requeue) always wins.

Finished tasks' directories are deleted after their constraints.retentionTime (when the agent
that ran them is still running then).

Nodes that leave their pool (deleted, resized down) lose their directories, as a VM its disk
(seen while the agent runs).

Waiting: on the end of any process it runs (pidfd) or a wake-up, else every 0.1 s; when nothing
runs and nothing could start (queued tasks wait for nodes, a failed dependency...), less and less
often, up to once a second.

Restart (`recover`): tasks the store says are running belong to an agent that died: their
process groups are killed and they are requeued (requeueCount + 1), as Batch requeues the tasks
of a node that restarts; each node's start task runs again.
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import logging
import os
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from typing import Any

from ..batch_data import auto_pools, models, pools
from ..batch_mgmt import models as mgmt
from ..core import Doc, Store, clock
from . import environment, files, layout, process, rules
from .lifecycle import NodeLifecycle
from .node import Node
from .tasks import (
    KIND_PREP,
    Aux,
    Run,
    container_failure,
    not_runnable_pool,
    requeue,
    seconds,
    with_meta_copy,
)

log = logging.getLogger("deployer.emulator.agent")
NOT_DONE_JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "deleting")
ENFORCE_SECONDS = 0.1
IDLE_WAIT_SECONDS = 0.1
QUIET_WAIT_SECONDS = 1.0


class Agent(NodeLifecycle):
    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.store = Store(data_dir)
        self.data_dir = self.store.data_dir
        self.nodes: dict[str, Node] = {}
        self.runs: dict[str, Run] = {}
        self.aux: list[Aux] = []
        self._accounts: dict[str, Doc | None] = {}
        self._last_enforce = 0.0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stopped = threading.Event()
        self._container_runtime: bool | None = None
        self._started = 0  # tasks started by the last tick
        self._retained: list[tuple[float, str]] = []  # heap of (delete after, task dir) of finished tasks

    # ==========================================================================================
    # the loop
    # ==========================================================================================

    def notify(self) -> None:
        """Something changed (a job or task was added): look now rather than at the next poll."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def stop(self) -> None:
        self._stopped.set()
        self.notify()

    def run(self, *, idle_exit: float | None = None, stuck_exit: float | None = None) -> str:
        """Tick until stopped (or, with `idle_exit`, until nothing ran for that many seconds; or,
        with `stuck_exit`, until tasks stayed queued that long with nothing running or starting:
        no node for them, a pool over quota). Returns "stopped", "idle" or "stuck"."""
        self.recover()
        idle_since: float | None = None
        progress_at = time.monotonic()
        wait = IDLE_WAIT_SECONDS
        try:
            while not self._stopped.is_set():
                if not self.data_dir.is_dir():  # the data directory was deleted under us: nothing left to run
                    log.info("node agent: %s is gone; stopping", self.data_dir)
                    return "stopped"
                try:
                    busy = self.tick()
                except Exception:  # noqa: BLE001 - one bad tick must not stop every task: log, go on
                    log.exception("node agent: a scheduling pass failed; retrying")
                    self._stopped.wait(0.5)
                    busy = True
                now = time.monotonic()
                if self.runs or self.aux or self._started:
                    progress_at = now
                elif stuck_exit is not None and now - progress_at >= stuck_exit:
                    log.info("node agent: tasks queued for %.0f s and none can start; leaving", now - progress_at)
                    return "stuck"
                if busy:
                    idle_since = None
                elif idle_exit is not None:
                    idle_since = idle_since or now
                    if now - idle_since >= idle_exit:
                        return "idle"
                # Nothing running and nothing started: queued tasks wait for capacity (no node,
                # a failed dependency...): look less and less often, up to once a second.
                quiet = not self.runs and not self.aux and not self._started
                wait = min(wait * 2, QUIET_WAIT_SECONDS) if quiet else IDLE_WAIT_SECONDS
                self._wait(wait)
        finally:
            self.shutdown()
        return "stopped"

    def _wait(self, timeout: float) -> None:
        """Sleep until a process ends, `notify()` is called, or `timeout` passes."""
        sel = selectors.DefaultSelector()
        opened: list[int] = []
        try:
            sel.register(self._wake_r, selectors.EVENT_READ)
            for p in self._popens():
                try:
                    fd = os.pidfd_open(p.pid)
                except (OSError, AttributeError):
                    continue
                opened.append(fd)
                sel.register(fd, selectors.EVENT_READ)
            sel.select(timeout)
        finally:
            sel.close()
            for fd in opened:
                os.close(fd)
            with contextlib.suppress(BlockingIOError, OSError):
                while os.read(self._wake_r, 4096):
                    pass

    def _popens(self) -> Iterable[subprocess.Popen[bytes]]:
        for run in self.runs.values():
            yield from (p for p in run.procs if p.returncode is None)
        for a in self.aux:
            yield a.proc.popen

    def tick(self) -> bool:
        """One pass; True while there is work (something running, or queued in an active job)."""
        now = clock.now()
        self._accounts.clear()
        self._reap(now)
        if now - self._last_enforce >= ENFORCE_SECONDS:
            self._enforce(now)
            self._last_enforce = now
        else:
            self._enforce_deadlines(now)
        jobs = self._jobs(now)
        self._end_jobs(jobs, now)
        queued = self._schedule(jobs, now)
        self._expire(now)
        return bool(self.runs or self.aux or queued)

    def shutdown(self) -> None:
        """Kill everything still running (the agent never leaves a process behind)."""
        for run in list(self.runs.values()):
            for p in run.procs:
                process.kill_tree(p)
        for a in self.aux:
            process.kill_tree(a.proc.popen)
        self.runs.clear()
        self.aux.clear()
        self.store.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ==========================================================================================
    # recovery after a crash
    # ==========================================================================================

    def recover(self) -> None:
        now = clock.now()
        for doc in self.store.by_state(models.KIND_TASK, ("running",)):
            m = doc.body["meta"]
            for pgid, ticks in m.get("pids") or []:
                process.kill_orphan(int(pgid), ticks)
            with self.store.transaction():
                current = self.store.get(doc.kind, doc.key)
                if current is None or current.body["meta"]["state"] != "running":
                    continue
                body = copy.deepcopy(current.body)
                requeue(body["meta"], now, count_as="requeue")
                self.store.put(doc.kind, doc.key, body, parent=doc.parent, expect=current.etag)

    # ==========================================================================================
    # jobs
    # ==========================================================================================

    def _account(self, key: str) -> Doc | None:
        if key not in self._accounts:
            self._accounts[key] = self.store.get(mgmt.KIND_ACCOUNT, key)
        return self._accounts[key]

    def _jobs(self, now: float) -> list[tuple[Doc, Doc]]:
        """(account, job) of every job not completed yet, settled at `now`."""
        out = []
        for job in self.store.by_state(models.KIND_JOB, NOT_DONE_JOB_STATES):
            account = self._account(job.parent)
            if account is None:
                continue
            settled = models.settle_job(self.store, account, job, now)
            if settled is not None:
                out.append((account, settled))
        return out

    def _end_jobs(self, jobs: list[tuple[Doc, Doc]], now: float) -> None:
        """Jobs that ended: kill their processes; run their release task on every node that ran
        them (the nodes are recorded in the store, so an agent restarted in between still does)."""
        live = {j.key for _, j in jobs if j.body["meta"]["state"] not in ("terminating", "deleting")}
        for run in [r for r in self.runs.values() if r.job_key not in live]:
            self._kill_run(run)
            self._mark_ended(run, now)  # e.g. the job's maxWallClockTime: its running tasks end too
        for a in [a for a in self.aux if a.kind == "prep" and a.job_key not in live]:
            process.kill_tree(a.proc.popen)
            self.aux.remove(a)
        for doc in self.store.by_state(KIND_PREP, ("prepared",)):
            if doc.parent in live:
                continue
            job = self.store.get(models.KIND_JOB, doc.parent)
            node = self._node_of(doc, job, now) if job is not None else None
            if job is None or node is None or not job.body.get("jobReleaseTask"):
                self._set_prep_state(doc.key, "released")
                continue
            self._start_release(job, node, now)

    def _mark_ended(self, run: Run, now: float) -> None:
        """A task killed because its job ended, still `running` as the agent wrote it: completed
        as terminated (what terminate job writes for its running tasks)."""
        with self.store.transaction():
            current = self.store.get(models.KIND_TASK, run.key)
            if current is None or current.etag != run.etag:
                return
            body = with_meta_copy(current.body)
            models._finish_task(body["meta"], now, failure=dict(models.TASK_ENDED))
            body["meta"]["modified"] = now
            body["meta"].pop("pids", None)
            self.store.put(current.kind, current.key, body, parent=current.parent, expect=current.etag)

    # ==========================================================================================
    # scheduling
    # ==========================================================================================

    def _schedule(self, jobs: list[tuple[Doc, Doc]], now: float) -> bool:
        """Start what fits; True while any active job has queued tasks."""
        queued_any = False
        active = [(a, j) for a, j in jobs if j.body["meta"]["state"] == "active"]
        active.sort(key=lambda aj: (-int(aj[1].body.get("priority") or 0), aj[1].body["meta"]["created"]))
        started: list[tuple[Run, Doc]] = []
        for account, job in active:
            if not self.store.any_state(models.KIND_TASK, ("active",), parent=job.key):
                continue
            queued_any = True
            pool_id = auto_pools.pool_id_of(job.body)
            pool = mgmt.pool_of(self.store, account, pool_id, now) if pool_id else None
            if pool is None:
                continue
            reason = not_runnable_pool(pool)
            if reason is not None:  # (its nodes are never set up here: the pool itself still works)
                self._fail_queued(account, job, reason, now)
                continue
            nodes = self._pool_nodes(account, pool, now)
            self._schedule_job(account, job, pool, nodes, now, started)
        self._commit_started(started, now)
        return queued_any

    def _schedule_job(self, account: Doc, job: Doc, pool: Doc, nodes: list[Node], now: float,
                      started: list[tuple[Run, Doc]]) -> None:
        free = sum(n.free for n in nodes)
        if free <= 0:
            return
        limit = int(job.body.get("maxParallelTasks") or -1)
        if limit > 0:
            running = sum(1 for r in self.runs.values() if r.job_key == job.key) + sum(
                1 for r, _ in started if r.job_key == job.key)
            free = min(free, limit - running)
            if free <= 0:
                return
        uses_deps = bool(job.body.get("usesTaskDependencies"))
        candidates = self.store.by_state(models.KIND_TASK, ("active",), parent=job.key,
                                         limit=None if uses_deps else free)
        pack = str(((mgmt.pool_properties(pool).get("taskSchedulingPolicy") or {}).get("nodeFillType")) or "").lower()
        for doc in candidates:
            if free <= 0:
                break
            if doc.key in self.runs:
                continue
            body = doc.body
            if uses_deps and body.get("dependsOn") and not self._dependencies_met(job, body["dependsOn"]):
                continue
            if body.get("containerSettings"):
                self._complete_now(account, job, doc, container_failure(self._has_container_runtime()), now)
                continue
            instances = int((body.get("multiInstanceSettings") or {}).get("numberOfInstances") or 1)
            need = max(1, int(body.get("requiredSlots") or 1))
            chosen = self._place(account, job, nodes, need, instances, pack == "pack", now)
            if chosen is None:
                continue
            run = self._start(account, job, doc, chosen, need, now)
            if run is not None:
                started.append((run, doc))
                free -= need * len(chosen)

    def _place(self, account: Doc, job: Doc, nodes: list[Node], need: int, instances: int, pack: bool,
               now: float) -> list[Node] | None:
        """`instances` distinct nodes with `need` free slots each: spread (most free first) or pack
        (fullest first, so one node fills before the next takes work)."""
        fit = [n for n in nodes if n.free >= need]
        if len(fit) < instances:
            return None
        if pack:
            fit.sort(key=lambda n: (n.free, n.index))
        else:
            fit.sort(key=lambda n: (-n.free, n.index))
        chosen = []
        for n in fit:
            if self._prep_ready(account, job, n, now):
                chosen.append(n)
                if len(chosen) == instances:
                    return chosen
        return None

    def _dependencies_met(self, job: Doc, depends_on: Any) -> bool:
        for tid in rules.dependency_ids(depends_on):
            dep = self.store.get(models.KIND_TASK, models.task_key(job, tid))
            if dep is None or dep.body["meta"]["state"] != "completed":
                return False
            if dep.body["meta"].get("dependencyAction", "satisfy") != "satisfy":
                return False
        return True

    def _has_container_runtime(self) -> bool:
        if self._container_runtime is None:
            docker = shutil.which("docker")
            ok = False
            if docker:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    ok = subprocess.run([docker, "version"], capture_output=True, timeout=10).returncode == 0
            self._container_runtime = ok
        return self._container_runtime

    def _start(self, account: Doc, job: Doc, doc: Doc, nodes: list[Node], need: int, now: float) -> Run | None:
        """Prepare the task's directory on its node(s) and start its first process(es)."""
        body, job_id, task_id = doc.body, job.body["id"], doc.body["id"]
        primary = nodes[0]
        tdir = layout.task_dir(primary.root, job_id, task_id)
        wd = tdir / "wd"
        try:
            os.makedirs(wd, exist_ok=True)  # (stdout.txt and stderr.txt are created fresh by spawn)
            files.download_resource_files(self.store, account, body.get("resourceFiles"), wd,
                                          files.node_identities(self.store, primary.pool_key))
            packages = dict(primary.packages)
            for app, version in files.package_refs(body.get("applicationPackageReferences")):
                ref, path = files.install_package(self.store, account, app, version,
                                                  layout.applications_dir(primary.root))
                packages[ref] = path
        except files.DataError as exc:
            self._complete_now(account, job, doc, rules.failure_info(exc.code, exc.message), now,
                               kind="preProcessingError")
            return None
        wall = seconds((body.get("constraints") or {}).get("maxWallClockTime"))
        run = Run(doc.key, job.key, account.key, doc.etag, nodes, need, tdir, body, job.body, now,
                  now + wall if wall else None)
        for n in nodes:
            n.used += need
        multi = body.get("multiInstanceSettings") or None
        extra: dict[str, str] = {}
        if multi:
            hosts = [n.ip for n in nodes]
            extra = {"AZ_BATCH_HOST_LIST": ",".join(hosts), "AZ_BATCH_MASTER_NODE": f"{hosts[0]}:6000",
                     "AZ_BATCH_TASK_SHARED_DIR": str(tdir), "AZ_BATCH_NODE_LIST": ";".join(hosts)}
        run.env = environment.task_environment(
            self._node_context(primary, packages), task_dir=tdir, job_id=job_id, task_id=task_id,
            identity=body.get("userIdentity"),
            job_prep_dir=layout.job_dir(primary.root, job_id) / layout.JOB_PREPARATION,
            common=job.body.get("commonEnvironmentSettings"), own=body.get("environmentSettings"), extra=extra)
        try:
            if multi and multi.get("coordinationCommandLine"):
                run.phase = "coordination"
                for i, n in enumerate(nodes):
                    ndir = layout.task_dir(n.root, job_id, task_id)
                    (ndir / "wd").mkdir(parents=True, exist_ok=True)
                    env = dict(run.env)
                    env.update(environment.node_variables(self._node_context(n)))  # that node's own dirs
                    env.update(AZ_BATCH_IS_CURRENT_NODE_MASTER="true" if i == 0 else "false",
                               AZ_BATCH_TASK_DIR=str(ndir), AZ_BATCH_TASK_WORKING_DIR=str(ndir / "wd"))
                    run.procs.append(process.spawn(str(multi["coordinationCommandLine"]), ndir / "wd", env,
                                                   ndir / "stdout.txt", ndir / "stderr.txt"))
            else:
                self._spawn_main(run)
        except process.SpawnError as exc:
            self._release_slots(run)
            for p in run.procs:
                process.kill_tree(p)
            self._complete_now(account, job, doc, rules.failure_info("CommandProgramNotFound", str(exc)), now,
                               kind="preProcessingError")
            return None
        self.runs[doc.key] = run
        return run

    def _spawn_main(self, run: Run) -> None:
        env = dict(run.env)
        if run.body.get("multiInstanceSettings"):
            env["AZ_BATCH_IS_CURRENT_NODE_MASTER"] = "true"
        cmd = str(run.body["commandLine"])
        run.procs = [process.spawn(cmd, run.task_dir / "wd", env, run.task_dir / "stdout.txt",
                                   run.task_dir / "stderr.txt")]
        run.phase = "main"

    def _commit_started(self, started: list[tuple[Run, Doc]], now: float) -> None:
        """Write `running` for everything started this tick, in one transaction; a task that
        changed meanwhile (terminated, deleted) is killed instead."""
        self._started = len(started)
        if not started:
            return
        lost: list[Run] = []
        with self.store.transaction():
            for run, doc in started:
                current = self.store.get(doc.kind, doc.key)
                if current is None or current.etag != doc.etag:
                    lost.append(run)
                    continue
                body = with_meta_copy(current.body)
                m = body["meta"]
                models._set_state(m, "running", now)
                m["start"], m["end"], m["modified"] = now, None, now
                m["node"] = {"poolId": run.nodes[0].pool_id, "nodeId": run.nodes[0].id}
                m["nodeIndex"] = run.nodes[0].index
                m["pids"] = [[p.pid, process.start_ticks(p.pid)] for p in run.procs]
                ex = m.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
                ex["startTime"] = now
                for k in ("endTime", "exitCode", "failureInfo", "result"):
                    ex.pop(k, None)
                run.etag = self.store.put(doc.kind, doc.key, body, parent=doc.parent, expect=current.etag).etag
        for run in lost:
            self._kill_run(run)

    # ==========================================================================================
    # ending
    # ==========================================================================================

    def _reap(self, now: float) -> None:
        for a in list(self.aux):
            code = a.proc.popen.poll()
            if code is None:
                continue
            self.aux.remove(a)
            if a.kind == "start":
                self._start_task_ended(a.node, now, process.exit_code(code), None)
            else:
                self._special_ended(a, process.exit_code(code), None, now)
        finished: list[tuple[Run, int | None, dict[str, Any] | None, str | None]] = []
        for run in list(self.runs.values()):
            codes = [p.poll() for p in run.procs]
            if run.phase == "coordination":
                bad = [c for c in codes if c not in (None, 0)]
                if bad:
                    for p in run.procs:
                        process.kill_tree(p)
                    finished.append((run, process.exit_code(bad[0]), None, None))
                elif all(c == 0 for c in codes):
                    try:
                        self._spawn_main(run)
                        self._record_pids(run)
                    except process.SpawnError as exc:
                        finished.append((run, None, rules.failure_info("CommandProgramNotFound", str(exc)),
                                         "preProcessingError"))
                continue
            if codes and codes[0] is not None:
                finished.append((run, process.exit_code(codes[0]), None, None))
        if finished:
            self._finish_many(finished, now)

    def _record_pids(self, run: Run) -> None:
        def change(body: dict[str, Any]) -> dict[str, Any]:
            body["meta"]["pids"] = [[p.pid, process.start_ticks(p.pid)] for p in run.procs]
            return body

        with self.store.transaction():
            current = self.store.get(models.KIND_TASK, run.key)
            if current is not None and current.etag == run.etag:
                run.etag = self.store.put(models.KIND_TASK, run.key, change(copy.deepcopy(current.body)),
                                          parent=current.parent, expect=current.etag).etag

    def _enforce_deadlines(self, now: float) -> None:
        late = [r for r in self.runs.values() if r.deadline is not None and r.deadline <= now]
        for run in late:
            for p in run.procs:
                process.kill_tree(p)
        if late:
            failure = rules.failure_info("MaxWallClockTimeExceeded",
                                         "The task ran longer than its constraints.maxWallClockTime and was killed "
                                         "(with every process it started).")
            self._finish_many([(r, None, failure, "maxWallClockTime") for r in late], now)
        for a in [a for a in self.aux if a.proc.deadline is not None and a.proc.deadline <= now]:
            process.kill_tree(a.proc.popen)
            self.aux.remove(a)
            failure = rules.failure_info("MaxWallClockTimeExceeded", "The task exceeded its maxWallClockTime.")
            if a.kind == "start":
                self._start_task_ended(a.node, now, None, failure)
            else:
                self._special_ended(a, None, failure, now)

    def _enforce(self, now: float) -> None:
        """Deadlines; tasks changed through the API (terminated, deleted, requeued): killed;
        tasks whose node went away (pool deleted or resized down): killed and requeued, as Batch
        requeues the tasks of a removed node."""
        self._enforce_deadlines(now)
        present: dict[str, set[str]] = {}
        for run in list(self.runs.values()):
            doc = self.store.get(models.KIND_TASK, run.key)
            if doc is not None and doc.etag != run.etag and self._still_ours(run, doc):
                self._adopt(run, doc)  # e.g. its constraints were updated: it keeps running
            if doc is None or doc.etag != run.etag:
                self._kill_run(run)
                continue
            pool_key = run.nodes[0].pool_key
            if pool_key not in present:
                present[pool_key] = self._node_ids(pool_key, now)
            if any(n.id not in present[pool_key] for n in run.nodes):
                self._kill_run(run)
                with self.store.transaction():
                    current = self.store.get(doc.kind, doc.key)
                    if current is not None and current.etag == run.etag:
                        body = with_meta_copy(current.body)
                        requeue(body["meta"], now, count_as="requeue")
                        self.store.put(doc.kind, doc.key, body, parent=doc.parent, expect=current.etag)
        self._prune_nodes(now, present)

    def _prune_nodes(self, now: float, present: dict[str, set[str]]) -> None:
        """Nodes that left their pool (deleted, resized down): their processes end and their
        directories go, as a removed VM's disk does (the pool's directory too once it is gone)."""
        for pool_key in {n.pool_key for n in self.nodes.values()}:
            if pool_key not in present:
                present[pool_key] = self._node_ids(pool_key, now)
            gone = [n for n in self.nodes.values() if n.pool_key == pool_key and n.id not in present[pool_key]]
            for node in gone:
                del self.nodes[node.key]
                for a in [a for a in self.aux if a.node is node]:
                    process.kill_tree(a.proc.popen)
                    self.aux.remove(a)
                shutil.rmtree(node.root, ignore_errors=True)
            if gone and not present[pool_key]:
                shutil.rmtree(layout.pool_root(self.data_dir, gone[0].account, gone[0].pool_id), ignore_errors=True)

    @staticmethod
    def _still_ours(run: Run, doc: Doc) -> bool:
        """The task changed, but is still the run this agent started (same processes, running)."""
        m = doc.body["meta"]
        recorded = [int(pid) for pid, _ticks in m.get("pids") or []]
        return m.get("state") == "running" and recorded == [p.pid for p in run.procs]

    def _adopt(self, run: Run, doc: Doc) -> None:
        """Take an API change of a running task on board: its etag, and its maxWallClockTime."""
        run.etag, run.body = doc.etag, doc.body
        wall = seconds((doc.body.get("constraints") or {}).get("maxWallClockTime"))
        run.deadline = run.started + wall if wall else None

    def _expire(self, now: float) -> None:
        """Delete the directories of finished tasks whose retentionTime is over (the ones this
        agent finished; the default retention, 7 days, outlives any agent)."""
        while self._retained and self._retained[0][0] <= now:
            _, path = heapq.heappop(self._retained)
            shutil.rmtree(path, ignore_errors=True)

    def _node_ids(self, pool_key: str, now: float) -> set[str]:
        pool = self.store.get(mgmt.KIND_POOL, pool_key)
        if pool is None or mgmt.pool_state(pool, now).deleting:
            return set()
        return {n.id for n in pools.nodes(pool, now)}

    def _kill_run(self, run: Run) -> None:
        for p in run.procs:
            process.kill_tree(p)
        self._release_slots(run)
        self.runs.pop(run.key, None)

    def _release_slots(self, run: Run) -> None:
        for n in run.nodes:
            n.used = max(0, n.used - run.slots)

    def _finish_many(self, items: list[tuple[Run, int | None, dict[str, Any] | None, str | None]], now: float) -> None:
        actions: list[tuple[str, str, str]] = []  # (account key, job id, action)
        with self.store.transaction():
            for run, code, failure, kind in items:
                self._release_slots(run)
                self.runs.pop(run.key, None)
                action = self._finish(run, code, failure, kind, now)
                if action is not None:
                    actions.append((run.account_key, str(run.job["id"]), action))
        for account_key, job_id, action in actions:
            self._job_action(account_key, job_id, action)

    def _finish(self, run: Run, code: int | None, failure: dict[str, Any] | None, kind: str | None,
                now: float) -> str | None:
        """Write how the task ended; the job action to take, if any."""
        current = self.store.get(models.KIND_TASK, run.key)
        if current is None or current.etag != run.etag:
            return None
        succeeded = failure is None and code == 0
        pool = self.store.get(mgmt.KIND_POOL, run.nodes[0].pool_key) if run.nodes else None
        self.sync_mounts(pool)
        if kind is None:
            try:
                files.upload_output_files(self.store, run.body.get("outputFiles"), run.task_dir / "wd", succeeded,
                                          files.pool_identities(pool))
            except (files.DataError, OSError) as exc:
                failure = rules.failure_info(getattr(exc, "code", "FileUploadMiscError"),
                                             getattr(exc, "message", str(exc)))
                kind, succeeded = "fileUploadError", False
        if failure is None and not succeeded and code is not None:
            failure = rules.exit_code_failure(code)
        body = with_meta_copy(current.body)
        m = body["meta"]
        ex = m.setdefault("exec", {"retryCount": 0, "requeueCount": 0})
        options = rules.exit_options(body, code, kind if kind in ("preProcessingError", "fileUploadError") else None)
        retries = ex.get("retryCount", 0)
        if failure is not None and kind != "maxWallClockTime" and rules.may_retry(retries, rules.max_retries(body,
                                                                                                          run.job)):
            ex["retryCount"] = retries + 1
            ex["lastRetryTime"] = now
            requeue(m, now, count_as=None)
            self.store.put(current.kind, current.key, body, parent=current.parent, expect=current.etag)
            return None
        models._finish_task(m, now, exit_code=code, failure=failure)
        retention = seconds((body.get("constraints") or {}).get("retentionTime"))
        if retention is not None:
            heapq.heappush(self._retained, (now + retention, str(run.task_dir)))
        m["modified"] = now
        m["dependencyAction"] = options.dependency_action
        m.pop("pids", None)
        self.store.put(current.kind, current.key, body, parent=current.parent, expect=current.etag)
        if m.get("jobManager") and body.get("killJobOnCompletion", True):
            return "jmcomplete"
        if str(run.job.get("onTaskFailure") or "").lower() == "performexitoptionsjobaction" and (
            options.job_action in ("terminate", "disable")
        ):
            return options.job_action
        return None

    def _job_action(self, account_key: str, job_id: str, action: str) -> None:
        account = self._account(account_key)
        if account is None:
            return
        with contextlib.suppress(Exception):  # the job may have ended or gone meanwhile
            if action == "disable":
                models.disable_job(self.store, account, job_id, "requeue")
            else:
                models.terminate_job(self.store, account, job_id,
                                     "JMComplete" if action == "jmcomplete" else "TaskFailed")

    def _complete_now(self, account: Doc, job: Doc, doc: Doc, failure: dict[str, Any], now: float,
                      kind: str = "preProcessingError") -> None:
        """End a queued task that cannot run (its job action applied as for any failure)."""
        action = None
        with self.store.transaction():
            current = self.store.get(doc.kind, doc.key)
            if current is None or current.etag != doc.etag:
                return
            body = copy.deepcopy(current.body)
            m = body["meta"]
            models._finish_task(m, now, failure=failure)
            m["modified"] = now
            options = rules.exit_options(body, None, kind)
            m["dependencyAction"] = options.dependency_action
            self.store.put(doc.kind, doc.key, body, parent=doc.parent, expect=current.etag)
            if str(job.body.get("onTaskFailure") or "").lower() == "performexitoptionsjobaction" and (
                options.job_action in ("terminate", "disable")
            ):
                action = options.job_action
        if action:
            self._job_action(account.key, job.body["id"], action)

    def _fail_queued(self, account: Doc, job: Doc, reason: dict[str, Any], now: float) -> None:
        for doc in self.store.by_state(models.KIND_TASK, ("active",), parent=job.key, limit=100):
            self._complete_now(account, job, doc, reason, now)
