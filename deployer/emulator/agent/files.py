"""Data in and out of a node, from and to the emulated storage (never the network).

- resource files: `autoStorageContainerName` (the Batch account's auto-storage), `storageContainerUrl`
  and `httpUrl` naming this emulator's blob endpoint (`.../blob/{account}/{container}[/{blob}]`),
  with `blobPrefix`, `filePath` and `fileMode`. A URL is read with a credential as on Azure: a SAS
  the emulated blob service verifies (read, and list for a container), `identityReference` naming
  one of the pool's identities, or a container open to the public (`publicAccess`); without one
  the task fails with ResourceContainerAccessDenied (a container) or BlobAccessDenied (a blob);
- output files: `filePattern` (relative to the task's working directory, `**` allowed) uploaded to
  `destination.container.containerUrl` (+ `path`) when `uploadOptions.uploadCondition` holds,
  with a credential as on Azure: `identityReference` naming one of the pool's identities, or a SAS
  in the URL that the emulated blob service verifies (signature, expiry, write permission);
  without one the task fails with FileUploadAccessDenied, so the mistake shows on a laptop;
- application packages: the package's zip from auto-storage, unzipped into the node's
  applications directory (execute bits kept);
- mounts: each `mountConfiguration` entry becomes `fsmounts/{relativeMountPath}`, a link to one
  directory per share / container / NFS or CIFS source under `{data_dir}/mounts/`, so all nodes
  (and pools) mounting it see the same files, as with a real share. A blobfuse container is
  filled with the container's blobs when first mounted, and what tasks write there is written back
  when each task ends (`sync_blob_mounts`: new and changed files become blobs, as blobfuse uploads
  a file when it is closed; deletions are not written back, nor later uploads read in).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..batch_mgmt import models as mgmt
from ..blob import models as blob_models
from ..core import Doc, Store
from ..storage import models as storage_models
from . import layout


class DataError(Exception):
    """A file could not be moved; `code` is the failure code Batch reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ContainerRef:
    account: Doc
    container: str
    blob: str = ""


def _storage_account(store: Store, name: str) -> Doc:
    doc = storage_models.find_account(store, name)
    if doc is None:
        raise DataError("BlobAccessDenied", f"The storage account {name!r} does not exist in the emulator.")
    return doc


