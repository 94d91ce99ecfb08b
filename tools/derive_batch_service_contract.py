"""Derive the Batch service (data plane) contract from the installed azure-batch SDK.

The official document, Azure/azure-rest-api-specs
specification/batch/data-plane/Azure.Batch/stable/2025-06-01.21.0/BatchService.json (MIT), is
882 kB and was not available to vendor; azure-batch 15.1.0 is generated from the same TypeSpec
(api-version 2025-06-01.21.0), so its models carry the same wire names, visibility (read-only)
and enum values. This script writes them in Swagger 2.0's shape (definitions: properties, $ref,
items, additionalProperties, enum, readOnly; paths: method → body and response definitions),
so the emulator's contract checker reads it like the vendored management document.

    .venv/bin/python tools/derive_batch_service_contract.py \
        > deployer/data/contracts/batch-service-2025-06-01.21.0.json
"""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import re
import sys
import typing
from importlib.metadata import version

import azure.batch.models as M
from azure.batch._operations import _operations as ops
from azure.core.paging import ItemPaged

PRIMITIVES: dict[object, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.timedelta: {"type": "string", "format": "duration"},
    bytes: {"type": "string", "format": "byte"},
    typing.Any: {},
}


def schema_of(tp: object, definitions: dict[str, object]) -> dict[str, object]:
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin is typing.Union:
        enums = [a for a in args if inspect.isclass(a) and issubclass(a, enum.Enum)]
        if enums:
            return {"type": "string", "enum": [e.value for e in enums[0]]}
        if len(args) == 1:
            return schema_of(args[0], definitions)
        return {}
    if origin is list:
        return {"type": "array", "items": schema_of(args[0], definitions)}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(args[1], definitions)}
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return {"type": "string", "enum": [e.value for e in tp]}
    if inspect.isclass(tp) and issubclass(tp, M._models._Model):  # noqa: SLF001
        define(tp, definitions)
        return {"$ref": f"#/definitions/{tp.__name__}"}
    if tp in PRIMITIVES:
        return dict(PRIMITIVES[tp])
    raise SystemExit(f"unhandled type {tp!r}")


def define(cls: type, definitions: dict[str, object]) -> None:
    if cls.__name__ in definitions:
        return
    definitions[cls.__name__] = {}  # placeholder against recursion
    cls()  # fills _attr_to_rest_field
    hints = typing.get_type_hints(cls, {**vars(sys.modules[cls.__module__]), "_models": M})
    props: dict[str, object] = {}
    required: list[str] = []
    for attr, field in cls._attr_to_rest_field.items():  # noqa: SLF001
        schema = schema_of(hints[attr], definitions)
        vis = field._visibility or []  # noqa: SLF001
        if vis == ["read"]:
            schema["readOnly"] = True
        props[field._rest_name] = schema  # noqa: SLF001
        if not field._is_optional and typing.get_origin(hints[attr]) is not typing.Union:  # noqa: SLF001
            required.append(field._rest_name)  # noqa: SLF001
    body: dict[str, object] = {"type": "object", "properties": props}
    if required:
        body["required"] = required
    definitions[cls.__name__] = body


def list_result(item: str, definitions: dict[str, object]) -> str:
    name = f"{item}ListResult"
    definitions[name] = {
        "type": "object",
        "properties": {
            "value": {"type": "array", "items": {"$ref": f"#/definitions/{item}"}},
            "odata.nextLink": {"type": "string"},
        },
    }
    return name


def main() -> None:
    source = inspect.getsource(ops)
    paths: dict[str, dict[str, object]] = {}
    definitions: dict[str, object] = {}
    for m in re.finditer(r"def build_batch_(\w+)_request\((.*?)\n\n\n", source, re.S):
        name, text = m.group(1), m.group(2)
        url = re.search(r'_url = "([^"]+)"', text)
        method = re.search(r'HttpRequest\(\s*method="(\w+)"', text)
        if not url or not method:
            continue
        fn = getattr(ops._BatchClientOperationsMixin, name, None)  # noqa: SLF001
        if fn is None:
            continue
        hints = typing.get_type_hints(fn, {**vars(ops), "_models": M})
        op: dict[str, object] = {"operationId": name}
        for pname, ptype in hints.items():
            if pname == "return":
                continue
            if inspect.isclass(ptype) and issubclass(ptype, M._models._Model):  # noqa: SLF001
                define(ptype, definitions)
                op["body"] = {"$ref": f"#/definitions/{ptype.__name__}"}
        ret = hints.get("return")
        if typing.get_origin(ret) is ItemPaged:
            item = typing.get_args(ret)[0]
            define(item, definitions)
            op["responses"] = {"2xx": {"$ref": f"#/definitions/{list_result(item.__name__, definitions)}"}}
        elif inspect.isclass(ret) and issubclass(ret, M._models._Model):  # noqa: SLF001
            define(ret, definitions)
            op["responses"] = {"2xx": {"$ref": f"#/definitions/{ret.__name__}"}}
        op.setdefault("responses", {"2xx": None})["default"] = {"$ref": "#/definitions/BatchError"}
        paths.setdefault(url.group(1), {})[method.group(1).lower()] = op
    define(M.BatchError, definitions)
    doc = {
        "swagger": "2.0",
        "info": {"title": "Azure Batch", "version": "2025-06-01.21.0"},
        "x-provenance": (
            f"Derived by tools/derive_batch_service_contract.py from azure-batch {version('azure-batch')} "
            "(generated from the TypeSpec of Azure/azure-rest-api-specs "
            "specification/batch/data-plane/Azure.Batch, api-version 2025-06-01.21.0; MIT licence). "
            "Wire names, read-only visibility and enum values as the SDK models define them."
        ),
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(definitions.items())),
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
