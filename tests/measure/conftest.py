"""The hand-made measurement shop on DuckDB + SQLite and on PostgreSQL + PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tests.measure.shop import load_state, load_warehouse
from tokui.state.db import make_engine, migrate, session_factory
from tokui.warehouse import connect
from tokui.warehouse.schema import create_schema


@dataclass
class Stores:
    con: BaseBackend
    sessions: sessionmaker[Session]
    messages: dict[str, int]
    kind: str


@pytest.fixture(params=["embedded", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    if request.param == "embedded":
        warehouse = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
        state = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url: str = request.getfixturevalue("pg_clean")
        warehouse = url.replace("postgresql://", "postgres://")
        state = url.replace("postgresql://", "postgresql+psycopg://")
    con = connect(warehouse)
    create_schema(con)
    engine = make_engine(state)
    migrate(engine)
    sessions = session_factory(engine)
    load_warehouse(con)
    ids = load_state(sessions)
    yield Stores(con, sessions, ids, request.param)
    con.disconnect()
    engine.dispose()
