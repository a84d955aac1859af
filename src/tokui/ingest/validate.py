"""Validation: map every row of a file through its profile and collect every error.

Nothing is written while any error stands, so a shop fixes the file once with the whole
list in hand rather than one error per attempt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from tokui.ingest import parse
from tokui.ingest.profile import ColumnMap, Profile, RowFilter, Target
from tokui.ingest.read import MAX_FIELD_CHARS, RawTable
from tokui.warehouse.schema import TABLES

MAX_ERRORS = 1000
INT_LIMITS = {"int32": 2**31, "int64": 2**63}


@dataclass(frozen=True)
class RowError:
    """One problem: file, row as numbered in the file (header = 1), column, value, rule."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message} [{self.rule}]"


@dataclass
class Errors:
    """The errors found so far, capped; `total` keeps counting past the cap."""

    items: list[RowError] = field(default_factory=list)
    total: int = 0
    cap: int = MAX_ERRORS

    def add(self, error: RowError) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(error)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0


def _clip(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[:limit] + f"… ({len(value):,} chars)"


@dataclass
class Mapped:
    """Canonical rows per table, with the file row each came from."""

    rows: dict[str, list[dict[str, Any]]]
    sources: dict[str, list[int]]
    rejected: dict[str, int]


class SourceRow(Protocol):
    number: int

    def get(self, column: str) -> str: ...


class _Row:
    def __init__(self, raw: RawTable, index: dict[str, int], cells: list[str], number: int):
        self.raw = raw
        self.index = index
        self.cells = cells
        self.number = number

    def get(self, column: str) -> str:
        i = self.index.get(column)
        return "" if i is None else self.cells[i]


def _passes(row: _Row, filters: list[RowFilter]) -> bool:
    for f in filters:
        value = row.get(f.column).strip()
        if f.not_empty and not value:
            return False
        if f.equals is not None and parse.fold(value) not in f.equals:
            return False
    return True


def _convert(m: ColumnMap, row: SourceRow, tz: str, counters: dict[str, int]) -> Any:
    t = m.transform
    if t == "constant":
        return m.value
    if m.prefer is not None:
        preferred = row.get(m.prefer).strip()
        if preferred:
            return preferred
    sources = m.sources
    if t == "combine":
        parts = [row.get(s).strip() for s in sources]
        joined = m.separator.join(p for p in parts if p)
        return joined or m.default
    if t == "coalesce":
        for s in sources:
            if row.get(s).strip():
                return row.get(s).strip()
        return m.default
    if t in ("multiply", "divide", "add_tax"):
        return _arithmetic(m, row)
    if t == "sequence":
        # Lines numbered within their group (the order), in file order.
        group = "\x1f".join(row.get(s).strip() for s in sources)
        counters[group] = counters.get(group, 0) + 1
        return counters[group]
    text = row.get(sources[0]).strip()
    if not text:
        text = m.default or ""
        if not text:
            return None
    if t == "rename":
        return text
    if t == "lower":
        return text.lower()
    if t == "parse_date":
        return parse.parse_date(text)
    if t == "parse_datetime":
        return parse.parse_datetime(text, m.timezone or tz)
    if t == "split_name":
        family, given = parse.split_name(text)
        return (family if m.part == "family" else given) or None
    if t == "map_values":
        key = parse.fold(text)
        if key in m.values:
            return m.values[key]
        if m.default is not None:
            return m.default
        raise parse.ParseError("allowed_values", f"{text!r} is not one of {', '.join(m.values)}")
    if t in ("money", "integer"):
        number = parse.parse_money(text, m.round) if t == "money" else parse.parse_integer(text)
        if m.min is not None and number < m.min:
            rule = "non_negative" if m.min == 0 else "minimum"
            raise parse.ParseError(rule, f"{number} is below the minimum {m.min}")
        return number
    if t == "boolean":
        return parse.parse_boolean(text)
    if t in ("postal_code", "prefecture"):
        try:
            return (
                parse.parse_postal_code(text)
                if t == "postal_code"
                else parse.parse_prefecture(text)
            )
        except parse.ParseError:
            if m.invalid == "keep":
                return text
            if m.invalid == "empty":
                return None
            raise
    raise AssertionError(f"unhandled transform {t}")  # pragma: no cover - Literal is closed


def _arithmetic(m: ColumnMap, row: SourceRow) -> int | None:
    """Money from two (add_tax: two or three) columns, rounded half up to whole yen."""
    texts = [row.get(s).strip() for s in m.sources]
    if not all(texts):
        if m.default is None:
            return None
        texts = [x or m.default for x in texts]
    a, b = parse.parse_decimal(texts[0]), parse.parse_decimal(texts[1])
    if m.transform == "multiply":
        value = a * b
    elif m.transform == "divide":
        if b == 0:
            raise parse.ParseError("division_by_zero", f"cannot divide by {texts[1]!r}")
        value = a / b
    else:
        # Tax per unit, rounded per unit as EC-CUBE's default rule does, then times qty.
        value = (a * (100 + b) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        if len(texts) > 2:
            value *= parse.parse_decimal(texts[2])
    result = int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if m.min is not None and result < m.min:
        raise parse.ParseError("non_negative" if m.min == 0 else "minimum", f"{result} < {m.min}")
    return result


def fill_down(raw: RawTable, profile: Profile) -> None:
    """Repeat a key's first non-empty values into its later rows (see FillDown)."""
    spec = profile.fill_down
    if spec is None or spec.key not in raw.columns:
        return
    key_i = raw.columns.index(spec.key)
    cols = [raw.columns.index(c) for c in spec.columns if c in raw.columns]
    last: dict[str, list[str]] = {}
    for cells in raw.rows:
        if key_i >= len(cells):
            continue
        key = cells[key_i]
        previous = last.get(key)
        if previous is None:
            last[key] = [cells[i] if i < len(cells) else "" for i in cols]
            continue
        for j, i in enumerate(cols):
            if i < len(cells) and not cells[i].strip():
                cells[i] = previous[j]
            elif i < len(cells):
                previous[j] = cells[i]


class Header(Protocol):
    file: str
    columns: list[str]


def check_columns(raw: Header, profile: Profile, errors: Errors) -> None:
    """The profile's required source columns are in the header."""
    for name in profile.required_columns:
        if name not in raw.columns:
            errors.add(
                RowError(
                    raw.file,
                    1,
                    name,
                    None,
                    "required_column",
                    f"required column {name!r} is missing from the header",
                )
            )


def map_rows(raw: RawTable, profile: Profile, errors: Errors) -> Mapped:
    """Every target's canonical rows; every problem goes to `errors`."""
    fill_down(raw, profile)
    index = {name: i for i, name in enumerate(raw.columns)}
    ragged = dict(raw.ragged)
    width = len(raw.columns)
    out: dict[str, list[dict[str, Any]]] = {t.table: [] for t in profile.targets}
    sources: dict[str, list[int]] = {t.table: [] for t in profile.targets}
    bad_rows: dict[str, set[int]] = {t.table: set() for t in profile.targets}
    seen: dict[str, dict[tuple[Any, ...], int]] = {t.table: {} for t in profile.targets}
    counters: dict[tuple[str, str], dict[str, int]] = {}
    for cells, number in zip(raw.rows, raw.row_numbers, strict=True):
        row = _Row(raw, index, cells, number)
        row_ok = True
        if number in ragged:
            row_ok = False
            errors.add(
                RowError(
                    raw.file,
                    number,
                    None,
                    None,
                    "field_count",
                    f"row has {ragged[number]} fields, the header has {width} "
                    "(truncated or broken row)",
                )
            )
        for col, cell in zip(raw.columns, cells, strict=False):
            if len(cell) > MAX_FIELD_CHARS:
                row_ok = False
                errors.add(
                    RowError(
                        raw.file,
                        number,
                        col,
                        _clip(cell),
                        "max_length",
                        f"value is {len(cell):,} characters (limit {MAX_FIELD_CHARS:,})",
                    )
                )
        for target in profile.targets:
            if not _passes(row, target.where):
                continue
            if not row_ok:
                bad_rows[target.table].add(number)
                continue
            spec = TABLES[target.table]
            if target.duplicates == "first" and _seen_key(row, target, profile.timezone, seen):
                # A repeat row (e.g. a Shopify order's second line) leaves the order-level
                # cells empty; only its first row is mapped and checked.
                continue
            values = _map_target(raw, row, target, profile.timezone, counters, errors)
            if values is None:
                bad_rows[target.table].add(number)
                continue
            key = tuple(values.get(k) for k in spec.primary_key)
            first = seen[target.table].get(key)
            if first is not None:
                if target.duplicates == "first":
                    continue
                bad_rows[target.table].add(number)
                errors.add(
                    RowError(
                        raw.file,
                        number,
                        ", ".join(spec.primary_key),
                        ", ".join(str(k) for k in key),
                        "duplicate_key",
                        f"{target.table} key {key if len(key) > 1 else key[0]!r} "
                        f"already on row {first}",
                    )
                )
                continue
            seen[target.table][key] = number
            out[target.table].append(values)
            sources[target.table].append(number)
    return Mapped(out, sources, {t: len(rows) for t, rows in bad_rows.items()})


def _seen_key(
    row: _Row, target: Target, tz: str, seen: dict[str, dict[tuple[Any, ...], int]]
) -> bool:
    spec = TABLES[target.table]
    maps = [target.columns[k] for k in spec.primary_key]
    if any(m.transform == "sequence" for m in maps):
        return False
    try:
        key = tuple(_convert(m, row, tz, {}) for m in maps)
    except parse.ParseError:
        return False
    key = tuple(
        k.lower() if m.lowercase and isinstance(k, str) else k
        for k, m in zip(key, maps, strict=True)
    )
    return key in seen[target.table]


def _map_target(
    raw: RawTable,
    row: _Row,
    target: Target,
    tz: str,
    counters: dict[tuple[str, str], dict[str, int]],
    errors: Errors,
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    for name, m in target.columns.items():
        counter = counters.setdefault((target.table, name), {})
        value, error = column_value(raw.file, row, target.table, name, m, tz, counter)
        if error is not None:
            ok = False
            errors.add(error)
            continue
        values[name] = value
    return values if ok else None


def column_value(
    file: str,
    row: SourceRow,
    table: str,
    name: str,
    m: ColumnMap,
    tz: str,
    counter: dict[str, int],
) -> tuple[Any, RowError | None]:
    """One canonical cell of one row: its value, or the error that names it.

    The reference for every rule; the columnar path (mapping.py) sends here each cell
    its fast path does not claim.
    """
    column = TABLES[table].column(name)
    shown = ", ".join(m.sources) or name
    try:
        value = _convert(m, row, tz, counter)
    except parse.ParseError as exc:
        return None, RowError(
            file,
            row.number,
            shown,
            # Every source cell: a derived value's error may lie in any of them.
            _clip(", ".join(row.get(s) for s in m.sources) if m.sources else ""),
            exc.rule,
            f"{exc.message} (for {table}.{name})",
        )
    if isinstance(value, str):
        if m.lowercase:
            value = value.lower()
        if column.dtype == "timestamp" and m.transform == "constant":
            value = parse.parse_datetime(value, "UTC")
    limit = INT_LIMITS.get(column.dtype)
    if limit is not None and isinstance(value, int) and not -limit <= value < limit:
        return None, RowError(
            file,
            row.number,
            shown,
            _clip(str(value)),
            "out_of_range",
            f"{value} does not fit {table}.{name} ({column.dtype})",
        )
    if value is None and not column.nullable:
        return None, RowError(
            file, row.number, shown, "", "required", f"empty, but {table}.{name} is required"
        )
    if column.values and value is not None and value not in column.values:
        return None, RowError(
            file,
            row.number,
            shown,
            _clip(str(value)),
            "allowed_values",
            f"{value!r} is not one of {', '.join(column.values)} (for {table}.{name})",
        )
    return value, None
