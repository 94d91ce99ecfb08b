"""Derive an API contract document from an installed Azure SDK's generated models.

For services whose OpenAPI document is too large to vendor, the TypeSpec-generated SDKs carry
what a contract check needs: each model's wire names (`rest_field(name=...)`), read-only
visibility (`visibility=["read"]`), enum values, and per operation the URL template, method,
api-version, body model and response model. This script writes them in Swagger 2.0's shape
(definitions: properties, $ref, items, additionalProperties, enum, readOnly; paths: method →
body and response schemas), the form deployer.contracts reads.

    .venv/bin/python tools/derive_contract.py azure.batch "Azure Batch" 2025-06-01.21.0 \\
        > deployer/data/contracts/batch-service-2025-06-01.21.0.json
    .venv/bin/python tools/derive_contract.py azure.mgmt.storage Microsoft.Storage \\
        > deployer/data/contracts/storage-management-2026-09-01.json
    .venv/bin/python tools/derive_contract.py azure.mgmt.network Microsoft.Network --paths /virtualNetworks \\
        > deployer/data/contracts/network-management-2026-03-01.json
    .venv/bin/python tools/derive_contract.py azure.mgmt.resource.resources Microsoft.Resources \\
        --paths /resourcegroups \\
        > deployer/data/contracts/resources-management-2025-04-01.json
"""

from __future__ import annotations

import argparse
import datetime
import enum
import importlib
import inspect
import json
import re
import sys
import typing
from importlib.metadata import version
from typing import Any

from azure.core.paging import ItemPaged
from azure.core.polling import LROPoller

PRIMITIVES: dict[object, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.timedelta: {"type": "string", "format": "duration"},
    bytes: {"type": "string", "format": "byte"},
    typing.Any: {},
}


_TEXT = {"type": "string", "readOnly": True}
ARM_ERROR: dict[str, Any] = {
    "common-types.ErrorDetail": {"type": "object", "properties": {
        "code": _TEXT, "message": _TEXT, "target": _TEXT,
        "details": {"type": "array", "readOnly": True, "items": {"$ref": "#/definitions/common-types.ErrorDetail"}},
        "additionalInfo": {"type": "array", "readOnly": True, "items": {"type": "object", "properties": {
            "type": _TEXT, "info": {"type": "object", "readOnly": True}}}}}},
    "common-types.ErrorResponse": {"type": "object", "properties": {
        "error": {"$ref": "#/definitions/common-types.ErrorDetail"}}},
}


class Deriver:
    def __init__(self, models: Any) -> None:
        self.models = models
        self.definitions: dict[str, Any] = {}

    def is_model(self, tp: object) -> bool:
        return inspect.isclass(tp) and hasattr(tp, "_calculated") and hasattr(tp, "_is_model")

    def schema_of(self, tp: object) -> dict[str, Any]:
        origin = typing.get_origin(tp)
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if origin is typing.Union:
            enums = [a for a in args if inspect.isclass(a) and issubclass(a, enum.Enum)]
            if enums:
                return {"type": "string", "enum": [e.value for e in enums[0]]}
            models = [a for a in args if self.is_model(a)]
            if models:
                return self.schema_of(models[0])
            if len(args) == 1:
                return self.schema_of(args[0])
            return {}
        if origin is typing.Literal:
            return {"type": "string", "enum": [str(a) for a in typing.get_args(tp)]}
        if origin is list:
            return {"type": "array", "items": self.schema_of(args[0]) if args else {}}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.schema_of(args[1]) if len(args) > 1 else {}}
        if inspect.isclass(tp) and issubclass(tp, enum.Enum):
            return {"type": "string", "enum": [e.value for e in tp]}
        if self.is_model(tp):
            self.define(tp)
            return {"$ref": f"#/definitions/{tp.__name__}"}
        if tp in PRIMITIVES:
            return dict(PRIMITIVES[tp])
        return {}

    def define(self, cls: type) -> None:
        if cls.__name__ in self.definitions:
            return
        self.definitions[cls.__name__] = {}  # placeholder against recursion
        try:
            cls()  # fills _attr_to_rest_field
        except TypeError:
            pass
        module = sys.modules[cls.__module__]
        hints = typing.get_type_hints(cls, {**vars(module), "_models": self.models})
        props: dict[str, Any] = {}
        for attr, field in cls._attr_to_rest_field.items():  # noqa: SLF001
            schema = self.schema_of(hints.get(attr, typing.Any))
            if (field._visibility or []) == ["read"]:  # noqa: SLF001
                schema["readOnly"] = True
            props[field._rest_name] = schema  # noqa: SLF001
        subtypes = [c for c in getattr(cls, "__mapping__", {}).values() if inspect.isclass(c)]
        body: dict[str, Any] = {"type": "object", "properties": props}
        if subtypes:  # a discriminated base: accept what any subtype defines
            for sub in subtypes:
                if sub is not cls:
                    self.define(sub)
            body["x-subtypes"] = sorted({s.__name__ for s in subtypes if s is not cls})
        self.definitions[cls.__name__] = body

    def list_result(self, item: str, next_link: str) -> str:
        name = f"{item}ListResult"
        self.definitions.setdefault(name, {
            "type": "object",
            "properties": {
                "value": {"type": "array", "items": {"$ref": f"#/definitions/{item}"}},
                next_link: {"type": "string"},
            },
        })
        return name


