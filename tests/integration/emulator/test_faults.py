"""Fault injection of the emulator: a lost reply (the write happens, the answer is dropped) and
faults targeted at one exact request (DEPLOY_EMULATOR_FAULTS="KIND@METHOD PATH#N"), in both modes."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError

SUB = "00000000-0000-0000-0000-000000000000"


def test_lost_reply_happens_then_drops_the_connection(emulator, faults):
    groups = emulator.clients.resource.resource_groups
    faults("lost=1")
    with pytest.raises(ServiceResponseError):
        groups.create_or_update("rg-lost", {"location": "westus"}, retry_total=0)
    faults("")
    assert groups.get("rg-lost").name == "rg-lost"  # the write happened
    lost = [e for e in emulator.requests() if e.get("fault") == "lost"]
    assert [(e["method"], e["status"]) for e in lost] == [("PUT", 201)]


def test_lost_reply_on_a_put_is_retried_by_the_sdk(emulator, faults):
    faults(f"lost@PUT /subscriptions/{SUB}/resourcegroups/rg-retried")
    group = emulator.clients.resource.resource_groups.create_or_update("rg-retried", {"location": "westus"})
    assert group.name == "rg-retried"
    puts = [(e["status"], e.get("fault")) for e in emulator.requests() if e["method"] == "PUT"]
    assert puts == [(201, "lost"), (200, None)]  # the retry found it created


def test_a_targeted_fault_hits_exactly_the_nth_matching_request(emulator, faults):
    groups = emulator.clients.resource.resource_groups
    faults("500@PUT /subscriptions/*/resourcegroups/rg-*#2")
    groups.create_or_update("rg-a", {"location": "westus"}, retry_total=0)
    groups.get("rg-a", retry_total=0)  # another method: not counted
    with pytest.raises(HttpResponseError) as raised:
        groups.create_or_update("rg-b", {"location": "westus"}, retry_total=0)
    assert raised.value.status_code == 500
    groups.create_or_update("rg-c", {"location": "westus"}, retry_total=0)  # the 3rd: no fault
    faulted = [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.requests() if e.get("fault")]
    assert faulted == [("PUT", "rg-b")]


def test_the_test_hook_targets_a_request_on_the_app(emulator):
    groups = emulator.clients.resource.resource_groups
    emulator.app.faults.target("reset", "PUT", f"/subscriptions/{SUB}/resourcegroups/rg-hook")
    with pytest.raises(ServiceResponseError):
        groups.create_or_update("rg-hook", {"location": "westus"}, retry_total=0)
    assert not groups.check_existence("rg-hook")  # reset: dropped before it was handled
    groups.create_or_update("rg-hook", {"location": "westus"}, retry_total=0)
    emulator.app.faults.clear()
    with pytest.raises(ValueError):
        emulator.app.faults.target("lost", "PUT", "no-slash")
    assert [e.get("fault") for e in emulator.requests() if e["method"] == "PUT"] == ["reset", None]


def test_malformed_entries_are_ignored(emulator, faults):
    faults("lost@PUT nowhere,lost@#x,999=1,lost=abc")
    assert emulator.clients.resource.resource_groups.create_or_update("rg", {"location": "westus"}).name == "rg"
    assert not any(e.get("fault") for e in emulator.requests())
