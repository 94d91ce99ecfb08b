"""Files uploaded into a container (`containers: [{name, upload: {from, pattern, prefix}}]`).

The resource's canonical form is `{"blobs": {blob name: Content-MD5 (base64)}}`: the desired side
hashes the files under `from` that match `pattern` (once per file and mtime); the live side is
what one listing of the container (`list_blobs`, prefix-filtered, Content-MD5 included) found
for those same names (deployer.resources.read). So a plan never GETs a blob, a blob nobody
declared is never compared (uploads never delete), and an unchanged file plans nothing.
Applying uploads only the blobs whose MD5 differs (deployer.apply.uploads).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deployer.resources.rules import DiffContext, Effect, Field, KindRules
from deployer.stack.model import Address, Kind

FIELDS: tuple[Field, ...] = (
    Field("blobs", Effect.UPDATE, default={}, note="blob name → Content-MD5 of the file uploaded there"),
)

_cache: dict[tuple[str, int, int], str] = {}
_cache_lock = threading.Lock()


def source_files(spec: Mapping[str, Any]) -> dict[str, Path]:
    """Blob name → local file, for every file under `from` matching `pattern` (sorted)."""
    root = Path(str(spec.get("baseDir", "."))) / str(spec.get("from", "."))
    pattern = str(spec.get("pattern") or "**/*")
    prefix = str(spec.get("prefix") or "")
    found: dict[str, Path] = {}
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if _matches(rel, pattern):
                found[prefix + rel] = path
    return found


def _matches(rel: str, pattern: str) -> bool:
    return _glob(pattern).fullmatch(rel) is not None


@functools.lru_cache(maxsize=64)
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob: `*` and `?` stay within one folder, `**/` spans any number of folders."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def content_md5(path: Path) -> str:
    """The base64 MD5 Azure reports as Content-MD5; cached by path, size and mtime."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    value = base64.b64encode(digest.digest()).decode("ascii")
    with _cache_lock:
        _cache[key] = value
    return value


def canonical_desired(spec: Mapping[str, Any], context: DiffContext, address: Address) -> dict[str, Any]:
    return {"blobs": {name: content_md5(path) for name, path in source_files(spec).items()}}


def canonical_live(rest: Mapping[str, Any]) -> dict[str, Any]:
    return {"blobs": dict(rest.get("blobs") or {})}


RULES = KindRules(
    kind=Kind.UPLOAD,
    title="upload",
    fields=FIELDS,
    canonical_desired=canonical_desired,
    canonical_live=canonical_live,
)


def read_blobs(clients: Any, account: Mapping[str, Any], container: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """One listing of the container (paged by the SDK, 5,000 a page), under the upload's prefix:
    the Content-MD5 of each blob a file of the upload maps to."""
    wanted = set(source_files(spec))
    return {"blobs": {name: md5 for name, md5 in list_md5(clients, account, container, spec).items()
                      if name in wanted}}


def list_md5(clients: Any, account: Mapping[str, Any], container: str, spec: Mapping[str, Any]) -> dict[str, str]:
    endpoint = ((account.get("properties") or account).get("primaryEndpoints") or {}).get("blob")
    if not endpoint:
        return {}
    client = clients.blob(str(endpoint)).get_container_client(container)
    found: dict[str, str] = {}
    for blob in client.list_blobs(name_starts_with=str(spec.get("prefix") or "") or None):
        md5 = blob.content_settings.content_md5 if blob.content_settings else None
        found[blob.name] = base64.b64encode(bytes(md5)).decode("ascii") if md5 else ""
    return found