def builders(source: str) -> dict[str, tuple[str, str, str | None]]:
    """build_X_request name → (url, METHOD, default api-version)."""
    out = {}
    for m in re.finditer(r"def (build_\w+_request)\((.*?)\n\n\n", source, re.S):
        text = m.group(2)
        url = re.search(r'_url = "([^"]+)"', text)
        method = re.search(r'HttpRequest\(\s*method="(\w+)"', text)
        api = re.search(r'"api-version", "([^"]+)"\)', text)
        if url and method:
            out[m.group(1)] = (url.group(1), method.group(1), api.group(1) if api else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("package")
    parser.add_argument("title")
    parser.add_argument("label", nargs="?")
    parser.add_argument("--paths", default="", help="keep only URL templates containing this (case-insensitive)")
    parser.add_argument("--next-link", default=None)
    options = parser.parse_args()
    models = importlib.import_module(options.package + ".models")
    ops_module = None
    for name in ("operations._operations", "_operations._operations"):
        try:
            ops_module = importlib.import_module(f"{options.package}.{name}")
            break
        except ModuleNotFoundError:
            continue
    assert ops_module is not None
    source = inspect.getsource(ops_module)
    table = builders(source)
    deriver = Deriver(models)
    next_link = options.next_link or ("odata.nextLink" if options.package == "azure.batch" else "nextLink")
    paths: dict[str, dict[str, Any]] = {}
    versions: set[str] = set()
    namespace = {**vars(ops_module), "_models": models}
    if options.package == "azure.batch":
        deriver.define(models.BatchError)
        error: dict[str, Any] = {"$ref": "#/definitions/BatchError"}
    else:  # ARM's error envelope (common-types v5 ErrorResponse)
        deriver.definitions.update(ARM_ERROR)
        error = {"$ref": "#/definitions/common-types.ErrorResponse"}
    for cls in [c for c in vars(ops_module).values() if inspect.isclass(c) and c.__module__ == ops_module.__name__]:
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            try:
                text = inspect.getsource(fn)
            except OSError:
                continue
            called = [b for b in re.findall(r"(build_\w+_request)\(", text) if b in table]
            if not called:
                continue
            public = f"begin_{name[1:-len('_initial')]}" if name.startswith("_") and name.endswith("_initial") else name
            if public.startswith("_"):
                continue
            target = getattr(cls, public, fn)
            url, method, api = table[called[0]]
            if options.paths and options.paths.lower() not in url.lower():
                continue
            hints = typing.get_type_hints(target, namespace)
            op: dict[str, Any] = {"operationId": f"{cls.__name__}.{public}"}
            for pname, ptype in hints.items():
                if pname == "return":
                    continue
                union = typing.get_origin(ptype) is typing.Union
                if deriver.is_model(ptype) or (union and any(deriver.is_model(a) for a in typing.get_args(ptype))):
                    schema = deriver.schema_of(ptype)
                    op["body"] = schema
            ret = hints.get("return")
            origin = typing.get_origin(ret)
            response: dict[str, Any] | None = None
            if origin is ItemPaged:
                item = typing.get_args(ret)[0]
                if deriver.is_model(item):
                    deriver.define(item)
                    response = {"$ref": f"#/definitions/{deriver.list_result(item.__name__, next_link)}"}
            elif origin is LROPoller:
                inner = typing.get_args(ret)[0]
                response = deriver.schema_of(inner) if deriver.is_model(inner) else None
            elif deriver.is_model(ret):
                response = deriver.schema_of(ret)
            op["responses"] = {"2xx": response, "default": error}
            if api:
                versions.add(api)
            paths.setdefault(url, {})[method.lower()] = op
    label = options.label or (sorted(versions)[-1] if versions else "")
    dist = options.package.replace(".", "-")
    if options.package == "azure.mgmt.resource.resources":
        dist = "azure-mgmt-resource"
    doc = {
        "swagger": "2.0",
        "info": {"title": options.title, "version": label, "x-api-versions": sorted(versions)},
        "x-provenance": (
            f"Derived by tools/derive_contract.py from {dist} {version(dist)} "
            "(generated from the TypeSpec / OpenAPI of Azure/azure-rest-api-specs, MIT licence): wire names, "
            "read-only visibility and enum values as the SDK models define them"
            + (f"; operations whose URL contains {options.paths!r}" if options.paths else "") + "."
        ),
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(deriver.definitions.items())),
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
