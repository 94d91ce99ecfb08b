"""The presets shipped inside the package (`deployer/templates`, the repository's templates/).

A stack outside the repository — an installed wheel, an empty folder — still imports
`images.j2`, `autoscale.j2` and `start_tasks.j2`: they are package data, searched after the
stack's own folder and the nearest `templates/` folder above it (so a project's own fragment of
the same name wins). In the repository `deployer/templates` is a link to templates/.
"""

from __future__ import annotations

from pathlib import Path


def packaged_templates() -> Path | None:
    """The installed presets folder (resolved), or None if this installation has none."""
    folder = (Path(__file__).resolve().parents[2] / "templates").resolve()
    return folder if folder.is_dir() else None
