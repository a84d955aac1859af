"""File import: real cart samples, encodings, malformed files, all-or-nothing, history."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tokui.ingest import import_file, list_runs, load_profile
from tokui.ingest.parse import parse_date, parse_datetime, parse_money, parse_prefecture
from tokui.state.db import make_engine, migrate, session_factory
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import TABLES, create_schema

DATA = Path(__file__).parent / "data"


@pytest.fixture
def wh(warehouse_url: str) -> Iterator[BaseBackend]:
    con = connect(warehouse_url)
    create_schema(con)
    yield con
    con.disconnect()


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[BaseBackend]:
    con = connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    create_schema(con)
    yield con
    con.disconnect()


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine)
    return session_factory(engine)


def snapshot(con: BaseBackend) -> dict[str, list[tuple[Any, ...]]]:
    """Every canonical table's full contents, sorted, to compare before and after."""
    out = {}
    for name, spec in TABLES.items():
        df = con.table(name).to_pyarrow().to_pylist()
        out[name] = sorted((tuple(r[c] for c in spec.column_names) for r in df), key=repr)
    return out


def row(con: BaseBackend, table: str, **key: Any) -> dict[str, Any]:
    rows = [
        r
        for r in con.table(table).to_pyarrow().to_pylist()
        if all(r[k] == v for k, v in key.items())
    ]
    assert len(rows) == 1, rows
    return rows[0]


# --- real samples ----------------------------------------------------------------------


def test_shopify_orders_sample(wh: BaseBackend) -> None:
    r = import_file(wh, None, DATA / "shopify_orders.csv", "shopify_orders")
    assert r.status == "ok", [str(e) for e in r.errors]
    assert r.tables["orders"].inserted == 19
    assert r.tables["order_items"].inserted == 40
    # #1005: karine.ruby@example.com, paid, 2025-05-12 15:07:54 -0400, Subtotal 1635.55.
    o = row(wh, "orders", order_id="#1005")
    assert o["customer_id"] == "karine.ruby@example.com"
    assert o["status"] == "completed"
    assert o["ordered_at"] == datetime(2025, 5, 12, 19, 7, 54)
    assert (o["subtotal"], o["total"], o["discount"], o["shipping_fee"]) == (1636, 1636, 0, 0)
    assert o["payment_method"] == "manual"
    assert o["shipping_prefecture"] is None  # "ON" is Ontario, not a Japanese prefecture
    # #1013 is pending; its second line is the ski wax at 25.59.
    assert row(wh, "orders", order_id="#1013")["status"] == "pending"
    line = row(wh, "order_items", order_id="#1013", line_no=2)
    assert line["product_name"].startswith("Selling Plans Ski Wax")
    assert (line["quantity"], line["unit_price"], line["amount"]) == (1, 26, 26)
    # #1006 line 2 has a SKU, which becomes the product id.
    assert row(wh, "order_items", order_id="#1006", line_no=2)["product_id"] == "sku-untracked-1"
    c = row(wh, "customers", customer_id="russel.winfield@example.com")
    assert c["name"] == "Russell Winfield"
    assert c["registered_at"] == datetime(2025, 5, 13, 19, 44, 12)


def test_shopify_customers_and_products_samples(duck: BaseBackend) -> None:
    r = import_file(duck, None, DATA / "shopify_customers.csv", "shopify_customers")
    assert r.status == "ok", [str(e) for e in r.errors]
    c = row(duck, "customers", customer_id="johndoedams@email.com")
    assert (c["name"], c["postal_code"], c["email_opt_in"]) == ("Doe Dams John", "231324", False)
    assert row(duck, "customers", email="somenicknameemail@email.net")["email_opt_in"] is True
    r = import_file(duck, None, DATA / "shopify_products_2025.csv", "shopify_products")
    assert r.status == "ok", [str(e) for e in r.errors]
    # Variant rows leave Title empty; it is filled down from the handle's first row.
    p = row(duck, "products", product_id="SRT_COT_122")
    assert (p["name"], p["category"], p["price"], p["stock_quantity"]) == (
        "Example T-Shirt",
        "Shirts",
        25,
        0,
    )


