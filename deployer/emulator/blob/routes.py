"""The blob service, at `https://{host}/blob/{account}/...`, as azure-storage-blob 12.x sends it.

Account:    GET ?comp=list (list containers), GET ?restype=account&comp=properties
Container:  PUT / GET / HEAD / DELETE ?restype=container, PUT &comp=metadata, PUT &comp=lease,
            GET &comp=list (list blobs: prefix, delimiter, marker, maxresults, include=metadata)
Blob:       PUT (Put Blob), PUT ?comp=block, PUT / GET ?comp=blocklist, GET (Range / x-ms-range),
            HEAD, DELETE, PUT ?comp=lease, PUT ?comp=metadata, PUT ?comp=properties

The blob API is versioned by `x-ms-version` (echoed on every answer), not `api-version`; every
route authorizes itself (`auth.authorize`). Errors are storage XML with `x-ms-error-code`. ETags
are quoted in headers and bare in listings, Last-Modified is RFC 1123, as the service does.
Operations the emulator does not have (snapshots, tags, copy, tiers, page and append blobs, ACLs)
answer 501 NotImplemented rather than doing something else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..core import ApiError, Doc, Request, Response, Router, clock, etag, render_storage_xml
from ..storage import leases
from ..storage import models as storage_models
from . import auth, errors
from . import models as blob_models

SERVICE = "/blob/{account}"
CONTAINER = "/blob/{account}/{container}"
BLOB = "/blob/{account}/{container}/{blob*}"

DEFAULT_VERSION = "2025-11-05"
MAX_RESULTS = 5000
XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>'

Handler = Callable[..., Response]


def register(router: Router) -> None:
    def add(method: str, template: str, handler: Handler, **query: str) -> None:
        router.add(method, template, _versioned(handler), api_version=False, auth=False, query=query or None)

    add("GET", SERVICE, list_containers, comp="list")
    add("GET", SERVICE, account_info, restype="account", comp="properties")
    add("HEAD", SERVICE, account_info, restype="account", comp="properties")
    add("PUT", CONTAINER, create_container, restype="container")
    add("GET", CONTAINER, container_properties, restype="container")
    add("HEAD", CONTAINER, container_properties, restype="container")
    add("DELETE", CONTAINER, delete_container, restype="container")
    add("PUT", CONTAINER, set_container_metadata, restype="container", comp="metadata")
    add("PUT", CONTAINER, lease_container, restype="container", comp="lease")
    add("GET", CONTAINER, list_blobs, restype="container", comp="list")
    add("PUT", BLOB, put_blob)
    add("PUT", BLOB, put_block, comp="block")
    add("PUT", BLOB, put_block_list, comp="blocklist")
    add("GET", BLOB, get_block_list, comp="blocklist")
    add("GET", BLOB, get_blob)
    add("HEAD", BLOB, blob_properties)
    add("DELETE", BLOB, delete_blob)
    add("PUT", BLOB, lease_blob, comp="lease")
    add("PUT", BLOB, set_blob_metadata, comp="metadata")
    add("PUT", BLOB, set_blob_properties, comp="properties")
    router.errors("/blob/", render_error)


def _version(req: Request) -> str:
    return req.headers.get("x-ms-version") or DEFAULT_VERSION


def _versioned(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def run(req: Request, **params: str) -> Response:
        resp = handler(req, **params)
        resp.headers["x-ms-version"] = _version(req)
        return resp

    return run


def render_error(error: ApiError, req: Request) -> Response:
    resp = render_storage_xml(error, req)
    resp.headers["x-ms-version"] = _version(req)
    return resp


# -- lookups and request parsing ----------------------------------------------------------------


def _account(req: Request, account: str) -> Doc:
    doc = storage_models.find_account(req.store, account)
    if doc is None:
        raise errors.account_not_found(account)
    return doc


def _container(req: Request, acct: Doc, name: str) -> Doc:
    doc = storage_models.get_container(req.store, acct, name)
    if doc is None:
        raise errors.container_not_found()
    return doc


def _blob(req: Request, container: Doc, name: str) -> Doc:
    doc = blob_models.get_blob(req.store, container, name)
    if doc is None:
        raise errors.blob_not_found()
    return doc


def _no_comp(req: Request) -> None:
    """Routes without a `comp` constraint also match comps the emulator lacks: refuse those."""
    comp = req.query.get("comp")
    if comp:
        raise errors.not_implemented(f"comp={comp}")
    if req.headers.get("x-ms-copy-source"):
        raise errors.not_implemented("Copy Blob")


def _check_blob_name(name: str) -> None:
    if not 1 <= len(name) <= blob_models.MAX_NAME:
        raise errors.invalid_resource_name(storage_models.errors.NAME_LENGTH)


def _metadata(req: Request) -> dict[str, str]:
    """x-ms-meta-* headers. Names come back lower-cased with `_` (WSGI keeps neither the case
    nor the `_`/`-` difference of header names; metadata names are C# identifiers, so no `-`)."""
    return {
        k[len("x-ms-meta-") :].lower().replace("-", "_"): v
        for k, v in req.headers.items()
        if k.lower().startswith("x-ms-meta-")
    }


def _settings(req: Request, *, standard_headers: bool) -> dict[str, Any]:
    """Content settings from x-ms-blob-* (and, for Put Blob, the plain Content-* headers)."""
    out: dict[str, Any] = {}
    for key, header in blob_models.SETTINGS.items():
        value = req.headers.get("x-ms-blob-" + header.lower())
        if value is None and standard_headers:
            value = req.headers.get(header)
        out[key] = value or None
    if req.headers.get("x-ms-blob-content-md5"):
        out["contentMD5"] = req.headers["x-ms-blob-content-md5"]
    return out


def _verify_md5(req: Request, data: bytes) -> None:
    given = req.headers.get("Content-MD5")
    if given and given != blob_models.md5_b64(data):
        raise errors.md5_mismatch()


def _http_time(req: Request, header: str) -> float | None:
    value = req.headers.get(header)
    if not value:
        return None
    try:
        return clock.parse_http_date(value)
    except (TypeError, ValueError):
        return None  # the service ignores a malformed date condition


def _conditions(req: Request, doc: Doc | None, *, read: bool = False) -> Response | None:
    """If-Match / If-None-Match / If-(Un)Modified-Since: a 304 for reads, else 412 (or 409
    BlobAlreadyExists for `If-None-Match: *` on a write, which is how `overwrite=False` works)."""
    current = doc.etag if doc else None
    if_match, if_none = req.headers.get("If-Match"), req.headers.get("If-None-Match")
    if if_match and not etag.matches(if_match, current):
        raise errors.condition_not_met()
    if doc is not None and if_none and etag.matches(if_none, current):
        if read:
            return _not_modified(doc)
        if if_none.strip() == "*":
            raise errors.blob_already_exists()
        raise errors.condition_not_met()
    if doc is not None:
        modified = math.floor(doc.updated)
        since = _http_time(req, "If-Modified-Since")
        if since is not None and modified <= since:
            if read:
                return _not_modified(doc)
            raise errors.condition_not_met()
        unmodified = _http_time(req, "If-Unmodified-Since")
        if unmodified is not None and modified > unmodified:
            raise errors.condition_not_met()
    return None


def _not_modified(doc: Doc) -> Response:
    return Response.empty(304, {**_stamp(doc), "x-ms-error-code": "ConditionNotMet"})


def _stamp(doc: Doc) -> dict[str, str]:
    return {"ETag": etag.quoted(doc.etag), "Last-Modified": clock.http_date(doc.updated)}


def _meta_headers(metadata: dict[str, str]) -> dict[str, str]:
    return {f"x-ms-meta-{k}": v for k, v in metadata.items()}


def _max_results(req: Request) -> int:
    value = req.query.get("maxresults")
    if not value:
        return MAX_RESULTS
    try:
        n = int(value)
    except ValueError:
        raise errors.invalid_query("maxresults", value) from None
    if n < 1:
        raise errors.out_of_range_query("maxresults", value)
    return min(n, MAX_RESULTS)


def _marker_out(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _marker_in(req: Request) -> str | None:
    value = req.query.get("marker")
    if not value:
        return None
    try:
        return base64.urlsafe_b64decode(value.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise errors.invalid_query("marker", value) from None


# -- XML ----------------------------------------------------------------------------------------


def _el(tag: str, value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _name_el(name: str) -> str:
    """<Name>, percent-encoded with Encoded="true" when the name holds characters XML cannot."""
    if _XML_BAD.search(name):
        from urllib.parse import quote

        return f'<Name Encoded="true">{escape(quote(name, safe=""))}</Name>'
    return _el("Name", name)


def _echo(req: Request, *params: str) -> str:
    """The request's listing parameters, echoed as Azure does (Prefix, Marker, MaxResults...)."""
    tags = {"prefix": "Prefix", "marker": "Marker", "maxresults": "MaxResults", "delimiter": "Delimiter"}
    return "".join(_el(tags[p], req.query[p]) for p in params if req.query.get(p))


def _metadata_xml(metadata: dict[str, str]) -> str:
    return "<Metadata>" + "".join(_el(k, v) for k, v in metadata.items()) + "</Metadata>"


def _xml(parts: Iterable[str]) -> Response:
    return Response.xml(XML_HEAD + "".join(parts))


# -- account ------------------------------------------------------------------------------------


def list_containers(req: Request, account: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, permission="l", service_sas=False)
    include = (req.query.get("include") or "").lower().split(",")
    docs = storage_models.list_containers(req.store, acct, req.query.get("prefix") or "")
    marker = _marker_in(req)
    if marker is not None:
        docs = [d for d in docs if d.body["name"] >= marker]
    limit = _max_results(req)
    page, rest = docs[:limit], docs[limit:]
    lease_of = _leases(req, acct.key + "/")
    parts = [
        f"<EnumerationResults ServiceEndpoint={quoteattr(storage_models.blob_endpoint(req.base_url, account))}>",
        _echo(req, "prefix", "marker", "maxresults"),
        "<Containers>",
    ]
    for doc in page:
        b, lease = doc.body, lease_of(doc.key)
        props = [_el("Last-Modified", clock.http_date(doc.updated)), _el("Etag", doc.etag)]
        props += [_el("LeaseStatus", lease.status), _el("LeaseState", lease.state)]
        if lease.duration_kind:
            props.append(_el("LeaseDuration", lease.duration_kind))
        if b.get("publicAccess"):
            props.append(_el("PublicAccess", b["publicAccess"]))
        props += [
            _el("DefaultEncryptionScope", b["defaultEncryptionScope"]),
            _el("DenyEncryptionScopeOverride", b["denyEncryptionScopeOverride"]),
            _el("HasImmutabilityPolicy", False),
            _el("HasLegalHold", False),
        ]
        meta = _metadata_xml(b.get("metadata") or {}) if "metadata" in include else ""
        parts.append(f"<Container>{_el('Name', b['name'])}<Properties>{''.join(props)}</Properties>{meta}</Container>")
    parts.append("</Containers>")
    parts.append(_el("NextMarker", _marker_out(rest[0].body["name"])) if rest else "<NextMarker />")
    parts.append("</EnumerationResults>")
    return _xml(parts)


def _leases(req: Request, prefix: str) -> Callable[[str], leases.Lease]:
    """Every lease under a key prefix in one read (listings would otherwise read one per item)."""
    found = {d.key: d for d in req.store.list(leases.KIND, prefix=prefix)}
    return lambda key: leases.from_doc(found.get(key))


def account_info(req: Request, account: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, permission="rwdlac")
    b = acct.body
    headers = {
        "x-ms-sku-name": b["sku"]["name"],
        "x-ms-account-kind": b["kind"],
        "x-ms-is-hns-enabled": "true" if b["properties"].get("isHnsEnabled") else "false",
    }
    return Response.empty(200, headers)


# -- containers ---------------------------------------------------------------------------------


def create_container(req: Request, account: str, container: str) -> Response:
    _no_comp(req)
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="cw", service_sas=False)
    problem = storage_models.child_name_problem(container)
    if problem:
        raise errors.invalid_resource_name(problem)
    access = req.headers.get("x-ms-blob-public-access") or None
    if access not in (None, "blob", "container"):
        raise storage_models.errors.invalid_header("x-ms-blob-public-access", access)
    if access and not acct.body["properties"].get("allowBlobPublicAccess"):
        raise errors.public_access_not_permitted()
    doc, created = storage_models.create_container(
        req.store, acct, container, metadata=_metadata(req), public_access=access
    )
    if not created:
        raise errors.container_already_exists()
    return Response.empty(201, _stamp(doc))


def container_properties(req: Request, account: str, container: str) -> Response:
    _no_comp(req)
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="r")
    doc = _container(req, acct, container)
    leases.check_read(req.store, doc.key, req.headers.get("x-ms-lease-id"), "container")
    b = doc.body
    headers = {
        **_stamp(doc),
        **_meta_headers(b.get("metadata") or {}),
        **leases.view(req.store, doc.key).headers(),
        "x-ms-has-immutability-policy": "false",
        "x-ms-has-legal-hold": "false",
        "x-ms-default-encryption-scope": b["defaultEncryptionScope"],
        "x-ms-deny-encryption-scope-override": "false",
    }
    if b.get("publicAccess"):
        headers["x-ms-blob-public-access"] = b["publicAccess"]
    return Response.empty(200, headers)


def delete_container(req: Request, account: str, container: str) -> Response:
    _no_comp(req)
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="d", service_sas=False)
    with req.store.transaction():
        doc = _container(req, acct, container)
        _conditions(req, doc)
        leases.check_write(req.store, doc.key, req.headers.get("x-ms-lease-id"), "container")
        storage_models.delete_container(req.store, acct, container)
    return Response.empty(202)


def set_container_metadata(req: Request, account: str, container: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="w")
    with req.store.transaction():
        doc = _container(req, acct, container)
        _conditions(req, doc)
        leases.check_read(req.store, doc.key, req.headers.get("x-ms-lease-id"), "container")
        metadata = _metadata(req)
        doc = storage_models.update_container(req.store, doc, lambda b: {**b, "metadata": metadata})
    return Response.empty(200, _stamp(doc))


def lease_container(req: Request, account: str, container: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="wd" if _is_break(req) else "w")
    doc = _container(req, acct, container)
    _conditions(req, doc)
    return _lease_action(req, doc, "container")


def _is_break(req: Request) -> bool:
    return (req.headers.get("x-ms-lease-action") or "").lower() == "break"


def _lease_action(req: Request, doc: Doc, what: str) -> Response:
    """Acquire (201), renew / change / release (200) or break (202) the lease of `doc`."""
    action = (req.headers.get("x-ms-lease-action") or "").lower()
    lease_id, proposed = req.headers.get("x-ms-lease-id"), req.headers.get("x-ms-proposed-lease-id")
    headers = _stamp(doc)
    store, key = req.store, doc.key
    status = 200
    if action == "acquire":
        duration = leases.parse_duration(req.headers.get("x-ms-lease-duration"))
        lease, status = leases.acquire(store, key, duration, proposed, what), 201
    elif action == "renew":
        lease = leases.renew(store, key, lease_id, what)
    elif action == "change":
        lease = leases.change(store, key, lease_id, proposed, what)
    elif action == "release":
        lease = leases.release(store, key, lease_id, what)
    elif action == "break":
        period = req.headers.get("x-ms-lease-break-period")
        try:
            seconds = None if period is None else int(period)
        except ValueError:
            raise storage_models.errors.invalid_header("x-ms-lease-break-period", period) from None
        lease, remaining = leases.break_(store, key, seconds, what)
        headers["x-ms-lease-time"] = str(remaining)
        status = 202
    elif not action:
        raise errors.missing_header("x-ms-lease-action")
    else:
        raise storage_models.errors.invalid_header("x-ms-lease-action", action)
    if lease.lease_id and action in ("acquire", "renew", "change"):
        headers["x-ms-lease-id"] = lease.lease_id
    return Response.empty(status, headers)


# -- listing blobs ------------------------------------------------------------------------------


def list_blobs(req: Request, account: str, container: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, permission="l")
    cont = _container(req, acct, container)
    prefix = req.query.get("prefix") or ""
    delimiter = req.query.get("delimiter") or ""
    include = (req.query.get("include") or "").lower().split(",")
    marker = _marker_in(req)
    limit = _max_results(req)

    # One entry per blob, or per prefix up to the delimiter; in name order, resumed at the marker.
    entries: list[tuple[str, Doc | None]] = []
    for doc in blob_models.list_blobs(req.store, cont, prefix):
        name = doc.body["name"]
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            group = name[: cut + len(delimiter)]
            if not entries or entries[-1][0] != group:
                entries.append((group, None))
        else:
            entries.append((name, doc))
    if marker is not None:
        entries = [e for e in entries if e[0] >= marker]
    page, rest = entries[:limit], entries[limit:]

    lease_of = _leases(req, blob_models.blob_key(cont, prefix))
    endpoint = storage_models.blob_endpoint(req.base_url, account)
    parts = [
        f"<EnumerationResults ServiceEndpoint={quoteattr(endpoint)} ContainerName={quoteattr(container)}>",
        _echo(req, "prefix", "marker", "maxresults", "delimiter"),
        "<Blobs>",
    ]
    for name, item in page:
        if item is None:
            parts.append(f"<BlobPrefix>{_name_el(name)}</BlobPrefix>")
            continue
        meta = _metadata_xml(item.body.get("metadata") or {}) if "metadata" in include else ""
        parts.append(f"<Blob>{_name_el(name)}{_blob_properties_xml(item, lease_of(item.key))}{meta}</Blob>")
    parts.append("</Blobs>")
    parts.append(_el("NextMarker", _marker_out(rest[0][0])) if rest else "<NextMarker />")
    parts.append("</EnumerationResults>")
    return _xml(parts)


def _blob_properties_xml(doc: Doc, lease: leases.Lease) -> str:
    b = doc.body
    props = [
        _el("Creation-Time", clock.http_date(doc.created)),
        _el("Last-Modified", clock.http_date(doc.updated)),
        _el("Etag", doc.etag),
        _el("Content-Length", b["size"]),
        _el("Content-Type", b["contentType"]),
    ]
    for key, tag in (
        ("contentEncoding", "Content-Encoding"),
        ("contentLanguage", "Content-Language"),
        ("contentMD5", "Content-MD5"),
        ("cacheControl", "Cache-Control"),
        ("contentDisposition", "Content-Disposition"),
    ):
        if b.get(key):
            props.append(_el(tag, b[key]))
    props += [
        _el("BlobType", b["blobType"]),
        _el("AccessTier", "Hot"),
        _el("AccessTierInferred", True),
        _el("LeaseStatus", lease.status),
        _el("LeaseState", lease.state),
    ]
    if lease.duration_kind:
        props.append(_el("LeaseDuration", lease.duration_kind))
    props.append(_el("ServerEncrypted", True))
    return "<Properties>" + "".join(props) + "</Properties>"


# -- blobs --------------------------------------------------------------------------------------


def _blob_headers(req: Request, doc: Doc) -> dict[str, str]:
    b = doc.body
    headers = {
        **_stamp(doc),
        "x-ms-creation-time": clock.http_date(doc.created),
        "x-ms-blob-type": b["blobType"],
        "Content-Type": b["contentType"],
        "Accept-Ranges": "bytes",
        "x-ms-server-encrypted": "true",
        "x-ms-access-tier": "Hot",
        "x-ms-access-tier-inferred": "true",
        **leases.view(req.store, doc.key).headers(),
        **_meta_headers(b.get("metadata") or {}),
    }
    for key, header in blob_models.SETTINGS.items():
        if key != "contentType" and b.get(key):
            headers[header] = b[key]
    return headers


def _write_context(req: Request, account: str, container: str, blob: str, permission: str) -> tuple[Doc, Doc | None]:
    """Authorize a write of `blob`; (its container, the blob as it is now or None)."""
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, blob=blob, permission=permission)
    _check_blob_name(blob)
    cont = _container(req, acct, container)
    return cont, blob_models.get_blob(req.store, cont, blob)


