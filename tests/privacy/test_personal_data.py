"""The erasure table list covers every table the code creates, so none is forgotten."""

from __future__ import annotations

from pathlib import Path

from tests.privacy.people import people_workspace
from tokui.privacy.erase import plan
from tokui.privacy.personal_data import (
    NOT_PERSONAL,
    PERSONAL_COLUMNS,
    PERSONAL_TABLES,
    personal_table_names,
    unclassified,
)
from tokui.privacy.state_data import STATE_EXEMPT, customer_tables
from tokui.state.models import Base
from tokui.warehouse.schema import TABLES


def test_every_warehouse_table_is_classified(tmp_path: Path) -> None:
    """A workspace after load and refresh holds every table the code creates; each must
    be personal (erased) or declared not personal, with a reason."""
    ws = people_workspace(tmp_path / "ws")
    try:
        tables = ws.warehouse.list_tables()
        assert unclassified(tables) == []
        for name in tables:
            if name in NOT_PERSONAL or name.startswith(("_tokui_", "ibis_")):
                continue
            assert name in personal_table_names(), name
        # Not-personal tables really hold nothing that points at a person.
        for name in NOT_PERSONAL:
            if name in tables:
                assert not PERSONAL_COLUMNS & set(ws.warehouse.table(name).columns), name
        # Every table the refresh made is present, so the check above saw them all.
        assert set(personal_table_names()) <= set(tables)
        assert [p.table for p in plan(ws.warehouse)] == personal_table_names()
    finally:
        ws.close()


def test_every_canonical_table_is_classified() -> None:
    assert unclassified(list(TABLES)) == []
    for spec in TABLES.values():
        if PERSONAL_COLUMNS & set(spec.column_names):
            assert spec.name in personal_table_names(), spec.name


def test_children_are_erased_before_their_parents() -> None:
    order = personal_table_names()
    for p in PERSONAL_TABLES:
        if p.via is not None:
            assert order.index(p.table) < order.index(p.via[0]), p.table
    assert order[-1] == "customers"


def test_every_state_table_with_contact_data_is_erased_or_exempt() -> None:
    """A state table with customer columns is erased by customer_id; any other table
    with contact columns must be declared exempt with a reason (staff accounts)."""
    erased = {t.name for t in customer_tables()}
    for name, table in Base.metadata.tables.items():
        columns = set(table.columns.keys())
        if "customer_id" in columns:
            assert name in erased, name
        elif {"email", "phone", "line_user_id", "address", "recipient"} & columns:
            assert name in erased or name in STATE_EXEMPT, name
    assert "users" in STATE_EXEMPT
