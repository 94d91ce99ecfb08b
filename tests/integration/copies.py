"""The example stacks copied for a test to change freely, with the templates they import."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def copy_stacks(tmp_path: Path) -> Path:
    """`stacks/` (with its apps and env files) and `templates/` under `tmp_path`, as in the
    repository; returns the copy of `stacks/`."""
    (tmp_path / ".git").mkdir(exist_ok=True)  # where the search for templates/ stops
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    return Path(shutil.copytree(REPO / "stacks", tmp_path / "stacks"))
