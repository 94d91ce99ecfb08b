"""The stack file's identity and where apply records it (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.resources.ownership import (
    STACK_FILE_KEY,
    STACK_KEY,
    declared_by,
    split_reserved,
    with_markers,
)
from deployer.stack.identity import stack_file_id
from deployer.stack.model import Kind


@pytest.mark.parametrize(("git", "file", "expected"), [
    ("repo/.git", "repo/stacks/media.yaml", "stacks/media.yaml"),
    ("repo/.git", "repo/envs/dev/stack.yaml", "envs/dev/stack.yaml"),
    ("repo/envs/.git", "repo/envs/dev/stack.yaml", "dev/stack.yaml"),  # the nearest repository
    ("repo/.git-file", "repo/stack.yaml", "stack.yaml"),  # no repository: the file name
])
def test_stack_file_id(tmp_path: Path, git: str, file: str, expected: str) -> None:
    marker = tmp_path / git
    marker.mkdir(parents=True)
    path = tmp_path / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("stack: x\n")
    assert stack_file_id(path) == expected


def test_worktree_git_file_counts_as_a_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")  # a git worktree
    (tmp_path / "s").mkdir()
    assert stack_file_id(tmp_path / "s" / "a.yaml") == "s/a.yaml"


@pytest.mark.parametrize(("kind", "tagged"), [
    (Kind.BATCH_ACCOUNT, True), (Kind.STORAGE_ACCOUNT, True), (Kind.NETWORK, True),
    (Kind.POOL, False), (Kind.JOB, False), (Kind.JOB_SCHEDULE, False),
])
def test_with_markers_records_the_stack_file_on_accounts_and_networks(kind: Kind, tagged: bool) -> None:
    body = with_markers(kind, {"tags": {"team": "a", STACK_FILE_KEY: "stale.yaml"}}, "s1", stack_file="stacks/one.yaml")
    if tagged:
        assert body["tags"] == {"team": "a", STACK_KEY: "s1", STACK_FILE_KEY: "stacks/one.yaml"}
        assert declared_by(kind, body) == "stacks/one.yaml"
        assert split_reserved(body["tags"])[0] == {"team": "a"}  # never part of the diff
    else:
        assert declared_by(kind, body) is None
    # nothing is remembered between calls: a body marked without a file records none
    assert STACK_FILE_KEY not in (with_markers(kind, {"tags": {}}, "s1").get("tags") or {})
    assert STACK_FILE_KEY not in (with_markers(Kind.BATCH_ACCOUNT, {}, "s1")["tags"])
