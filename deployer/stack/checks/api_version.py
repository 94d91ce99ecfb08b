"""Pool properties the targeted api-version does not define.

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


def check(view: StackView) -> None:
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
