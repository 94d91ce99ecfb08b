"""The job's task-set fingerprint: salted, unstretched, taken of the digest of the stack's task text
(references, never resolved secrets), and older stretched fingerprints still verify."""

from __future__ import annotations

import pytest

from deployer.resources import job, tasks
from deployer.resources import normalize as n

SPEC = {"pool": "p", "tasks": [
    {"id": "t1", "commandLine": "/bin/true",
     "containerSettings": {"imageName": "x", "registry": {"registryServer": "r.io", "username": "u",
                                                        "password": {"secret": "env:REGISTRY_PASSWORD"}}}},
]}


def test_tasks_fingerprint_is_salted_and_unstretched() -> None:
    a, b = job.tasks_fingerprint(SPEC), job.tasks_fingerprint(SPEC)
    scheme, rounds, salt_a, digest_a = a.split("$")
    assert (scheme, rounds) == ("pbkdf2-sha256", "1")
    assert salt_a != b.split("$")[2] and digest_a != b.split("$")[3]  # a fresh salt per write
    assert tasks.matches(a, tasks.digest_of(SPEC)[0])
    changed = {"pool": "p", "tasks": [{**SPEC["tasks"][0], "commandLine": "/bin/false"}]}
    assert not tasks.matches(a, tasks.digest_of(changed)[0])


def test_tasks_fingerprint_takes_the_reference_not_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_PASSWORD", "hunter2")
    recorded = job.tasks_fingerprint(SPEC)
    monkeypatch.setenv("REGISTRY_PASSWORD", "rotated")  # the value is not in the digest: no change
    assert tasks.matches(recorded, tasks.digest_of(SPEC)[0])


def test_a_stretched_fingerprint_recorded_earlier_still_matches() -> None:
    digest = tasks.digest_of(SPEC)[0]
    assert tasks.matches(n.fingerprint(digest), digest)  # 20,000 rounds, as recorded before
