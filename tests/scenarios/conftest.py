"""A scenario workspace per test, with its state DB on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.shop import NOW, build
from tokui.clock import FixedClock
from tokui.workspace import Workspace


@pytest.fixture
def sws(state_url: str, tmp_path: Path) -> Iterator[Workspace]:
    url = None if state_url.startswith("sqlite") else state_url
    ws = build(tmp_path / "ws", url)
    yield ws
    ws.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)