def test_eccube_orders_sjis_twin(duck: BaseBackend, tmp_path: Path) -> None:
    r = import_file(duck, None, DATA / "eccube_orders.csv", "eccube_orders")
    assert r.status == "ok", [str(e) for e in r.errors]
    assert r.encoding == "utf-8"
    o = row(duck, "orders", order_id="2")
    assert o["customer_id"] is None  # guest
    assert (o["subtotal"], o["total"], o["status"]) == (22000, 22000, "pending")
    assert o["ordered_at"] == datetime(2024, 1, 5, 15, 0)  # 2024年1月6日 00:00 JST
    assert o["shipping_prefecture"] == "大阪府"
    o = row(duck, "orders", order_id="1")
    assert (o["ordered_at"], o["shipping_fee"], o["total"]) == (datetime(2024, 1, 5, 1), 770, 3794)
    # Only the 商品 line became an order line; 2800 + 8% tax.
    item = row(duck, "order_items", order_id="1")
    assert (item["product_id"], item["unit_price"], item["amount"]) == ("11", 3024, 3024)
    c = row(duck, "customers", customer_id="1")
    assert (c["name"], c["name_kana"], c["postal_code"], c["prefecture"], c["gender"]) == (
        "山田 太郎",
        "ヤマダ タロウ",
        "1000001",
        "東京都",
        "male",
    )
    before = snapshot(duck)
    sjis = tmp_path / "eccube_orders_sjis.csv"
    sjis.write_bytes((DATA / "eccube_orders.csv").read_text("utf-8").encode("cp932"))
    r2 = import_file(duck, None, sjis, "eccube_orders")
    assert r2.encoding == "cp932"
    assert all(c.inserted == c.updated == 0 for c in r2.tables.values())
    assert snapshot(duck) == before


def test_generic_transactions_cdnow(duck: BaseBackend) -> None:
    r = import_file(duck, None, DATA / "cdnow.csv", "generic_transactions")
    assert r.status == "ok", [str(e) for e in r.errors]
    assert r.tables["orders"].inserted == 20
    assert r.tables["customers"].inserted == 7
    o = row(duck, "orders", order_id="00001-19970202")
    assert (o["total"], o["customer_id"]) == (24, "00001")  # 23.54 rounded
    assert o["ordered_at"] == datetime(1997, 2, 1, 15)
    assert row(duck, "customers", customer_id="00001")["registered_at"] == datetime(
        1996, 12, 31, 15
    )


# --- idempotent and incremental ------------------------------------------------------


def test_idempotent_and_incremental(wh: BaseBackend, tmp_path: Path) -> None:
    src = DATA / "eccube_orders.csv"
    import_file(wh, None, src, "eccube_orders")
    again = import_file(wh, None, src, "eccube_orders")
    for counts in again.tables.values():
        assert (counts.inserted, counts.updated) == (0, 0)
    changed = tmp_path / "eccube_orders.csv"
    changed.write_text(src.read_text("utf-8").replace("代金引換", "クレジットカード", 1), "utf-8")
    r = import_file(wh, None, changed, "eccube_orders")
    assert r.tables["orders"].updated == 1
    assert r.tables["orders"].unchanged == 1
    assert row(wh, "orders", order_id="1")["payment_method"] == "クレジットカード"


# --- malformed files -----------------------------------------------------------------


