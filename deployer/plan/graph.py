"""The order of apply: a plan's actionable changes as a dependency graph of steps.

Creates and updates follow the stack's dependencies (resource group → network → storage account →
containers and shares → Batch account → applications → pools → jobs and schedules). Deletions run
in reverse: a deletion waits for every deletion of a later rank (jobs before their pool, pools
before the account, everything before the network and the storage it uses). A replace is two
steps: its delete (placed as a deletion) and its create, which waits for that delete and for
the creates and updates it depends on. No Azure SDK here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from deployer.plan.model import Action, Change, Plan
from deployer.stack.model import Address, Kind, Stack

#: how early a kind is created (and how late it is deleted)
RANK = {
    Kind.SECURITY_GROUP: -1,  # before the networks whose subnets attach them; deleted after them
    Kind.NETWORK: 0,
    Kind.STORAGE_ACCOUNT: 1,
    Kind.CONTAINER: 2,
    Kind.FILE_SHARE: 2,
    Kind.UPLOAD: 3,
    Kind.IDENTITY: 3,  # after the storage accounts its roles are on, before the pools that use it
    Kind.BATCH_ACCOUNT: 3,
    Kind.APPLICATION: 4,
    Kind.POOL: 5,
    Kind.JOB: 6,
    Kind.JOB_SCHEDULE: 6,
}


@dataclass(frozen=True)
class Step:
    """One unit of work: a change, or one half ("delete" / "create") of a replace."""

    change: Change
    part: str | None = None  # None: the whole change

    @property
    def key(self) -> str:
        return f"{self.change.address}" + (f"#{self.part}" if self.part else "")

    @property
    def removes(self) -> bool:
        return self.change.action == Action.DELETE or self.part == "delete"

    @property
    def label(self) -> str:
        if self.part:
            return f"{self.change.action.value} ({self.part})"
        return self.change.action.value


@dataclass
class Graph:
    steps: list[Step] = field(default_factory=list)
    needs: dict[str, set[str]] = field(default_factory=dict)  # step key -> keys it waits for

    def dependents(self, key: str) -> set[str]:
        """Every step that (transitively) waits for `key`."""
        out: set[str] = set()
        frontier = [key]
        while frontier:
            current = frontier.pop()
            for other, needed in self.needs.items():
                if current in needed and other not in out:
                    out.add(other)
                    frontier.append(other)
        return out

    def order(self) -> list[Step]:
        """A topological order (for display and sequential runs)."""
        done: set[str] = set()
        out: list[Step] = []
        remaining = list(self.steps)
        while remaining:
            ready = [s for s in remaining if self.needs[s.key] <= done]
            if not ready:
                raise ValueError("dependency cycle in plan: " + ", ".join(s.key for s in remaining))
            for step in ready:
                out.append(step)
                done.add(step.key)
            remaining = [s for s in remaining if s.key not in done]
        return out


def build_graph(plan: Plan, stack: Stack | None = None) -> Graph:
    steps: list[Step] = []
    for change in plan.actionable:
        if change.action == Action.REPLACE:
            steps += [Step(change, "delete"), Step(change, "create")]
        else:
            steps.append(Step(change))
    graph = Graph(steps, {s.key: set() for s in steps})
    writes = {s.change.address: s for s in steps if not s.removes}
    removals = [s for s in steps if s.removes]
    for step in steps:
        needs = graph.needs[step.key]
        change = step.change
        if step.removes:
            rank = RANK[change.kind]
            needs.update(o.key for o in removals if RANK[o.change.kind] > rank)
            continue
        if step.part == "create":
            needs.add(Step(change, "delete").key)
        for dependency in _dependencies(change, stack):
            found = writes.get(dependency)
            if found is not None and found is not step:
                needs.add(found.key)
        # a create never races a deletion of the same name
        needs.update(o.key for o in removals if o.change.address == change.address and o is not step)
    return graph


def _dependencies(change: Change, stack: Stack | None) -> Iterable[Address]:
    resource = stack.get(change.address) if stack is not None else None
    if resource is not None:
        yield from resource.depends_on
        return
    parts = change.address.parts
    if len(parts) > 2:
        yield Address(parts[:2])
    after = change.after if isinstance(change.after, Mapping) else {}
    spec = after.get("jobSpecification") if change.kind == Kind.JOB_SCHEDULE else after
    pool = spec.get("pool") if isinstance(spec, Mapping) else None
    if isinstance(pool, str) and len(parts) > 2:
        yield Address((*parts[:2], "pools", pool))
