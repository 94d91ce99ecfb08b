"""The `DiffContext` of a real plan: ids, endpoints, keys and secrets for a stack's references.

Resource ids are computed, not read: Azure ids are a pure function of subscription, group, type and
name, so a reference to something the same plan creates still has its final id. Endpoints come
from what the reader saw (unknown until the account exists). Storage keys are read only when a
mount asks for one, once per account. Secrets resolve from the environment or a file next to the
stack; values stay in memory and are only ever compared as fingerprints.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer.errors import SecretUnavailable
from deployer.resources.read import LiveState
from deployer.stack.model import Address, Stack

_PROVIDERS = {
    "storageAccounts": ("Microsoft.Storage", "storageAccounts"),
    "networks": ("Microsoft.Network", "virtualNetworks"),
    "batchAccounts": ("Microsoft.Batch", "batchAccounts"),
    "identities": ("Microsoft.ManagedIdentity", "userAssignedIdentities"),
}
_CHILDREN = {"subnets": "subnets", "applications": "applications", "pools": "pools",
             "fileShares": "fileServices/default/shares", "containers": "blobServices/default/containers"}


@dataclass
class LiveContext:
    stack: Stack
    live: LiveState
    clients: Any
    _keys: dict[str, str | None] = field(default_factory=dict, repr=False)
    _blobs: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def stack_name(self) -> str:
        return self.stack.name

    @property
    def location(self) -> str | None:
        return self.stack.target.location

    def _azure_name(self, section: str, logical: str) -> str | None:
        resource = self.stack.get(Address((section, logical)))
        return resource.name if resource is not None else None

    def resource_id(self, address: Address) -> str | None:
        parts = address.parts
        if len(parts) < 2 or parts[0] not in _PROVIDERS:
            return None
        provider, kind = _PROVIDERS[parts[0]]
        name = self._azure_name(parts[0], parts[1])
        if name is None:
            return None
        rid = (f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.stack.target.resource_group}"
               f"/providers/{provider}/{kind}/{name}")
        rest = parts[2:]
        if rest[:1] == ("securityGroups",) and len(rest) == 2:
            group = self.stack.get(address)
            return None if group is None else (
                f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.stack.target.resource_group}"
                f"/providers/Microsoft.Network/networkSecurityGroups/{group.name}")
        if rest[:1] == ("subnets",) and len(rest) == 2:
            network = self.stack.get(Address(parts[:2]))
            subnets = (network.spec.get("subnets") or {}) if network else {}
            subnet = subnets.get(rest[1]) or {}
            return f"{rid}/subnets/{subnet.get('name', rest[1])}"
        if len(rest) == 2 and rest[0] in _CHILDREN:
            return f"{rid}/{_CHILDREN[rest[0]]}/{rest[1]}"
        return rid if not rest else None

    def storage_account_name(self, address: Address) -> str | None:
        return self._azure_name("storageAccounts", address.parts[1]) if len(address.parts) >= 2 else None

    def storage_endpoint(self, address: Address, service: str) -> str | None:
        name = self.storage_account_name(address)
        live = self.live.storage.get(name) if name else None
        if live is None:
            return None
        endpoints = (live.account.get("properties") or {}).get("primaryEndpoints") or {}
        url = endpoints.get(service)
        return url if url is None or url.endswith("/") else url + "/"

    def storage_account_key(self, address: Address) -> str | None:
        name = self.storage_account_name(address)
        if name is None or name not in self.live.storage:
            return None  # the account does not exist yet: the key is known after apply
        with self._lock:
            if name not in self._keys:
                self._keys[name] = self._read_key(name)
            return self._keys[name]

    def _read_key(self, name: str) -> str | None:
        from azure.core.exceptions import HttpResponseError

        from deployer.apply.idempotent import settle  # listKeys is a POST: the SDK resends no dropped one

        accounts = self.clients.storage.storage_accounts
        try:
            result = settle(lambda: accounts.list_keys(self.stack.target.resource_group, name))
        except HttpResponseError:
            return None  # no permission to list keys: the comparison says so instead
        from deployer.resources.read import rest

        keys = rest(result).get("keys") or []
        if not keys:
            return None
        first = keys[0]
        return str(first["value"]) if isinstance(first, dict) else str(first.value)

    def file_sha256(self, path: str) -> str | None:
        key = "file:" + path  # cached with the keys, under a name no account can take
        with self._lock:
            if key in self._keys:
                return self._keys[key]
        try:
            digest: str | None = hashlib.sha256((self.stack.base_dir / path).read_bytes()).hexdigest()
        except OSError:
            digest = None
        with self._lock:
            self._keys[key] = digest
        return digest

    def list_job_tasks(self, account: str, job_id: str) -> list[dict[str, Any]]:
        """A live job's tasks (one `$select` listing pass), for a job whose task digest moved."""
        from deployer.resources.read import list_tasks

        batch = self.live.batch.get(account)
        endpoint = ((batch.account if batch else {}).get("properties") or {}).get("accountEndpoint")
        if not endpoint:
            return []
        return list_tasks(self.clients.batch_data(endpoint), job_id)

    def list_blobs(self, storage: str, container: str, prefix: str) -> list[tuple[str, str]]:
        """(name, URL) of the blobs under a prefix of a stack storage account's container, for a
        `taskPerFile` factory; listed once per plan or apply (cached). None exist yet when the
        account does not: the factory then makes no task, and the plan says how many it found."""
        cache_key = f"blobs:{storage}/{container}/{prefix}"
        with self._lock:
            if cache_key in self._blobs:
                return self._blobs[cache_key]
        endpoint = self.storage_endpoint(Address(("storageAccounts", storage)), "blob")
        found: list[tuple[str, str]] = []
        if endpoint:
            from deployer.resources.read import list_blobs

            found = list_blobs(self.clients, endpoint, container, prefix)
        with self._lock:
            self._blobs[cache_key] = found
        return found

    def secret(self, reference: str) -> str | None:
        """The value of a secret reference, or None when an env variable or file is missing
        (planning checks every reference first: `require_secret`)."""
        try:
            return self.require_secret(reference)
        except SecretUnavailable:
            return None

    def require_secret(self, reference: str) -> str:
        """The value of a secret reference; SecretUnavailable (env, file) or AzureError (Key
        Vault) saying why not, naming the reference and never a value."""
        scheme, _, rest = reference.partition(":")
        if scheme == "env":
            value = os.environ.get(rest)
            if not value:
                state = "is empty" if value == "" else "is not set"
                raise SecretUnavailable(f"environment variable {rest} {state} (secret {reference}): "
                                        "set it in the environment that runs deploy")
            return value
        if scheme == "file":
            path = self.stack.base_dir / rest
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
                raise SecretUnavailable(f"cannot read the secret file {rest} (secret {reference}, "
                                        f"relative to the stack's folder): {reason}") from None
            value = text[:-1] if text.endswith("\n") else text  # one trailing newline, as editors add
            if not value:
                raise SecretUnavailable(f"the secret file {rest} is empty (secret {reference})")
            return value
        if scheme == "keyvault":
            # `keyvault:VAULT/NAME`: read once per reference through Clients.secrets(VAULT), cached with
            # the storage keys (under a `secret:` key no account name can take). Errors name the
            # reference, never a value.
            from deployer.errors import AzureError

            vault, _, name = rest.partition("/")
            name, _, version = name.partition("/")
            if not vault or not name or "/" in version:
                raise AzureError(f"secret reference {reference!r}: expected keyvault:VAULT/NAME[/VERSION]")
            cache_key = "secret:" + reference
            with self._lock:
                cached = self._keys.get(cache_key)
                if cached is not None:
                    return cached
                from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

                where = f"secret reference {reference!r}: Key Vault {vault!r}"
                try:
                    value = self.clients.secrets(vault).get_secret(name, version or None).value
                except ResourceNotFoundError:
                    raise AzureError(f"{where} has no secret {name!r} (SecretNotFound)") from None
                except HttpResponseError as exc:
                    code = (exc.error.code if exc.error is not None else None) or exc.reason or "error"
                    raise AzureError(f"{where} refused to read secret {name!r}: {exc.status_code} {code}") from None
                except ServiceRequestError:
                    raise AzureError(f"{where} could not be reached (does the vault exist?)") from None
                if value is None:
                    raise AzureError(f"{where} returned no value for secret {name!r}")
                self._keys[cache_key] = str(value)
                return str(value)
        raise SecretUnavailable(f"unknown secret reference {reference!r}: use env:NAME, file:PATH or "
                                "keyvault:VAULT/NAME")
