"""What Microsoft.Batch needs from the other services: storage accounts, subnets, blobs.

- the auto-storage account (exists? its key, its containers): `deployer.emulator.storage.models`
  (`account_by_id`, `account_key`, `ensure_container`), imported when first needed;
- the subnet of a pool's networkConfiguration: `deployer.emulator.network.models.find_subnet`;
- whether a package blob was uploaded: `deployer.emulator.blob.models.get_blob` in the container;
- the task counts of a pool's jobs, for autoscale formulas: `deployer.emulator.batch_data.models`.

Package `storageUrl`s are service SAS URLs for one blob (sp=rcw, sr=b, signed with key1 of the
auto-storage account, string-to-sign of version 2020-12-06 and later), on this emulator's host:
`https://{host}/blob/{account}/{container}/{blob}?sv=..&st=..&se=..&sr=b&sp=rcw&spr=https&sig=..`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote, urlencode

from ..core import Doc, Request, Store, clock, ids

BLOB_VERSION = "2025-01-05"  # `sv` of package SAS URLs and x-ms-version of internal blob calls


def _storage() -> Any:
    from ..storage import models as storage_models

    return storage_models


def storage_account(store: Store, storage_id: str) -> Doc | None:
    """The storage account an ARM id names (a Batch account's autoStorage.storageAccountId), or None."""
    return _storage().account_by_id(store, storage_id)


def storage_exists(store: Store, storage_id: str) -> bool:
    return storage_account(store, storage_id) is not None


def subnet_exists(store: Store, subnet_id: str) -> bool:
    """Whether the ARM id names an existing subnet (virtualNetworks/{vnet}/subnets/{name})."""
    parsed = ids.parse_arm_id(subnet_id)
    if parsed.get("type", "").lower() != "microsoft.network/virtualnetworks/subnets":
        return False
    from ..network import models as network_models

    return network_models.find_subnet(store, subnet_id) is not None


def ensure_container(store: Store, storage_id: str, container: str) -> None:
    """Create the packages' container in the auto-storage account (if the account still exists)."""
    account = storage_account(store, storage_id)
    if account is not None:
        _storage().ensure_container(store, account, container)


def blob_sas_query(store: Store, storage_id: str, container: str, blob: str, expiry: float) -> str | None:
    """A service SAS query (read, create, write) for one blob, signed with the account's key1."""
    account = storage_account(store, storage_id)
    if account is None:
        return None
    name = account.body["name"]
    key = _storage().account_key(account)
    fields = {
        "sv": BLOB_VERSION,
        "st": clock.iso(clock.now() - 300, digits=0),
        "se": clock.iso(expiry, digits=0),
        "sr": "b",
        "sp": "rcw",
        "spr": "https",
    }
    string_to_sign = "\n".join(
        [
            fields["sp"],
            fields["st"],
            fields["se"],
            f"/blob/{name}/{container}/{blob}",
            "",  # signed identifier
            "",  # signed IP
            fields["spr"],
            fields["sv"],
            fields["sr"],
            "",  # snapshot time
            "",  # encryption scope
            "",  # rscc
            "",  # rscd
            "",  # rsce
            "",  # rscl
            "",  # rsct
        ]
    )
    sig = base64.b64encode(
        hmac.new(base64.b64decode(key), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    ).decode()
    return urlencode({**fields, "sig": sig}, quote_via=quote)


def blob_path(store: Store, storage_id: str, container: str, blob: str) -> str | None:
    account = storage_account(store, storage_id)
    if account is None:
        return None
    return f"/blob/{account.body['name']}/{quote(container)}/{quote(blob)}"


def blob_sas_url(req: Request, storage_id: str, container: str, blob: str, expiry: float) -> str | None:
    """The package's `storageUrl` on this emulator's host (None if the storage account is gone)."""
    path = blob_path(req.store, storage_id, container, blob)
    query = blob_sas_query(req.store, storage_id, container, blob, expiry)
    if path is None or query is None:
        return None
    return f"https://{req.host}{path}?{query}"


def package_blob(store: Store, storage_id: str, container: str, blob: str) -> Doc | None:
    """The uploaded package blob (deployer.emulator.blob.models), or None if nothing was uploaded."""
    account = storage_account(store, storage_id)
    if account is None:
        return None
    container_doc = _storage().get_container(store, account, container)
    if container_doc is None:
        return None
    from ..blob import models as blob_models

    return blob_models.get_blob(store, container_doc, blob)


def blob_exists(store: Store, storage_id: str, container: str, blob: str) -> bool:
    """Whether something was uploaded to the package's storageUrl."""
    return package_blob(store, storage_id, container, blob) is not None


def pool_task_metrics(store: Store, account: Doc, pool_name: str, now: float) -> dict[str, float]:
    """$ActiveTasks, $RunningTasks, $PendingTasks … of the jobs on a pool (the data plane's tasks)."""
    from ..batch_data import models as data_models

    return data_models.pool_task_metrics(store, account, pool_name, now)