def _cdnow_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO((DATA / "cdnow.csv").read_text())))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _broken(kind: str, tmp_path: Path) -> tuple[Path, int | None, str | None, str]:
    """A broken copy of the CDNOW fixture: (file, row, column, rule) of the error."""
    rows = _cdnow_rows()
    path = tmp_path / f"{kind}.csv"
    if kind == "missing_column":
        return _write(path, [r[:3] for r in rows]), 1, "amount", "required_column"
    if kind == "bad_date":
        rows[5][1] = "1997/13/45"
        return _write(path, rows), 6, "date", "date_range"
    if kind == "negative_quantity":
        rows[3].append("")
        rows[0].append("product_id")
        for r in rows[1:]:
            r += [""] * (5 - len(r))
            r[4] = "P1"
        rows[3][2] = "-2"
        return _write(path, rows), 4, "quantity", "non_negative"
    if kind == "duplicate_key":
        rows.append(rows[7])
        return _write(path, rows), 22, "order_id", "duplicate_key"
    if kind == "wrong_encoding":
        path.write_bytes((DATA / "cdnow.csv").read_bytes() + b"00099,19970101,1,\x81\x20\n")
        return path, None, None, "read"
    if kind == "truncated_row":
        rows[10] = rows[10][:2]
        return _write(path, rows), 11, None, "field_count"
    if kind == "huge_field":
        rows[2][0] = "x" * 1_000_001
        return _write(path, rows), 3, "customer_id", "max_length"
    raise AssertionError(kind)


