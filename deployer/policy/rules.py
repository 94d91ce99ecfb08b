"""The built-in policy rules, as data: id, severity, title, rationale, fix, and the check.

A check takes the stack document (plain data, as loaded, before any Azure call) and yields
`(path, message)` for each finding; `path` is the place in the document the finding is about
(the position of its key is where the result is reported). Checks never resolve secrets and
never reach the network. Severity is SARIF's level: "error", "warning" or "note".

Ids are stable (suppressions and code scanning alerts refer to them); a new rule takes the next
number, a retired one's id is never reused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
Finding = tuple[Path, str]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str  # kebab-case, SARIF `name`
    severity: str  # error | warning | note
    title: str
    rationale: str
    fix: str
    check: Callable[[Mapping[str, Any]], Iterator[Finding]]


# --- walking a stack document --------------------------------------------------------------------

def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _accounts(doc: Mapping[str, Any], section: str) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for key, account in _map(doc.get(section)).items():
        if isinstance(account, Mapping):
            yield (section, key), account


def _pools(doc: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for path, account in _accounts(doc, "batchAccounts"):
        for key, pool in _map(account.get("pools")).items():
            if isinstance(pool, Mapping):
                yield (*path, "pools", key), pool


def _walk(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def _is_secret_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and "secret" in value


# --- the checks ----------------------------------------------------------------------------------

def shared_key_batch(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, account in _accounts(doc, "batchAccounts"):
        modes = account.get("allowedAuthenticationModes")
        if modes is None:
            yield path, (f"Batch account {account.get('name', path[-1])} allows shared-key authentication (Azure's "
                         "default when allowedAuthenticationModes is not set)")
        elif isinstance(modes, list) and "SharedKey" in modes:
            yield (*path, "allowedAuthenticationModes"), (
                f"Batch account {account.get('name', path[-1])} allows shared-key authentication")


def shared_key_storage(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, account in _accounts(doc, "storageAccounts"):
        if account.get("allowSharedKeyAccess") is True:
            yield (*path, "allowSharedKeyAccess"), (
                f"storage account {account.get('name', path[-1])} accepts requests signed with its account key")


def public_network(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for section, title in (("batchAccounts", "Batch account"), ("storageAccounts", "storage account")):
        for path, account in _accounts(doc, section):
            access = account.get("publicNetworkAccess")
            name = account.get("name", path[-1])
            if access is None:
                yield path, (f"{title} {name} is reachable from public networks "
                             "(publicNetworkAccess defaults to Enabled)")
            elif access == "Enabled":
                yield (*path, "publicNetworkAccess"), f"{title} {name} is reachable from public networks"


def node_public_ips(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, pool in _pools(doc):
        network = pool.get("networkConfiguration")
        if not isinstance(network, Mapping):
            yield path, f"pool {path[-1]}'s nodes get public IP addresses (no networkConfiguration)"
            continue
        provision = _map(network.get("publicIPAddressConfiguration")).get("provision")
        if provision != "NoPublicIPAddresses":
            where = (*path, "networkConfiguration", "publicIPAddressConfiguration") \
                if "publicIPAddressConfiguration" in network else (*path, "networkConfiguration")
            yield where, f"pool {path[-1]}'s nodes get public IP addresses ({provision or 'BatchManaged'})"


def storage_tls(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, account in _accounts(doc, "storageAccounts"):
        tls = account.get("minimumTlsVersion")
        if tls is None:
            yield path, (f"storage account {account.get('name', path[-1])} does not set minimumTlsVersion "
                         "(older accounts and API versions accept TLS 1.0)")
        elif tls in ("TLS1_0", "TLS1_1"):
            yield (*path, "minimumTlsVersion"), f"storage account {account.get('name', path[-1])} accepts {tls}"


def public_blobs(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, account in _accounts(doc, "storageAccounts"):
        name = account.get("name", path[-1])
        if account.get("allowBlobPublicAccess") is True:
            yield (*path, "allowBlobPublicAccess"), f"storage account {name} allows anonymous public blob access"
        for i, container in enumerate(account.get("containers") or []):
            if isinstance(container, Mapping) and container.get("publicAccess") in ("Blob", "Container"):
                yield (*path, "containers", i, "publicAccess"), (
                    f"container {container.get('name')} in {name} is readable anonymously "
                    f"({container['publicAccess']})")


def outside_subnet(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, pool in _pools(doc):
        network = _map(pool.get("networkConfiguration"))
        if not (network.get("subnet") or network.get("subnetId")):
            yield path, f"pool {path[-1]} is not in a virtual network subnet you control"


def keys_where_identity(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, account in _accounts(doc, "batchAccounts"):
        auto = account.get("autoStorage")
        mode = auto.get("authenticationMode") if isinstance(auto, Mapping) else None
        if auto is not None and mode != "BatchAccountManagedIdentity":
            where = (*path, "autoStorage", "authenticationMode") if mode else (*path, "autoStorage")
            yield where, (f"Batch account {account.get('name', path[-1])} reaches its auto-storage with the storage "
                          "account key (authenticationMode StorageKeys)")
    for path, pool in _pools(doc):
        for i, mount in enumerate(pool.get("mountConfiguration") or []):
            if not isinstance(mount, Mapping):
                continue
            blob = _map(mount.get("azureBlobFileSystemConfiguration"))
            if blob and not blob.get("identityReference"):
                key = "accountKey" if "accountKey" in blob else "sasKey" if "sasKey" in blob else None
                where = (*path, "mountConfiguration", i, "azureBlobFileSystemConfiguration", *((key,) if key else ()))
                yield where, f"pool {path[-1]} mounts a blob container with a {key or 'key'}, not a managed identity"
            share = _map(mount.get("azureFileShareConfiguration"))
            if share:
                yield (*path, "mountConfiguration", i, "azureFileShareConfiguration"), (
                    f"pool {path[-1]} mounts an Azure Files share with the storage account key")
        container = _map(_map(_map(pool.get("deploymentConfiguration")).get("virtualMachineConfiguration"))
                         .get("containerConfiguration"))
        for i, registry in enumerate(container.get("containerRegistries") or []):
            if isinstance(registry, Mapping) and "password" in registry and not registry.get("identityReference"):
                yield (*path, "deploymentConfiguration", "virtualMachineConfiguration", "containerConfiguration",
                       "containerRegistries", i, "password"), (
                    f"pool {path[-1]} signs in to registry {registry.get('registryServer', '?')} with a password")


_SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|pwd|secret|token|api[-_]?key|access[-_]?key|account[-_]?key|"
                          r"conn(ection)?[-_]?str(ing)?|sas|credential|private[-_]?key)")
_SECRET_IN_COMMAND = re.compile(
    r"(?i)(AccountKey=[^;\s\"']+|[?&]sig=[A-Za-z0-9%/+=]{10,}|"
    r"--?(password|passwd|pwd|token|secret|api-?key)[ =](?![\"']?\$)[^\s\"']{4,}|"
    r"(password|passwd|pwd|token|secret|api_?key)=(?![\"']?\$)[^\s\"'&;]{4,}|"
    r"://[^/\s:@]+:(?!\$)[^/\s@]{4,}@|"
    r"(?:^|\s)-u\s+[^\s:$\"']+:(?![\"']?\$)[^\s\"']{4,})")


def secrets_in_settings(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, value in _walk(doc):
        if not path:
            continue
        key = path[-1]
        if key in ("environmentSettings", "commonEnvironmentSettings") and isinstance(value, list | Mapping):
            items = value.items() if isinstance(value, Mapping) else \
                [(_map(v).get("name"), _map(v).get("value")) for v in value]
            for i, (name, setting) in enumerate(items):
                if name and _SECRET_NAME.search(str(name)) and isinstance(setting, str) and setting \
                        and not setting.startswith("$"):
                    where = (*path, str(name)) if isinstance(value, Mapping) else (*path, i)
                    yield where, f"environment setting {name} holds a literal value that looks like a secret"
        elif key == "commandLine" and isinstance(value, str):
            match = _SECRET_IN_COMMAND.search(value)
            if match:
                yield path, "the command line carries what looks like a secret (" + \
                    _redact(match.group(0)) + ")"


def _redact(text: str) -> str:
    for sep in ("=", " ", ":"):
        if sep in text:
            head = text.split(sep, 1)[0]
            return f"{head}{sep}…"
    return text[:4] + "…"


def spot_without_deallocation(doc: Mapping[str, Any]) -> Iterator[Finding]:
    for path, pool in _pools(doc):
        scale = _map(pool.get("scaleSettings"))
        fixed = _map(scale.get("fixedScale"))
        auto = _map(scale.get("autoScale"))
        if fixed and int(fixed.get("targetLowPriorityNodes") or 0) > 0 and not fixed.get("nodeDeallocationOption"):
            yield (*path, "scaleSettings", "fixedScale"), (
                f"pool {path[-1]} uses Spot nodes without a nodeDeallocationOption")
        formula = str(auto.get("formula") or "")
        if "$TargetLowPriorityNodes" in formula and "$NodeDeallocationOption" not in formula:
            yield (*path, "scaleSettings", "autoScale", "formula"), (
                f"pool {path[-1]}'s autoscale formula sets Spot nodes without $NodeDeallocationOption")


RULES: tuple[Rule, ...] = (
    Rule("BDP001", "batch-shared-key-auth", "warning", "Batch account allows shared-key authentication",
         "Account keys are long-lived secrets that grant full control of the account; Microsoft Entra ID "
         "(a workload identity in CI, managed identities on nodes) works for every Batch operation.",
         "Set `allowedAuthenticationModes: [AAD]` (add TaskAuthenticationToken if tasks call Batch).",
         shared_key_batch),
    Rule("BDP002", "storage-shared-key-auth", "warning", "Storage account accepts shared-key requests",
         "An account key opens every container and share of the account and never expires.",
         "Set `allowSharedKeyAccess: false` and use Entra ID roles (Storage Blob Data Contributor).",
         shared_key_storage),
    Rule("BDP003", "public-network-access", "warning", "Account reachable from public networks",
         "A public endpoint is reachable from anywhere on the internet; credentials are then the only defence.",
         "Set `publicNetworkAccess: Disabled` and reach the account through a private endpoint.",
         public_network),
    Rule("BDP004", "node-public-ip", "warning", "Pool nodes get public IP addresses",
         "Nodes with public IPs are exposed to the internet (remote login ports, agent endpoints).",
         "Set `networkConfiguration: {subnet: NET.SUBNET, publicIPAddressConfiguration: {provision: "
         "NoPublicIPAddresses}}` (simplified node communication).",
         node_public_ips),
    Rule("BDP005", "storage-min-tls", "warning", "Storage account does not require TLS 1.2",
         "TLS 1.0 and 1.1 have known weaknesses and are being retired across Azure.",
         "Set `minimumTlsVersion: TLS1_2`.", storage_tls),
    Rule("BDP006", "storage-public-blob", "error", "Anonymous public blob access",
         "Anyone with the URL reads the data; Batch inputs and outputs are rarely meant to be public.",
         "Set `allowBlobPublicAccess: false` and remove `publicAccess` from containers.", public_blobs),
    Rule("BDP007", "pool-outside-subnet", "note", "Pool not in a virtual network",
         "Without a subnet you cannot restrict the nodes' traffic (NSGs, firewalls, private endpoints).",
         "Add `networkConfiguration: {subnet: NET.SUBNET}` with a network of the stack.", outside_subnet),
    Rule("BDP008", "key-where-identity", "warning", "A key or password where a managed identity can serve",
         "Keys and passwords must be stored, rotated and kept out of logs; a managed identity has nothing to leak.",
         "Use `autoStorage: {storageAccount: NAME, authenticationMode: BatchAccountManagedIdentity, "
         "nodeIdentityReference: …}`, `identityReference` on blob mounts and container registries.",
         keys_where_identity),
    Rule("BDP009", "secret-in-settings", "error", "Secret written in an environment setting or command line",
         "Environment settings and command lines are readable by anyone who can read the job or pool, and "
         "appear in logs.",
         "Pass secrets by reference (`{secret: keyvault:VAULT/NAME}`), or let the task fetch them with a managed "
         "identity.", secrets_in_settings),
    Rule("BDP010", "spot-without-deallocation", "note", "Spot nodes without a node deallocation option",
         "When Spot capacity is reclaimed or the pool shrinks, the default requeues running tasks, losing work; "
         "saying what happens makes the cost of preemption explicit.",
         "Set `nodeDeallocationOption` (fixedScale) or `$NodeDeallocationOption` in the formula "
         "(taskcompletion, retaineddata, requeue).", spot_without_deallocation),
)

BY_ID = {rule.id: rule for rule in RULES}
