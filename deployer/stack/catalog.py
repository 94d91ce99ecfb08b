"""Shipped tables the validator checks pools against: VM sizes, VM series lifecycles, images.

Data, not code: `deployer/data/vm_sizes.json` (vCPUs per size), `vm_series.json` (retired and
retiring series, with dates and successors) and `images.json` (marketplace images and node
agent SKUs with Batch's end of support). Each file carries its `sources` and the `asOf` date it
was last checked; updating the catalog is editing JSON. The files are read once, on first use.

Lookups answer None for what the tables do not know: an image missing here is unverified, not
invalid. A VM size missing here is an error in validate (a typo is far more likely than a size
newer than the table) unless the stack allows unknown sizes.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any

__all__ = ["Lifecycle", "agent_lifecycle", "expected_node_agents", "image_lifecycle", "max_task_slots",
           "series_lifecycle", "suggest_vm_size", "supported_images", "vcpus"]

#: Batch allows up to 4 task slots per vCPU, and never more than 256 per node.
SLOTS_PER_VCPU = 4
MAX_SLOTS = 256


@functools.cache
def _load(name: str) -> Any:
    return json.loads((files("deployer") / "data" / name).read_text(encoding="utf-8"))


@functools.cache
def _sizes() -> dict[str, int]:
    return {key.lower(): int(value) for key, value in _load("vm_sizes.json")["sizes"].items()}


@dataclass(frozen=True)
class Lifecycle:
    """When Azure stops accepting something (an image, a node agent, a VM series) and what to use
    instead; `ends` is None when no end is announced."""

    what: str
    ends: date | None
    successor: str
    source: str = ""


@dataclass(frozen=True)
class _Image:
    skus: tuple[str, ...]
    prefixes: tuple[str, ...]
    agents: tuple[str, ...]
    lifecycle: Lifecycle | None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _successor_text(successor: Any) -> str:
    if isinstance(successor, dict):
        image = "/".join(successor[k] for k in ("publisher", "offer", "sku"))
        return f"image {image} with nodeAgentSkuId {successor['nodeAgentSkuId']!r}"
    return str(successor or "")


@functools.cache
def _images() -> dict[tuple[str, str], list[_Image]]:
    """(publisher, offer) -> the table's entries for it, all lowercase keys."""
    table: dict[tuple[str, str], list[_Image]] = {}
    for entry in _load("images.json")["images"]:
        key = (entry["publisher"].lower(), entry["offer"].lower())
        name = f"{entry['publisher']}/{entry['offer']}"
        lifecycle = None
        if entry.get("batchSupportEndOfLife"):
            lifecycle = Lifecycle(name, _date(entry["batchSupportEndOfLife"]), _successor_text(entry.get("successor")),
                                  entry.get("source", ""))
        table.setdefault(key, []).append(_Image(
            tuple(s.lower() for s in entry.get("skus", ())),
            tuple(s.lower() for s in entry.get("skuPrefixes", ())),
            tuple(entry["nodeAgentSkuIds"]),
            lifecycle,
        ))
    return table


def _matching_images(publisher: str, offer: str, sku: str) -> list[_Image]:
    wanted = sku.strip().lower()
    return [image for image in _images().get((publisher.strip().lower(), offer.strip().lower()), ())
            if wanted in image.skus or any(wanted.startswith(prefix) for prefix in image.prefixes)]


@functools.cache
def _agents() -> dict[str, Lifecycle]:
    return {entry["id"].lower(): Lifecycle(entry["id"], _date(entry.get("batchSupportEndOfLife")),
                                           f"nodeAgentSkuId {entry['successor']!r}", entry.get("source", ""))
            for entry in _load("images.json").get("nodeAgents", ())}


@functools.cache
def _series() -> tuple[tuple[re.Pattern[str], Lifecycle], ...]:
    return tuple((re.compile(entry["pattern"]),
                  Lifecycle(f"{entry['series']}-series", _date(entry["retires"]), entry["successor"],
                            entry.get("source", "")))
                 for entry in _load("vm_series.json")["series"])


def catalog_date() -> date:
    """The oldest `asOf` of the lifecycle tables: facts announced after it are not in them."""
    return min(date.fromisoformat(_load(name)["asOf"]) for name in ("vm_sizes.json", "vm_series.json", "images.json"))


