"""Apply an upload (deployer.resources.upload): list the container once, upload every file whose
blob is missing or has another Content-MD5, in parallel, each in chunks (block blobs staged
`max_concurrency` at a time by azure-storage-blob), with the file's MD5 set as the blob's
Content-MD5 so the next plan compares without reading a byte. Never deletes a blob.
Progress goes to standard error, at most once a second."""

from __future__ import annotations

import base64
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from deployer.errors import ApplyError
from deployer.stack.model import Address, DesiredResource

PARALLEL_FILES = 8  # files in flight at once
CHUNK = 4 * 1024 * 1024  # block size; files above SINGLE_PUT go up in blocks
SINGLE_PUT = 8 * 1024 * 1024
BLOCKS_PER_FILE = 4  # blocks of one file in flight at once


def sync(writers: Any, resource: DesiredResource) -> dict[str, int]:
    from azure.storage.blob import ContainerClient, ContentSettings

    from deployer.resources.upload import content_md5, list_md5, source_files

    account_address = Address(resource.address.parts[:2])
    storage = writers.stack.get(account_address)
    endpoint = writers.context.storage_endpoint(account_address, "blob")
    if storage is None or not endpoint:
        raise ApplyError(f"{resource.address}: the storage account's blob endpoint is not known")
    files = source_files(resource.spec)
    live = list_md5(writers.clients, {"properties": {"primaryEndpoints": {"blob": endpoint}}}, resource.name,
                    resource.spec)
    todo = [(name, path, content_md5(path)) for name, path in files.items()]
    todo = [(name, path, md5) for name, path, md5 in todo if live.get(name) != md5]
    options = dict(getattr(writers.clients, "_blob_options", {}) or {})
    url = str(endpoint).rstrip("/") + "/" + resource.name
    container = ContainerClient.from_container_url(url, credential=writers.clients.credential,
                                                   max_single_put_size=SINGLE_PUT, max_block_size=CHUNK, **options)
    progress = _Progress(str(resource.address), len(todo), sum(p.stat().st_size for _, p, _ in todo))

    def upload(item: tuple[str, Path, str]) -> None:
        name, path, md5 = item
        with path.open("rb") as data:
            container.upload_blob(name, data, overwrite=True, length=path.stat().st_size,
                                  max_concurrency=BLOCKS_PER_FILE,
                                  content_settings=ContentSettings(content_md5=bytearray(base64.b64decode(md5))))
        progress.advance(path.stat().st_size)

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_FILES, thread_name_prefix="upload") as pool:
            list(pool.map(upload, todo))
    finally:
        if "transport" not in options:  # a shared (embedded emulator) transport outlives this client
            container.close()
        progress.finish()
    return {"files": len(files), "uploaded": len(todo)}


class _Progress:
    def __init__(self, address: str, files: int, size: int) -> None:
        self.address, self.files, self.size = address, files, size
        self.done = self.bytes = self.printed = 0
        self.lock = threading.Lock()
        self.last = time.monotonic()

    def advance(self, size: int) -> None:
        with self.lock:
            self.done += 1
            self.bytes += size
            now = time.monotonic()
            if now - self.last >= 1.0:
                self.last = now
                self._print()

    def finish(self) -> None:
        if self.files and self.printed != self.done:
            self._print()

    def _print(self) -> None:
        self.printed = self.done
        sys.stderr.write(f"{self.address}: uploaded {self.done}/{self.files} files "
                         f"({self.bytes / 1e6:.1f} of {self.size / 1e6:.1f} MB)\n")
        sys.stderr.flush()
