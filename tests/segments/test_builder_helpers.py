"""Helpers behind the web segment pages: builder fields, counts, overlaps, CSV export.

On the hand-made shop of tests/features/shop.py (as of 2025-12-31), on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from tests.conftest import fresh_pg_url
from tests.features.shop import load_shop
from tokui.clock import FixedClock
from tokui.refresh.features import materialise_features
from tokui.segments.compile import SegmentError, members
from tokui.segments.export import ExportEncodingError, export_members, member_rows, to_csv
from tokui.segments.fields import (
    BUILDER_FIELDS,
    builder_fields,
    builder_menus,
    category_values,
)
from tokui.segments.fields import product_categories as categories
from tokui.segments.library import library
from tokui.segments.preview import count_members, make_context, overlap, overlap_with
from tokui.warehouse import connect, create_schema

CLOCK = FixedClock(datetime(2025, 12, 31, 3, 0, tzinfo=UTC))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BaseBackend]:
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path_factory.mktemp('seg') / 'w.duckdb'}"
    else:
        url = fresh_pg_url(request.getfixturevalue("pg_database"))
    con = connect(url)
    create_schema(con)
    load_shop(con)
    materialise_features(con, CLOCK.now().date())
    yield con
    con.disconnect()


def test_builder_fields_are_the_whitelist_with_kinds(shop: BaseBackend) -> None:
    fields = builder_fields(shop)
    assert list(fields) == list(BUILDER_FIELDS)
    kinds = {name: (f.kind, f.integer) for name, f in fields.items()}
    assert kinds["frequency"] == ("number", True)
    assert kinds["gift_share"] == ("number", False)
    assert kinds["last_order"] == ("date", False)
    assert kinds["last_access_at"] == ("date", False)  # a timestamp, compared by date
    assert kinds["prefecture"] == ("category", False)
    assert kinds["email_opt_in"] == ("boolean", False)
    for hidden in ("customer_id", "customer_hash", "as_of"):
        assert hidden not in fields


def test_category_values_most_common_first(shop: BaseBackend) -> None:
    # g and i are repeat buyers; s dormant, n first, r registered.
    assert category_values(shop, "lifecycle_stage") == ["repeat", "dormant", "first", "registered"]
    assert category_values(shop, "lifecycle_stage", limit=3) is None
    assert set(categories(shop)) == {"米", "ギフト", "野菜"}


def test_builder_menus_are_computed_once_per_refresh(shop: BaseBackend) -> None:
    menus = builder_menus(shop)
    assert menus.values["lifecycle_stage"] == ["repeat", "dormant", "first", "registered"]
    assert set(menus.categories) == {"米", "ギフト", "野菜"}
    assert set(menus.values) == {n for n, f in builder_fields(shop).items() if f.kind == "category"}
    assert builder_menus(shop) is menus  # same features: the cached menus


def test_count_and_overlap_with_agree_with_members_and_matrix(shop: BaseBackend) -> None:
    definitions = library()
    ctx = make_context(shop, resolve=definitions.get)
    d = definitions["never-subscribed"]
    assert count_members(ctx, d) == 2
    others = [v for k, v in sorted(definitions.items()) if k != d.key]
    shared = overlap_with(ctx, d, others)
    matrix = overlap(ctx, [d, *others])
    for other in others:
        assert shared[other.key] == (
            int(matrix.loc[d.key, other.key]),
            int(matrix.loc[other.key, other.key]),
        )
    assert shared["gift-givers"] == (1, 1)
    assert shared["registered-no-purchase"] == (0, 1)
    assert overlap_with(ctx, d, []) == {}


def test_member_rows_are_consent_filtered(shop: BaseBackend) -> None:
    definitions = library()
    # never-subscribed: g and n; line consent: n only.
    rows = member_rows(shop, definitions, "never-subscribed", "line", ("customer_id",))
    assert list(rows.customer_id) == ["n"]
    rows = member_rows(shop, definitions, "never-subscribed", None, ("customer_id", "prefecture"))
    assert rows.values.tolist() == [["g", "東京都"], ["n", "大阪府"]]
    with pytest.raises(SegmentError, match="columns not exportable: birth_date"):
        member_rows(shop, definitions, "never-subscribed", "dm", ("customer_id", "birth_date"))
    with pytest.raises(SegmentError, match="unknown channel 'fax'"):
        member_rows(shop, definitions, "never-subscribed", "fax")
    with pytest.raises(SegmentError, match="no segment 'nope'"):
        member_rows(shop, definitions, "nope", "dm")


def test_export_members_writes_bom_csv(shop: BaseBackend, tmp_path: Path) -> None:
    out = tmp_path / "dm.csv"
    assert export_members(shop, library(), "never-subscribed", out, "email") == 2
    # The shop has no contact details: empty cells, not "None" or "nan".
    assert (
        out.read_bytes()
        == (
            "\ufeffcustomer_id,name,name_kana,email,postal_code,prefecture,phone\r\n"
            "g,,,,,東京都,\r\n"
            "n,,,,,大阪府,\r\n"
        ).encode()
    )
    ctx = make_context(shop, resolve=library().get)
    assert set(members(ctx, library()["never-subscribed"]).customer_id.execute()) == {"g", "n"}


def test_to_csv_neutralises_formulas_and_encodes() -> None:
    df = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "name": ["=SUM(A1)", "+81 3", "髙橋"],
            "email": ["@x", "-1", None],
            "phone": ["\tx", "\rx", "03"],
        }
    )
    text = to_csv(df).decode("utf-8-sig")
    assert text == (
        "customer_id,name,email,phone\r\n"
        "a,'=SUM(A1),'@x,'\tx\r\n"
        "b,'+81 3,'-1,\"'\rx\"\r\n"
        "c,髙橋,,03\r\n"
    )
    assert to_csv(df, "shift_jis").decode("cp932") == text
    bad = pd.DataFrame({"customer_id": ["a", "z"], "name": ["山田", "田中 🍙"]})
    with pytest.raises(ExportEncodingError, match="customer z, column name: '🍙'"):
        to_csv(bad, "shift_jis")
    with pytest.raises(SegmentError, match="unknown encoding 'latin-1'"):
        to_csv(bad, "latin-1")
