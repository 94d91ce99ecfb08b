"""The job's task-list fingerprint: salted, unstretched, taken of the stack's text (references,
never resolved secrets), and older stretched fingerprints still verify."""

from __future__ import annotations

from deployer.resources import job
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
    tasks = job.apply_forms([dict(t) for t in SPEC["tasks"]], job.RULES.tree.child("tasks"))
    assert n.fingerprint_matches(n.canonical_json(tasks), a)
    changed = {"pool": "p", "tasks": [{**SPEC["tasks"][0], "commandLine": "/bin/false"}]}
    assert not n.fingerprint_matches(n.canonical_json(
        job.apply_forms([dict(t) for t in changed["tasks"]], job.RULES.tree.child("tasks"))), a)


def test_tasks_fingerprint_takes_the_reference_not_the_secret(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REGISTRY_PASSWORD", "hunter2")
    recorded = job.tasks_fingerprint(SPEC)
    tasks = job.apply_forms([dict(t) for t in SPEC["tasks"]], job.RULES.tree.child("tasks"))
    text = n.canonical_json(tasks)
    assert "env:REGISTRY_PASSWORD" in text and "hunter2" not in text
    assert n.fingerprint_matches(text, recorded)


def test_a_stretched_fingerprint_recorded_earlier_still_matches() -> None:
    text = n.canonical_json([{"id": "t1", "commandLine": "/bin/true"}])
    assert n.fingerprint_matches(text, n.fingerprint(text))  # 20,000 rounds, as recorded before