def put_blob(req: Request, account: str, container: str, blob: str) -> Response:
    _no_comp(req)
    blob_type = req.headers.get("x-ms-blob-type")
    with req.store.transaction():
        cont, cur = _write_context(req, account, container, blob, "cw")
        if not blob_type:
            raise errors.missing_header("x-ms-blob-type")
        if blob_type != "BlockBlob":
            raise errors.unsupported_blob_type(blob_type)
        leases.check_write(req.store, blob_models.blob_key(cont, blob), req.headers.get("x-ms-lease-id"), "blob")
        _conditions(req, cur)
        _verify_md5(req, req.body)
        settings = _settings(req, standard_headers=True)
        doc = blob_models.put_blob(req.store, cont, blob, req.body, settings=settings, metadata=_metadata(req))
    headers = {**_stamp(doc), "Content-MD5": doc.body["contentMD5"], "x-ms-request-server-encrypted": "true"}
    return Response.empty(201, headers)


def put_block(req: Request, account: str, container: str, blob: str) -> Response:
    block_id = req.query.get("blockid")
    cont, _ = _write_context(req, account, container, blob, "cw")
    if not block_id:
        raise errors.missing_query("blockid")
    if not blob_models.valid_block_id(block_id):
        raise errors.invalid_query("blockid", block_id)
    leases.check_write(req.store, blob_models.blob_key(cont, blob), req.headers.get("x-ms-lease-id"), "blob")
    _verify_md5(req, req.body)
    blob_models.stage_block(req.store, cont, blob, block_id, req.body)
    headers = {"Content-MD5": blob_models.md5_b64(req.body), "x-ms-request-server-encrypted": "true"}
    return Response.empty(201, headers)