def parse_url(store: Store, url: str) -> ContainerRef:
    """The emulated container (and blob) a URL names: `https://{host}/blob/{account}/{container}/{blob}`."""
    parts = [unquote(p) for p in urlparse(url).path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "blob":
        return ContainerRef(_storage_account(store, parts[1]), parts[2], "/".join(parts[3:]))
    raise DataError(
        "BlobDownloadMiscError",
        f"The local target reads and writes files only in its emulated storage; {url!r} is not a blob URL "
        "of this emulator.",
    )


def auto_storage(store: Store, batch_account: Doc) -> Doc:
    sid = mgmt.auto_storage_id(batch_account)
    doc = storage_models.account_by_id(store, sid) if sid else None
    if doc is None:
        raise DataError("AutoStorageNotConfigured", "The Batch account has no auto-storage account.")
    return doc


def _container(store: Store, ref: ContainerRef) -> Doc:
    doc = storage_models.get_container(store, ref.account, ref.container)
    if doc is None:
        raise DataError("BlobNotFound", f"The container {ref.container!r} does not exist.")
    return doc


def _write(target: Path, data: bytes, mode: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if mode:
        try:
            target.chmod(int(str(mode), 8))
        except ValueError:
            raise DataError("InvalidFileMode", f"fileMode {mode!r} is not an octal mode.") from None


def download_resource_files(store: Store, batch_account: Doc, files: Any, wd: Path,
                            identities: frozenset[str] = frozenset()) -> None:
    """Place every resource file under the working directory `wd` (DataError on the first failure);
    `identities`: the pool's (`pool_identities`), for files named by URL with identityReference."""
    for rf in files or []:
        if not isinstance(rf, dict):
            continue
        file_path = str(rf.get("filePath") or "")
        mode = rf.get("fileMode")
        if rf.get("httpUrl"):
            ref = parse_url(store, str(rf["httpUrl"]))
            container = _container(store, ref)
            _check_read_credential(rf, str(rf["httpUrl"]), ref, container, identities, listing=False)
            data = blob_models.read_blob(store, container, ref.blob)
            if data is None:
                raise DataError("BlobNotFound", f"The blob {ref.blob!r} does not exist.")
            target = layout.safe_join(wd, file_path or ref.blob.rsplit("/", 1)[-1])
            if target is None:
                raise DataError("InvalidFilePath", f"filePath {file_path!r} leaves the task directory.")
            _write(target, data, mode)
            continue
        if rf.get("autoStorageContainerName"):
            ref = ContainerRef(auto_storage(store, batch_account), str(rf["autoStorageContainerName"]))
            container = _container(store, ref)  # the Batch account's own storage: no credential to give
        elif rf.get("storageContainerUrl"):
            ref = parse_url(store, str(rf["storageContainerUrl"]))
            container = _container(store, ref)
            _check_read_credential(rf, str(rf["storageContainerUrl"]), ref, container, identities, listing=True)
        else:
            raise DataError("InvalidResourceFile", "A resource file needs httpUrl, storageContainerUrl or "
                            "autoStorageContainerName.")
        for blob in blob_models.list_blobs(store, container, str(rf.get("blobPrefix") or "")):
            name = blob.body["name"]
            target = layout.safe_join(wd, os.path.join(file_path, name))
            if target is None:
                raise DataError("InvalidFilePath", f"filePath {file_path!r} leaves the task directory.")
            _write(target, store.read_data(blob.kind, blob.key) or b"", mode)


def upload_condition_holds(condition: str | None, succeeded: bool) -> bool:
    c = (condition or "tasksuccess").lower()
    return c == "taskcompletion" or (c == "tasksuccess") == succeeded


def _glob_root(pattern: str) -> str:
    """The part of a pattern before its first wildcard segment (the base of relative blob names)."""
    parts = pattern.split("/")
    fixed = []
    for p in parts:
        if any(ch in p for ch in "*?["):
            break
        fixed.append(p)
    return "/".join(fixed)


def pool_identities(pool: Doc | None) -> frozenset[str]:
    """The user-assigned identities of a pool (resource ids, lower case): what a node can use."""
    identity = (pool.body.get("identity") if pool is not None else None) or {}
    users = identity.get("userAssignedIdentities") if isinstance(identity, dict) else None
    return frozenset(str(rid).lower() for rid in (users or {}))


def node_identities(store: Store, pool_key: str) -> frozenset[str]:
    """The identities a node of the pool stored at `pool_key` can use (`pool_identities`)."""
    return pool_identities(store.get(mgmt.KIND_POOL, pool_key))


def _check_upload_credential(dest: dict[str, Any], ref: ContainerRef, identities: frozenset[str]) -> None:
    """A node writes to a container only with a credential, as on Azure: the pool's managed
    identity named by `identityReference`, or a SAS in the URL that is valid now and allows
    writing. (Role assignments on the container are not checked locally: an identity of the pool
    is taken as allowed.) DataError FileUploadAccessDenied (Batch's code for a refused upload)
    naming what is wrong otherwise."""
    _require_credential(dest, str(dest.get("containerUrl") or ""), ref, identities, code="FileUploadAccessDenied",
                        owner="output file", permissions=("wc",), blob=None,
                        refused=f"The upload to container {ref.container!r}",
                        advice="An output file needs a credential: identityReference (a pool identity) or a SAS "
                               "allowing write in containerUrl.")


def _check_read_credential(rf: dict[str, Any], url: str, ref: ContainerRef, container: Doc,
                           identities: frozenset[str], *, listing: bool) -> None:
    """A node reads a container (`listing`: all its blobs) or a blob named by URL only with a
    credential, as on Azure: the pool's identity named by `identityReference`, a SAS valid now that
    allows reading (and listing, for a container), or public access on the container ("blob"
    opens its blobs, "container" also lists them). DataError otherwise, with Batch's code."""
    public = container.body.get("publicAccess")
    needs = "read and list" if listing else "read"
    _require_credential(rf, url, ref, identities,
                        code="ResourceContainerAccessDenied" if listing else "BlobAccessDenied",
                        owner="resource file", permissions=("r", "l") if listing else ("r",),
                        blob=None if listing else ref.blob,
                        public=public == "container" or (public == "blob" and not listing),
                        refused=f"Reading the {f'container {ref.container!r}' if listing else f'blob {ref.blob!r}'}",
                        advice=f"A resource file named by URL needs a credential: a SAS allowing {needs}, "
                               "identityReference (a pool identity), or a container open to the public.")


def _require_credential(entry: dict[str, Any], url: str, ref: ContainerRef, identities: frozenset[str], *,
                        code: str, owner: str, permissions: tuple[str, ...], blob: str | None, refused: str,
                        advice: str, public: bool = False) -> None:
    """The node's credential for `ref`, as the blob service would judge it: the identity named by
    `entry`'s identityReference (one of the pool's), else anonymous access when `public`, else a
    SAS in `url` valid now that allows each of `permissions` (each a string of alternatives:
    "wc" is write or create). DataError `code` saying what was refused and what would do."""
    from ..blob import auth as blob_auth
    from ..core import ApiError

    reference = entry.get("identityReference")
    if isinstance(reference, dict) and reference.get("resourceId"):
        if str(reference["resourceId"]).lower() not in identities:
            raise DataError(code, f"The identity {reference['resourceId']} named by the {owner}'s "
                            "identityReference is not an identity of the pool.")
        return
    if public:
        return
    try:
        for permission in permissions:
            blob_auth.check_sas_url(ref.account, urlparse(url).query, container=ref.container, blob=blob,
                                    permission=permission)
    except ApiError as exc:
        detail = "; ".join(str(d.get("value")) for d in exc.details or [] if isinstance(d, dict) and d.get("value"))
        raise DataError(code, f"{refused} was refused: {exc.code} ({detail or exc.message}). {advice}") from None


def upload_output_files(store: Store, outputs: Any, wd: Path, succeeded: bool,
                        identities: frozenset[str] = frozenset()) -> None:
    """Upload the output files whose condition holds; `identities`: the pool's (`pool_identities`)."""
    for of in outputs or []:
        if not isinstance(of, dict):
            continue
        condition = ((of.get("uploadOptions") or {}).get("uploadCondition")) or "tasksuccess"
        if not upload_condition_holds(str(condition), succeeded):
            continue
        pattern = str(of.get("filePattern") or "")
        dest = ((of.get("destination") or {}).get("container")) or {}
        ref = parse_url(store, str(dest.get("containerUrl") or ""))
        container = _container(store, ref)
        _check_upload_credential(dest, ref, identities)
        prefix = str(dest.get("path") or "")
        wildcard = any(ch in pattern for ch in "*?[")
        matches = sorted(glob.glob(str(wd / pattern), recursive=True)) if wildcard else [str(wd / pattern)]
        base = (wd / _glob_root(pattern)).resolve()
        for match in matches:
            path = Path(match)
            if not path.is_file():
                continue
            if wildcard:
                rel = os.path.relpath(path.resolve(), base)
                name = f"{prefix.rstrip('/')}/{rel}" if prefix else rel
            else:
                name = prefix or path.name
            blob_models.put_blob(store, container, name, path.read_bytes())


# -- application packages ---------------------------------------------------------------------------


def package_refs(refs: Any) -> list[tuple[str, str | None]]:
    """(application, version or None) of the pool's (management shape: `id`) or a task's
    (data-plane shape: `applicationId`) package references."""
    out = []
    for ref in refs or []:
        if not isinstance(ref, dict):
            continue
        ref_id = ref.get("applicationId") or ref.get("id")
        if ref_id:
            out.append((mgmt.application_name_of(str(ref_id)), ref.get("version")))
    return out


def install_package(store: Store, batch_account: Doc, app_name: str, version: str | None, apps_dir: Path) -> tuple[
    str, Path
]:
    """Unzip an application package into the node's applications dir: ("app#version", its dir)."""
    app = mgmt.get_application(store, batch_account, app_name)
    if app is None:
        raise DataError("ApplicationPackageNotFound", f"The application {app_name!r} does not exist.")
    version = version or app.body["properties"].get("defaultVersion")
    if not version:
        raise DataError("ApplicationPackageNotFound", f"The application {app_name!r} has no default version.")
    pkg = store.get(mgmt.KIND_PACKAGE, mgmt.package_key(app.key, str(version)))
    if pkg is None or pkg.body.get("state") != "Active":
        raise DataError("ApplicationPackageNotFound", f"The package {app_name} {version} is not active.")
    name = app.body["name"]
    target = apps_dir / f"{name}{version}.{hashlib.sha1(pkg.etag.encode()).hexdigest()[:10]}"
    ref = f"{name}#{version}"
    if target.is_dir():
        return ref, target
    storage = auto_storage(store, batch_account)
    data = blob_models.read_blob(store, storage_models.container_key(storage, pkg.body["container"]), pkg.body["blob"])
    if data is None:
        raise DataError("ApplicationPackageNotFound", f"The package {app_name} {version} has no content.")
    tmp = target.with_name(target.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    zip_path = tmp / ".package.zip"
    zip_path.write_bytes(data)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                extracted = Path(zf.extract(info, tmp))
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    extracted.chmod(mode)
    except zipfile.BadZipFile:
        raise DataError("ApplicationPackageInvalid", f"The package {app_name} {version} is not a zip file.") from None
    zip_path.unlink()
    os.replace(tmp, target)
    return ref, target


# -- mounts -------------------------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _mount_source(store: Store, entry: dict[str, Any], data_dir: Path) -> tuple[str, Path, ContainerRef | None]:
    """(relativeMountPath, backing dir, container to fill it from)."""
    for kind, conf in entry.items():
        if not isinstance(conf, dict):
            continue
        rel = str(conf.get("relativeMountPath") or "")
        k = kind.lower()
        if k == "azureblobfilesystemconfiguration":
            account, container = str(conf.get("accountName")), str(conf.get("containerName"))
            backing = data_dir / "mounts" / "blob" / _SAFE.sub("_", account) / _SAFE.sub("_", container)
            acct = storage_models.find_account(store, account)
            return rel, backing, ContainerRef(acct, container) if acct is not None else None
        if k == "azurefileshareconfiguration":
            url = str(conf.get("azureFileUrl") or "")
            parts = [p for p in urlparse(url).path.split("/") if p]
            share = parts[-1] if parts else "share"
            account = str(conf.get("accountName") or (parts[1] if len(parts) > 2 else "account"))
            return rel, data_dir / "mounts" / "file" / _SAFE.sub("_", account) / _SAFE.sub("_", share), None
        if k in ("nfsmountconfiguration", "cifsmountconfiguration"):
            source = _SAFE.sub("_", str(conf.get("source") or "source")).strip("_")
            return rel, data_dir / "mounts" / k[:4] / source, None
    raise DataError("InvalidMountConfiguration", "A mount configuration names no known file system.")


def mount_all(store: Store, entries: Any, data_dir: Path, mounts_dir: Path) -> None:
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        rel, backing, fill = _mount_source(store, entry, data_dir)
        link = layout.safe_join(mounts_dir, rel)
        if link is None or not rel:
            raise DataError("InvalidMountConfiguration", f"relativeMountPath {rel!r} is not a directory name.")
        if not backing.exists():
            backing.mkdir(parents=True, exist_ok=True)
            if fill is not None:
                container = storage_models.get_container(store, fill.account, fill.container)
                if container is not None:
                    for blob in blob_models.list_blobs(store, container):
                        target = layout.safe_join(backing, blob.body["name"])
                        if target is not None:
                            _write(target, store.read_data(blob.kind, blob.key) or b"", None)
                _save_stamps(backing, _stamps(backing))  # what came from the container is not written back
        if not link.is_symlink() and not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(backing, target_is_directory=True)


def sync_blob_mounts(store: Store, entries: Any, data_dir: Path) -> int:
    """Write back what the nodes wrote under the pool's blob (blobfuse) mounts: each new or changed
    file becomes a blob of the mounted container. A file's size and modification time at the last
    write-back are kept beside the backing directory, so only what changed is read. Symbolic links
    are never followed (a link could point anywhere on this machine). The blobs written."""
    written = 0
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        try:
            _rel, backing, ref = _mount_source(store, entry, data_dir)
        except DataError:
            continue
        if ref is None or not backing.is_dir():
            continue
        container = storage_models.get_container(store, ref.account, ref.container)
        if container is None:
            continue
        synced, now = _load_stamps(backing), _stamps(backing)
        for name, stamp in now.items():
            if synced.get(name) != stamp:
                blob_models.put_blob(store, container, name, (backing / name).read_bytes())
                written += 1
        if now != synced:
            _save_stamps(backing, {**synced, **now})
    return written


def _stamps(backing: Path) -> dict[str, list[int]]:
    """(size, mtime in ns) of every regular file under `backing`, by its blob name."""
    out: dict[str, list[int]] = {}
    for folder, dirs, names in os.walk(backing, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in names:
            path = Path(folder, name)
            info = path.lstat()
            if path.is_symlink() or not os.path.isfile(path):
                continue
            out[path.relative_to(backing).as_posix()] = [info.st_size, info.st_mtime_ns]
    return out


def _stamps_file(backing: Path) -> Path:
    return backing.with_name(backing.name + ".synced.json")


def _load_stamps(backing: Path) -> dict[str, list[int]]:
    try:
        found = json.loads(_stamps_file(backing).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _save_stamps(backing: Path, stamps: dict[str, list[int]]) -> None:
    target = _stamps_file(backing)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(stamps, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)
