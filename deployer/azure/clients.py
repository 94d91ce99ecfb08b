"""Azure SDK clients for one target: real Azure, the embedded emulator, or a served emulator.

    clients = Clients.for_emulator_embedded(data_dir)              # `local` target, in-process
    clients = Clients.for_emulator_served("https://127.0.0.1:8443", "/path/ca.pem")
    clients = Clients.for_azure(subscription_id, cloud="AzureChinaCloud")

    clients.resource      ResourceManagementClient   (azure.mgmt.resource.resources)
    clients.storage       StorageManagementClient
    clients.network       NetworkManagementClient
    clients.batch_mgmt    BatchManagementClient
    clients.batch_data(account_endpoint)   BatchClient for "acct.westus.batch.azure.com" (or a URL)
    clients.blob(account_url)              BlobServiceClient for "https://acct.blob.core.windows.net"

Management clients are built on first use and shared (they are thread-safe); every Azure SDK
import happens inside a method. Against the emulator the SDK's own retry policy is kept, with
fewer, faster retries, and LRO pollers poll every 0.1 s instead of 30 s.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMULATOR_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

# Retry and polling settings for the emulator targets (real RetryPolicy semantics, fast).
EMULATOR_RETRY = {
    "retry_total": 5,
    "retry_backoff_factor": 0.02,
    "retry_backoff_max": 0.5,
}
EMULATOR_POLLING_INTERVAL = 0.1


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_cloud: str  # azure.core.AzureClouds member name
    authority: str
    batch_scope: str


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "AzureCloud", "AZURE_PUBLIC_CLOUD", "login.microsoftonline.com", "https://batch.core.windows.net//.default"
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud", "AZURE_CHINA_CLOUD", "login.chinacloudapi.cn", "https://batch.chinacloudapi.cn/.default"
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "AZURE_US_GOVERNMENT",
        "login.microsoftonline.us",
        "https://batch.core.usgovcloudapi.net/.default",
    ),
}
_ALIASES = {
    "azurecloud": "AzureCloud",
    "azurepubliccloud": "AzureCloud",
    "public": "AzureCloud",
    "azure": "AzureCloud",
    "azurechinacloud": "AzureChinaCloud",
    "china": "AzureChinaCloud",
    "azureusgovernment": "AzureUSGovernment",
    "azureusgovernmentcloud": "AzureUSGovernment",
    "usgov": "AzureUSGovernment",
    "usgovernment": "AzureUSGovernment",
}


def resolve_cloud(name: str | None) -> Cloud:
    """A cloud by its `az cloud` name (AzureCloud, AzureChinaCloud, AzureUSGovernment) or alias."""
    key = (name or "AzureCloud").replace("_", "").replace("-", "").replace(" ", "").lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown Azure cloud {name!r}; known: {', '.join(CLOUDS)}")
    return CLOUDS[_ALIASES[key]]


class Clients:
    """Lazily built SDK clients sharing one credential, endpoint and transport configuration."""

    def __init__(
        self,
        *,
        target: str,
        subscription_id: str,
        credential: Any,
        arm_endpoint: str | None = None,
        cloud: Cloud | None = None,
        options: dict[str, Any] | None = None,
        blob_options: dict[str, Any] | None = None,
        data_dir: Path | None = None,
        ca_file: Path | None = None,
        app: Any = None,
    ) -> None:
        self.target = target
        self.subscription_id = subscription_id
        self.credential = credential
        self.arm_endpoint = arm_endpoint
        self.cloud = cloud
        self.data_dir = data_dir
        self.ca_file = ca_file
        self.app = app  # the embedded EmulatorApp, if any
        self.transport = (options or {}).get("transport")  # the in-process transport, if any
        self._options = dict(options or {})
        self._blob_options = dict(blob_options if blob_options is not None else self._options)
        self._lock = threading.Lock()
        self._cache: dict[Any, Any] = {}

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def for_emulator_embedded(
        cls, data_dir: str | os.PathLike[str] | None = None, *, subscription_id: str = EMULATOR_SUBSCRIPTION
    ) -> Clients:
        """The `local` target: the emulator runs in this process over `data_dir` (no sockets)."""
        from deployer.emulator.core.app import create_app
        from deployer.emulator.core.transport import EMBEDDED_BASE_URL, EmulatorTransport

        from .credentials import StaticTokenCredential

        app = create_app(data_dir)
        transport = EmulatorTransport(app)
        options = {"transport": transport, "polling_interval": EMULATOR_POLLING_INTERVAL, **EMULATOR_RETRY}
        return cls(
            target="local",
            subscription_id=subscription_id,
            credential=StaticTokenCredential(),
            arm_endpoint=EMBEDDED_BASE_URL,
            options=options,
            blob_options={"transport": transport},
            data_dir=app.data_dir,
            app=app,
        )

    @classmethod
    def for_emulator_served(
        cls,
        endpoint: str,
        ca_file: str | os.PathLike[str] | None,
        *,
        subscription_id: str = EMULATOR_SUBSCRIPTION,
    ) -> Clients:
        """The `emulator` target: a served emulator at `endpoint`, its certificate signed by `ca_file`."""
        from .credentials import StaticTokenCredential

        verify: Any = str(ca_file) if ca_file else True
        options = {"connection_verify": verify, "polling_interval": EMULATOR_POLLING_INTERVAL, **EMULATOR_RETRY}
        return cls(
            target="emulator",
            subscription_id=subscription_id,
            credential=StaticTokenCredential(),
            arm_endpoint=endpoint.rstrip("/"),
            options=options,
            blob_options={"connection_verify": verify},
            ca_file=Path(ca_file) if ca_file else None,
        )

    @classmethod
    def for_azure(cls, subscription_id: str, cloud: str | None = "AzureCloud", *, credential: Any = None) -> Clients:
        """Real Azure: DefaultAzureCredential (or `credential`), endpoints of the named cloud."""
        c = resolve_cloud(cloud)
        if credential is None:
            from azure.identity import DefaultAzureCredential

            from .login import SignInCredential

            credential = SignInCredential(DefaultAzureCredential(authority=c.authority))
        return cls(target="azure", subscription_id=subscription_id, credential=credential, cloud=c)

    # -- management clients ---------------------------------------------------------------
    def _shared(self, key: Any, build: Callable[[], Any]) -> Any:
        with self._lock:
            client = self._cache.get(key)
            if client is None:
                client = self._cache[key] = build()
            return client

    def _mgmt(self, cls: Any) -> Any:
        kwargs = dict(self._options)
        if self.arm_endpoint:
            kwargs["base_url"] = self.arm_endpoint
        if self.cloud is not None:
            from azure.core import AzureClouds

            kwargs["cloud_setting"] = AzureClouds[self.cloud.arm_cloud]
        return cls(self.credential, self.subscription_id, **kwargs)

    @property
    def resource(self) -> Any:
        def build() -> Any:
            from azure.mgmt.resource.resources import ResourceManagementClient

            return self._mgmt(ResourceManagementClient)

        return self._shared("resource", build)

    @property
    def storage(self) -> Any:
        def build() -> Any:
            from azure.mgmt.storage import StorageManagementClient

            return self._mgmt(StorageManagementClient)

        return self._shared("storage", build)

    @property
    def network(self) -> Any:
        def build() -> Any:
            from azure.mgmt.network import NetworkManagementClient

            return self._mgmt(NetworkManagementClient)

        return self._shared("network", build)

    @property
    def batch_mgmt(self) -> Any:
        def build() -> Any:
            from azure.mgmt.batch import BatchManagementClient

            return self._mgmt(BatchManagementClient)

        return self._shared("batch_mgmt", build)

    @property
    def msi(self) -> Any:
        """ManagedServiceIdentityClient: user-assigned identities (issue 17)."""
        def build() -> Any:
            from azure.mgmt.msi import ManagedServiceIdentityClient

            return self._mgmt(ManagedServiceIdentityClient)

        return self._shared("msi", build)

    @property
    def authorization(self) -> Any:
        """AuthorizationManagementClient: role assignments (issue 17)."""
        def build() -> Any:
            from azure.mgmt.authorization import AuthorizationManagementClient

            return self._mgmt(AuthorizationManagementClient)

        return self._shared("authorization", build)

    # -- data-plane factories -------------------------------------------------------------
    def batch_data(self, account_endpoint: str, credential: Any = None) -> Any:
        """A BatchClient for an account; `account_endpoint` as ARM reports it (no scheme) or a URL.

        `credential` defaults to the target's token credential; pass an AzureNamedKeyCredential
        for shared-key access. Clients on the default credential are cached per endpoint.
        """
        endpoint = account_endpoint if "://" in account_endpoint else "https://" + account_endpoint
        endpoint = endpoint.rstrip("/")

        def build() -> Any:
            from azure.batch import BatchClient

            kwargs = dict(self._options)
            if self.cloud is not None:
                kwargs["credential_scopes"] = [self.cloud.batch_scope]
            return BatchClient(endpoint, credential or self.credential, **kwargs)

        return build() if credential is not None else self._shared(("batch", endpoint), build)

    def blob(self, account_url: str, credential: Any = None) -> Any:
        """A BlobServiceClient for an account's blob endpoint (as ARM reports `primaryEndpoints.blob`)."""
        url = account_url.rstrip("/")

        def build() -> Any:
            from azure.storage.blob import BlobServiceClient

            kwargs = dict(self._blob_options)
            if self.target != "azure":
                kwargs.setdefault("retry_policy", _fast_storage_retry())
            return BlobServiceClient(url, credential=credential or self.credential, **kwargs)

        return build() if credential is not None else self._shared(("blob", url), build)

    def secrets(self, vault: str) -> Any:
        """A SecretClient (azure-keyvault-secrets) for the Key Vault named `vault`, cached per vault.

        Azure: `https://{vault}.vault.azure.net` (vault.azure.cn, vault.usgovcloudapi.net in the
        sovereign clouds). Emulator targets: the path-style `{arm_endpoint}/keyvault/{vault}`, on the
        same transport / certificate options, with the challenge's resource check off (the emulator
        answers Key Vault's challenge with `resource="https://vault.azure.net"`, not its own host).
        """
        suffixes = {
            "AzureCloud": "vault.azure.net",
            "AzureChinaCloud": "vault.azure.cn",
            "AzureUSGovernment": "vault.usgovcloudapi.net",
        }
        if self.target == "azure":
            suffix = suffixes.get(self.cloud.name if self.cloud else "AzureCloud", suffixes["AzureCloud"])
            url = f"https://{vault}.{suffix}"
        else:
            url = f"{str(self.arm_endpoint).rstrip('/')}/keyvault/{vault}"

        def build() -> Any:
            from azure.keyvault.secrets import SecretClient

            kwargs = dict(self._options)
            kwargs.pop("polling_interval", None)
            if self.target != "azure":
                kwargs["verify_challenge_resource"] = False
            return SecretClient(url, self.credential, **kwargs)

        return self._shared(("secrets", url.lower()), build)

    def close(self) -> None:
        with self._lock:
            clients, self._cache = list(self._cache.values()), {}
        for client in clients:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.arm_endpoint or (self.cloud.name if self.cloud else "?")
        return f"<Clients {self.target} {where} subscription={self.subscription_id}>"


def _fast_storage_retry() -> Any:
    from azure.storage.blob import LinearRetry

    return LinearRetry(backoff=0.02, random_jitter_range=0.01, retry_total=EMULATOR_RETRY["retry_total"])  # type: ignore[arg-type]
