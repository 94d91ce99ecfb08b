"""`deploy apply FILE` tells a saved plan (JSON) from a stack (YAML, maybe a template)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer.apply.engine import is_saved_plan


@pytest.mark.parametrize(("name", "text", "saved"), [
    ("plan.json", "{}", True),
    ("tfplan", '{\n  "formatVersion": 1}', True),
    ("stack.yaml", "{% import 'images.j2' as images %}\nstack: s\n", False),  # a template, not a plan
    ("stack", "{% import 'images.j2' as images %}\nstack: s\n", False),
    ("stack", "{# a comment #}\nstack: s\n", False),
    ("stack.yml", "{stack: s}\n", False),
    ("stack", "stack: s\n", False),
])
def test_saved_plan_or_stack(tmp_path: Path, name: str, text: str, saved: bool) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert is_saved_plan(path) is saved
