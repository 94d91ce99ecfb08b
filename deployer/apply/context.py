"""The context writers resolve references through: the plan's `LiveContext`, asking Azure for what
did not exist when the plan was read (the endpoint and keys of an account this apply created).

Every secret it hands out is remembered (`revealed`) so progress lines and error messages can be
scrubbed of them; nothing here prints, logs or saves a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deployer.resources.context import LiveContext
from deployer.stack.model import Address


@dataclass
class ApplyContext(LiveContext):
    _endpoints: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    revealed: set[str] = field(default_factory=set, repr=False)

    @property
    def resource_group(self) -> str:
        return str(self.stack.target.resource_group)

    def _account_endpoints(self, name: str) -> dict[str, str]:
        with self._lock:
            if name in self._endpoints:
                return self._endpoints[name]
        from deployer.resources.read import rest

        account = rest(self.clients.storage.storage_accounts.get_properties(self.resource_group, name))
        endpoints = dict((account.get("properties") or {}).get("primaryEndpoints") or {})
        with self._lock:
            self._endpoints[name] = endpoints
        return endpoints

    def storage_endpoint(self, address: Address, service: str) -> str | None:
        found = super().storage_endpoint(address, service)
        if found is not None:
            return found
        name = self.storage_account_name(address)
        if name is None:
            return None
        url = self._account_endpoints(name).get(service)
        return url if url is None or url.endswith("/") else url + "/"

    def storage_account_key(self, address: Address) -> str | None:
        name = self.storage_account_name(address)
        if name is None:
            return None
        with self._lock:
            if name not in self._keys or self._keys[name] is None:
                self._keys[name] = self._read_key(name)
            key = self._keys[name]
        if key:
            self.revealed.add(key)
        return key

    def require_secret(self, reference: str) -> str:
        value = super().require_secret(reference)
        self.revealed.add(value)
        return value

    def scrub(self, text: str) -> str:
        """`text` with every secret this context handed out replaced by `(sensitive)`."""
        for value in sorted(self.revealed, key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "(sensitive)")
        return text

    def batch_endpoint(self, account: str) -> str:
        from deployer.resources.read import rest

        key = f"batch:{account}"
        with self._lock:
            if key in self._endpoints:
                return self._endpoints[key]["accountEndpoint"]
        found = rest(self.clients.batch_mgmt.batch_account.get(self.resource_group, account))
        endpoint = str((found.get("properties") or {}).get("accountEndpoint"))
        with self._lock:
            self._endpoints[key] = {"accountEndpoint": endpoint}
        return endpoint

    def batch_data(self, account: str) -> Any:
        return self.clients.batch_data(self.batch_endpoint(account))
