"""Ask Azure what the shipped catalog can only remember: the images each Batch account supports.

`deploy validate` judges images by the lifecycle catalog (deployer/data/images.json), which is as
old as its `asOf` date. On the azure target, `plan` also reads each Batch account's List Supported
Images (one call per account that has pools in the stack) and warns where Azure's answer and the
stack disagree — an image the account no longer lists, or an end of support Azure announces and
the catalog does not know yet ("the catalog is behind"). The emulator answers the same call from
the catalog, so the comparison runs the same way everywhere it is asked to.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from deployer.errors import Diagnostic
from deployer.stack import catalog
from deployer.stack.model import Address, Kind, Stack


def supported_image_warnings(stack: Stack, live: Any, clients: Any, today: date) -> tuple[Diagnostic, ...]:
    """Warnings for the stack's pools whose marketplace image the account's supported-images list
    does not have, or lists with an end of support the catalog does not know."""
    found: list[Diagnostic] = []
    for account in stack.of_kind(Kind.BATCH_ACCOUNT):
        pools = [p for p in stack.of_kind(Kind.POOL) if p.address.parts[:2] == account.address.parts]
        images = [(pool, image) for pool in pools if (image := _marketplace_image(pool.spec)) is not None]
        endpoint = _endpoint(live, account.name)
        if not images or endpoint is None:
            continue  # an account the plan creates: nothing to ask yet
        try:
            supported = _supported(clients.batch_data(endpoint).list_supported_images())
        except Exception as exc:  # noqa: BLE001 - a check that cannot run must not stop the plan
            from azure.core.exceptions import AzureError

            if not isinstance(exc, AzureError):
                raise
            found.append(Diagnostic(stack.file, 0, 0, f"could not read the supported images of Batch account "
                                    f"{account.name} ({type(exc).__name__}); images were checked against the "
                                    "deployer's catalog only", str(account.address), "warning"))
            continue
        for pool, (publisher, offer, sku, agent) in images:
            found.extend(_compare(stack, pool.address, account.name, publisher, offer, sku, agent, supported, today))
    return tuple(found)


def _marketplace_image(spec: dict[str, Any]) -> tuple[str, str, str, str] | None:
    config = ((spec.get("deploymentConfiguration") or {}).get("virtualMachineConfiguration") or {})
    image = config.get("imageReference") or {}
    parts = [image.get(k) for k in ("publisher", "offer", "sku")]
    agent = config.get("nodeAgentSkuId")
    if all(isinstance(p, str) for p in parts) and isinstance(agent, str):
        return str(parts[0]), str(parts[1]), str(parts[2]), agent
    return None  # a custom image (imageReference.id): Azure's list is about marketplace images


def _endpoint(live: Any, account_name: str) -> str | None:
    account = (getattr(live, "batch", None) or {}).get(account_name)
    properties = (getattr(account, "account", None) or {}).get("properties") or {}
    endpoint = properties.get("accountEndpoint")
    return endpoint if isinstance(endpoint, str) and endpoint else None


def _supported(items: Any) -> dict[tuple[str, str, str], list[tuple[str, date | None]]]:
    """(publisher, offer, sku) lower case → [(node agent SKU id, end of support)]."""
    table: dict[tuple[str, str, str], list[tuple[str, date | None]]] = {}
    for item in items:
        reference = _get(item, "image_reference", "imageReference") or {}
        publisher, offer, sku = (str(_get(reference, k, k) or "").lower() for k in ("publisher", "offer", "sku"))
        agent = str(_get(item, "node_agent_sku_id", "nodeAgentSKUId") or "")
        ends = _get(item, "batch_support_end_of_life", "batchSupportEndOfLife")
        if isinstance(ends, str):
            ends = datetime.fromisoformat(ends.replace("Z", "+00:00"))
        table.setdefault((publisher, offer, sku), []).append(
            (agent, ends.date() if isinstance(ends, datetime) else None))
    return table


def _get(item: Any, attribute: str, key: str) -> Any:
    if isinstance(item, dict):
        return item.get(key)
    value = getattr(item, attribute, None)
    if value is None and hasattr(item, "get"):
        value = item.get(key)
    return value


def _compare(stack: Stack, address: Address, account: str, publisher: str, offer: str, sku: str, agent: str,
             supported: dict[tuple[str, str, str], list[tuple[str, date | None]]],
             today: date) -> Iterator[Diagnostic]:
    where = str(address)
    image = f"{publisher}/{offer}/{sku}"
    listed = _lookup(supported, publisher, offer, sku)
    if listed is None:
        yield Diagnostic(stack.file, 0, 0, f"image {image} is not in Batch account {account}'s list of supported "
                         "images today: Azure may refuse the pool (a retired image, or one Batch never "
                         "supported)", where, "warning")
        return
    ends = min((e for a, e in listed if a.lower() == agent.lower() and e is not None), default=None)
    known = catalog.image_lifecycle(publisher, offer, sku)
    if ends is not None and (known is None or known.ends != ends):
        verb = "ended" if ends <= today else "ends"
        yield Diagnostic(stack.file, 0, 0, f"Azure says Batch support for image {image} {verb} on "
                         f"{ends.isoformat()}; the deployer's catalog (as of {catalog.catalog_date().isoformat()}) "
                         "does not know it yet: update deployer/data/images.json", where, "warning")


def _lookup(supported: dict[tuple[str, str, str], list[tuple[str, date | None]]], publisher: str, offer: str,
            sku: str) -> list[tuple[str, date | None]] | None:
    key = (publisher.lower(), offer.lower(), sku.lower())
    if key in supported:
        return supported[key]
    # The list names one sku per image; Windows lists `2022-datacenter` for `2022-datacenter-core`…
    prefixed = [v for (p, o, s), v in supported.items() if (p, o) == key[:2] and key[2].startswith(s)]
    return [item for items in prefixed for item in items] or None
