"""Retired images and VM sizes in a converted configuration replaced by their successors.

Most Batch Shipyard recipes and CLI-extension samples predate today's Azure: Ubuntu 16.04/18.04,
CentOS 7, the NC/NV/ND series. Carried over as they are, `deploy validate` refuses them (Azure no
longer creates such pools), so the converted stack could not be used at all. The successor comes
from the same lifecycle catalog validate uses (deployer/data/, deployer.stack.catalog), and every
replacement is a `review:` finding at the pool, naming what was there: the user sees what changed
and why, and checks that the workload runs on the newer image or size.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from deployer.convert.model import Conversion
from deployer.stack import catalog


def modernize(conv: Conversion, today: date | None = None) -> None:
    on = today or date.today()
    for account_name, account in (conv.stack.get("batchAccounts") or {}).items():
        for pool_name, pool in ((account or {}).get("pools") or {}).items():
            if isinstance(pool, dict):
                address = ("batchAccounts", account_name, "pools", pool_name)
                _image(conv, pool, address, on)
                _vm_size(conv, pool, address, on)


def _ended(lifecycle: Any, on: date) -> bool:
    return lifecycle is not None and lifecycle.ends is not None and lifecycle.ends <= on


def _image(conv: Conversion, pool: dict[str, Any], address: tuple[str, ...], on: date) -> None:
    vm = ((pool.get("deploymentConfiguration") or {}).get("virtualMachineConfiguration") or {})
    image = vm.get("imageReference") or {}
    if not all(isinstance(image.get(k), str) for k in ("publisher", "offer", "sku")):
        return
    lifecycle = catalog.image_lifecycle(image["publisher"], image["offer"], image["sku"])
    successor = catalog.image_successor(image["publisher"], image["offer"], image["sku"])
    if lifecycle is None or not _ended(lifecycle, on) or successor is None:
        return
    before = f"{image['publisher']}/{image['offer']}/{image['sku']} with {vm.get('nodeAgentSkuId')!r}"
    for key in ("publisher", "offer", "sku"):
        image[key] = successor[key]
    image.pop("version", None)
    vm["nodeAgentSkuId"] = successor["nodeAgentSkuId"]
    conv.review(conv.source_of(address), address,
                f"image {before} is retired ({lifecycle.ends}): replaced by "
                f"{successor['publisher']}/{successor['offer']}/{successor['sku']} with "
                f"{successor['nodeAgentSkuId']!r}; check that the start task and commands still work there")


def _vm_size(conv: Conversion, pool: dict[str, Any], address: tuple[str, ...], on: date) -> None:
    size = pool.get("vmSize")
    if not isinstance(size, str):
        return
    lifecycle = catalog.series_lifecycle(size)
    if lifecycle is None or not _ended(lifecycle, on):
        return
    match = re.search(r"Standard_[A-Za-z0-9_]+", lifecycle.successor)
    if match is None:
        return
    pool["vmSize"] = match.group(0)
    conv.review(conv.source_of(address), address,
                f"VM size {size} is retired ({lifecycle.what}, {lifecycle.ends}): replaced by {match.group(0)} "
                f"(Azure suggests: {lifecycle.successor}); check cores, memory and GPU against the workload")
