"""Pool settings Azure would reject at create time, caught while the stack is still a file.

Checks that need a table (VM sizes, images) use the shipped catalogs and stay silent for
sizes and images they do not know; unknown and retired sizes and images are the lifecycle
check's (deployer.stack.checks.lifecycle).
"""

from __future__ import annotations

from deployer.stack import catalog
from deployer.stack.checks import lifecycle
from deployer.stack.checks.view import Node, StackView, sub
from deployer.stack.formula import check_formula


def check(view: StackView) -> None:
    for _account, pool in view.pools():
        _autoscale_formula(view, pool)
        _task_slots(view, pool)
        _node_agent(view, pool)
        _mount_paths(view, pool)


def _autoscale_formula(view: StackView, pool: Node) -> None:
    auto = sub(pool, "scaleSettings", "autoScale")
    if auto is None or not isinstance(auto.value.get("formula"), str):
        return
    path = (*auto.path, "formula")
    for issue in check_formula(auto.value["formula"]):
        pos = view.doc.position_inside(path, issue.line, issue.column)
        view.error_at(pos.line, pos.column, path, f"autoscale formula: {issue.message}", issue.severity)


def _task_slots(view: StackView, pool: Node) -> None:
    slots = pool.value.get("taskSlotsPerNode")
    size = pool.value.get("vmSize")
    if not isinstance(slots, int) or not isinstance(size, str):
        return
    limit = catalog.max_task_slots(size)
    if limit is not None and slots > limit:
        cores = catalog.vcpus(size)
        view.error((*pool.path, "taskSlotsPerNode"),
                   f"taskSlotsPerNode {slots} is more than {size} allows: at most {limit} "
                   f"(4 × {cores} vCPUs, capped at 256)")


def _node_agent(view: StackView, pool: Node) -> None:
    config = sub(pool, "deploymentConfiguration", "virtualMachineConfiguration")
    if config is None:
        return
    image = config.value.get("imageReference")
    agent = config.value.get("nodeAgentSkuId")
    if not isinstance(image, dict) or not isinstance(agent, str):
        return
    publisher, offer, sku = (image.get(k) for k in ("publisher", "offer", "sku"))
    if not (isinstance(publisher, str) and isinstance(offer, str) and isinstance(sku, str)):
        return
    image_lifecycle = catalog.image_lifecycle(publisher, offer, sku)
    if image_lifecycle is not None and lifecycle.ended(image_lifecycle, lifecycle.today()):
        return  # past its end of support: the lifecycle check says so, and what to use instead
    expected = catalog.expected_node_agents(publisher, offer, sku)
    if expected and agent.lower() not in {e.lower() for e in expected}:
        choices = " or ".join(repr(e) for e in expected)
        view.error((*config.path, "nodeAgentSkuId"),
                   f"nodeAgentSkuId {agent!r} does not match image {publisher}/{offer}/{sku}; "
                   f"use {choices}")


def _mount_paths(view: StackView, pool: Node) -> None:
    seen: dict[str, int] = {}
    for mount in view.items(pool, "mountConfiguration"):
        for config in mount.value.values():
            if not isinstance(config, dict) or not isinstance(config.get("relativeMountPath"), str):
                continue
            rel = config["relativeMountPath"]
            kind = next(iter(mount.value))
            path = (*mount.path, kind, "relativeMountPath")
            if rel in seen:
                view.error(path, f"relativeMountPath {rel!r} is already used by mountConfiguration[{seen[rel]}]; "
                           "each mount needs its own path")
            else:
                seen[rel] = int(mount.name)
