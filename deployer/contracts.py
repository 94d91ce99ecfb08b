"""Azure's published API definitions, vendored (deployer/data/contracts/, provenance in each file).

One reader for both users of the contract: the emulator checks request bodies against it at its
edge (deployer.emulator.core.contract), and the deployer writes bodies in the API's own spelling
(enum values, property names that differ only in case between the management and service APIs:
`conform`). Documents are Swagger 2.0 in a compact form; each is read once, lazily, and its
definitions compiled on first use.

    doc = document("batch-service-2025-06-01.21.0.json")
    body = conform(body, doc.definition("BatchTaskCreateOptions"))
    cleaned = check(body, doc.definition("BatchTaskCreateOptions"), request=True, findings=found)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

BATCH_MANAGEMENT = "batch-management-2025-06-01.json"
BATCH_SERVICE = "batch-service-2025-06-01.21.0.json"
STORAGE_MANAGEMENT = "storage-management-2026-09-01.json"
NETWORK_MANAGEMENT = "network-management-2026-03-01.json"
RESOURCES_MANAGEMENT = "resources-management-2025-04-01.json"


@dataclass(frozen=True)
class Finding:
    """One difference between a body and its definition."""

    kind: str  # unknown | readonly | enum | enum-case | type
    path: str  # e.g. properties.resourceTags, tasks[0].userIdentity.userName
    detail: str  # the definition's name, the allowed values, ...


class Node:
    """A compiled schema: object (properties / additionalProperties), array (items), enum, or any."""

    __slots__ = ("name", "props", "additional", "items", "enum", "enum_lower", "readonly", "kind")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.kind = "any"  # object | array | enum | any | scalar
        self.props: dict[str, Node] = {}
        self.additional: Node | None = None
        self.items: Node | None = None
        self.enum: tuple[str, ...] = ()
        self.enum_lower: dict[str, str] = {}
        self.readonly = False


class Document:
    """One vendored API definition; compiles definitions on first use."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        with (resources.files("deployer") / "data" / "contracts" / filename).open(encoding="utf-8") as fh:
            raw = json.load(fh)
        self.version: str = raw["info"]["version"]
        #: the api-version values (query) the document describes
        self.api_versions: frozenset[str] = frozenset([self.version, *raw["info"].get("x-api-versions", ())])
        self._definitions: dict[str, Any] = raw["definitions"]
        self._nodes: dict[str, Node] = {}
        self._compiled: dict[int, Node] = {}  # by id() of a schema held in self.operations
        self._lock = threading.Lock()
        # operation index: (METHOD, normalized path) → operation
        self.operations: dict[tuple[str, str], dict[str, Any]] = {}
        for path, methods in raw["paths"].items():
            for method, op in methods.items():
                self.operations[(method.upper(), normalize_path(path))] = op

    def definition(self, name: str) -> Node:
        """The compiled definition `name` (e.g. "BatchTaskCreateOptions", "Pool")."""
        if name not in self._definitions:
            raise KeyError(f"{self.filename} defines no {name}")
        with self._lock:
            return self._ref(f"#/definitions/{name}")

    def node(self, schema: dict[str, Any] | None) -> Node | None:
        """The compiled form of a schema of this document (an operation's body or response),
        compiled once."""
        if schema is None:
            return None
        found = self._compiled.get(id(schema))
        if found is None:
            with self._lock:
                found = self._compiled[id(schema)] = self._compile(schema, "")
        return found

    def _ref(self, ref: str) -> Node:
        name = ref.rsplit("/", 1)[1]
        node = self._nodes.get(name)
        if node is None:
            node = Node(name)
            self._nodes[name] = node  # before filling: definitions refer to themselves
            self._fill(node, self._definitions.get(name, {}))
        return node

    def _compile(self, schema: dict[str, Any], name: str) -> Node:
        if set(schema) <= {"$ref", "readOnly"} and "$ref" in schema:
            target = self._ref(schema["$ref"])
            if not schema.get("readOnly") or target.readonly:
                return target
            copy = Node(target.name)
            for slot in Node.__slots__:
                setattr(copy, slot, getattr(target, slot))
            copy.readonly = True
            return copy
        node = Node(name)
        self._fill(node, schema)
        return node

    def _fill(self, node: Node, schema: dict[str, Any]) -> None:
        node.readonly = bool(schema.get("readOnly"))
        if "$ref" in schema:
            target = self._ref(schema["$ref"])
            node.name = node.name or target.name
            self._merge(node, target)
        for part in schema.get("allOf", ()):
            self._merge(node, self._compile(part, ""))
        if "enum" in schema:
            node.kind = "enum"
            node.enum = tuple(str(v) for v in schema["enum"])
            node.enum_lower = {v.lower(): v for v in node.enum}
        elif schema.get("type") == "array" or "items" in schema:
            node.kind = "array"
            node.items = self._compile(schema.get("items", {}), "")
        elif "properties" in schema or "additionalProperties" in schema or node.props:
            node.kind = "object"
            for key, sub in schema.get("properties", {}).items():
                node.props[key] = self._compile(sub, "")
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                node.additional = self._compile(extra, "")
            elif extra is True:
                node.additional = Node()
        for subtype in schema.get("x-subtypes", ()):  # a discriminated base: what any subtype defines
            self._merge(node, self._ref(f"#/definitions/{subtype}"))
        if node.kind == "any" and schema.get("type") in ("string", "integer", "number", "boolean"):
            node.kind = "scalar"  # ({"type": "object"} alone stays "any": a free-form object)

    @staticmethod
    def _merge(node: Node, base: Node) -> None:
        if base.kind == "object":
            node.kind = "object"
            for key, sub in base.props.items():
                node.props.setdefault(key, sub)
            if base.additional is not None and node.additional is None:
                node.additional = base.additional
        elif node.kind == "any":
            node.kind, node.items, node.enum, node.enum_lower = base.kind, base.items, base.enum, base.enum_lower
        node.readonly = node.readonly or base.readonly