KINDS = [
    "missing_column",
    "bad_date",
    "negative_quantity",
    "duplicate_key",
    "wrong_encoding",
    "truncated_row",
    "huge_field",
]


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_file_changes_nothing(
    kind: str, wh: BaseBackend, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    import_file(wh, None, DATA / "eccube_orders.csv", "eccube_orders")
    before = snapshot(wh)
    path, row_no, column, rule = _broken(kind, tmp_path)
    r = import_file(wh, sessions, path, "generic_transactions")
    assert r.status == "failed"
    assert snapshot(wh) == before
    matches = [e for e in r.errors if e.rule == rule]
    assert matches, [str(e) for e in r.errors]
    e = matches[0]
    assert e.file == path.name
    assert e.row == row_no
    if column is not None:
        assert e.column is not None and column in e.column
    assert path.name in str(e)
    history = list_runs(sessions)
    assert history[0]["status"] == "failed"
    assert history[0]["errors"]["total"] >= 1


def test_all_errors_listed(duck: BaseBackend, tmp_path: Path) -> None:
    rows = _cdnow_rows()
    for r in rows[1:]:
        r[1] = "not a date"
    path = _write(tmp_path / "bad.csv", rows)
    r = import_file(duck, None, path, "generic_transactions")
    assert r.error_total >= 20
    assert {e.row for e in r.errors} == set(range(2, 22))


def test_failure_in_last_table_rolls_back_first(
    wh: BaseBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tokui.ingest.run as run

    real = run._merge_sql

    def failing(con: BaseBackend, spec: Any, stage: str) -> str:
        sql = real(con, spec, stage)
        return sql if spec.name != "order_items" else sql.replace("INSERT INTO", "INSERT INTO nope")

    monkeypatch.setattr(run, "_merge_sql", failing)
    before = snapshot(wh)
    with pytest.raises(Exception):  # noqa: B017 - any backend error will do
        import_file(wh, None, DATA / "shopify_orders.csv", "shopify_orders")
    assert snapshot(wh) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 20),
            st.integers(0, 3),
            st.sampled_from(["", "-1", "x", "2024/02/30", "１２", "¥-5", '"', "9" * 30]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_random_corruption_never_writes_partially(
    duck: BaseBackend, tmp_path: Path, edits: list[tuple[int, int, str]]
) -> None:
    rows = _cdnow_rows()
    for r, c, value in edits:
        rows[r][c] = value
    path = _write(tmp_path / "fuzz.csv", rows)
    before = snapshot(duck)
    result = import_file(duck, None, path, "generic_transactions")
    after = snapshot(duck)
    if result.status == "failed":
        assert after == before
    else:
        # Corruptions that are still valid data load whole, every table at once.
        for table in ("orders", "customers"):
            assert len(after[table]) == result.tables[table].inserted
    # Clean up so each example starts from the same warehouse.
    for t in ("orders", "order_items", "customers"):
        duck.con.execute(f'DELETE FROM "{t}"')


# --- parsers, history, CLI -----------------------------------------------------------


def test_parsers() -> None:
    assert parse_date("2024年1月5日") == date(2024, 1, 5)
    assert parse_date("２０２４/０１/０５") == date(2024, 1, 5)
    assert parse_datetime("2024-01-05 10:00") == datetime(2024, 1, 5, 1, 0)
    assert parse_money("¥1,234") == 1234
    assert parse_money("１，２３４円") == 1234
    assert parse_prefecture("東京") == "東京都"
    assert parse_prefecture("京都") == "京都府"
    assert parse_prefecture("JP-01") == "北海道"


def test_history_and_dry_run(duck: BaseBackend, sessions: sessionmaker[Session]) -> None:
    before = snapshot(duck)
    dry = import_file(duck, sessions, DATA / "cdnow.csv", "generic_transactions", dry_run=True)
    assert dry.status == "dry_run" and dry.tables["orders"].inserted == 20
    assert snapshot(duck) == before
    r = import_file(duck, sessions, DATA / "cdnow.csv", "generic_transactions")
    runs = list_runs(sessions)
    assert [x["id"] for x in runs] == [r.run_id, dry.run_id]
    assert runs[0]["counts"]["orders"] == {
        "inserted": 20,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert runs[0]["file_name"] == "cdnow.csv" and runs[0]["profile"] == "generic_transactions"


def test_cli_import_and_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokui.cli import app

    home = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--home", str(home)]).exit_code == 0
    src = tmp_path / "cdnow.csv"
    shutil.copy(DATA / "cdnow.csv", src)
    res = runner.invoke(
        app, ["import", str(src), "--profile", "generic_transactions", "--home", str(home)]
    )
    assert res.exit_code == 0, res.output
    args = ["import", str(src), "--profile", "generic_transactions", "--home", str(home)]
    res = runner.invoke(app, [*args, "--format", "json"])
    out = json.loads(res.stdout)
    assert out["tables"]["orders"]["unchanged"] == 20
    res = runner.invoke(app, ["profiles", "list"])
    names = [line.split("\t")[0] for line in res.stdout.splitlines()]
    assert "shopify_orders" in names and "generic_transactions" in names
    res = runner.invoke(app, ["profiles", "list", "--format", "json"])
    assert {p["name"] for p in json.loads(res.stdout)} >= {"eccube_orders", "shopify_products"}
    res = runner.invoke(app, ["profiles", "show", "eccube_orders"])
    assert load_profile("eccube_orders").name in res.stdout
    bad = _broken("bad_date", tmp_path)[0]
    res = runner.invoke(
        app, ["import", str(bad), "--profile", "generic_transactions", "--home", str(home)]
    )
    assert res.exit_code == 1


# --- the same export as TSV and as an Excel workbook ------------------------------------


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))


def test_tsv_and_xlsx_twins_import_like_the_csv(tmp_path: Path) -> None:
    import openpyxl

    rows = _csv_rows(DATA / "shopify_orders.csv")
    tsv = tmp_path / "orders.tsv"
    with tsv.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter="\t").writerows(rows)
    xlsx = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for values in rows:
        # Text cells, as a shop that opens the CSV in Excel and saves it would mostly have.
        sheet.append(values)
    book.save(xlsx)

    results = {}
    for name, path in [("csv", DATA / "shopify_orders.csv"), ("tsv", tsv), ("xlsx", xlsx)]:
        con = connect(f"duckdb://{tmp_path / f'{name}.duckdb'}")
        create_schema(con)
        r = import_file(con, None, path, "shopify_orders")
        assert r.status == "ok", [str(e) for e in r.errors]
        results[name] = snapshot(con)
        con.disconnect()
    assert results["csv"]["orders"], "the sample has orders"
    assert results["tsv"] == results["csv"]
    assert results["xlsx"] == results["csv"]


def test_xlsx_error_names_the_sheet_row_and_column(duck: BaseBackend, tmp_path: Path) -> None:
    import openpyxl

    rows = _cdnow_rows()
    rows[3][1] = "2024/13/45"  # data row 3 of the sheet is row 4 counting the header
    path = tmp_path / "tx.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    book.save(path)
    before = snapshot(duck)
    r = import_file(duck, None, path, "generic_transactions")
    assert r.status == "failed"
    assert snapshot(duck) == before
    error = r.errors[0]
    assert (error.file, error.row) == ("tx.xlsx", 4)
    assert error.column is not None and rows[0][1] in error.column
