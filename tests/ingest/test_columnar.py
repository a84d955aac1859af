"""The columnar import path agrees with the per-cell reference, and numbers rows right
across pyarrow's blocks."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend

from tokui.ingest import frame as frame_module
from tokui.ingest import import_file, load_profile, mapping, transforms
from tokui.ingest.frame import Frame, read_frame
from tokui.ingest.profile import ColumnMap
from tokui.ingest.read import RawTable, _unique_headers, read_table
from tokui.ingest.validate import Errors, _convert, map_rows
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import TABLES, create_schema

FULL = str.maketrans("0123456789-/:,. ", "０１２３４５６７８９－／：，．\u3000")


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[BaseBackend]:
    con = connect(f"duckdb://{tmp_path / 'w.duckdb'}")
    create_schema(con)
    yield con
    con.disconnect()


# --- random Japanese cells -------------------------------------------------------------


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    y = draw(st.integers(0, 10000))
    m, d = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    style = draw(st.sampled_from(["-", "/", ".", "年", "compact"]))
    if style == "compact":
        text = f"{y:04d}{m:02d}{d:02d}"
    elif style == "年":
        text = f"{y}年{m}月{d}日"
    else:
        pad = draw(st.booleans())
        text = f"{y:04d}{style}{m:02d}{style}{d:02d}" if pad else f"{y}{style}{m}{style}{d}"
    if draw(st.booleans()):
        h, mi, s = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
        sep = draw(st.sampled_from([" ", "T", "  "]))
        text += f"{sep}{h:02d}:{mi:02d}" + (f":{s:02d}" if draw(st.booleans()) else "")
        if draw(st.booleans()):
            text += f".{draw(st.integers(0, 9999999))}"
        text += draw(st.sampled_from(["", "Z", " +09:00", "-0400", "+2400", " UTC"]))
    if draw(st.booleans()):
        text = text.translate(FULL)
    return text + draw(st.sampled_from(["", "", " ", "x"]))


@st.composite
def amount_texts(draw: st.DrawFn) -> str:
    value = draw(st.integers(-(10**12), 10**12))
    text = f"{value:,}" if draw(st.booleans()) else str(value)
    if draw(st.booleans()):
        text += "." + draw(st.sampled_from(["0", "00", "5", "49", "50", "51", "999", "0001"]))
    text = draw(st.sampled_from(["", "¥", "￥", "△", "(", "$"])) + text
    text += draw(st.sampled_from(["", "円", " 円", ")", "JPY", "-"]))
    if draw(st.booleans()):
        text = text.translate(FULL)
    return text


JUNK = st.text(alphabet="0123456789０１２３年月日/-:.,¥円 abcTZ+東京都〒ー", max_size=14)
CELLS = st.one_of(date_texts(), amount_texts(), JUNK, st.sampled_from(["", "1", "0", "はい", "×"]))

MAPS = [
    ColumnMap(source="a", transform="parse_date"),
    ColumnMap(source="a", transform="parse_datetime"),
    ColumnMap(source="a", transform="parse_datetime", timezone="America/New_York"),
    ColumnMap(source="a", transform="money"),
    ColumnMap(source="a", transform="money", round=True, min=0),
    ColumnMap(source="a", transform="integer", default="1"),
    ColumnMap(source="a", transform="boolean"),
    ColumnMap(source="a", transform="postal_code"),
    ColumnMap(source="a", transform="prefecture"),
    ColumnMap(source="a", transform="map_values", values={"1": "male", "２": "female"}),
    ColumnMap(source=["a", "b"], transform="multiply"),
    ColumnMap(source=["a", "b"], transform="divide", default="1"),
    ColumnMap(source=["a", "b", "b"], transform="add_tax", min=0),
]


class _RowOf:
    def __init__(self, cells: dict[str, str], number: int) -> None:
        self.cells, self.number = cells, number

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def _frame(columns: dict[str, list[str]], file: str = "f.csv") -> Frame:
    n = len(next(iter(columns.values())))
    data = [pa.array(v, pa.string()) for v in columns.values()]
    return Frame(file, list(columns), data, pa.array(range(2, n + 2)).to_numpy())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=30))
def test_columnar_parsers_agree_with_parse_py(cells: list[tuple[str, str]]) -> None:
    """Every cell the vectorised path claims has exactly parse.py's value."""
    frame = _frame({"a": [a for a, _ in cells], "b": [b for _, b in cells]})
    columns = transforms.Columns(frame)
    for m in MAPS:
        converted = transforms.convert(columns, m, "Asia/Tokyo", len(frame))
        assert converted is not None
        values = converted.values.to_pylist()
        for i, (a, b) in enumerate(cells):
            if not converted.fast[i]:
                continue  # the per-cell path decides this one
            expected = _convert(m, _RowOf({"a": a, "b": b}, i + 2), "Asia/Tokyo", {})
            assert values[i] == expected, (m.transform, a, b)