def _block_list_entries(body: bytes) -> list[tuple[str, str]]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise errors.invalid_xml() from None
    if root.tag != "BlockList":
        raise errors.invalid_xml()
    entries = []
    for child in root:
        if child.tag not in ("Committed", "Uncommitted", "Latest"):
            raise errors.invalid_xml()
        entries.append((child.tag, (child.text or "").strip()))
    return entries


def put_block_list(req: Request, account: str, container: str, blob: str) -> Response:
    entries = _block_list_entries(req.body)
    with req.store.transaction():
        cont, cur = _write_context(req, account, container, blob, "cw")
        leases.check_write(req.store, blob_models.blob_key(cont, blob), req.headers.get("x-ms-lease-id"), "blob")
        _conditions(req, cur)
        try:
            doc = blob_models.commit_blocks(
                req.store, cont, blob, entries, settings=_settings(req, standard_headers=False), metadata=_metadata(req)
            )
        except blob_models.InvalidBlockList:
            raise errors.invalid_block_list() from None
    return Response.empty(201, {**_stamp(doc), "x-ms-request-server-encrypted": "true"})


def get_block_list(req: Request, account: str, container: str, blob: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, blob=blob, permission="r")
    cont = _container(req, acct, container)
    which = (req.query.get("blocklisttype") or "committed").lower()
    if which not in ("committed", "uncommitted", "all"):
        raise errors.invalid_query("blocklisttype", which)
    cur = blob_models.get_blob(req.store, cont, blob)
    staged = blob_models.uncommitted_blocks(req.store, cont, blob)
    if cur is None and not staged:
        raise errors.blob_not_found()

    def blocks(items: Iterable[dict[str, Any]]) -> str:
        return "".join(f"<Block>{_el('Name', i['id'])}{_el('Size', i['size'])}</Block>" for i in items)

    parts = ["<BlockList>"]
    if which in ("committed", "all"):
        parts.append(f"<CommittedBlocks>{blocks(cur.body['blocks'] if cur else [])}</CommittedBlocks>")
    if which in ("uncommitted", "all"):
        parts.append(f"<UncommittedBlocks>{blocks(d.body for d in staged)}</UncommittedBlocks>")
    parts.append("</BlockList>")
    resp = _xml(parts)
    if cur is not None:
        resp.headers.update(_stamp(cur))
        resp.headers["x-ms-blob-content-length"] = str(cur.body["size"])
    return resp


