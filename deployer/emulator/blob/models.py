"""Block blobs: state and rules, stored under their container (deployer.emulator.storage.models).

    blob        {container key}/blobs/{name}                       body: properties; data: content
    blobBlock   {container key}/blocks/{quoted name}/{quoted id}   body: id, size; data: the block
    lease       the blob's key (storage.leases)

Blob names are case-sensitive, so the name part of a key is kept as sent (container keys are
lower case, like every ARM key). Uncommitted blocks are keyed by the *quoted* blob name, so the
blocks of `a` and of `a/b` never share a key prefix. A blob committed from blocks remembers its
block list (ids and sizes); the committed blocks' bytes are slices of the blob's content.

Other services (Batch application packages) use `put_blob` / `read_blob` directly:

    container = storage_models.ensure_container(store, account, "packages")
    put_blob(store, container, "app/1.0.zip", data)
    read_blob(store, container, "app/1.0.zip")      # bytes | None
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

from ..core import Doc, Store
from ..storage import leases

BLOB_KIND = "blob"
BLOCK_KIND = "blobBlock"

# Blob properties set by x-ms-blob-* headers (the SDK's ContentSettings), by body key.
SETTINGS = {
    "contentType": "Content-Type",
    "contentEncoding": "Content-Encoding",
    "contentLanguage": "Content-Language",
    "contentDisposition": "Content-Disposition",
    "cacheControl": "Cache-Control",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_NAME = 1024


def _key(container: Doc | str) -> str:
    return container if isinstance(container, str) else container.key


def blob_key(container: Doc | str, name: str) -> str:
    return f"{_key(container)}/blobs/{name}"


def _block_prefix(container: Doc | str, name: str) -> str:
    return f"{_key(container)}/blocks/{quote(name, safe='')}/"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def get_blob(store: Store, container: Doc | str, name: str) -> Doc | None:
    return store.get(BLOB_KIND, blob_key(container, name))


def read_blob(store: Store, container: Doc | str, name: str) -> bytes | None:
    """The blob's content, or None if it does not exist."""
    key = blob_key(container, name)
    if store.get(BLOB_KIND, key) is None:
        return None
    return store.read_data(BLOB_KIND, key) or b""


def list_blobs(store: Store, container: Doc | str, prefix: str = "") -> list[Doc]:
    """Committed blobs whose names start with `prefix`, in name order."""
    return store.list(BLOB_KIND, prefix=blob_key(container, prefix))


def _body(
    name: str,
    size: int,
    settings: dict[str, Any] | None,
    metadata: dict[str, str] | None,
    md5: str | None,
    blocks: list[dict[str, Any]],
) -> dict[str, Any]:
    body: dict[str, Any] = {k: (settings or {}).get(k) for k in SETTINGS}
    body["contentType"] = body["contentType"] or DEFAULT_CONTENT_TYPE
    body.update(name=name, size=size, contentMD5=md5, metadata=dict(metadata or {}), blobType="BlockBlob")
    body["blocks"] = blocks
    return body


def put_blob(
    store: Store,
    container: Doc,
    name: str,
    data: bytes,
    *,
    settings: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> Doc:
    """Put Blob: create or replace the blob in one shot (any uncommitted blocks are discarded).

    The service computes Content-MD5 for a single-shot upload (unless one is given in settings)."""
    md5 = (settings or {}).get("contentMD5") or md5_b64(data)
    with store.transaction():
        store.delete_prefix(_block_prefix(container, name), kind=BLOCK_KIND)
        body = _body(name, len(data), settings, metadata, md5, [])
        return store.put(BLOB_KIND, blob_key(container, name), body, parent=container.key, data=data)


def valid_block_id(block_id: str) -> bool:
    try:
        raw = base64.b64decode(block_id, validate=True)
    except ValueError:
        return False
    return 0 < len(raw) <= 64


def stage_block(store: Store, container: Doc, name: str, block_id: str, data: bytes) -> None:
    """Put Block: keep the block until a block list commits (or a Put Blob discards) it."""
    key = _block_prefix(container, name) + quote(block_id, safe="")
    store.put(BLOCK_KIND, key, {"id": block_id, "size": len(data)}, parent=container.key, data=data)


def uncommitted_blocks(store: Store, container: Doc, name: str) -> list[Doc]:
    return store.list(BLOCK_KIND, prefix=_block_prefix(container, name))


class InvalidBlockList(Exception):  # noqa: N818 - Azure's code
    """A block named by the list is not where the list says it is."""


def commit_blocks(
    store: Store,
    container: Doc,
    name: str,
    entries: list[tuple[str, str]],
    *,
    settings: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
) -> Doc:
    """Put Block List: the blob becomes the listed blocks, in order. `entries` are
    (`Committed` | `Uncommitted` | `Latest`, block id); Latest prefers the uncommitted block."""
    key = blob_key(container, name)
    with store.transaction():
        current = store.get(BLOB_KIND, key)
        committed: dict[str, tuple[int, int]] = {}
        offset = 0
        for block in current.body.get("blocks", []) if current else []:
            committed[block["id"]] = (offset, block["size"])
            offset += block["size"]
        staged = {d.body["id"]: d for d in uncommitted_blocks(store, container, name)}
        content = (store.read_data(BLOB_KIND, key) or b"") if current else b""
        parts: list[bytes] = []
        blocks: list[dict[str, Any]] = []
        for where, block_id in entries:
            use_staged = where == "Uncommitted" or (where == "Latest" and block_id in staged)
            if use_staged:
                if block_id not in staged:
                    raise InvalidBlockList(block_id)
                part = store.read_data(BLOCK_KIND, staged[block_id].key) or b""
            else:
                if block_id not in committed:
                    raise InvalidBlockList(block_id)
                start, size = committed[block_id]
                part = content[start : start + size]
            parts.append(part)
            blocks.append({"id": block_id, "size": len(part)})
        data = b"".join(parts)
        store.delete_prefix(_block_prefix(container, name), kind=BLOCK_KIND)
        md5 = (settings or {}).get("contentMD5")  # not computed for block lists, as in Azure
        body = _body(name, len(data), settings, metadata, md5, blocks)
        return store.put(BLOB_KIND, key, body, parent=container.key, data=data)


def set_properties(store: Store, doc: Doc, change: dict[str, Any]) -> Doc:
    """Replace some of a blob's properties (metadata, content settings); a new ETag."""
    new = store.update(BLOB_KIND, doc.key, lambda b: {**b, **change})
    assert new is not None
    return new


def delete_blob(store: Store, container: Doc, name: str) -> bool:
    """Delete the blob, its uncommitted blocks and its lease; False if there was no blob."""
    key = blob_key(container, name)
    with store.transaction():
        existed = store.delete(BLOB_KIND, key)
        store.delete_prefix(_block_prefix(container, name), kind=BLOCK_KIND)
        leases.drop(store, key)
    return existed
