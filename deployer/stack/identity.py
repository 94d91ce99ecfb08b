"""A stack file's identity: what apply records on the accounts and networks the file declares.

Two stack files may carry the same `stack:` name (a copy made for another environment, a file
split in two); ownership markers alone cannot tell their resources apart, so a plan from one file
would delete what the other declared. Apply therefore also records which file declared each
account and network (`deployer.stackFile`, see `deployer.resources.ownership`), and a plan that
would delete one declared by another file is refused without `--force`.

The identity is the file's path relative to the root of its git repository, with `/` separators
(`stacks/media.yaml`): the same on every checkout — a laptop, a CI runner, a colleague's clone — where
an absolute path is not, and different for `envs/dev/stack.yaml` and `envs/prod/stack.yaml`, where
the bare file name is not. Outside a repository it is the file name alone.
"""

from __future__ import annotations

from pathlib import Path


def stack_file_id(path: Path) -> str:
    """`path` relative to the nearest enclosing git repository (a `.git` folder or file), else its name."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return path.name
    for folder in resolved.parents:
        try:
            if (folder / ".git").exists():
                return resolved.relative_to(folder).as_posix()
        except OSError:
            break
    return path.name
