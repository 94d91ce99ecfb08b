"""The apply lock as a blob lease, through the real SDK clients against the emulator (both modes)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobLeaseClient

from deployer.apply import lock as lock_module
from deployer.apply.lock import LOCK_CONTAINER, LockError, LockInfo, force_unlock, stack_lock
from deployer.azure import Clients
from deployer.stack.model import Address, DesiredResource, Kind, Stack, Target

GROUP, ACCOUNT = "rg-lock", "stlock01"
ALICE, BOB = "alice@laptop pid 4242", "bob@ci pid 17"


def make_stack(*accounts: str) -> Stack:
    resources = tuple(DesiredResource(Address(("storageAccounts", f"s{i}")), Kind.STORAGE_ACCOUNT, name, {})
                      for i, name in enumerate(accounts))
    return Stack("media", "media.yaml", Path("."), Target(kind="emulator", resource_group=GROUP), resources)


STACK = make_stack(ACCOUNT, "stsecond01")


class Runs:
    """Independent clients per run, all on the blob-lease lock (`emulator` target, either mode)."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.opened: list[Clients] = []

    def clients(self) -> Clients:
        c = self.emulator.new_clients()
        if c.target == "emulator":
            return c
        # The embedded emulator's clients are the `local` target (a file lock); the same in-process
        # transport under the `emulator` target takes the blob lease.
        wrapped = Clients(target="emulator", subscription_id=c.subscription_id, credential=c.credential,
                          arm_endpoint=c.arm_endpoint, options=c._options, blob_options=c._blob_options,
                          data_dir=c.data_dir, app=c.app)
        self.opened.append(wrapped)
        return wrapped

    def create_account(self) -> str:
        mgmt = self.emulator.clients
        mgmt.resource.resource_groups.create_or_update(GROUP, {"location": "westeurope"})
        params = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        return mgmt.storage.storage_accounts.begin_create(GROUP, ACCOUNT, params).result().primary_endpoints.blob

    def lock_blob(self) -> Any:
        url = self.emulator.clients.storage.storage_accounts.get_properties(GROUP, ACCOUNT).primary_endpoints.blob
        return self.emulator.clients.blob(url).get_blob_client(LOCK_CONTAINER, "media.lock")


@pytest.fixture
def runs(emulator: Any) -> Any:
    r = Runs(emulator)
    r.create_account()
    yield r
    for c in r.opened:
        c.close()


