"""Batch applications: canonical forms and diff rules (management API, `.../applications`).

Canonical form: `displayName`, `allowUpdates`, `defaultVersion` and `packages`, one entry per
version: `{"version": "6.1", "content": "sha256:<16 hex>"}`. Azure's application JSON does not
list its packages: a reader attaches them as the `packages` annotation (`{"_deployer":
{"packages": {"6.1": "<sha256 hex>" | None}}}`, one list call per application); without it the
packages are not compared. The content hash is the one the deployer recorded in the package's
tags (`deployer.sha256`) when it uploaded the zip, so a zip changed under the same version is a
change; a package uploaded by someone else has none, and its content is not compared (the plan
says so). Everything changes in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployer.resources import normalize as n
from deployer.resources.rules import DiffContext, Effect, Field, KindRules, annotation, apply_forms
from deployer.stack.model import Address, Kind

U = Effect.UPDATE

#: the package tag holding the sha256 (hex) of the zip the deployer uploaded
CONTENT_TAG = "deployer.sha256"

FIELDS: tuple[Field, ...] = (
    Field("displayName", U),
    Field("allowUpdates", U, default=True),
    Field("defaultVersion", U),
    Field("packages", U),
    Field("packages.*.content", U, write_only=True),
)

SERVER_SET = ("id", "name", "type", "etag", "systemData")


def content(sha256_hex: str | None) -> str | None:
    """How plans show a package's content: enough of its hash to tell two zips apart."""
    return f"sha256:{sha256_hex[:16]}" if sha256_hex else None


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    body: dict[str, Any] = {k: spec[k] for k in ("displayName", "allowUpdates", "defaultVersion") if k in spec}
    versions = spec.get("versions")
    if isinstance(versions, Mapping):
        body["packages"] = {}
        for version, version_spec in versions.items():
            entry = {"version": str(version)}
            file = version_spec.get("file") if isinstance(version_spec, Mapping) else None
            digest = content(context.file_sha256(str(file))) if file else None
            body["packages"][str(version)] = {**entry, "content": digest} if digest else entry
    return apply_forms(body, RULES.tree) or {}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    props = rest.get("properties")
    body: dict[str, Any] = dict(props) if isinstance(props, Mapping) else {}
    packages = annotation(rest, "packages")
    if isinstance(packages, Mapping):
        body["packages"] = {}
        for version, recorded in packages.items():
            entry = {"version": str(version)}
            body["packages"][str(version)] = {**entry, "content": content(recorded)} if recorded else entry
    else:
        body["packages"] = n.NotRead("packages")
    return apply_forms(body, RULES.tree) or {}


def loss(rest: Mapping[str, Any]) -> list[str]:
    return ["its application packages are deleted; pools that reference it fail to start new nodes"]


RULES = KindRules(
    kind=Kind.APPLICATION,
    title="application",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
    server_set=SERVER_SET,
    loss=loss,
)