def supported_images() -> list[dict[str, Any]]:
    """The catalog's images in the shape of Batch's List Supported Images API (`nodeAgentSKUId`,
    `imageReference`, `osType`, `verificationType`, `batchSupportEndOfLife`): what the emulator
    answers, so a plan compares the same way with the emulator as with Azure. A `skuPrefixes`
    entry is listed under its prefix as the sku."""
    out = []
    for entry in _load("images.json")["images"]:
        for sku in [*entry.get("skus", ()), *entry.get("skuPrefixes", ())]:
            for agent in entry["nodeAgentSkuIds"]:
                item: dict[str, Any] = {
                    "nodeAgentSKUId": agent,
                    "imageReference": {"publisher": entry["publisher"], "offer": entry["offer"], "sku": sku,
                                       "version": "latest"},
                    "osType": "windows" if "windows" in agent else "linux",
                    "verificationType": "verified",
                }
                if entry.get("batchSupportEndOfLife"):
                    item["batchSupportEndOfLife"] = entry["batchSupportEndOfLife"] + "T00:00:00Z"
                out.append(item)
    return out


@functools.lru_cache(maxsize=1024)
def image_lifecycle(publisher: str, offer: str, sku: str) -> Lifecycle | None:
    """Batch's end of support for a marketplace image; None when none is announced or unknown."""
    for image in _matching_images(publisher, offer, sku):
        if image.lifecycle is not None:
            return image.lifecycle
    return None


def image_successor(publisher: str, offer: str, sku: str) -> dict[str, str] | None:
    """The catalog's successor of a retired image, as {publisher, offer, sku, nodeAgentSkuId}."""
    wanted = sku.strip().lower()
    for entry in _load("images.json")["images"]:
        if (entry["publisher"].lower(), entry["offer"].lower()) != (publisher.strip().lower(), offer.strip().lower()):
            continue
        skus = [s.lower() for s in entry.get("skus", ())]
        prefixes = [s.lower() for s in entry.get("skuPrefixes", ())]
        if (wanted in skus or any(wanted.startswith(p) for p in prefixes)) and isinstance(entry.get("successor"), dict):
            return dict(entry["successor"])
    return None


def agent_lifecycle(node_agent_sku_id: str) -> Lifecycle | None:
    """Batch's end of support for a node agent SKU (`batch.node.ubuntu 18.04`); None when none."""
    return _agents().get(" ".join(node_agent_sku_id.split()).lower())


@functools.lru_cache(maxsize=1024)
def series_lifecycle(vm_size: str) -> Lifecycle | None:
    """The retirement of the VM series a size belongs to; None when its series is not retiring."""
    name = vm_size.strip().lower()
    for pattern, lifecycle in _series():
        if pattern.fullmatch(name):
            return lifecycle
    return None


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
    agents: list[str] = []
    for image in _matching_images(publisher, offer, sku):
        agents.extend(agent for agent in image.agents if agent not in agents)
    return tuple(agents) or None


_SIZE = re.compile(
    r"^(?P<tier>standard|basic)_?(?P<family>[a-z]+?)(?P<cores>\d+)(?P<rest>.*?)_?(?:v(?P<version>\d+))?$")


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name.lower())


def _parts(name: str) -> tuple[str, str, str, str] | None:
    match = _SIZE.match(name.lower())
    if not match:
        return None
    rest = match.group("rest").replace("_", "")
    return match.group("family"), match.group("cores"), rest, match.group("version") or "1"


def suggest_vm_size(name: str) -> str | None:
    """The known size `name` most likely means, ranked by family and version before spelling:
    `Standard_E8dsv5` → `Standard_E8ds_v5` (only underscores differ), not `Standard_E8d_v5`.

    Candidates share the family letters (E, NC, HB…); among them, a different version or vCPU
    count costs more than a different feature letter, so the suggestion stays in the series the
    user wrote. None when nothing is close."""
    from deployer.stack.suggest import edit_distance

    names = vm_size_names()
    squashed = _squash(name)
    for candidate in names:
        if _squash(candidate) == squashed:
            return candidate
    wanted = _parts(name)
    best: tuple[int, str] | None = None
    for candidate in names:
        parts = _parts(candidate)
        if wanted is None or parts is None:
            continue
        family, cores, rest, version = parts
        if family != wanted[0]:
            continue
        score = 3 * (cores != wanted[1]) + 2 * (version != wanted[3]) + edit_distance(rest, wanted[2], 4)
        if score <= 4 and (best is None or score < best[0]):
            best = (score, candidate)
    if best is not None:
        return best[1]
    from deployer.stack.suggest import closest

    return closest(name, names)