def _read_context(req: Request, account: str, container: str, blob: str) -> Doc:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, blob=blob, permission="r")
    doc = _blob(req, _container(req, acct, container), blob)
    leases.check_read(req.store, doc.key, req.headers.get("x-ms-lease-id"), "blob")
    return doc


_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _range(req: Request, size: int) -> tuple[int, int] | None:
    """The byte range asked for (x-ms-range wins over Range), clipped to the blob; 416 past its end."""
    header = "x-ms-range" if req.headers.get("x-ms-range") else "Range"
    value = req.headers.get(header)
    if not value:
        return None
    m = _RANGE.match(value.strip())
    if not m:
        raise storage_models.errors.invalid_header(header, value)
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        raise errors.invalid_range(size)
    return start, min(end, size - 1)


def get_blob(req: Request, account: str, container: str, blob: str) -> Response:
    _no_comp(req)
    doc = _read_context(req, account, container, blob)
    not_modified = _conditions(req, doc, read=True)
    if not_modified is not None:
        return not_modified
    size = doc.body["size"]
    span = _range(req, size)
    data = req.store.read_data(blob_models.BLOB_KIND, doc.key) or b""
    headers = _blob_headers(req, doc)
    md5 = doc.body.get("contentMD5")
    if span is None:
        if md5:
            headers["Content-MD5"] = md5
        return Response(200, data, headers)
    start, end = span
    part = data[start : end + 1]
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if md5:
        headers["x-ms-blob-content-md5"] = md5
    if (req.headers.get("x-ms-range-get-content-md5") or "").lower() == "true":
        headers["Content-MD5"] = blob_models.md5_b64(part)
    return Response(206, part, headers)