@pytest.fixture
def renewals(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every lease renewal the lock makes (real time), with renewals every 20 ms."""
    seen: list[float] = []
    original = BlobLeaseClient.renew

    def renew(self: BlobLeaseClient, **kwargs: Any) -> None:
        original(self, **kwargs)
        seen.append(time.monotonic())

    monkeypatch.setattr(BlobLeaseClient, "renew", renew)
    monkeypatch.setattr(lock_module, "RENEW_EVERY", 0.02)
    return seen


def wait_for_renewal(renewals: list[float]) -> None:
    count, deadline = len(renewals), time.monotonic() + 10
    while len(renewals) <= count:
        assert time.monotonic() < deadline, "the lease was never renewed"
        time.sleep(0.01)


def test_second_run_waits_then_fails_naming_the_holder(runs):
    first, second = runs.clients(), runs.clients()
    with stack_lock(STACK, first, timeout=0, holder=ALICE) as info:
        assert info.locked and info.holder == ALICE
        assert info.target.endswith(f"/{ACCOUNT}/{LOCK_CONTAINER}/media.lock")  # the FIRST storage account
        props = runs.lock_blob().get_blob_properties()
        assert (props.lease.state, props.lease.duration) == ("leased", "fixed")
        assert props.metadata["holder"] == ALICE and props.metadata["stack"] == "media"

        seen: list[LockInfo] = []
        started = time.monotonic()
        with pytest.raises(LockError) as err, stack_lock(STACK, second, timeout=0.3, on_wait=seen.append):
            pytest.fail("the lock was taken twice")
        assert time.monotonic() - started >= 0.3
        assert str(err.value) == (
            f"stack media is locked (waited 0.3s): held by {ALICE} since {props.metadata['since']}; "
            "wait, or run `deploy force-unlock media.yaml` if that run is dead")
        assert [s.holder for s in seen] == [ALICE] and seen[0].target == info.target

    props = runs.lock_blob().get_blob_properties()
    assert props.lease.state == "available" and props.metadata == {}  # released, holder cleared
    with stack_lock(STACK, second, timeout=0, holder=BOB) as info:
        assert info.holder == BOB


def test_released_when_the_run_fails(runs):
    with pytest.raises(RuntimeError), stack_lock(STACK, runs.clients(), timeout=0):
        raise RuntimeError("apply failed")
    assert runs.lock_blob().get_blob_properties().lease.state == "available"


def test_a_waiter_gets_in_when_the_holder_finishes(runs):
    done, holding = threading.Event(), threading.Event()

    def first_run() -> None:
        with stack_lock(STACK, runs.clients(), timeout=0, holder=ALICE):
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=first_run)
    thread.start()
    assert holding.wait(10)
    threading.Timer(0.3, done.set).start()
    seen: list[LockInfo] = []
    with stack_lock(STACK, runs.clients(), timeout=10, holder=BOB, on_wait=seen.append):
        assert [s.holder for s in seen] == [ALICE]
    thread.join(10)


def test_renewal_keeps_the_lock_past_the_lease_duration(runs, frozen_clock, renewals):
    with stack_lock(STACK, runs.clients(), timeout=0, holder=ALICE):
        for _ in range(3):  # 120 s of emulator time: twice the lease
            frozen_clock.advance(40)
            wait_for_renewal(renewals)
        assert runs.lock_blob().get_blob_properties().lease.state == "leased"
        with pytest.raises(LockError, match=f"held by {ALICE} since"), \
                stack_lock(STACK, runs.clients(), timeout=0.2):
            pass


def test_expiry_lets_a_new_holder_in_when_the_holder_stops_renewing(runs, frozen_clock, monkeypatch, caplog):
    monkeypatch.setattr(lock_module, "RENEW_EVERY", 3600.0)  # a runner that died: no more renewals
    with stack_lock(STACK, runs.clients(), timeout=0, holder=ALICE):
        frozen_clock.advance(59)
        with pytest.raises(LockError, match=f"held by {ALICE}"), stack_lock(STACK, runs.clients(), timeout=0):
            pass
        frozen_clock.advance(2)
        assert runs.lock_blob().get_blob_properties().lease.state == "expired"
        with caplog.at_level(logging.WARNING, logger="deployer.apply.lock"), \
                stack_lock(STACK, runs.clients(), timeout=0, holder=BOB) as info:
            assert info.holder == BOB
            assert runs.lock_blob().get_blob_properties().metadata["holder"] == BOB
    # the stale holder's release found someone else's lease: a warning, not an error
    assert "could not release the apply lock" in caplog.text


def test_force_unlock_breaks_the_lease(runs, renewals, caplog):
    assert force_unlock(STACK, runs.clients()) is None  # never locked: no lock blob yet
    with caplog.at_level(logging.WARNING, logger="deployer.apply.lock"), \
            stack_lock(STACK, runs.clients(), timeout=0, holder=ALICE) as held:
        wait_for_renewal(renewals)
        broken = force_unlock(STACK, runs.clients())
        assert broken == LockInfo(ALICE, held.since, held.target)
        assert runs.lock_blob().get_blob_properties().lease.state == "broken"
        with stack_lock(STACK, runs.clients(), timeout=0, holder=BOB):  # the next run gets in at once
            wait_for_renewal(renewals)
            assert runs.lock_blob().get_blob_properties().metadata["holder"] == BOB
    assert "the apply lock was lost" in caplog.text  # the broken run's renewer noticed
    assert force_unlock(STACK, runs.clients()) is None  # released: nothing left to break


def test_first_apply_runs_unlocked_until_the_account_exists(emulator, caplog):
    r = Runs(emulator)
    try:
        groups = emulator.clients.resource.resource_groups
        for setup in (lambda: None, lambda: groups.create_or_update(GROUP, {"location": "westeurope"})):
            setup()  # no resource group, then a resource group without the account
            with caplog.at_level(logging.WARNING, logger="deployer.apply.lock"), \
                    stack_lock(STACK, r.clients(), timeout=0, holder=ALICE) as info:
                assert not info.locked and info.holder == ALICE
                assert f"storage account {ACCOUNT} does not exist yet" in info.note
            assert "proceeds unlocked" in caplog.text
            assert force_unlock(STACK, r.clients()) is None
        r.create_account()
        with stack_lock(STACK, r.clients(), timeout=0) as info:
            assert info.locked
            with pytest.raises(LockError), stack_lock(STACK, r.clients(), timeout=0):
                pass
    finally:
        for c in r.opened:
            c.close()


def test_a_stack_without_storage_account_cannot_be_locked(runs):
    with pytest.raises(LockError, match="declares no storage account"):
        stack_lock(make_stack(), runs.clients(), timeout=0).__enter__()


def test_the_local_target_takes_a_file_lock_in_the_emulator_data_dir(embedded_emulator):
    clients = embedded_emulator.clients  # target "local"
    with stack_lock(STACK, clients, timeout=0, holder=ALICE) as info:
        assert info.target == str(embedded_emulator.data_dir / "locks" / "media.lock")
        with pytest.raises(LockError, match=f"held by {ALICE}"), \
                stack_lock(STACK, embedded_emulator.new_clients(), timeout=0):
            pass


def test_falls_back_to_the_account_key_when_the_data_plane_refuses_the_token(runs, monkeypatch):
    from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential

    clients = runs.clients()
    original, used = clients.blob, []

    def blob(url: str, credential: Any = None) -> Any:
        used.append(type(credential).__name__)
        if credential is None:  # the identity has no data-plane role: every call is a 403
            credential = AzureSasCredential("sv=2021-08-06&ss=b&srt=sco&sp=r&se=2099-01-01T00:00:00Z&sig=bad")
        return original(url, credential=credential)

    monkeypatch.setattr(clients, "blob", blob)
    with stack_lock(STACK, clients, timeout=0, holder=ALICE):
        assert runs.lock_blob().get_blob_properties().metadata["holder"] == ALICE
    assert used == ["NoneType", AzureNamedKeyCredential.__name__]
    assert runs.lock_blob().get_blob_properties().lease.state == "available"


def test_destroy_deleting_the_lock_account_ends_the_lock_quietly(runs, renewals, caplog):
    with caplog.at_level(logging.WARNING, logger="deployer.apply.lock"), \
            stack_lock(STACK, runs.clients(), timeout=0, holder=ALICE):
        runs.emulator.clients.storage.storage_accounts.delete(GROUP, ACCOUNT)
        time.sleep(0.1)  # a few renewals find the blob gone
    assert "could not release" not in caplog.text and "was lost" not in caplog.text
    with stack_lock(STACK, runs.clients(), timeout=0) as info:  # the next run: first apply again
        assert not info.locked
