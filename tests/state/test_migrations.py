from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect

from tokui.state.db import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    session_factory,
    session_scope,
)
from tokui.state.models import Base, Role
from tokui.state.users import authenticate, create_user


def test_migrations_up_down_up(state_url: str) -> None:
    engine = make_engine(state_url)
    migrate(engine)
    assert current_revision(engine) == head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_models_match_migrations(state_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(state_url)
    migrate(engine)
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []
    engine.dispose()


def test_users_roundtrip(state_url: str) -> None:
    engine = make_engine(state_url)
    migrate(engine)
    factory = session_factory(engine)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with session_scope(factory) as s:
        create_user(s, "Owner@Example.com", "long-enough-pw", Role.marketer)
    with session_scope(factory) as s:
        assert authenticate(s, "owner@example.com", "wrong-password", now) is None
        user = authenticate(s, "owner@example.com", "long-enough-pw", now)
        assert user is not None
        assert user.role_enum is Role.marketer
        assert user.password_hash.startswith("$argon2id$")
    engine.dispose()
