"""Ownership markers: read, written, and invisible to the diff."""

from __future__ import annotations

import pytest

from deployer.resources.ownership import (
    STACK_KEY,
    Ownership,
    fingerprint_key,
    marker_place,
    owner,
    ownership,
    read_markers,
    split_reserved,
    with_markers,
)
from deployer.stack.model import Kind


@pytest.mark.parametrize(("kind", "place"), [
    (Kind.NETWORK, "tags"), (Kind.STORAGE_ACCOUNT, "tags"), (Kind.BATCH_ACCOUNT, "tags"),
    (Kind.POOL, "metadata"), (Kind.JOB, "metadata"), (Kind.JOB_SCHEDULE, "metadata"),
    (Kind.CONTAINER, None), (Kind.FILE_SHARE, None), (Kind.APPLICATION, None),
])
def test_where_each_kind_carries_its_marker(kind: Kind, place: str | None) -> None:
    assert marker_place(kind) == place


def test_split_reserved_from_metadata_lists_and_tag_maps() -> None:
    items = [{"name": "team", "value": "a"}, {"name": STACK_KEY, "value": "media"},
             {"name": fingerprint_key("userAccounts.alice.password"), "value": "pbkdf2-sha256$1$a$b"},
             {"name": "deployer.future", "value": "x"}]
    kept, stack, fingerprints = split_reserved(items)
    assert kept == [{"name": "team", "value": "a"}]
    assert stack == "media" and fingerprints == {"userAccounts.alice.password": "pbkdf2-sha256$1$a$b"}
    kept_map, stack, _ = split_reserved({"env": "dev", STACK_KEY: "media"})
    assert kept_map == {"env": "dev"} and stack == "media"
    assert split_reserved(None) == (None, None, {})


@pytest.mark.parametrize(("kind", "live"), [
    (Kind.STORAGE_ACCOUNT, {"tags": {STACK_KEY: "media"}}),
    (Kind.POOL, {"properties": {"metadata": [{"name": STACK_KEY, "value": "media"}]}}),
    (Kind.JOB, {"metadata": [{"name": STACK_KEY, "value": "media"}]}),
])
def test_owner_of_live_resources(kind: Kind, live: dict) -> None:
    assert owner(kind, live) == "media"
    assert ownership(kind, live, "media") == Ownership.OWNED
    assert ownership(kind, live, "other") == Ownership.OTHER_STACK
    assert ownership(kind, {}, "media") == Ownership.UNMARKED
    assert ownership(Kind.CONTAINER, live, "media") == Ownership.INHERITED


def test_with_markers_writes_them_in_each_shape() -> None:
    tagged = with_markers(Kind.STORAGE_ACCOUNT, {"tags": {"env": "dev", STACK_KEY: "old"}}, "media")
    assert tagged["tags"] == {"env": "dev", STACK_KEY: "media"}
    pool = with_markers(Kind.POOL, {"properties": {"metadata": [{"name": "team", "value": "a"}]}}, "media",
                        {"mountConfiguration.scratch.azureFileShareConfiguration.accountKey": "fp"})
    assert pool["properties"]["metadata"] == [
        {"name": "team", "value": "a"}, {"name": STACK_KEY, "value": "media"},
        {"name": "deployer.fingerprint.mountConfiguration.scratch.azureFileShareConfiguration.accountKey",
         "value": "fp"}]
    job = with_markers(Kind.JOB, {"id": "j"}, "media", {"tasks": "fp2"})
    assert read_markers(Kind.JOB, job) == ("media", {"tasks": "fp2"})
    remarked = with_markers(Kind.JOB, job, "media", {"tasks": "fp3"})
    assert read_markers(Kind.JOB, remarked) == ("media", {"tasks": "fp3"})
    assert with_markers(Kind.CONTAINER, {"a": 1}, "media") == {"a": 1}
