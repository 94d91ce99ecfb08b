"""Compact a vendored OpenAPI (Swagger 2.0) document into the emulator's contract form.

Keeps what a contract check needs, drops prose: every definition (properties, $ref, allOf, items,
additionalProperties, enum, readOnly, required, discriminator) and, per path and method, the
body parameter's schema and each response's schema. References into ARM's common-types (v5) are
replaced by local `common-types.*` definitions, written here from that document's published
shape (Resource, ProxyResource, TrackedResource, systemData, ErrorResponse).

    python3 tools/compact_openapi.py SOURCE.json "provenance sentence" > deployer/data/contracts/NAME.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

DROP = {"description", "summary", "title", "x-ms-examples", "example", "x-nullable",
        "x-ms-long-running-operation-options"}
_SYSTEM_BY = {"type": "string", "enum": ["User", "Application", "ManagedIdentity", "Key"]}
COMMON: dict[str, Any] = {
    "common-types.Resource": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string", "readOnly": True},
            "type": {"type": "string", "readOnly": True},
            "systemData": {"$ref": "#/definitions/common-types.systemData", "readOnly": True},
        },
    },
    "common-types.ProxyResource": {"type": "object", "allOf": [{"$ref": "#/definitions/common-types.Resource"}]},
    "common-types.TrackedResource": {
        "type": "object",
        "required": ["location"],
        "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "location": {"type": "string"},
        },
        "allOf": [{"$ref": "#/definitions/common-types.Resource"}],
    },
    "common-types.systemData": {
        "type": "object",
        "readOnly": True,
        "properties": {
            "createdBy": {"type": "string"},
            "createdByType": _SYSTEM_BY,
            "createdAt": {"type": "string", "format": "date-time"},
            "lastModifiedBy": {"type": "string"},
            "lastModifiedByType": _SYSTEM_BY,
            "lastModifiedAt": {"type": "string", "format": "date-time"},
        },
    },
    "common-types.ErrorDetail": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "readOnly": True},
            "message": {"type": "string", "readOnly": True},
            "target": {"type": "string", "readOnly": True},
            "details": {"type": "array", "readOnly": True, "items": {"$ref": "#/definitions/common-types.ErrorDetail"}},
            "additionalInfo": {"type": "array", "readOnly": True,
                               "items": {"$ref": "#/definitions/common-types.ErrorAdditionalInfo"}},
        },
    },
    "common-types.ErrorAdditionalInfo": {
        "type": "object",
        "properties": {"type": {"type": "string", "readOnly": True}, "info": {"type": "object", "readOnly": True}},
    },
    "common-types.ErrorResponse": {
        "type": "object",
        "properties": {"error": {"$ref": "#/definitions/common-types.ErrorDetail"}},
    },
}


def clean(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in DROP:
                continue
            if k == "$ref" and isinstance(v, str) and not v.startswith("#"):
                frag = v.rsplit("/", 1)[1]
                name = f"common-types.{frag}"
                v = f"#/definitions/{name}" if name in COMMON else "#/definitions/common-types.any"
            out[k] = clean(v)
        return out
    if isinstance(node, list):
        return [clean(v) for v in node]
    return node


def main() -> None:
    source, provenance = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as fh:
        doc = json.load(fh)
    params = doc.get("parameters", {})
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            entry: dict[str, Any] = {"operationId": op.get("operationId")}
            for p in op.get("parameters", []):
                if "$ref" in p and p["$ref"].startswith("#/parameters/"):
                    p = params[p["$ref"].rsplit("/", 1)[1]]
                if p.get("in") == "body":
                    entry["body"] = clean(p["schema"])
            entry["responses"] = {str(s): clean(r["schema"]) if "schema" in r else None
                                  for s, r in op.get("responses", {}).items()}
            paths.setdefault(path, {})[method] = entry
    out = {
        "swagger": "2.0",
        "info": {"title": doc["info"]["title"], "version": doc["info"]["version"]},
        "x-provenance": provenance,
        "paths": paths,
        "definitions": {**clean(doc["definitions"]), **COMMON, "common-types.any": {}},
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