def test_columnar_parsers_take_the_common_shapes() -> None:
    """The formats carts write take the fast path (the property test allows declining)."""
    texts = ["2024/01/05", "2024-01-05 10:00", "2024年1月5日", "２０２４/０１/０５", "19970101"]
    frame = _frame({"a": texts})
    converted = transforms.convert(
        transforms.Columns(frame), ColumnMap(source="a", transform="parse_datetime"), "UTC", 5
    )
    assert converted is not None and converted.fast.all()
    assert converted.values.to_pylist() == [
        datetime(2024, 1, 5),
        datetime(2024, 1, 5, 10),
        datetime(2024, 1, 5),
        datetime(2024, 1, 5),
        datetime(1997, 1, 1),
    ]
    amounts = ["¥1,234", "1,234円", "１，２３４", "-5", "12.50"]
    frame = _frame({"a": amounts})
    converted = transforms.convert(
        transforms.Columns(frame), ColumnMap(source="a", transform="money", round=True), "UTC", 5
    )
    assert converted is not None and converted.fast.all()
    assert converted.values.to_pylist() == [1234, 1234, 1234, -5, 13]
    kanji = transforms.convert(
        transforms.Columns(_frame({"a": ["2024年1月5日"]})),
        ColumnMap(source="a", transform="parse_date"),
        "UTC",
        1,
    )
    assert kanji is not None and kanji.fast.all()
    assert kanji.values.to_pylist() == [date(2024, 1, 5)]


# --- whole files: map_frame against map_rows ----------------------------------------------

