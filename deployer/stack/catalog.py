"""Shipped tables the validator checks pools against: VM sizes and marketplace images.

The tables cover sizes and images commonly used with Batch. They answer "unknown" (None) for
anything else: a size or image missing here is unverified, not invalid, and checks built on
them stay silent. The JSON files live in `deployer/data/` (package data) and are read once, on
first use.
"""

from __future__ import annotations

import functools
import json
import re
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


@functools.cache
def vm_size_names() -> tuple[str, ...]:
    """Every VM size in the table, as Azure spells it (`Standard_D2s_v3`, `Standard_NC24ads_A100_v4`)."""
    return tuple(_azure_spelling(key) for key in _load("vm_sizes.json")["sizes"])


def _azure_spelling(size: str) -> str:
    """`standard_nc24ads_a100_v4` -> `Standard_NC24ads_A100_v4`: the family letters upper case, the
    feature letters after the vCPU count lower case, GPU models (`a100`) upper case."""
    tier, _, rest = size.partition("_")
    parts = rest.split("_") if rest else []
    if parts:
        family = re.match(r"^([a-z]+)(\d+)(.*)$", parts[0])
        if family:
            parts[0] = family.group(1).upper() + family.group(2) + family.group(3)
        parts[1:] = [p.upper() if re.fullmatch(r"[a-uw-z]\d+", p) else p for p in parts[1:]]  # not v2
    return "_".join([tier.capitalize(), *parts])


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