def normalize_path(path: str) -> str:
    """`/Jobs/{jobId}/tasks` → `/jobs/{}/tasks`: literals lower case, parameters anonymous."""
    out = []
    for seg in path.split("/"):
        if not seg:
            continue
        out.append("{}" if seg.startswith("{") and seg.endswith("}") else seg.lower())
    return "/" + "/".join(out)


_documents: dict[str, Document] = {}
_doc_lock = threading.Lock()


def document(filename: str) -> Document:
    doc = _documents.get(filename)
    if doc is None:
        with _doc_lock:
            doc = _documents.get(filename)
            if doc is None:
                doc = _documents[filename] = Document(filename)
    return doc


# -- checking ----------------------------------------------------------------------------------


def check(value: Any, node: Node | None, *, request: bool, findings: list[Finding], path: str = "") -> Any:  # noqa: C901
    """`value` as the service keeps it (unknown and read-only properties of a request dropped, enum
    values in the API's spelling); every difference appended to `findings`."""
    if node is None or value is None:
        return value
    kind = node.kind
    if kind == "object":
        if not isinstance(value, dict):
            findings.append(Finding("type", path or "(body)", f"an object ({node.name or 'object'}) expected"))
            return value
        out: dict[str, Any] = {}
        for key, sub in value.items():
            where = f"{path}.{key}" if path else key
            child = node.props.get(key)
            if child is None:
                child = node.additional
                if child is None:
                    if not request and key.startswith("odata."):
                        out[key] = sub  # OData annotations (odata.metadata) accompany every Batch answer
                        continue
                    findings.append(Finding("unknown", where, node.name or "object"))
                    continue
            if request and child.readonly:
                findings.append(Finding("readonly", where, node.name or "object"))
                continue
            out[key] = check(sub, child, request=request, findings=findings, path=where)
        return out
    if kind == "array":
        if not isinstance(value, list):
            findings.append(Finding("type", path or "(body)", "an array expected"))
            return value
        return [check(v, node.items, request=request, findings=findings, path=f"{path}[{i}]")
                for i, v in enumerate(value)]
    if kind == "enum" and isinstance(value, str):
        if value in node.enum:
            return value
        canonical = node.enum_lower.get(value.lower())
        if canonical is None:
            findings.append(Finding("enum", path, ", ".join(node.enum)))
            return value
        findings.append(Finding("enum-case", path, canonical))
        return canonical
    return value




def conform(value: Any, node: Node | None) -> Any:
    """`value` in the API's spelling: enum values in the case the API defines, and a property the
    definition spells in another case (`userName` where the service API says `username`) renamed.
    Nothing is dropped: what the API does not define is left for the service (and the contract
    checks) to judge."""
    if node is None or value is None:
        return value
    if node.kind == "object" and isinstance(value, dict):
        out: dict[str, Any] = {}
        lower: dict[str, str] | None = None
        for key, sub in value.items():
            child = node.props.get(key)
            name: str = key
            if child is None and node.additional is None:
                if lower is None:
                    lower = {k.lower(): k for k in node.props}
                name = lower.get(str(key).lower()) or key
                child = node.props.get(name)
            out[name] = conform(sub, child if child is not None else node.additional)
        return out
    if node.kind == "array" and isinstance(value, list):
        return [conform(v, node.items) for v in value]
    if node.kind == "enum" and isinstance(value, str):
        return node.enum_lower.get(value.lower(), value)
    return value