def blob_properties(req: Request, account: str, container: str, blob: str) -> Response:
    _no_comp(req)
    doc = _read_context(req, account, container, blob)
    not_modified = _conditions(req, doc, read=True)
    if not_modified is not None:
        return not_modified
    headers = _blob_headers(req, doc)
    headers["Content-Length"] = str(doc.body["size"])
    if doc.body.get("contentMD5"):
        headers["Content-MD5"] = doc.body["contentMD5"]
    return Response(200, b"", headers)


def delete_blob(req: Request, account: str, container: str, blob: str) -> Response:
    _no_comp(req)
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, blob=blob, permission="d")
    with req.store.transaction():
        cont = _container(req, acct, container)
        doc = _blob(req, cont, blob)
        leases.check_write(req.store, doc.key, req.headers.get("x-ms-lease-id"), "blob")
        _conditions(req, doc)
        blob_models.delete_blob(req.store, cont, blob)
    return Response.empty(202)


def lease_blob(req: Request, account: str, container: str, blob: str) -> Response:
    acct = _account(req, account)
    auth.authorize(req, acct, container=container, blob=blob, permission="wd" if _is_break(req) else "w")
    doc = _blob(req, _container(req, acct, container), blob)
    _conditions(req, doc)
    return _lease_action(req, doc, "blob")


def _update_blob(req: Request, account: str, container: str, blob: str, change: dict[str, Any]) -> Response:
    with req.store.transaction():
        cont, cur = _write_context(req, account, container, blob, "w")
        if cur is None:
            raise errors.blob_not_found()
        leases.check_write(req.store, cur.key, req.headers.get("x-ms-lease-id"), "blob")
        _conditions(req, cur)
        doc = blob_models.set_properties(req.store, cur, change)
    return Response.empty(200, {**_stamp(doc), "x-ms-request-server-encrypted": "true"})


def set_blob_metadata(req: Request, account: str, container: str, blob: str) -> Response:
    return _update_blob(req, account, container, blob, {"metadata": _metadata(req)})


def set_blob_properties(req: Request, account: str, container: str, blob: str) -> Response:
    """Set Blob Properties: the x-ms-blob-* content settings replace all of the stored ones."""
    settings = _settings(req, standard_headers=False)
    settings["contentType"] = settings["contentType"] or blob_models.DEFAULT_CONTENT_TYPE
    settings.setdefault("contentMD5", None)
    return _update_blob(req, account, container, blob, settings)
