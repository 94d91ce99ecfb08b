"""Shared by every test: the day lifecycle checks judge on is pinned.

validate compares images and VM sizes with their end-of-support dates on the day it runs; a test
suite that passes today must pass next year too, so tests see the catalog's own date (tests of
the dates themselves pin theirs explicitly)."""

from __future__ import annotations

from datetime import date

import pytest

#: The `asOf` date of the shipped lifecycle tables (deployer/data/*.json).
CATALOG_DAY = date(2026, 12, 5)


@pytest.fixture(autouse=True)
def _lifecycle_day(monkeypatch: pytest.MonkeyPatch) -> None:
    from deployer.stack.checks import lifecycle

    monkeypatch.setattr(lifecycle, "today", lambda: CATALOG_DAY)
