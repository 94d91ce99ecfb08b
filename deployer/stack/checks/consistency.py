"""Cross-checks: rules the schema's descriptions state between two places of a stack.

The schema checks each object alone; these rules need two (pool ↔ task, pool ↔ network,
job ↔ task). Each is one function below, listed in RULES with the description it enforces, so
a new rule is a function and a line. Azure would refuse each of these only at apply time (or,
worse, accept the pool and fail every task), after the resources before it were changed.

A task's pool is the job's `pool` (or a job schedule's `jobSpecification.pool`) when it names a
pool of the same Batch account; tasks of a job whose pool is not in the stack are not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from deployer.stack.checks.view import Node, StackView, mapping, sequence, sub

#: The task-like parts of a job that run on the pool's nodes.
_JOB_TASKS = ("jobManagerTask", "jobPreparationTask", "jobReleaseTask")


def check(view: StackView) -> None:
    for account in view.batch_accounts():
        pools = {node.name: node for node in view.children(account, "pools")}
        for pool in pools.values():
            for rule in POOL_RULES:
                rule(view, pool)
            start = sub(pool, "startTask")
            if start is not None:
                _task_on_pool(view, start, pool, "the pool's start task")
        for job in _jobs(view, account):
            for rule in JOB_RULES:
                rule(view, job)
            name = job.value.get("pool")
            runs_on = pools.get(name) if isinstance(name, str) else None
            if runs_on is None:
                continue
            for task, what in _tasks(view, job):
                _task_on_pool(view, task, runs_on, what)


def _jobs(view: StackView, account: Node) -> Iterator[Node]:
    yield from view.children(account, "jobs")
    for schedule in view.children(account, "jobSchedules"):
        spec = sub(schedule, "jobSpecification")
        if spec is not None:
            yield Node(schedule.name, spec.value, spec.path)


def _tasks(view: StackView, job: Node) -> Iterator[tuple[Node, str]]:
    for name in _JOB_TASKS:
        task = sub(job, name)
        if task is not None:
            yield task, f"the job's {name}"
    for task in view.items(job, "tasks"):
        task_id = task.value.get("id")
        yield task, f"task {task_id!r}" if isinstance(task_id, str) else f"tasks[{task.name}]"


def _task_on_pool(view: StackView, task: Node, pool: Node, what: str) -> None:
    for rule in TASK_RULES:
        rule(view, task, pool, what)


# --- pool ↔ task -------------------------------------------------------------------------------


def _container_config(pool: Node) -> Any:
    return mapping(mapping(mapping(pool.value.get("deploymentConfiguration")).get("virtualMachineConfiguration"))
                   .get("containerConfiguration")) or None


def container_needs_container_pool(view: StackView, task: Node, pool: Node, what: str) -> None:
    """containerSettings: "Run the task inside a container (the pool needs a containerConfiguration)"."""
    if "containerSettings" in task.value and _container_config(pool) is None:
        view.error((*task.path, "containerSettings"),
                   f"{what} runs in a container (containerSettings) but pool {pool.name!r} has no "
                   "containerConfiguration; add deploymentConfiguration.virtualMachineConfiguration."
                   "containerConfiguration {type: DockerCompatible} to the pool, or drop containerSettings",
                   key=True)


def multi_instance_needs_inter_node(view: StackView, task: Node, pool: Node, what: str) -> None:
    """multiInstanceSettings: "the pool needs interNodeCommunication Enabled"; requiredSlots: "1 for
    multi-instance tasks"."""
    if not isinstance(task.value.get("multiInstanceSettings"), dict):
        return
    mode = pool.value.get("interNodeCommunication")
    if not (isinstance(mode, str) and mode.lower() == "enabled"):
        view.error((*task.path, "multiInstanceSettings"),
                   f"{what} is a multi-instance task but pool {pool.name!r} does not set "
                   "`interNodeCommunication: Enabled`; Batch refuses multi-instance tasks on it", key=True)
    slots = task.value.get("requiredSlots")
    if isinstance(slots, int) and not isinstance(slots, bool) and slots != 1:
        view.error((*task.path, "requiredSlots"),
                   f"{what} is a multi-instance task: its requiredSlots must be 1 (not {slots})")


