"""Shipped tables the validator checks pools against: VM sizes and marketplace images.

The tables cover sizes and images commonly used with Batch. They answer "unknown" (None) for
anything else: a size or image missing here is unverified, not invalid, and checks built on
them stay silent. The JSON files live in `deployer/data/` (package data) and are read once, on
first use.
"""

from __future__ import annotations

import functools
import json
from importlib.resources import files
from typing import Any

__all__ = ["expected_node_agents", "max_task_slots", "vcpus"]

#: Batch allows up to 4 task slots per vCPU, and never more than 256 per node.
SLOTS_PER_VCPU = 4
MAX_SLOTS = 256


@functools.cache
def _load(name: str) -> Any:
    return json.loads((files("deployer") / "data" / name).read_text(encoding="utf-8"))


@functools.cache
def _sizes() -> dict[str, int]:
    return {key.lower(): int(value) for key, value in _load("vm_sizes.json")["sizes"].items()}


@functools.cache
def _images() -> dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]]:
    """(publisher, offer) -> [(exact skus, sku prefixes, node agent SKU ids)], all lowercase keys."""
    table: dict[tuple[str, str], list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {}
    for entry in _load("images.json")["images"]:
        key = (entry["publisher"].lower(), entry["offer"].lower())
        table.setdefault(key, []).append(
            (
                tuple(s.lower() for s in entry.get("skus", ())),
                tuple(s.lower() for s in entry.get("skuPrefixes", ())),
                tuple(entry["nodeAgentSkuIds"]),
            )
        )
    return table


def vcpus(vm_size: str) -> int | None:
    """vCPUs of a VM size such as `Standard_D2s_v3` (any case); None when the size is not in the table."""
    return _sizes().get(vm_size.strip().lower())


def max_task_slots(vm_size: str) -> int | None:
    """Most `taskSlotsPerNode` Batch accepts for the size: 4 per vCPU, at most 256; None when unknown."""
    cores = vcpus(vm_size)
    return None if cores is None else min(SLOTS_PER_VCPU * cores, MAX_SLOTS)


def expected_node_agents(publisher: str, offer: str, sku: str) -> tuple[str, ...] | None:
    """Node agent SKU ids that work with a marketplace image; None when the image is not in the table."""
    entries = _images().get((publisher.strip().lower(), offer.strip().lower()))
    if not entries:
        return None
    wanted = sku.strip().lower()
    agents: list[str] = []
    for exact, prefixes, ids in entries:
        if wanted in exact or any(wanted.startswith(prefix) for prefix in prefixes):
            agents.extend(agent for agent in ids if agent not in agents)
    return tuple(agents) or None
