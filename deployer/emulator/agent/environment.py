"""The environment of a task: Batch's documented AZ_BATCH_* variables, then the task's own.

Order (later wins, as on a node): the few variables inherited from the agent (PATH, HOME, ...),
AZ_BATCH_*, the job's commonEnvironmentSettings, the task's environmentSettings.
Reference: "Azure Batch runtime environment variables" (learn.microsoft.com).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout
from .process import base_environment


@dataclass
class NodeContext:
    """What the variables say about the node a task runs on."""

    account: str
    account_url: str
    pool_id: str
    node_id: str
    dedicated: bool
    root: Path
    ip: str = "127.0.0.1"
    packages: dict[str, Path] = field(default_factory=dict)  # "app#version" -> unzipped dir


def app_package_names(app: str, version: str | None) -> list[str]:
    """The names of the variable for one application package: on Linux, `.`, `-` and `#` become
    `_` (application id case kept): AZ_BATCH_APP_PACKAGE_ffmpeg_6_1; the `#` form
    AZ_BATCH_APP_PACKAGE_ffmpeg#6.1 is set too (Windows' spelling, which some scripts use)."""
    if not version:
        return [f"AZ_BATCH_APP_PACKAGE_{_flat(app)}"]
    return [f"AZ_BATCH_APP_PACKAGE_{_flat(app)}_{_flat(version)}", f"AZ_BATCH_APP_PACKAGE_{app}#{version}"]


def _flat(text: str) -> str:
    return re.sub(r"[.#-]", "_", text)


def user_identity(identity: dict[str, Any] | None, default_scope: str = "pool") -> tuple[str, str]:
    """(AZ_BATCH_TASK_USER, AZ_BATCH_TASK_USER_IDENTITY): `_azbatch` and e.g. `PoolNonAdmin`.

    The task still runs as the user running the agent: the local target never escalates."""
    identity = identity or {}
    if identity.get("username") or identity.get("userName"):
        name = str(identity.get("username") or identity.get("userName"))
        return name, name
    auto = identity.get("autoUser") or {}
    scope = str(auto.get("scope") or default_scope).lower()
    level = str(auto.get("elevationLevel") or "nonadmin").lower()
    return "_azbatch", f"{'Pool' if scope == 'pool' else 'Task'}{'Admin' if level == 'admin' else 'NonAdmin'}"


def settings(items: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = "" if item.get("value") is None else str(item["value"])
    return out


def node_variables(node: NodeContext) -> dict[str, str]:
    root = node.root
    env = {
        "AZ_BATCH_ACCOUNT_NAME": node.account,
        "AZ_BATCH_ACCOUNT_URL": node.account_url,
        "AZ_BATCH_POOL_ID": node.pool_id,
        "AZ_BATCH_NODE_ID": node.node_id,
        "AZ_BATCH_NODE_IS_DEDICATED": "true" if node.dedicated else "false",
        "AZ_BATCH_NODE_ROOT_DIR": str(root),
        "AZ_BATCH_NODE_SHARED_DIR": str(layout.shared_dir(root)),
        "AZ_BATCH_NODE_STARTUP_DIR": str(layout.startup_dir(root)),
        "AZ_BATCH_NODE_STARTUP_WORKING_DIR": str(layout.startup_dir(root) / "wd"),
        "AZ_BATCH_NODE_MOUNTS_DIR": str(layout.mounts_dir(root)),
        "AZ_BATCH_CERTIFICATES_DIR": "",
    }
    for ref, path in node.packages.items():
        app, _, version = ref.partition("#")
        for name in app_package_names(app, version or None):
            env[name] = str(path)
    return env


def task_environment(
    node: NodeContext,
    *,
    task_dir: Path,
    job_id: str | None = None,
    task_id: str | None = None,
    identity: dict[str, Any] | None = None,
    job_prep_dir: Path | None = None,
    packages: dict[str, Path] | None = None,
    common: Any = None,
    own: Any = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = base_environment()
    env.update(node_variables(node))
    env["AZ_BATCH_TASK_DIR"] = str(task_dir)
    env["AZ_BATCH_TASK_WORKING_DIR"] = str(task_dir / "wd")
    env["AZ_BATCH_CERTIFICATES_DIR"] = str(task_dir / "certs")
    if job_id is not None:
        env["AZ_BATCH_JOB_ID"] = job_id
    if task_id is not None:
        env["AZ_BATCH_TASK_ID"] = task_id
    if job_prep_dir is not None:
        env["AZ_BATCH_JOB_PREP_DIR"] = str(job_prep_dir)
        env["AZ_BATCH_JOB_PREP_WORKING_DIR"] = str(job_prep_dir / "wd")
    user, user_identity_name = user_identity(identity, "task" if task_id is not None else "pool")
    env["AZ_BATCH_TASK_USER"] = user
    env["AZ_BATCH_TASK_USER_IDENTITY"] = user_identity_name
    for ref, path in (packages or {}).items():
        app, _, version = ref.partition("#")
        for name in app_package_names(app, version or None):
            env[name] = str(path)
    env.update(extra or {})
    env.update(settings(common))
    env.update(settings(own))
    return env
