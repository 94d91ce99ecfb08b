"""Azure's naming rules, checked before any request so a typo fails in review, not in apply.

The rules are a table: what is named, where the name is, the pattern, and the sentence that
explains the rule to a user. Names Azure compares case-insensitively are also checked for
collisions that differ only in case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from deployer.stack.checks.view import Node, StackView, mapping, sequence
from deployer.stack.loader import PathKey


@dataclass(frozen=True)
class NameRule:
    what: str
    pattern: re.Pattern[str]
    rule: str

    def check(self, view: StackView, name: object, path: PathKey, *, key: bool = False) -> None:
        if isinstance(name, str) and not self.pattern.fullmatch(name):
            view.error(path, f"{self.what} {name!r} is not a valid name: {self.rule}", key=key)


ACCOUNT = r"[a-z0-9]{3,24}"
BATCH_ID = r"[A-Za-z0-9_-]{1,64}"
# Containers and shares: 3-63, lowercase letters, digits and single hyphens, alphanumeric ends.
CONTAINER = r"(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]"

STORAGE_ACCOUNT = NameRule("storage account name", re.compile(ACCOUNT), "3–24 lowercase letters and digits")
BATCH_ACCOUNT = NameRule("Batch account name", re.compile(ACCOUNT), "3–24 lowercase letters and digits")
POOL_ID = NameRule("pool id", re.compile(BATCH_ID), "up to 64 letters, digits, hyphens and underscores")
JOB_ID = NameRule("job id", re.compile(BATCH_ID), "up to 64 letters, digits, hyphens and underscores")
SCHEDULE_ID = NameRule("job schedule id", re.compile(BATCH_ID), "up to 64 letters, digits, hyphens and underscores")
TASK_ID = NameRule("task id", re.compile(BATCH_ID), "up to 64 letters, digits, hyphens and underscores")
CONTAINER_NAME = NameRule(
    "container name",
    re.compile(CONTAINER),
    "3–63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
)
SHARE_NAME = NameRule(
    "file share name",
    re.compile(CONTAINER),
    "3–63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
)
VNET_NAME = NameRule(
    "virtual network name",
    re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_])?"),
    "2–64 letters, digits, '.', '-' and '_', starting with a letter or digit and ending with a letter, digit or '_'",
)
SUBNET_NAME = NameRule(
    "subnet name",
    re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9_])?"),
    "1–80 letters, digits, '.', '-' and '_', starting with a letter or digit and ending with a letter, digit or '_'",
)


def check(view: StackView) -> None:
    _unique_names(view, list(view.storage_accounts()), STORAGE_ACCOUNT)
    _unique_names(view, list(view.batch_accounts()), BATCH_ACCOUNT)
    for account in view.storage_accounts():
        for index, entry in enumerate(sequence(account.value.get("containers"))):
            name = entry.get("name") if isinstance(entry, dict) else entry
            where = (*account.path, "containers", index) + (("name",) if isinstance(entry, dict) else ())
            CONTAINER_NAME.check(view, name, where)
        for share in mapping(account.value.get("fileShares")):
            SHARE_NAME.check(view, share, (*account.path, "fileShares", share), key=True)
    for network in view.networks():
        VNET_NAME.check(view, network.value.get("name"), (*network.path, "name"))
        for subnet in view.children(network, "subnets"):
            name = subnet.value.get("name", subnet.name)
            SUBNET_NAME.check(view, name, (*subnet.path, "name") if "name" in subnet.value else subnet.path,
                              key="name" not in subnet.value)
    for account in view.batch_accounts():
        for section, rule in (("pools", POOL_ID), ("jobs", JOB_ID), ("jobSchedules", SCHEDULE_ID)):
            nodes = list(view.children(account, section))
            for node in nodes:
                rule.check(view, node.name, node.path, key=True)
            _case_collisions(view, nodes, rule.what)
        for job in view.children(account, "jobs"):
            _task_ids(view, job)


def _unique_names(view: StackView, nodes: list[Node], rule: NameRule) -> None:
    seen: dict[str, Node] = {}
    for node in nodes:
        name = node.value.get("name")
        rule.check(view, name, (*node.path, "name"))
        if not isinstance(name, str):
            continue
        if name in seen:
            view.error((*node.path, "name"),
                       f"{rule.what} {name!r} is also used by {seen[name].path[0]}.{seen[name].name}; "
                       "names must be unique")
        else:
            seen[name] = node


def _case_collisions(view: StackView, nodes: list[Node], what: str) -> None:
    """Batch ids are case-preserving but case-insensitive: `Pool1` and `pool1` are one pool."""
    seen: dict[str, Node] = {}
    for node in nodes:
        folded = node.name.lower()
        if folded in seen:
            view.error(node.path, f"{what} {node.name!r} differs from {seen[folded].name!r} only in case; "
                       "Azure treats them as the same id", key=True)
        else:
            seen[folded] = node


def _task_ids(view: StackView, job: Node) -> None:
    seen: dict[str, int] = {}
    for task in view.items(job, "tasks"):
        task_id = task.value.get("id")
        if not isinstance(task_id, str):
            continue
        TASK_ID.check(view, task_id, (*task.path, "id"))
        folded = task_id.lower()
        if folded in seen:
            view.error((*task.path, "id"),
                       f"duplicate task id {task_id!r} in job {job.name!r} (also tasks[{seen[folded]}]); "
                       "task ids must be unique within a job, ignoring case")
        else:
            seen[folded] = int(task.name)


def task_ids(view: StackView, job: Node) -> Iterator[str]:
    for task in view.items(job, "tasks"):
        if isinstance(task.value.get("id"), str):
            yield task.value["id"]
