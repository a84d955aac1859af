"""The cart profiles bring customers' street addresses (for postal DM): a Japanese
Shopify customers export (City + Address1, Address2), EC-CUBE's member CSV in its
default Shift_JIS (住所1, 住所2) and the customers inside an EC-CUBE orders export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ibis.backends import BaseBackend

from tokui.ingest import import_file
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import create_schema

DATA = Path(__file__).parent / "data"
ADDRESS = ("postal_code", "prefecture", "address1", "address2")


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[BaseBackend]:
    con = connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    create_schema(con)
    yield con
    con.disconnect()


def _addresses(con: BaseBackend) -> dict[str, tuple[Any, ...]]:
    rows = con.table("customers").to_pyarrow().to_pylist()
    return {r["customer_id"]: tuple(r[c] for c in ADDRESS) for r in rows}


def test_shopify_japanese_addresses(duck: BaseBackend) -> None:
    result = import_file(duck, None, DATA / "shopify_customers_jp.csv", "shopify_customers")
    assert result.status == "ok", [str(e) for e in result.errors]
    assert _addresses(duck) == {
        "hanako@example.jp": ("5300001", "大阪府", "大阪市北区 梅田1-1-3", "大阪駅前第1ビル 12F"),
        "taro@example.jp": ("1000005", "東京都", "千代田区 丸の内1-1-1", None),
        "noaddress@example.jp": (None, None, None, None),
    }


def test_eccube_member_csv_in_shift_jis(duck: BaseBackend, tmp_path: Path) -> None:
    sjis = tmp_path / "customer_20240301.csv"
    sjis.write_bytes((DATA / "eccube_customers.csv").read_text("utf-8").encode("cp932"))
    result = import_file(duck, None, sjis, "eccube_customers")
    assert result.status == "ok", [str(e) for e in result.errors]
    assert result.encoding == "cp932"
    assert _addresses(duck) == {
        "1": ("1000001", "東京都", "千代田区千代田", "1-1 千代田ハイツ101"),
        "2": ("5300001", "大阪府", "大阪市北区梅田", "2-4-9"),
    }


def test_eccube_orders_bring_the_buyers_address(duck: BaseBackend) -> None:
    result = import_file(duck, None, DATA / "eccube_orders.csv", "eccube_orders")
    assert result.status == "ok", [str(e) for e in result.errors]
    assert _addresses(duck)["1"] == ("1000001", "東京都", "千代田区千代田", None)