CDNOW_HEADER = ["customer_id", "date", "quantity", "amount", "product_id"]
ORDER_HEADER = [*CDNOW_HEADER, "order_id"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["00001", "00002", "00002 ", "", "ｃ３"]),
            st.one_of(date_texts(), st.sampled_from(["1997/01/01", "19970101"])),
            st.sampled_from(["1", "2", "", "-1", "２", "1.5", "x"]),
            st.one_of(amount_texts(), st.sampled_from(["11.77", "0", ""])),
            st.sampled_from(["", "P1", "P2"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_map_frame_agrees_with_map_rows(rows: list[tuple[str, ...]]) -> None:
    """Same rows, values, rejected counts and errors (in order) as the row-wise reference."""
    _agree_on_transactions(CDNOW_HEADER, rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["00001", "00002", ""]),
            st.sampled_from(["1997/01/01", "1997/01/02 10:00", ""]),
            st.sampled_from(["1", "2", ""]),
            st.sampled_from(["980", "1,960", ""]),
            st.sampled_from(["", "P1"]),
            # Present, blank, padded and repeated order ids: the preferred key or the
            # composed one, and duplicate keys found alike.
            st.sampled_from(["", " ", "A1", "A2 ", "A3", "A4", "A5"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_map_frame_agrees_with_map_rows_on_order_ids(rows: list[tuple[str, ...]]) -> None:
    _agree_on_transactions(ORDER_HEADER, rows)


def test_an_order_id_is_the_key_else_customer_and_date() -> None:
    rows = [
        ("00001", "1997/01/01", "1", "980", "P1", "A-100"),
        ("00002", "1997/01/02", "1", "980", "P1", " "),
    ]
    frame = _rows_frame(ORDER_HEADER, rows)
    got = mapping.map_frame(frame, load_profile("generic_transactions"), Errors())
    assert got.tables["orders"].table.column("order_id").to_pylist() == [
        "A-100",
        "00002-1997/01/02",
    ]
    assert got.tables["order_items"].table.column("order_id").to_pylist() == [
        "A-100",
        "00002-1997/01/02",
    ]


def _rows_frame(header: list[str], rows: list[tuple[str, ...]]) -> Frame:
    """The rows as the columnar reader gives them (file rows numbered from 2)."""
    return _frame({name: [r[i] for r in rows] for i, name in enumerate(header)}, "t.csv")


def _agree_on_transactions(header: list[str], rows: list[tuple[str, ...]]) -> None:
    """map_frame gives the same rows, values, rejected counts and errors (in order) as
    the row-wise reference over generic_transactions."""
    profile = load_profile("generic_transactions")
    numbers = list(range(2, len(rows) + 2))
    reference = Errors()
    expected = map_rows(
        RawTable("t.csv", header, [list(r) for r in rows], numbers), profile, reference
    )
    errors = Errors()
    got = mapping.map_frame(_rows_frame(header, rows), profile, errors)
    assert [str(e) for e in errors.items] == [str(e) for e in reference.items]
    assert errors.total == reference.total
    assert got.rejected == expected.rejected
    for table, table_rows in got.tables.items():
        assert table_rows.rows.tolist() == expected.sources[table]
        names = list(table_rows.table.column_names)
        got_rows = [tuple(r[c] for c in names) for r in table_rows.table.to_pylist()]
        assert got_rows == [tuple(r.get(c) for c in names) for r in expected.rows[table]]


# --- pyarrow blocks ----------------------------------------------------------------------


def _transactions(path: Path, n: int, encoding: str = "utf-8", bad_row: int | None = None) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        out = csv.writer(f)
        out.writerow(CDNOW_HEADER)
        for i in range(n):
            day = f"{date(1997, 1, 1) + timedelta(days=i):%Y/%m/%d}"
            day = "1997/13/45" if bad_row == i + 2 else day
            out.writerow(
                [f"顧客{i % 50:03d}", day, str(1 + i % 3), f"￥{(i % 7 + 1) * 1000:,}", ""]
            )
    return path


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyarrow blocks of 4 KiB, and read.py forbidden: the block path must do the work."""
    monkeypatch.setattr(frame_module, "BLOCK_SIZE", 4096)

    def no_fallback(*_args: Any) -> None:
        raise AssertionError("fell back to the row-wise reader")

    monkeypatch.setattr(frame_module, "read_delimited", no_fallback)


def test_late_block_error_names_its_row(
    duck: BaseBackend, tmp_path: Path, small_blocks: None
) -> None:
    path = _transactions(tmp_path / "big.csv", 3000, bad_row=2874)
    assert path.stat().st_size > 20 * 4096
    frame = read_frame(path)
    assert len(frame) == 3000 and frame.rows[-1] == 3001
    r = import_file(duck, None, path, "generic_transactions")
    assert r.status == "failed"
    assert [(e.row, e.column, e.value, e.rule) for e in r.errors] == [
        (2874, "date", "1997/13/45", "date_range")
    ]
    assert duck.table("orders").count().execute() == 0


def test_blank_line_keeps_row_numbers(
    duck: BaseBackend, tmp_path: Path, small_blocks: None
) -> None:
    path = tmp_path / "blank.csv"
    path.write_text(
        "customer_id,date,amount\n00001,1997/01/01,100\n\n , , \n00002,1997/02/30,100\n",
        encoding="utf-8",
    )
    r = import_file(duck, None, path, "generic_transactions")
    # Once for the stub customer, once for the order: both targets map the date.
    assert [(e.row, e.rule, e.message.rsplit(" ", 1)[-1]) for e in r.errors] == [
        (5, "date_range", "customers.registered_at)"),
        (5, "date_range", "orders.ordered_at)"),
    ]


def test_shift_jis_bigger_than_a_block(tmp_path: Path, small_blocks: None) -> None:
    sjis = _transactions(tmp_path / "sjis.csv", 2000, encoding="cp932")
    utf8 = _transactions(tmp_path / "utf8.csv", 2000)
    assert sjis.stat().st_size > 10 * 4096
    snapshots = []
    for path in (sjis, utf8):
        con = connect(f"duckdb://{tmp_path / (path.stem + '.duckdb')}")
        create_schema(con)
        r = import_file(con, None, path, "generic_transactions")
        assert r.status == "ok", [str(e) for e in r.errors[:3]]
        assert r.encoding == ("cp932" if path is sjis else "utf-8")
        assert r.tables["orders"].inserted == 2000
        assert r.tables["customers"].inserted == 50
        snapshots.append(
            {t: sorted(map(repr, con.table(t).to_pyarrow().to_pylist())) for t in TABLES}
        )
        con.disconnect()
    assert snapshots[0] == snapshots[1]
    order = [o for o in snapshots[0]["orders"] if "'顧客007-1997/01/08'" in o]
    assert order and "'total': 1000" in order[0]


def _sample(name: str) -> tuple[list[str], list[list[str]]]:
    path = Path(__file__).parent / "data" / name
    rows = list(csv.reader(path.read_text("utf-8").splitlines()))
    return _unique_headers(rows[0]), rows[1:]


EDITS = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.one_of(CELLS, st.sampled_from(["", " ", "TOKYO", "東京", "paid", "#1001", "1"])),
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(
        [("shopify_orders.csv", "shopify_orders"), ("eccube_orders.csv", "eccube_orders")]
    ),
    EDITS,
    st.lists(st.integers(0, 10**6), max_size=4),
)
def test_map_frame_agrees_on_real_exports(
    sample: tuple[str, str], edits: list[tuple[int, int, str]], repeats: list[int]
) -> None:
    """Fill-down, first row per key, map_values, add_tax ... agree on edited real files."""
    header, rows = _sample(sample[0])
    for r, c, value in edits:
        rows[r % len(rows)][c % len(header)] = value
    rows += [list(rows[i % len(rows)]) for i in repeats]  # repeated keys, later rows
    profile = load_profile(sample[1])
    numbers = list(range(2, len(rows) + 2))
    reference = Errors()
    expected = map_rows(
        RawTable(sample[0], list(header), [list(r) for r in rows], numbers), profile, reference
    )
    errors = Errors()
    frame = Frame(
        sample[0],
        list(header),
        [pa.array([r[i] for r in rows], pa.string()) for i in range(len(header))],
        pa.array(numbers).to_numpy(),
    )
    got = mapping.map_frame(frame, profile, errors)
    assert [str(e) for e in errors.items] == [str(e) for e in reference.items]
    assert got.rejected == expected.rejected
    for table, table_rows in got.tables.items():
        assert table_rows.rows.tolist() == expected.sources[table]
        names = list(table_rows.table.column_names)
        got_rows = [tuple(r[c] for c in names) for r in table_rows.table.to_pylist()]
        assert got_rows == [tuple(r.get(c) for c in names) for r in expected.rows[table]]


QUOTING = {
    "quote_inside": 'a,b\nab"c,d\n',
    "text_after_quote": 'a,b\n"ab"c,d\n',
    "space_before_quote": 'a,b\n "x",y\n',
    "crlf": "a,b\r\n1,2\r\n3,4\r\n",
    "cr": "a,b\r1,2\r3,4\r",
    "newline_in_quotes": 'a,b\n"x\r\ny",2\n',
    "trailing_blank_line": "a,b\n1,2\n\n",
    "nul": "a,b\n1\x00,2\n",
    "unterminated_quote": 'a,b\n"1,2\n3,4\n',
    "doubled_quote": 'a,b\n"x""y",2\n',
    "lone_quote": 'a,b\n",2\n',
    "ragged": "a,b\n1\n2,3,4\n5,6\n",
}


@pytest.mark.parametrize("name", list(QUOTING))
def test_frame_reads_like_the_row_reader(name: str, tmp_path: Path) -> None:
    """pyarrow's blocks and csv.reader agree on quoting, line ends and broken rows."""
    path = tmp_path / f"{name}.csv"
    path.write_text(QUOTING[name], encoding="utf-8", newline="")
    raw = read_table(path)
    frame = read_frame(path)
    assert frame.columns == raw.columns
    cells = [list(r) for r in zip(*[c.to_pylist() for c in frame.data], strict=True)]
    # Cells past the header's width are not kept: a ragged row is an error anyway.
    assert cells == [r[: len(raw.columns)] for r in raw.rows]
    assert frame.rows.tolist() == raw.row_numbers
    assert (frame.encoding, frame.ragged) == (raw.encoding, dict(raw.ragged))


# --- byte-level fast paths ---------------------------------------------------------------


def _civil(cells: list[tuple[int, int, int]]) -> list[int | None]:
    out: list[int | None] = []
    for y, m, d in cells:
        try:
            out.append((date(y, m, d) - date(1970, 1, 1)).days)
        except ValueError:
            out.append(None)
    return out


@pytest.mark.parametrize("years", [(1999, 2001), (1, 9999)], ids=["table", "arithmetic"])
def test_day_numbers_match_the_calendar(years: tuple[int, int]) -> None:
    """Both ways of counting days (a table for a few years, arithmetic for wide spans)."""
    from tokui.ingest.columns import _days

    ys = [years[0], years[1], 1900, 2000, 2024, 2023] if years[0] == 1 else list(range(*years))
    cells = [(y, m, d) for y in ys for m in range(0, 14) for d in (0, 1, 28, 29, 30, 31, 32)]
    cells += [(years[0], 2, 29), (years[1], 12, 31)]
    y, m, d = (np.array(c, dtype=np.int64) for c in zip(*cells, strict=True))
    days, ok = _days(y, m, d)
    got = [int(n) if good else None for n, good in zip(days, ok, strict=True)]
    assert got == _civil(cells)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789-+., ¥１", max_size=21), min_size=1, max_size=20))
def test_plain_integers_match_the_pattern(cells: list[str]) -> None:
    import re

    from tokui.ingest.columns import plain_integers

    # A sliced array, as frames hold them (the header row cut off).
    array = pa.array(["header", *cells], pa.string()).slice(1)
    expected = [re.fullmatch(r"-?[0-9]{1,18}", c) is not None for c in cells]
    assert plain_integers(array).tolist() == expected


SPACES = [" ", "\t", "\u3000", "\xa0", "\x1c", "\x85", "\u2028", "\n"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", *SPACES]),
            st.text(alphabet="ab東京 \u3000", max_size=4),
            st.sampled_from(["", *SPACES]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_strip_finds_every_edge_space(cells: list[tuple[str, str, str]]) -> None:
    from tokui.ingest.columns import strip

    texts = ["".join(c) for c in cells]
    array = pa.array(["x", *texts], pa.string()).slice(1)
    assert strip(array).to_pylist() == [t.strip() for t in texts]


def test_all_distinct_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokui.ingest import keys

    monkeypatch.setattr(keys, "PREFIX", 2)
    assert keys.all_distinct(pa.array(["a", "b", None, "c", None]))
    assert not keys.all_distinct(pa.array(["a", "b", "c", "d", "b"]))  # past the prefix
    assert not keys.all_distinct(pa.array(["a", "a", "c"]))  # inside the prefix
    enc = keys.Encodings()
    monkeypatch.setattr(keys, "HASH_MIN", 1)
    codes, size = enc.encode(pa.array(["x", None, "y"]))
    assert (codes.tolist(), size) == ([0, -1, 2], 3)
    codes, size = enc.encode(pa.array(["x", "y", "x"]))
    assert (codes.tolist(), size) == ([0, 1, 0], 2)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["00001", "00002", "", "ｃ３"]),
            st.sampled_from(["1997/01/01", "1997-01-02 10:00:00", "19970103", "x"]),
            st.sampled_from(["1", "2", "", "-1"]),
            st.sampled_from(["1200", "¥1,200", "0", "", "12.5"]),
            st.sampled_from(["", "P1", "P2"]),
            st.sampled_from(["", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_map_frame_agrees_with_map_rows_when_hashing_keys(
    monkeypatch: pytest.MonkeyPatch, rows: list[tuple[str, ...]]
) -> None:
    """With every key column hashed (the path of big files), the reference still agrees:
    order ids unique or repeated, empty or not."""
    from tokui.ingest import keys

    monkeypatch.setattr(keys, "HASH_MIN", 1)
    monkeypatch.setattr(keys, "PREFIX", 1)
    _agree_on_transactions(ORDER_HEADER, rows)


def test_prefer_needs_a_text_transform() -> None:
    assert ColumnMap(source=["a", "b"], transform="combine", prefer="c").prefer == "c"
    with pytest.raises(ValueError, match="prefer works with coalesce, combine, rename"):
        ColumnMap(source="a", transform="money", prefer="c")
