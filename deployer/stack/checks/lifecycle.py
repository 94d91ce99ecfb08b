"""Today's Azure: retired and retiring VM series, images and node agents, and unknown VM sizes.

A stack that applies cleanly on the emulator can still be refused by Azure because Batch no
longer accepts its image (Ubuntu 18.04, CentOS 7) or Azure retired its VM size (NC6, NV6). The
dates and successors are data (`deployer/data/*.json`, see deployer.stack.catalog); here each
pool is checked against them on the day validate runs:

* past the end of support → error, naming the date and the successor;
* within six months of it → warning;
* a VM size the catalog does not know → error with the closest known size, unless the target
  sets `allowUnknownVmSize: true` (for sizes newer than the catalog).

A pool gets at most one lifecycle finding per field, and an image past its end of support is
reported once, at the image (not again at its node agent SKU).
"""

from __future__ import annotations

from datetime import date, timedelta

from deployer.stack import catalog
from deployer.stack.catalog import Lifecycle
from deployer.stack.checks.view import Node, StackView, sub

#: How long before an end of support validate starts warning.
WARN_BEFORE = timedelta(days=183)


def today() -> date:
    """The day the lifecycle is judged on (the system date; tests pin it)."""
    return date.today()


def ended(lifecycle: Lifecycle | None, on: date) -> bool:
    return lifecycle is not None and lifecycle.ends is not None and lifecycle.ends <= on


def check(view: StackView) -> None:
    on = today()
    target = view.data.get("target")
    allow_unknown = isinstance(target, dict) and target.get("allowUnknownVmSize") is True
    for _account, pool in view.pools():
        _vm_size(view, pool, on, allow_unknown)
        _image(view, pool, on)


def _judge(view: StackView, path: tuple[str | int, ...], subject: str, lifecycle: Lifecycle | None, on: date,
           ended_text: str, ends_text: str) -> bool:
    """Report `lifecycle` if it has ended (error) or ends soon (warning); True when reported.
    `ended_text`/`ends_text` say what ends, with `{date}` for the date."""
    if lifecycle is None or lifecycle.ends is None:
        return False
    when = lifecycle.ends.isoformat()
    if lifecycle.ends <= on:
        view.error(path, f"{subject}: {ended_text.format(date=when)}, so Azure refuses new pools and nodes "
                   f"with it; use {lifecycle.successor} instead")
        return True
    if lifecycle.ends - on <= WARN_BEFORE:
        days = (lifecycle.ends - on).days
        view.error(path, f"{subject}: {ends_text.format(date=when)} (in {days} days); plan the move to "
                   f"{lifecycle.successor}", severity="warning")
        return True
    return False


def _vm_size(view: StackView, pool: Node, on: date, allow_unknown: bool) -> None:
    size = pool.value.get("vmSize")
    if not isinstance(size, str) or not size.strip():
        return
    path = (*pool.path, "vmSize")
    series = catalog.series_lifecycle(size)
    what = series.what if series else ""
    if _judge(view, path, f"VM size {size!r}", series, on, f"Azure retired the {what} on {{date}}",
              f"Azure retires the {what} on {{date}}"):
        return
    if series is not None or catalog.vcpus(size) is not None or allow_unknown:
        return
    suggestion = catalog.suggest_vm_size(size)
    hint = f"did you mean {suggestion!r}? " if suggestion else ""
    view.error(path, f"unknown VM size {size!r}; {hint}(if it is newer than the deployer's catalog of "
               f"{catalog.catalog_date().isoformat()}, set `allowUnknownVmSize: true` under target:)")


_ENDED = "Batch support ended on {date}"
_ENDS = "Batch support ends on {date}"


def _image(view: StackView, pool: Node, on: date) -> None:
    config = sub(pool, "deploymentConfiguration", "virtualMachineConfiguration")
    if config is None:
        return
    image = config.value.get("imageReference")
    agent = config.value.get("nodeAgentSkuId")
    if isinstance(image, dict):
        parts = [image.get(k) for k in ("publisher", "offer", "sku")]
        if all(isinstance(p, str) for p in parts):
            publisher, offer, sku = (str(p) for p in parts)
            lifecycle = catalog.image_lifecycle(publisher, offer, sku)
            if _judge(view, (*config.path, "imageReference", "sku"), f"image {publisher}/{offer}/{sku}", lifecycle,
                      on, _ENDED, _ENDS):
                return
            expected = catalog.expected_node_agents(publisher, offer, sku)
            if expected and isinstance(agent, str) and agent.lower() not in {e.lower() for e in expected}:
                return  # the wrong agent for a current image: the pools check names the right one
    if isinstance(agent, str):
        _judge(view, (*config.path, "nodeAgentSkuId"), f"node agent {agent!r}", catalog.agent_lifecycle(agent), on,
               _ENDED, _ENDS)
