"""Files on nodes, as the Batch data plane serves them: what the node agent's tasks left behind.

    GET|HEAD|DELETE /jobs/{job}/tasks/{task}/files/{path}       a file of the task's directory
    GET             /jobs/{job}/tasks/{task}/files?recursive=   its files (and directories)
    GET|HEAD|DELETE /pools/{pool}/nodes/{node}/files/{path}     a file under the node's root
    GET             /pools/{pool}/nodes/{node}/files?recursive=

Paths are read from the node directories of deployer.emulator.agent.layout (never outside them:
`..` is refused). GET honours `ocp-range: bytes=START-END` (answered 200 with Content-Range);
HEAD answers the file's properties in the headers azure-batch's get_*_file_properties reads
(`ocp-batch-file-url`, `-isdirectory`, `-mode`, `ocp-creation-time`, Content-Length,
Last-Modified). A task that has not started has no directory yet: 409 TaskNotStarted, as the service answers.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..agent import layout
from ..batch_mgmt import models as mgmt
from ..core import Doc, Request, Response, clock
from . import errors, models, pools

_RANGE = re.compile(r"^\s*bytes=(\d*)-(\d*)\s*$")


def _task_root(req: Request, account: Doc, job_id: str, task_id: str) -> tuple[Path, str]:
    """(the task's directory, its URL) on the node it ran on."""
    job, task = models.require_task(req.store, account, job_id, task_id)
    node = task.body["meta"].get("node")
    if not node:
        raise errors.task_not_started()
    root = layout.node_root(req.store.data_dir, models.account_name(account), node["poolId"], node["nodeId"])
    tdir = layout.task_dir(root, job.body["id"], task.body["id"])
    return tdir, models.task_url(req.base_url, account, job.body["id"], task.body["id"]) + "/files"


def _node_root(req: Request, account: Doc, pool_id: str, node_id: str) -> tuple[Path, str]:
    pool = mgmt.pool_of(req.store, account, pool_id)
    if pool is None:
        raise errors.pool_not_found()
    for n in pools.nodes(pool, clock.now()):
        if n.id.lower() == node_id.lower():
            root = layout.node_root(req.store.data_dir, models.account_name(account), pools.pool_id(pool), n.id)
            pool_url = pools.pool_url(req.base_url, models.account_name(account), pools.pool_id(pool))
            url = f"{pool_url}/nodes/{n.id}/files"
            return root, url
    raise errors.node_not_found()


def _resolve(base: Path, file_path: str) -> Path:
    target = layout.safe_join(base, file_path)
    if target is None or not os.path.lexists(target):
        raise errors.file_not_found()
    return target


def _headers(path: Path, url: str) -> dict[str, str]:
    st = path.stat()
    return {
        "ocp-batch-file-url": url,
        "ocp-batch-file-isdirectory": "true" if stat.S_ISDIR(st.st_mode) else "false",
        "ocp-batch-file-mode": format(stat.S_IMODE(st.st_mode) | (0o100000 if stat.S_ISREG(st.st_mode) else 0o40000),
                                      "o"),
        "ocp-creation-time": clock.http_date(st.st_ctime),
        "Last-Modified": clock.http_date(st.st_mtime),
        "Content-Length": str(0 if stat.S_ISDIR(st.st_mode) else st.st_size),
        "Content-Type": "application/octet-stream",
    }


def _get(req: Request, base: Path, base_url: str, file_path: str, *, head: bool) -> Response:
    path = _resolve(base, file_path)
    url = f"{base_url}/{quote(file_path)}"
    headers = _headers(path, url)
    if head or path.is_dir():
        return Response(200, b"", headers)
    raw = req.headers.get("ocp-range") or req.headers.get("Range")
    with path.open("rb") as f:  # one open file: its size and bytes agree while a task appends
        size = os.fstat(f.fileno()).st_size
        if not raw:
            data = f.read(size)
            headers["Content-Length"] = str(len(data))
            return Response(200, data, headers)
        m = _RANGE.match(raw)
        if m is None or (not m.group(1) and not m.group(2)):
            raise errors.invalid_range(raw)
        if m.group(1):
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        else:  # suffix: the last N bytes
            start, end = max(0, size - int(m.group(2))), size - 1
        if start >= size or start > end:
            raise errors.invalid_range(raw)
        f.seek(start)  # only the bytes asked for: a follow of a large file reads what is new
        data = f.read(end + 1 - start)
    end = start + len(data) - 1
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(len(data))
    return Response(200, data, headers)  # the service answers 200 (azure-batch accepts nothing else)


def _delete(req: Request, base: Path, file_path: str) -> Response:
    path = _resolve(base, file_path)
    if path.is_dir() and not path.is_symlink():
        if req.query.get("recursive", "").lower() != "true" and any(path.iterdir()):
            raise errors.invalid_request_body("The directory is not empty; delete it with recursive=true.")
        shutil.rmtree(path)
    else:
        path.unlink()
    return Response.empty(200)


def _entries(base: Path, base_url: str, recursive: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not base.is_dir():
        return out
    walker = sorted(base.rglob("*")) if recursive else sorted(base.iterdir())
    for p in walker:
        rel = p.relative_to(base).as_posix()
        try:
            st = p.stat()
        except OSError:
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        item: dict[str, Any] = {"name": rel, "url": f"{base_url}/{quote(rel)}", "isDirectory": is_dir}
        if not is_dir:
            item["properties"] = {
                "creationTime": clock.iso(st.st_ctime),
                "lastModified": clock.iso(st.st_mtime),
                "contentLength": st.st_size,
                "contentType": "application/octet-stream",
                "fileMode": format(stat.S_IMODE(st.st_mode) | 0o100000, "o"),
            }
        out.append(item)
    return out


def _recursive(req: Request) -> bool:
    return str(req.query.get("recursive", "")).lower() == "true"


# -- handlers (routes.py registers them) -------------------------------------------------------------


def get_task_file(req: Request, account: Doc, job_id: str, task_id: str, file_path: str) -> Response:
    base, url = _task_root(req, account, job_id, task_id)
    return _get(req, base, url, file_path, head=req.method == "HEAD")


def delete_task_file(req: Request, account: Doc, job_id: str, task_id: str, file_path: str) -> Response:
    base, _ = _task_root(req, account, job_id, task_id)
    return _delete(req, base, file_path)


def list_task_files(req: Request, account: Doc, job_id: str, task_id: str) -> list[dict[str, Any]]:
    base, url = _task_root(req, account, job_id, task_id)
    return _entries(base, url, _recursive(req))


def get_node_file(req: Request, account: Doc, pool_id: str, node_id: str, file_path: str) -> Response:
    base, url = _node_root(req, account, pool_id, node_id)
    return _get(req, base, url, file_path, head=req.method == "HEAD")


def delete_node_file(req: Request, account: Doc, pool_id: str, node_id: str, file_path: str) -> Response:
    base, _ = _node_root(req, account, pool_id, node_id)
    return _delete(req, base, file_path)


def list_node_files(req: Request, account: Doc, pool_id: str, node_id: str) -> list[dict[str, Any]]:
    base, url = _node_root(req, account, pool_id, node_id)
    return _entries(base, url, _recursive(req))
