"""A people-shop workspace per test, on DuckDB and (with TOKUI_TEST_PG_URL) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.privacy.people import people_workspace
from tokui.workspace import Workspace


@pytest.fixture
def people_ws(warehouse_url: str, tmp_path: Path) -> Iterator[Workspace]:
    url = None if warehouse_url.startswith("duckdb://") else warehouse_url
    ws = people_workspace(tmp_path / "ws", url)
    yield ws
    ws.close()