def slots_fit_the_pool(view: StackView, task: Node, pool: Node, what: str) -> None:
    """requiredSlots: "at most the pool's taskSlotsPerNode"."""
    slots = task.value.get("requiredSlots")
    per_node = pool.value.get("taskSlotsPerNode", 1)
    if (isinstance(slots, int) and isinstance(per_node, int) and not isinstance(slots, bool)
            and slots > per_node and "multiInstanceSettings" not in task.value):
        view.error((*task.path, "requiredSlots"),
                   f"{what} needs {slots} task slots but pool {pool.name!r} has taskSlotsPerNode {per_node}"
                   f"{' (the default)' if 'taskSlotsPerNode' not in pool.value else ''}; the task would never "
                   "be scheduled")


def user_is_a_pool_account(view: StackView, task: Node, pool: Node, what: str) -> None:
    """userIdentity.userName: "The name of a user account defined in the pool's userAccounts"."""
    if "userIdentity" not in task.value:
        return
    identity = sub(task, "userIdentity")
    name = identity.value.get("userName") if identity is not None else None
    if identity is None or not isinstance(name, str):
        return
    accounts = [a.get("name") for a in sequence(pool.value.get("userAccounts")) if isinstance(a, dict)]
    if name not in accounts:
        known = ", ".join(repr(a) for a in accounts if isinstance(a, str))
        view.error((*identity.path, "userName"),
                   f"{what} runs as user {name!r}, which pool {pool.name!r} does not define in userAccounts"
                   + (f" (it has {known})" if known else ""))


def identities_are_the_pools(view: StackView, task: Node, pool: Node, what: str) -> None:
    """identityReference: "it must be listed in the pool's `identity`"."""
    value = task.value
    if "resourceFiles" not in value and "outputFiles" not in value and "containerSettings" not in value:
        return
    pool_ids: set[str] | None = None
    for path, resource_id in _identity_references(value, task.path):
        pool_ids = _pool_identities(pool) if pool_ids is None else pool_ids
        if resource_id.lower() not in pool_ids:
            view.error((*path, "resourceId"),
                       f"{what} uses identity {resource_id.rsplit('/', 1)[-1]!r}, which is not one of the "
                       f"identities of pool {pool.name!r}; add it to the pool's identity.userAssignedIdentities")


def _pool_identities(pool: Node) -> set[str]:
    users = mapping(pool.value.get("identity")).get("userAssignedIdentities")
    ids = users if isinstance(users, list) else list(users) if isinstance(users, dict) else []
    return {i.lower() for i in ids if isinstance(i, str)}


def _identity_references(task: dict[str, Any], path: tuple[str | int, ...]
                         ) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The identity references of a task: its resource files, output files and registry."""
    places: list[tuple[tuple[str | int, ...], Any]] = []
    for index, item in enumerate(sequence(task.get("resourceFiles"))):
        places.append(((*path, "resourceFiles", index), item))
    for index, item in enumerate(sequence(task.get("outputFiles"))):
        container = mapping(mapping(item).get("destination")).get("container")
        places.append(((*path, "outputFiles", index, "destination", "container"), container))
    registry = mapping(task.get("containerSettings")).get("registry")
    places.append(((*path, "containerSettings", "registry"), registry))
    yield from _references_in(places)


def _references_in(places: list[tuple[tuple[str | int, ...], Any]]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for where, value in places:
        reference = mapping(value).get("identityReference")
        if isinstance(reference, dict) and isinstance(reference.get("resourceId"), str):
            yield (*where, "identityReference"), reference["resourceId"]


# --- pool alone (pool ↔ network, pool ↔ its identities) ---------------------------------------


def no_public_ip_needs_simplified(view: StackView, pool: Node) -> None:
    """provision: "NoPublicIPAddresses: none (the pool needs a subnet)"."""
    if "networkConfiguration" not in pool.value:
        return
    network = sub(pool, "networkConfiguration")
    public = sub(network, "publicIPAddressConfiguration") if network is not None else None
    provision = public.value.get("provision") if public is not None else None
    if network is None or public is None or not isinstance(provision, str):
        return
    if provision.lower() != "nopublicipaddresses":
        return
    # Classic node communication is refused on its own: 2025-06-01 has no targetNodeCommunicationMode
    # (checks/api_version.py), every pool communicates the simplified way.
    if "subnet" not in network.value and "subnetId" not in network.value:
        view.error((*public.path, "provision"),
                   f"pool {pool.name!r} has no public IP addresses (NoPublicIPAddresses) and no subnet; give "
                   "networkConfiguration.subnet (or subnetId) so its nodes can reach Batch")


def pool_identities_are_the_pools(view: StackView, pool: Node) -> None:
    """Mounts, container registries and the start task read with the pool's own identities."""
    if "mountConfiguration" not in pool.value and "deploymentConfiguration" not in pool.value:
        return
    places: list[tuple[tuple[str | int, ...], Any]] = []
    for mount in view.items(pool, "mountConfiguration"):
        places += [((*mount.path, kind), config) for kind, config in mount.value.items()]
    config = sub(pool, "deploymentConfiguration", "virtualMachineConfiguration", "containerConfiguration")
    if config is not None:
        places += [(registry.path, registry.value) for registry in view.items(config, "containerRegistries")]
    pool_ids: set[str] | None = None
    for path, resource_id in _references_in(places):
        pool_ids = _pool_identities(pool) if pool_ids is None else pool_ids
        if resource_id.lower() not in pool_ids:
            view.error((*path, "resourceId"),
                       f"identity {resource_id.rsplit('/', 1)[-1]!r} is not one of the identities of pool "
                       f"{pool.name!r}; add it to the pool's identity.userAssignedIdentities")


