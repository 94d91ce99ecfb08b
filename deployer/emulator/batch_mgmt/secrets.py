"""Write-only secrets of Batch pools (and, for batch_data, of jobs, tasks and job schedules).

Azure never returns what a client sends as a secret (mount account keys, passwords, SSH private
keys, VM extension protectedSettings ...), and the emulator must not keep it in clear in its data
directory either. So:

- on every write, each secret value is replaced by a salted digest before the document is stored
  (`digest(props, POOL_SECRETS, salt_of(store))`); equal values give equal digests, so "did this
  property change?" (PropertyCannotBeUpdated on a pool with nodes) still works;
- on every read, the secret fields are dropped (`strip(props, POOL_SECRETS)`).

The salt is random per data directory and kept in the store (one small document, created by the
first write that needs it, inside that write's transaction).

Paths name fields within a document: `a.b` walks objects, `a[]` every item of a list; the last
segment is the secret field itself (`mountConfiguration[].cifsMountConfiguration.password`).
Shapes that do not match (a missing key, a list where an object is expected ...) are skipped:
validation is not this module's business.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from ..core import ABSENT, Store

# The write-only secrets of a pool's `properties` (the management API's names). This mirrors the
# fields marked `"x-ms-secret": true` in the Batch management OpenAPI document
# (specification/batch/resource-manager/Microsoft.Batch/Batch/stable/2025-06-01/openapi.json):
# AzureBlobFileSystemConfiguration.accountKey/sasKey, AzureFileShareConfiguration.accountKey,
# CIFSMountConfiguration.password, ContainerRegistry.password, LinuxUserConfiguration.sshPrivateKey,
# UserAccount.password and VMExtension.protectedSettings, at every place PoolProperties reaches them.
POOL_SECRETS: tuple[str, ...] = (
    "deploymentConfiguration.virtualMachineConfiguration.containerConfiguration.containerRegistries[].password",
    "deploymentConfiguration.virtualMachineConfiguration.extensions[].protectedSettings",
    "mountConfiguration[].azureBlobFileSystemConfiguration.accountKey",
    "mountConfiguration[].azureBlobFileSystemConfiguration.sasKey",
    "mountConfiguration[].azureFileShareConfiguration.accountKey",
    "mountConfiguration[].cifsMountConfiguration.password",
    "startTask.containerSettings.registry.password",
    "userAccounts[].password",
    "userAccounts[].linuxUserConfiguration.sshPrivateKey",
)

# The data plane's jobs, tasks and job schedules, as batch_data stores them (the data plane's names).
# Its TypeSpec (specification/batch/Azure.Batch/models.tsp) marks @secret the same fields:
# ContainerRegistryReference.password, UserAccount.password, LinuxUserConfiguration.sshPrivateKey and
# the mount configurations' keys and passwords; VMExtension.protectedSettings, a secret of the
# management API, is kept out here too. A task's container settings name a registry:
TASK_SECRETS: tuple[str, ...] = ("containerSettings.registry.password",)
# A job's auto pool (BatchPoolSpecification): the pool's fields, virtualMachineConfiguration at the top.
POOL_SPEC_SECRETS: tuple[str, ...] = tuple(p.removeprefix("deploymentConfiguration.") for p in POOL_SECRETS)
# A job: its job manager, preparation and release tasks, and its auto pool.
JOB_SECRETS: tuple[str, ...] = (
    *(f"{task}.{p}" for task in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask") for p in TASK_SECRETS),
    *(f"poolInfo.autoPoolSpecification.pool.{p}" for p in POOL_SPEC_SECRETS),
)
# A job schedule: the job it describes.
SCHEDULE_SECRETS: tuple[str, ...] = tuple(f"jobSpecification.{p}" for p in JOB_SECRETS)

DIGEST_PREFIX = "hmac-sha256:"
_DIGEST = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")

SALT_KIND = "emulatorSecretSalt"
SALT_KEY = "salt"


# -- the walker ----------------------------------------------------------------------------------


def _visit(node: Any, parts: list[str], leaf: Callable[[dict[str, Any], str], None]) -> None:
    if not parts or not isinstance(node, dict):
        return
    head, rest = parts[0], parts[1:]
    if not rest:
        if head in node:
            leaf(node, head)
        return
    name, each = (head[:-2], True) if head.endswith("[]") else (head, False)
    child = node.get(name)
    if each:
        for item in child if isinstance(child, list) else ():
            _visit(item, rest, leaf)
    else:
        _visit(child, rest, leaf)


def _apply(doc: dict[str, Any], paths: Iterable[str], leaf: Callable[[dict[str, Any], str], None]) -> dict[str, Any]:
    """A deep copy of `doc` with `leaf(parent, key)` called for every secret field present."""
    out = copy.deepcopy(doc)
    for path in paths:
        _visit(out, path.split("."), leaf)
    return out


# -- digests and stripping -----------------------------------------------------------------------


def salt_of(store: Store) -> bytes:
    """The data directory's salt, created on first use. Call it inside the write's transaction."""
    with store.transaction():
        doc = store.get(SALT_KIND, SALT_KEY)
        if doc is None:
            doc = store.put(SALT_KIND, SALT_KEY, {"salt": secrets.token_hex(32)}, expect=ABSENT)
        return bytes.fromhex(doc.body["salt"])


def digest_value(value: Any, salt: bytes) -> str:
    """`hmac-sha256:<hex>` of a secret (any JSON value: protectedSettings is an object)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DIGEST_PREFIX + hmac.new(salt, text.encode(), hashlib.sha256).hexdigest()


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and bool(_DIGEST.match(value))


def digest(doc: dict[str, Any], paths: Iterable[str], salt: bytes) -> dict[str, Any]:
    """A copy of what a client sent, each secret value (None aside) replaced by its digest."""

    def leaf(parent: dict[str, Any], key: str) -> None:
        if parent[key] is not None:
            parent[key] = digest_value(parent[key], salt)

    return _apply(doc, paths, leaf)


def seal(doc: dict[str, Any], paths: Iterable[str], salt: bytes) -> dict[str, Any]:
    """A copy of a *stored* document with any secret still in clear (written before secrets were
    digested) replaced by its digest; digests are kept as they are."""

    def leaf(parent: dict[str, Any], key: str) -> None:
        if parent[key] is not None and not is_digest(parent[key]):
            parent[key] = digest_value(parent[key], salt)

    return _apply(doc, paths, leaf)


def strip(doc: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy without the secret fields: what a read returns."""

    def leaf(parent: dict[str, Any], key: str) -> None:
        del parent[key]

    return _apply(doc, paths, leaf)
