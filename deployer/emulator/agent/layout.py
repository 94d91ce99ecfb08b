"""Where a node's files live: one directory per pool node under the local data directory.

Batch's layout on a Linux node (AZ_BATCH_NODE_ROOT_DIR = /mnt/batch/tasks) is kept, rooted at
`{data_dir}/nodes/{account}/{pool}/{node id}`:

    shared/  startup/ (wd/, stdout.txt, stderr.txt)  applications/  fsmounts/
    workitems/{job}/job-1/{task}/         stdout.txt, stderr.txt, wd/
    workitems/{job}/job-1/jobpreparation/ and jobrelease/   (the same)

Both the agent (which writes them) and the data plane's file routes (which serve them) use this
module, so the paths can never disagree. Ids are used as the service shows them (case kept);
the pool and account parts are lower-cased, as their store keys are.
"""

from __future__ import annotations

from pathlib import Path

NODES_DIR = "nodes"
JOB_PREPARATION = "jobpreparation"
JOB_RELEASE = "jobrelease"


def node_root(data_dir: Path, account: str, pool: str, node_id: str) -> Path:
    return data_dir / NODES_DIR / account.lower() / pool.lower() / node_id


def pool_root(data_dir: Path, account: str, pool: str) -> Path:
    return data_dir / NODES_DIR / account.lower() / pool.lower()


def job_dir(root: Path, job_id: str) -> Path:
    return root / "workitems" / job_id / "job-1"


def task_dir(root: Path, job_id: str, task_id: str) -> Path:
    return job_dir(root, job_id) / task_id


def task_relative(job_id: str, task_id: str) -> str:
    """The task's directory relative to the node root (the service's `taskRootDirectory`)."""
    return f"workitems/{job_id}/job-1/{task_id}"


def startup_dir(root: Path) -> Path:
    return root / "startup"


def shared_dir(root: Path) -> Path:
    return root / "shared"


def applications_dir(root: Path) -> Path:
    return root / "applications"


def mounts_dir(root: Path) -> Path:
    return root / "fsmounts"


def make_node(root: Path) -> None:
    for sub in ("shared", "startup", "applications", "fsmounts", "workitems"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def safe_join(base: Path, relative: str) -> Path | None:
    """`base / relative` if it stays inside `base` (no `..` escape), else None."""
    target = (base / relative.lstrip("/")).resolve()
    base_resolved = base.resolve()
    if target != base_resolved and base_resolved not in target.parents:
        return None
    return target