def extensions_after_known(view: StackView, pool: Node) -> None:
    """provisionAfterExtensions: "Extensions (by name) that must be provisioned before this one"."""
    config = sub(pool, "deploymentConfiguration", "virtualMachineConfiguration")
    if config is None or "extensions" not in config.value:
        return
    extensions = list(view.items(config, "extensions"))
    names = {e.value.get("name") for e in extensions}
    for extension in extensions:
        for index, name in enumerate(sequence(extension.value.get("provisionAfterExtensions"))):
            if isinstance(name, str) and name not in names:
                view.error((*extension.path, "provisionAfterExtensions", index),
                           f"extension {name!r} is not defined in this pool's extensions")


# --- job ↔ its tasks ---------------------------------------------------------------------------


def release_needs_preparation(view: StackView, job: Node) -> None:
    """jobReleaseTask: "Needs a jobPreparationTask"."""
    if isinstance(job.value.get("jobReleaseTask"), dict) and "jobPreparationTask" not in job.value:
        view.error((*job.path, "jobReleaseTask"),
                   "a jobReleaseTask needs a jobPreparationTask in the same job; Batch refuses the job without one",
                   key=True)


def exit_job_action_needs_failure_mode(view: StackView, job: Node) -> None:
    """exitOptions.jobAction: "the job's onTaskFailure must be performExitOptionsJobAction"."""
    mode = job.value.get("onTaskFailure")
    if isinstance(mode, str) and mode.lower() == "performexitoptionsjobaction":
        return
    for task in view.items(job, "tasks"):
        for path, action in _job_actions(task):
            if action.lower() != "none":
                view.error(path, f"jobAction {action!r} takes effect only when the job sets "
                                 "`onTaskFailure: performExitOptionsJobAction`")
                return


def _job_actions(task: Node) -> Iterator[tuple[tuple[str | int, ...], str]]:
    conditions = sub(task, "exitConditions")
    if conditions is None:
        return
    for key, value in conditions.value.items():
        entries = value if isinstance(value, list) else [value]
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            base = (*conditions.path, key, index) if isinstance(value, list) else (*conditions.path, key)
            options = entry.get("exitOptions") if "exitOptions" in entry else entry
            if isinstance(options, dict) and isinstance(options.get("jobAction"), str):
                where = (*base, "exitOptions") if "exitOptions" in entry else base
                yield (*where, "jobAction"), options["jobAction"]


TaskRule = Callable[[StackView, Node, Node, str], None]
PoolRule = Callable[[StackView, Node], None]
JobRule = Callable[[StackView, Node], None]

TASK_RULES: tuple[TaskRule, ...] = (container_needs_container_pool, multi_instance_needs_inter_node,
                                    slots_fit_the_pool, user_is_a_pool_account, identities_are_the_pools)
POOL_RULES: tuple[PoolRule, ...] = (no_public_ip_needs_simplified, pool_identities_are_the_pools,
                                    extensions_after_known)
JOB_RULES: tuple[JobRule, ...] = (release_needs_preparation, exit_job_action_needs_failure_mode)
