"""Cross-resource checks (issue 10): deleting a storage account something still uses is refused.

Table-driven: live state from applying `before` (`simulate_apply`), a plan for `after`; either the
plan passes or the PlanError says the given words.
"""

from __future__ import annotations

from typing import Any

import pytest

from deployer.errors import PlanError
from deployer.plan.planner import make_plan
from deployer.plan.references import check_references
from deployer.resources.ownership import STACK_KEY
from tests.unit.plan.test_pairing import POOL, live_after_apply, stack
from tests.unit.plan.test_stacks import context_for

DATA = {"data": {"name": "stdata01", "sku": "Standard_LRS"}}
DATA2 = {"data": {"name": "stdata012", "sku": "Standard_LRS"}}  # a name that starts like the other
OTHER = {"other": {"name": "stother01", "sku": "Standard_LRS"}}
MOUNT = {"azureBlobFileSystemConfiguration": {"accountName": "stdata01", "containerName": "input",
                                              "sasKey": "sv=1", "relativeMountPath": "in"}}


def account(**spec: Any) -> dict[str, Any]:
    return {"main": {"name": "bamain01", **spec}}


CASES = [
    # (id, stack applied, stack planned, None (passes) or words the error says)
    ("auto-storage account dropped, link kept", stack({**DATA}, account(autoStorage="data")),
     stack({}, account()), "storage account stdata01 (storageAccounts.stdata01) is the auto-storage account of "
                           "Batch account bamain01 (batchAccounts.main)"),
    ("Batch account dropped with it", stack({**DATA}, account(autoStorage="data")), stack({}, {}), None),
    ("auto-storage re-pointed in the same plan", stack({**DATA}, account(autoStorage="data")),
     stack({**OTHER}, account(autoStorage="other")), None),
    ("another account with a longer name is no user", stack({**DATA, **{"x": DATA2["data"]}},
                                                             account(autoStorage="x")),
     stack({"x": DATA2["data"]}, account(autoStorage="x")), None),
    ("pool mounts it by name", stack({**DATA, **OTHER}, account(autoStorage="other", pools={"p": {**POOL,
                                                                 "mountConfiguration": [MOUNT]}})),
     stack({**OTHER}, account(autoStorage="other", pools={"p": {**POOL, "mountConfiguration": [MOUNT]}})),
     "is still used by pool p (batchAccounts.main.pools.p) (at properties.mountConfiguration[0]"),
    ("pool stops mounting it", stack({**DATA, **OTHER}, account(autoStorage="other", pools={"p": {**POOL,
                                                                  "mountConfiguration": [MOUNT]}})),
     stack({**OTHER}, account(autoStorage="other", pools={"p": POOL})), None),
    ("a new pool would mount it", stack({**DATA, **OTHER}, account(autoStorage="other")),
     stack({**OTHER}, account(autoStorage="other", pools={"p": {**POOL, "mountConfiguration": [MOUNT]}})),
     "is still used by pool p (batchAccounts.main.pools.p)"),
]


def test_a_batch_account_the_stack_does_not_manage_still_uses_it() -> None:
    """Declared but not owned (no marker): the plan leaves it alone, so it still uses the account."""
    applied = stack({**DATA}, account(autoStorage="data"))
    live = live_after_apply(applied)
    live.batch["bamain01"].account["tags"].pop(STACK_KEY)
    planned = stack({}, account())
    plan = make_plan(planned, live, context_for(planned))
    assert [(str(c.address), c.action.value) for c in plan.actionable] == [("storageAccounts.stdata01", "delete")]
    with pytest.raises(PlanError, match="auto-storage account of Batch account bamain01"):
        check_references(plan, planned, live)


@pytest.mark.parametrize(("applied", "planned", "refused"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_storage_in_use(applied, planned, refused) -> None:
    live = live_after_apply(applied)
    plan = make_plan(planned, live, context_for(planned))
    if refused is None:
        check_references(plan, planned, live)
        return
    with pytest.raises(PlanError) as error:
        check_references(plan, planned, live)
    assert refused in str(error.value)
