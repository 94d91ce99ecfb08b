"""Run a plan: its actionable changes in dependency order, independent ones in parallel.

    result = execute(plan, stack, clients, live, parallelism=10, on_event=console_callback)
    result.ok, result.done, result.failed, result.not_started

Steps come from `deployer.plan.graph` (a replace is a delete step and a create step). A thread pool
of `parallelism` workers runs every step whose prerequisites are done; long-running operations are
awaited with the SDK's pollers, and transient HTTP errors are retried by the SDK's retry policy (no
retry loop here; what the SDK cannot know — did a write whose answer was lost happen? — the writers
settle through `deployer.apply.idempotent`). A step that fails stops itself and every step that
waits for it (reported as skipped, "not started"); independent branches carry on. Progress is
reported through `on_event` (started / done / failed / skipped, with elapsed seconds); messages are
scrubbed of every secret the apply context resolved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from deployer.apply.context import ApplyContext
from deployer.apply.writers import Writers
from deployer.plan.graph import Graph, Step, build_graph
from deployer.plan.model import Plan
from deployer.resources.read import LiveState
from deployer.stack.model import Stack


@dataclass(frozen=True)
class Event:
    kind: str  # "started" | "done" | "failed" | "skipped" | "progress" (a long step: `message` says how far)
    address: str
    action: str
    elapsed: float = 0.0
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.kind, "address": self.address, "action": self.action,
                               "elapsed": round(self.elapsed, 3)}
        if self.message:
            out["message"] = self.message
        return out


@dataclass
class Result:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started

    def to_dict(self) -> dict[str, Any]:
        return {"event": "summary", "ok": self.ok, "done": self.done, "failed": self.failed,
                "notStarted": self.not_started, "elapsed": round(self.elapsed, 3)}


Callback = Callable[[Event], None]


def describe_error(exc: BaseException) -> str:
    """A failure as the service gave it: code, message, target and every detail (one line each),
    or the exception's text (deployer.azure.errors)."""
    from deployer.azure.errors import describe

    return describe(exc)


def execute(plan: Plan, stack: Stack, clients: Any, live: LiveState, *, parallelism: int = 10,
            wait_for_nodes: bool = False, on_event: Callback | None = None,
            context: ApplyContext | None = None) -> Result:
    context = context or ApplyContext(stack, live, clients)
    writers = Writers(stack, clients, context, wait_for_nodes=wait_for_nodes)
    if on_event is not None:  # long steps (a job's 100,000 tasks) report how far they are
        report = on_event
        writers.on_progress = lambda address, message: report(Event("progress", address, "tasks", 0.0, message))
    graph = build_graph(plan, stack)
    return run_graph(graph, lambda step: writers.apply(step.change, step.part), context=context,
                     parallelism=parallelism, on_event=on_event,
                     before=writers.ensure_resource_group if graph.steps else None)


def run_graph(graph: Graph, run_step: Callable[[Step], None], *, context: ApplyContext | None = None,
              parallelism: int = 10, on_event: Callback | None = None,
              before: Callable[[], None] | None = None) -> Result:
    started_at = time.monotonic()
    result = Result()
    lock = threading.Lock()
    emit = on_event or (lambda event: None)
    scrub = context.scrub if context is not None else (lambda text: text)
    steps = {s.key: s for s in graph.steps}
    pending = dict(graph.needs)
    finished: set[str] = set()
    blocked: set[str] = set()

    if before is not None and steps:
        try:
            before()
        except Exception as exc:  # noqa: BLE001 - reported, nothing else can start
            message = scrub(f"resource group: {describe_error(exc)}")
            result.failed["resourceGroup"] = message
            emit(Event("failed", "resourceGroup", "ensure", 0.0, message))
            for step in graph.order():
                result.not_started.append(step.key)
                emit(Event("skipped", step.key, step.label, 0.0, "the resource group could not be created"))
            result.elapsed = time.monotonic() - started_at
            return result

    def work(step: Step) -> tuple[Step, float, BaseException | None]:
        begin = time.monotonic()
        emit(Event("started", step.key, step.label))
        try:
            run_step(step)
        except Exception as exc:  # noqa: BLE001 - one resource's failure is reported, not raised
            return step, time.monotonic() - begin, exc
        return step, time.monotonic() - begin, None

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool:
        running: dict[Future[tuple[Step, float, BaseException | None]], str] = {}

        def launch() -> None:
            for key in [k for k, needs in pending.items() if needs <= finished]:
                del pending[key]
                running[pool.submit(work, steps[key])] = key

        launch()
        while running:
            completed, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in completed:
                running.pop(future)
                step, elapsed, error = future.result()
                with lock:
                    if error is None:
                        finished.add(step.key)
                        result.done.append(step.key)
                        emit(Event("done", step.key, step.label, elapsed))
                        continue
                    message = scrub(describe_error(error))
                    stack = getattr(context, "stack", None)
                    where = stack.locations.get(str(step.change.address)) if stack is not None else None
                    if where:
                        message += f"\n    declared at {where}"
                    result.failed[step.key] = message
                    emit(Event("failed", step.key, step.label, elapsed, message))
                    for dependent in sorted(graph.dependents(step.key)):
                        if dependent in pending and dependent not in blocked:
                            blocked.add(dependent)
                            del pending[dependent]
                            result.not_started.append(dependent)
                            emit(Event("skipped", dependent, steps[dependent].label, 0.0,
                                       f"waits for {step.key}, which failed"))
            launch()
    for key in list(pending):  # unreachable unless the graph has a cycle
        result.not_started.append(key)
    result.elapsed = time.monotonic() - started_at
    return result
