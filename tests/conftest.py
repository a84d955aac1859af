"""Shared fixtures: fresh stores on DuckDB/SQLite and, in CI, PostgreSQL.

PostgreSQL tests use TOKUI_TEST_PG_URL. Locally they skip when it is unset; with
TOKUI_REQUIRE_PG=1 (as .ci/run sets) a missing server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_URL = os.environ.get("TOKUI_TEST_PG_URL")
REQUIRE_PG = os.environ.get("TOKUI_REQUIRE_PG") == "1"


def _admin_conninfo() -> str:
    assert PG_URL is not None
    return PG_URL.replace("postgresql+psycopg://", "postgresql://").replace(
        "postgres://", "postgresql://"
    )


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run; returns its libpq URL."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TOKUI_REQUIRE_PG=1 but TOKUI_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL tests need TOKUI_TEST_PG_URL (set by .ci/run)")
    name = f"tokui_test_{uuid.uuid4().hex[:10]}"
    base = _admin_conninfo()
    try:
        admin = psycopg.connect(base, autocommit=True)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL unreachable at {base}: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def fresh_pg_url(pg_database: str) -> str:
    """Empty the test database and return its Ibis URL."""
    with psycopg.connect(pg_database, autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")
    return pg_database.replace("postgresql://", "postgres://")


@pytest.fixture
def pg_clean(pg_database: str) -> Iterator[str]:
    """The test database, emptied of tables before the test."""
    fresh_pg_url(pg_database)
    yield pg_database


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty warehouse on each backend we support."""
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    url: str = request.getfixturevalue("pg_clean")
    return url.replace("postgresql://", "postgres://")


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("pg_clean")
    return url.replace("postgresql://", "postgresql+psycopg://")
