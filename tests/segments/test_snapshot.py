"""Entry and exit events across two refreshes, and saved segments in the state DB."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.features.shop import load_shop
from tokui.clock import FixedClock
from tokui.refresh import run_refresh
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.library import from_yaml, library, to_yaml
from tokui.segments.snapshot import EVENTS, MEMBERSHIPS, SIZES
from tokui.segments.store import all_definitions, archive, save
from tokui.state.db import session_scope
from tokui.state.models import AuditLog
from tokui.warehouse import bulk_load
from tokui.workspace import init_workspace

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_library_round_trips_through_yaml() -> None:
    lib = library()
    assert {
        "high-value",
        "churn-risk",
        "growth",
        "platinum",
        "dormant-top",
        "never-subscribed",
        "one-time-buyers",
        "gift-givers",
        "global-control",
    } <= set(lib)
    for definition in lib.values():
        assert from_yaml(to_yaml(definition)) == definition


def test_entries_and_exits_across_refreshes(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    load_shop(ws.warehouse)
    repeaters = SegmentDefinition.model_validate(
        {
            "key": "repeaters",
            "name_ja": "リピーター",
            "name_en": "Repeaters",
            "condition": {"type": "compare", "field": "frequency", "op": "ge", "value": 2},
        }
    )
    with session_scope(ws.sessions) as s:
        save(s, repeaters, NOW.replace(tzinfo=None))
    day1 = FixedClock(datetime(2025, 12, 31, 3, tzinfo=UTC))
    run_refresh(ws, day1)
    con = ws.warehouse
    m = con.table(MEMBERSHIPS)
    assert sorted(m.filter(m.segment_key == "repeaters").customer_id.execute()) == ["g", "i", "s"]

    # n buys a second time on 2026-01-05; s is archived from the shop (e.g. deleted member)
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": ["on2"],
                "customer_id": ["n"],
                "ordered_at": [datetime(2026, 1, 5, 3)],
                "status": ["completed"],
                "subtotal": [500],
                "discount": [0],
                "shipping_fee": [0],
                "points_used": [0],
                "total": [500],
                "points_earned": [0],
                "is_gift": [False],
            }
        ),
    )
    con.raw_sql('DELETE FROM "orders" WHERE "customer_id" = \'s\'')
    day2 = FixedClock(datetime(2026, 1, 6, 3, tzinfo=UTC))
    run_refresh(ws, day2)
    run_refresh(ws, day2)  # a rerun adds no duplicate events
    e = con.table(EVENTS)
    ev = e.filter(e.segment_key == "repeaters").execute().sort_values(["as_of", "customer_id"])
    got = [(str(r.as_of)[:10], r.customer_id, r.event) for r in ev.itertuples()]
    assert got == [
        ("2025-12-31", "g", "entered"),
        ("2025-12-31", "i", "entered"),
        ("2025-12-31", "s", "entered"),
        ("2026-01-06", "n", "entered"),
        ("2026-01-06", "s", "exited"),
    ]
    sizes = con.table(SIZES)
    rep = sizes.filter(sizes.segment_key == "repeaters").order_by("as_of").members.execute()
    assert rep.tolist() == [3, 3]
    ws.close()


def test_saving_versions_and_audits(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    d = SegmentDefinition.model_validate(
        {
            "key": "high-value",
            "name_ja": "優良 (自社定義)",
            "name_en": "High value (ours)",
            "condition": {"type": "compare", "field": "monetary", "op": "ge", "value": 100_000},
        }
    )
    when = NOW.replace(tzinfo=None)
    with session_scope(ws.sessions) as s:
        assert save(s, d, when).version == 1
        assert save(s, d, when).version == 1  # unchanged: no new version
        changed = d.model_copy(update={"name_en": "High value v2"})
        assert save(s, changed, when).version == 2
        defs = all_definitions(s)
        assert defs["high-value"].name_en == "High value v2"  # overrides the library one
        assert "churn-risk" in defs
        archive(s, "high-value", when)
        assert all_definitions(s)["high-value"] == library()["high-value"]
        actions = [a.action for a in s.query(AuditLog).order_by(AuditLog.id)]
    assert actions == ["segment.create", "segment.update", "segment.archive"]
    ws.close()


@pytest.mark.parametrize("bad", ["key: [", "key: x\nname_ja: a\nname_en: b\ncondition: {}"])
def test_bad_yaml_is_reported(bad: str) -> None:
    from tokui.segments.compile import SegmentError

    with pytest.raises(SegmentError, match="<yaml>"):
        from_yaml(bad)


def test_empty_shop_snapshot(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    run_refresh(ws, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert ws.warehouse.table(MEMBERSHIPS).count().execute() == 0
    assert date(2026, 1, 1) == pd.Timestamp(ws.warehouse.table(SIZES).as_of.max().execute()).date()
    ws.close()
