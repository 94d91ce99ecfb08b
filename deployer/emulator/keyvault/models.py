"""Key Vault secrets: state and rules.

One document per secret (kind `keyvaultSecret`, key `keyvault/{vault}/{name}`, both lower-cased:
Key Vault names are case-insensitive) holding every version, oldest first; the last one is the
current version. A vault exists as soon as it holds a secret (there is no management plane for
vaults here). Timestamps are the emulator clock's, in Unix seconds as Key Vault sends them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..core import Doc, Store, clock
from . import errors

KIND = "keyvaultSecret"
RECOVERY_LEVEL = "Recoverable+Purgeable"
RECOVERABLE_DAYS = 90

_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


def secret_key(vault: str, name: str) -> str:
    return f"keyvault/{vault.lower()}/{name.lower()}"


def validate_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise errors.invalid_name(name)


def _optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.bad_parameter(f"Property attributes.{field} must be a Unix time in seconds.")
    return int(value)


def set_secret(store: Store, vault: str, name: str, payload: Any) -> tuple[Doc, dict[str, Any]]:
    """PUT semantics: a new version, which becomes the current one. Returns (document, version)."""
    validate_name(name)
    if not isinstance(payload, dict) or not isinstance(payload.get("value"), str):
        raise errors.bad_parameter("The parameter 'value' is required and must be a string.")
    attributes = payload.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise errors.bad_parameter("Property attributes must be an object.")
    tags = payload.get("tags")
    if tags is not None and (not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())):
        raise errors.bad_parameter("Property tags must be an object of strings.")
    now = int(clock.now())
    version: dict[str, Any] = {
        "version": uuid.uuid4().hex,
        "value": payload["value"],
        "contentType": payload.get("contentType"),
        "tags": tags,
        "enabled": bool(attributes.get("enabled", True)),
        "nbf": _optional_int(attributes.get("nbf"), "nbf"),
        "exp": _optional_int(attributes.get("exp"), "exp"),
        "created": now,
        "updated": now,
    }
    key = secret_key(vault, name)
    with store.transaction():
        current = store.get(KIND, key)
        body: dict[str, Any] = dict(current.body) if current else {"vault": vault, "name": name, "versions": []}
        body["versions"] = [*body["versions"], version]
        doc = store.put(KIND, key, body, parent=f"keyvault/{vault.lower()}")
    return doc, version


def get_version(store: Store, vault: str, name: str, version: str | None) -> tuple[Doc, dict[str, Any]]:
    """The named version (the current one when `version` is None); 404 SecretNotFound, 403 when disabled."""
    doc = store.get(KIND, secret_key(vault, name))
    if doc is None or not doc.body["versions"]:
        raise errors.secret_not_found(name, version)
    if version is None:
        found = doc.body["versions"][-1]
    else:
        found = next((v for v in doc.body["versions"] if v["version"] == version.lower()), None)
        if found is None:
            raise errors.secret_not_found(name, version)
    if not found["enabled"]:
        raise errors.forbidden_disabled(name)
    return doc, found


def render(doc: Doc, version: dict[str, Any], vault_host: str) -> dict[str, Any]:
    """A SecretBundle as Key Vault returns it; `vault_host` is the host the secret id is under."""
    attributes: dict[str, Any] = {"enabled": version["enabled"]}
    for field in ("nbf", "exp"):
        if version.get(field) is not None:
            attributes[field] = version[field]
    attributes.update(
        created=version["created"],
        updated=version["updated"],
        recoveryLevel=RECOVERY_LEVEL,
        recoverableDays=RECOVERABLE_DAYS,
    )
    out: dict[str, Any] = {
        "value": version["value"],
        "id": f"{vault_host}/secrets/{doc.body['name']}/{version['version']}",
        "attributes": attributes,
    }
    if version.get("contentType") is not None:
        out["contentType"] = version["contentType"]
    if version.get("tags") is not None:
        out["tags"] = version["tags"]
    return out
