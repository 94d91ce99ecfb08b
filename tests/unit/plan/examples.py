"""Microsoft's published REST examples (tests/fixtures/azure-rest-examples, MIT, provenance in its
MANIFEST.tsv) as test data: a request body turned into the stack spec a user would write for it,
and the response Azure gave."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("AZURE_REST_EXAMPLES", Path(__file__).resolve().parents[2] / "fixtures/azure-rest-examples"))
SPEC = ROOT / "specification"


def available() -> bool:
    return SPEC.is_dir()


def example_files() -> list[str]:
    """Every example file, by its path under specification/ (the OpenAPI document excluded)."""
    return sorted(str(p.relative_to(SPEC)) for p in SPEC.rglob("*.json") if p.name != "openapi.json")


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC / relative).read_text(encoding="utf-8"))
    return data


def request_body(example: Mapping[str, Any]) -> dict[str, Any]:
    """The body parameter of an example (`parameters`, `pool`, `job`, `fileShare`...)."""
    bodies = [v for v in example["parameters"].values() if isinstance(v, dict)]
    assert len(bodies) == 1, "an example with one body parameter"
    return copy.deepcopy(bodies[0])


def responses(example: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(status, body) of every response that has a resource body."""
    for status, response in example["responses"].items():
        body = response.get("body") if isinstance(response, Mapping) else None
        if isinstance(body, dict) and body:
            yield status, copy.deepcopy(body)


# --- request bodies as stack specs ------------------------------------------------------------------


def pool_spec(properties: Mapping[str, Any], identity: Mapping[str, Any] | None = None,
              tags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A management-API pool body as a stack spec: metadata as a map, identities as a list,
    application packages by `application`, the pool resource's tags as `tags`."""
    spec = copy.deepcopy(dict(properties))
    if isinstance(spec.get("metadata"), list):
        spec["metadata"] = {item["name"]: item["value"] for item in spec["metadata"]}
    if isinstance(spec.get("applicationPackages"), list):
        spec["applicationPackages"] = [
            {"application": ref["id"], **({"version": ref["version"]} if "version" in ref else {})}
            for ref in spec["applicationPackages"]
        ]
    if identity:
        spec["identity"] = identity_spec(identity)
    if tags:
        spec["tags"] = dict(tags)
    return spec


def identity_spec(identity: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": identity["type"]}
    if identity.get("userAssignedIdentities"):
        out["userAssignedIdentities"] = list(identity["userAssignedIdentities"])
    return out


def pool_spec_from_response(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the pool looked like before a PATCH: its properties, minus what Azure sets."""
    server_set = ("lastModified", "creationTime", "provisioningState", "provisioningStateTransitionTime",
                  "allocationState", "allocationStateTransitionTime", "currentDedicatedNodes",
                  "currentLowPriorityNodes", "resizeOperationStatus", "autoScaleRun")
    properties = {k: v for k, v in body["properties"].items() if k not in server_set}
    return pool_spec(properties, body.get("identity"), body.get("tags"))


STORAGE_ID = "storageAccounts.autostorage"


def batch_account_spec(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A Batch account request as a stack spec, and the resource ids its references resolve to."""
    properties = body.get("properties", {})
    spec: dict[str, Any] = {"name": "sampleacct"}
    ids: dict[str, str] = {}
    auto = properties.get("autoStorage")
    if auto:
        spec["autoStorage"] = STORAGE_ID.split(".")[1]
        ids[STORAGE_ID] = auto["storageAccountId"]
    for name in ("poolAllocationMode", "keyVaultReference", "publicNetworkAccess", "allowedAuthenticationModes"):
        if name in properties:
            spec[name] = copy.deepcopy(properties[name])
    if body.get("identity"):
        spec["identity"] = identity_spec(body["identity"])
    return spec, ids


STORAGE_PROPERTIES = ("accessTier", "minimumTlsVersion", "allowSharedKeyAccess", "publicNetworkAccess",
                      "allowBlobPublicAccess")


def storage_account_spec(body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a storage account request the stack format expresses (the rest is not managed)."""
    spec: dict[str, Any] = {"name": "account"}
    if "sku" in body:
        spec["sku"] = body["sku"]["name"]
    if "kind" in body:
        spec["kind"] = body["kind"]
    properties = body.get("properties", {})
    spec.update({k: properties[k] for k in STORAGE_PROPERTIES if k in properties})
    if "tags" in body:
        spec["tags"] = dict(body["tags"])
    return spec


def file_share_spec(body: Mapping[str, Any]) -> dict[str, Any]:
    properties = body.get("properties", {})
    names = {"shareQuota": "quotaGiB", "enabledProtocols": "protocol", "accessTier": "accessTier",
             "rootSquash": "rootSquash"}
    return {stack: properties[rest] for rest, stack in names.items() if rest in properties}


def job_spec(body: Mapping[str, Any]) -> dict[str, Any]:
    spec = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "poolInfo")}
    spec["pool"] = body["poolInfo"]["poolId"]
    if isinstance(spec.get("metadata"), list):
        spec["metadata"] = {item["name"]: item["value"] for item in spec["metadata"]}
    return spec
