"""Every plan format shows the declared resources that exist unowned (not managed) and why, and a
plan's notes (a resource group apply creates)."""

from __future__ import annotations

import json

import pytest

from deployer.plan import Action, Change, Plan, PlanTarget, render_json, render_markdown, render_text
from deployer.stack.model import Address, Kind

REASON = ("batchAccount bamedia exists but was not created by this stack: not managed, left alone "
          "(adopting it is `deploy import stacks/media.yaml batchAccounts.main`)")
PLAN = Plan("media", PlanTarget("azure", "sub", "rg-media", "westeurope"), (
    Change(Address(("batchAccounts", "main")), Kind.BATCH_ACCOUNT, Action.NO_OP, REASON, name="bamedia",
           warnings=("batchAccounts.main exists in Azure and is not managed by stack media",), managed=False),
    Change(Address(("storageAccounts", "data")), Kind.STORAGE_ACCOUNT, Action.NO_OP, "unchanged", name="stmedia"),
), notes=("resource group rg-media does not exist: apply creates it in westeurope, tagged deployer.stack=media",))


@pytest.mark.parametrize("render", [render_text, render_markdown, render_json])
def test_not_managed_and_notes_in_every_format(render) -> None:
    out = render(PLAN)
    assert "batchAccounts.main" in out and "deploy import stacks/media.yaml batchAccounts.main" in out
    assert "resource group rg-media does not exist: apply creates it" in out
    assert "storageAccounts.data" not in out or render is render_json  # unchanged and owned: not listed


def test_text_lists_them_under_a_heading() -> None:
    text = render_text(PLAN)
    assert "Not managed: 1 resource in Azure that stack media declares but does not own, left alone:" in text
    assert f"  # batchAccounts.main: {REASON}" in text
    assert text.rstrip().endswith("No changes. Live state matches the stack.")


def test_markdown_has_a_table_of_them() -> None:
    md = render_markdown(PLAN)
    assert "**Not managed**: 1 resource in Azure that the stack declares but does not own, left alone:" in md
    assert "| `batchAccounts.main` (Batch account bamedia) |" in md


def test_json_round_trips_managed_and_notes() -> None:
    data = json.loads(render_json(PLAN))
    assert [c["managed"] for c in data["changes"]] == [False, True]
    assert Plan.from_json(render_json(PLAN)) == PLAN
