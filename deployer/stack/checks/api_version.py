"""Pool and task properties the targeted api-versions do not define.

The deployer talks to Batch management api-version 2025-06-01 (azure-mgmt-batch 19); a property
that version lacks is dropped by Azure without a word, so the setting silently has no effect
(and the plan cannot see it). Such properties are refused here, with the version named. The
definitions are the vendored API document (deployer.contracts), read only when a stack has pools.
"""

from __future__ import annotations

from deployer.stack.checks.view import StackView

#: stack settings of a pool that are not pool properties of the API (or are sent elsewhere)
STACK_ONLY = frozenset({"changeStrategy", "protect", "identity", "tags", "resourceTags"})
#: properties the management API names otherwise in the stack: mapped, not missing
MAPPED = frozenset({"applicationPackages"})


#: task properties the Batch service API 2025-06-01.21.0 no longer has (the service refuses them)
SERVICE_REMOVED = frozenset({"authenticationTokenSettings"})


def check(view: StackView) -> None:
    _removed_task_properties(view)
    pools = list(view.pools())
    if not pools:
        return
    from deployer import contracts
    from deployer.stack.schema import schema

    doc = contracts.document(contracts.BATCH_MANAGEMENT)
    defined = doc.definition("PoolProperties").props
    stack_format = schema()["$defs"]["pool"]["properties"]  # an unknown key is the schema's to report
    for _account, pool in pools:
        for key in pool.value:
            if key in STACK_ONLY or key in MAPPED or key in defined or key not in stack_format:
                continue
            view.error((*pool.path, key),
                       f"{key} is not a pool property in the Batch management API {doc.version} (the version "
                       "this deployer uses): Azure would drop it and the setting would have no effect; remove it",
                       key=True)


def _removed_task_properties(view: StackView) -> None:
    """A job's or schedule's tasks (job manager, preparation, release, tasks) holding a property the
    Batch service API 2025-06-01.21.0 dropped: the service would refuse the job."""
    owners = [*view.jobs(), *view.schedules()]
    stack: list[tuple[tuple[str | int, ...], object]] = [(tuple(node.path), node.value) for _a, node in owners]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SERVICE_REMOVED:
                    view.error((*path, key), f"{key} is not in the Batch service API 2025-06-01.21.0 (the version "
                               "this deployer uses): the service refuses it. A task that calls Batch signs in "
                               "with the pool's managed identity instead", key=True)
                else:
                    stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, i), item) for i, item in enumerate(value))
