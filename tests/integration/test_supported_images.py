"""On the azure target, plan also asks each Batch account which images it supports (one call per
account) and warns where Azure and the stack disagree; the emulator answers from the catalog.
Driven here through the real Batch data-plane client against the local emulator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from deployer.cli import main
from deployer.plan.images import supported_image_warnings
from deployer.plan.run import plan_stack_file
from deployer.stack import catalog
from tests.integration.copies import copy_stacks


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    stacks = copy_stacks(tmp_path)
    monkeypatch.setenv("DEPLOY_LOCAL_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DEPLOY_EMULATOR_RESIZE_SECONDS", "0.2")
    path = stacks / "quickstart.yaml"
    path.write_text(path.read_text().replace("targetDedicatedNodes: 1", "targetDedicatedNodes: 0"))
    assert main(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
    return path


def test_the_emulator_lists_the_catalogs_images_through_the_sdk(applied):
    run = plan_stack_file(applied)
    endpoint = run.live.batch["baquickstart01"].account["properties"]["accountEndpoint"]
    listed = list(run.clients.batch_data(endpoint).list_supported_images())
    jammy = [i for i in listed if i.image_reference.offer == "0001-com-ubuntu-server-jammy"]
    assert jammy and all(i.node_agent_sku_id == "batch.node.ubuntu 22.04" for i in jammy)
    assert jammy[0].batch_support_end_of_life.date() == date(2027, 6, 30)
    assert len(listed) == len(catalog.supported_images())


def test_an_image_the_account_does_not_list_is_a_warning(applied):
    applied.write_text(applied.read_text().replace("offer: ubuntu-24_04-lts", "offer: ubuntu-24_04-lts-daily"))
    run = plan_stack_file(applied)
    [warning] = supported_image_warnings(run.stack, run.live, run.clients, date(2026, 12, 5))
    assert warning.severity == "warning" and warning.path == "batchAccounts.main.pools.small"
    assert warning.message.startswith("image canonical/ubuntu-24_04-lts-daily/server is not in Batch account "
                                      "baquickstart01's list of supported images today")


def test_a_current_image_gives_nothing_and_an_end_the_catalog_lacks_says_the_catalog_is_behind(applied, monkeypatch):
    run = plan_stack_file(applied)
    assert supported_image_warnings(run.stack, run.live, run.clients, date(2026, 12, 5)) == ()
    applied.write_text(applied.read_text().replace("offer: ubuntu-24_04-lts", "offer: 0001-com-ubuntu-server-jammy")
                       .replace("sku: server", "sku: 22_04-lts").replace("ubuntu 24.04", "ubuntu 22.04"))
    run = plan_stack_file(applied)
    assert supported_image_warnings(run.stack, run.live, run.clients, date(2026, 12, 5)) == ()  # both know 2027-06-30
    monkeypatch.setattr(catalog, "image_lifecycle", lambda *_: None)  # a catalog older than the announcement
    [warning] = supported_image_warnings(run.stack, run.live, run.clients, date(2026, 12, 5))
    assert "Azure says Batch support for image canonical/0001-com-ubuntu-server-jammy/22_04-lts ends on " \
           "2027-06-30; the deployer's catalog (as of 2026-12-05) does not know it yet" in warning.message
