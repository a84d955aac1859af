"""Vectorised parsers: parse.py's rules applied to whole Arrow columns.

Each function takes a column of text and returns the parsed values together with a mask
of the cells it parsed (`fast`). A cell outside the mask is not necessarily wrong: it is
one whose exact result only parse.py may decide (an unusual format, an error, a value
near a limit). The caller sends those cells through the per-cell parsers, so results and
error messages are identical by construction; the fast path only has to be right for the
cells it claims, never complete.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.ingest import parse

# The characters str.strip() removes, so Arrow trims exactly what Python trims.
PY_SPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# Astral characters: the Unicode versions of Python and Arrow (utf8proc) may disagree on
# how NFKC folds them, so cells holding any go the per-cell way.
_ASTRAL = "[\\x{10000}-\\x{10FFFF}]"
US = 1_000_000
DAY_US = 86_400 * US


def mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow column as numpy, null counting as False."""
    filled = pc.fill_null(values, False)
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def offsets_and_bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The n + 1 offsets of a string column's cells into its byte buffer, and that buffer."""
    width = np.int64 if text.type == pa.large_string() else np.int32
    n = len(text)
    buffers = text.buffers()
    offsets = np.frombuffer(buffers[1], dtype=width)[text.offset : text.offset + n + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64), data


# Bytes that may begin or end a character str.strip() removes: the ASCII spaces, and
# every byte of a multi-byte character (U+3000, U+00A0 … are spaces).
_MAY_BE_SPACE = np.array([chr(b).isspace() or b >= 0x80 for b in range(256)])


def _is_text(text: pa.Array) -> bool:
    return isinstance(text, pa.Array) and (
        pa.types.is_string(text.type) or pa.types.is_large_string(text.type)
    )


def edge_spaces(text: pa.Array) -> np.ndarray:
    """Cells that may start or end with a space (never misses one); empty cells do not."""
    if not _is_text(text):
        return np.ones(len(text), dtype=bool)
    offsets, data = offsets_and_bytes(text)
    start, end = offsets[:-1], offsets[1:]
    filled = end > start
    out: np.ndarray
    if filled.all():  # no empty cell: no masking needed
        out = _MAY_BE_SPACE[data[start]] | _MAY_BE_SPACE[data[end - 1]]
        return out
    out = np.zeros(len(text), dtype=bool)
    out[filled] = _MAY_BE_SPACE[data[start[filled]]] | _MAY_BE_SPACE[data[end[filled] - 1]]
    return out


def strip(text: pa.Array) -> pa.Array:
    """str.strip() of every cell; the input itself when nothing was trimmed (no copy kept)."""
    if not edge_spaces(text).any():
        return text
    trimmed = pc.utf8_trim(text, characters=PY_SPACE)
    if pc.sum(pc.binary_length(trimmed)).as_py() == pc.sum(pc.binary_length(text)).as_py():
        return text
    return trimmed


def fold(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """parse.fold (NFKC, then strip) of every cell, and where Arrow's fold is certain.

    ASCII is its own NFKC form, so ASCII cells skip normalisation.
    """
    ascii_ = mask(pc.string_is_ascii(text))
    if ascii_.all():
        return strip(text), np.ones(len(text), dtype=bool)
    normalized = pc.utf8_normalize(text, "NFKC")
    folded = strip(pc.if_else(pa.array(ascii_), text, normalized))
    certain = ascii_ | ~mask(pc.match_substring_regex(text, _ASTRAL))
    return folded, certain


def _match(text: pa.Array, pattern: str) -> np.ndarray:
    return mask(pc.match_substring_regex(text, pattern))


def _fixed_width(text: pa.Array, width: int) -> np.ndarray:
    """Cells that are all `width` bytes long, as an (n, width) array of bytes."""
    n = len(text)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets, data = offsets_and_bytes(text)
    start = int(offsets[0])
    return data[start : start + n * width].reshape(n, width)


def _digits(block: np.ndarray, first: int, count: int) -> np.ndarray:
    out = block[:, first].astype(np.int64) - 48
    for i in range(first + 1, first + count):
        out *= 10
        out += block[:, i]
        out -= 48
    return out


# Layouts decoded straight from the bytes: (template, positions of year, month, day,
# hour, minute, second). In a template 9 is a digit, - one of -/. and T a space or T;
# any other character stands for itself. These are the shapes cart exports write.
_LAYOUTS = (
    ("99999999", (0, 4, 6, None, None, None)),
    ("9999-99-99", (0, 5, 8, None, None, None)),
    ("9999-99-99T99:99", (0, 5, 8, 11, 14, None)),
    ("9999-99-99T99:99:99", (0, 5, 8, 11, 14, 17)),
)
_TEMPLATE_BYTES = {"9": b"0123456789", "-": b"-/.", "T": b" T"}


def _fits(block: np.ndarray, template: str) -> np.ndarray:
    """Rows of an (n, len(template)) byte block that match the template."""
    ok = np.ones(len(block), dtype=bool)
    for i, ch in enumerate(template):
        allowed = np.zeros(256, dtype=bool)
        allowed[list(_TEMPLATE_BYTES.get(ch, ch.encode()))] = True
        ok &= allowed[block[:, i]]
    return ok


# parse._DATE in RE2 syntax. RE2's \d and \s are ASCII-only, so it accepts a subset of
# what Python's pattern accepts, with the same groups.
_DATE_RE2 = parse._DATE.pattern


class _Parts:
    """Date and time fields of n cells; `tz` is the offset in minutes where one is given."""

    def __init__(self, n: int) -> None:
        self.found = np.zeros(n, dtype=bool)
        self.fields = {k: np.zeros(n, dtype=np.int64) for k in ("y", "m", "d", "H", "M", "S")}
        self.micro = np.zeros(n, dtype=np.int64)
        self.has_tz = np.zeros(n, dtype=bool)
        self.tz = np.zeros(n, dtype=np.int64)
        self.tz_ok = np.ones(n, dtype=bool)

    def put(self, idx: np.ndarray | slice, name: str, values: np.ndarray) -> None:
        if isinstance(idx, slice):
            self.fields[name] = values  # every cell: no scatter
        else:
            self.fields[name][idx] = values


def _int_or_zero(values: pa.Array) -> np.ndarray:
    filled = pc.if_else(pc.equal(values, ""), "0", values)
    return np.asarray(pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False))


def _date_parts(folded: pa.Array, certain: np.ndarray) -> _Parts:
    parts = _Parts(len(folded))
    ascii_ = mask(pc.string_is_ascii(folded)) & certain
    done = np.zeros(len(folded), dtype=bool)
    length = np.asarray(pc.fill_null(pc.binary_length(folded), 0).to_numpy(zero_copy_only=False))
    for template, pos in _LAYOUTS:
        width = len(template)
        candidates = ascii_ & (length == width) & ~done
        if not candidates.any():
            continue
        idx: np.ndarray | slice
        if candidates.all():  # the usual file: one layout throughout, no copy needed
            block = _fixed_width(folded, width)
            hit = _fits(block, template)
            idx = slice(None) if hit.all() else np.flatnonzero(hit)
        else:
            idx = np.flatnonzero(candidates)
            block = _fixed_width(folded.take(pa.array(idx)), width)
            hit = _fits(block, template)
            idx = idx[hit]
        if not hit.all():
            block = block[hit]
        for name, p in zip(("y", "m", "d", "H", "M", "S"), pos, strict=True):
            if p is not None:
                parts.put(idx, name, _digits(block, p, 4 if name == "y" else 2))
        done[idx] = True
    rest = np.flatnonzero(certain & ~done & (length > 0))
    if len(rest):
        sub = folded.take(pa.array(rest))
        hit = _match(sub, _DATE_RE2)
        rest, sub = rest[hit], sub.filter(pa.array(hit))
        if len(rest):
            _extract(parts, rest, sub)
            done[rest] = True
    parts.found = done
    return parts


def _extract(parts: _Parts, idx: np.ndarray, sub: pa.Array) -> None:
    groups = pc.extract_regex(sub, _DATE_RE2)

    def field(name: str) -> pa.Array:
        return groups.field(name)

    parts.put(idx, "y", _int_or_zero(field("y")))
    month = pc.if_else(pc.equal(field("m"), ""), field("m8"), field("m"))
    day = pc.if_else(pc.equal(field("d"), ""), field("d8"), field("d"))
    parts.put(idx, "m", _int_or_zero(month))
    parts.put(idx, "d", _int_or_zero(day))
    parts.put(idx, "H", _int_or_zero(field("H")))
    parts.put(idx, "M", _int_or_zero(field("M")))
    second = pc.if_else(pc.equal(field("S"), ""), field("S2"), field("S"))
    parts.put(idx, "S", _int_or_zero(second))
    fraction = pc.utf8_rpad(field("f"), 6, "0")
    parts.micro[idx] = _int_or_zero(fraction)
    tz = field("tz")
    has = mask(pc.not_equal(tz, ""))
    parts.has_tz[idx] = has
    utc = mask(pc.is_in(tz, pa.array(["Z", "UTC"])))
    digits = pc.replace_substring(pc.utf8_slice_codeunits(tz, 1), ":", "")
    numeric = has & ~utc
    hours = np.zeros(len(idx), dtype=np.int64)
    minutes = np.zeros(len(idx), dtype=np.int64)
    if numeric.any():
        hours[numeric] = _int_or_zero(pc.utf8_slice_codeunits(digits, 0, 2).filter(numeric))
        minutes[numeric] = _int_or_zero(pc.utf8_slice_codeunits(digits, 2, 4).filter(numeric))
    sign = np.where(mask(pc.starts_with(tz, "-")), -1, 1)
    total = hours * 60 + minutes
    parts.tz[idx] = sign * total
    # timezone() refuses offsets of a day or more; leave those to parse.py.
    parts.tz_ok[idx] = total < 24 * 60


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 and whether (y, m, d) is a real date."""
    ok = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    if ok.any():
        years = y[ok]
        first, last = int(years.min()), int(years.max())
        if last - first < 400:
            # Few years (the usual file spans a handful): look each cell up in a table of
            # every (year, month, day) of those years.
            grid_y, grid_m, grid_d = np.meshgrid(
                np.arange(first, last + 1), np.arange(13), np.arange(32), indexing="ij"
            )
            table, real = _civil_days(grid_y.ravel(), grid_m.ravel(), grid_d.ravel())
            cell = np.where(ok, ((y - first) * 13 + m) * 32 + d, 0)
            return table[cell], ok & real[cell]
    return _civil_days(y, m, d)


def _civil_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """_days in integer arithmetic (H. Hinnant's days_from_civil, proleptic Gregorian):
    numpy's datetime64 calendar conversions cost several times as much."""
    ok = (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1)
    month = np.where(ok, m, 1)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    ok &= d <= _MONTH_DAYS[month] + (leap & (month == 2))
    year = y - (month <= 2)
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468, ok


def dates(folded: pa.Array, certain: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """parse.parse_date of each cell (a time part is matched but ignored)."""
    p = _date_parts(folded, certain)
    days, ok = _days(p.fields["y"], p.fields["m"], p.fields["d"])
    fast = p.found & ok
    values = pa.array(np.where(fast, days, 0).astype(np.int32), pa.int32(), mask=~fast)
    return values.cast(pa.date32()), fast


def datetimes(folded: pa.Array, certain: np.ndarray, tz: str) -> tuple[pa.Array, np.ndarray]:
    """parse.parse_datetime of each cell: naive UTC timestamps in microseconds."""
    p = _date_parts(folded, certain)
    f = p.fields
    days, ok = _days(f["y"], f["m"], f["d"])
    ok &= (f["H"] <= 23) & (f["M"] <= 59) & (f["S"] <= 59) & p.tz_ok
    local = days * DAY_US + ((f["H"] * 60 + f["M"]) * 60 + f["S"]) * US + p.micro
    # Near year 1 or 9999 the conversion to UTC may leave datetime's range.
    fast = p.found & ok & (f["y"] >= 2) & (f["y"] <= 9998)
    utc = np.where(p.has_tz, local - p.tz * 60 * US, local)
    if tz not in ("UTC", "Etc/UTC") and (fast & ~p.has_tz).any():
        # Zone rules agree between Arrow and zoneinfo inside the transition table; a
        # local time that does not round-trip (in a DST gap) is left to zoneinfo.
        fast &= p.has_tz | ((f["y"] >= 1900) & (f["y"] < 2038))
        idx = np.flatnonzero(fast & ~p.has_tz)
        stamps = pa.array(local[idx], pa.timestamp("us"))
        try:
            aware = pc.assume_timezone(stamps, tz, ambiguous="earliest", nonexistent="earliest")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            fast[idx] = False
        else:
            back = np.asarray(pc.local_timestamp(aware).cast(pa.int64()).to_numpy())
            utc[idx] = np.asarray(aware.cast(pa.int64()).to_numpy())
            fast[idx[back != local[idx]]] = False
    values = pa.array(np.where(fast, utc, 0), pa.int64(), mask=~fast)
    return values.cast(pa.timestamp("us")), fast


# --- numbers ---------------------------------------------------------------------------

_IS_DIGIT = np.zeros(256, dtype=bool)
_IS_DIGIT[list(b"0123456789")] = True


def plain_integers(text: pa.Array) -> np.ndarray:
    """Cells that are 1 to 18 ASCII digits after an optional minus (^-?[0-9]{1,18}$)."""
    n = len(text)
    if n == 0 or not _is_text(text):
        return _match(text, r"^-?[0-9]{1,18}$") if n else np.zeros(0, dtype=bool)
    offsets, data = offsets_and_bytes(text)
    start, end = offsets[:-1], offsets[1:]
    filled = end > start
    minus = np.zeros(n, dtype=bool)
    minus[filled] = data[start[filled]] == ord("-")
    digits = end - start - minus
    # Non-digit bytes are few in a column of numbers: find them, then their cells.
    where = np.flatnonzero(~_IS_DIGIT[data[offsets[0] : offsets[-1]]]) + offsets[0]
    cells = np.searchsorted(offsets, where, side="right") - 1
    others = np.bincount(cells, minlength=n)
    ok: np.ndarray = (digits >= 1) & (digits <= 18) & (others == minus)
    if text.null_count:
        ok &= mask(pc.is_valid(text))
    return ok


_NOISE = "[¥円, ]"  # a subset of parse._MONEY_NOISE
_DECIMAL = r"^-?[0-9]{1,18}(?:\.[0-9]{1,18})?$"


class Decimals:
    """Exact decimals as integer mantissa and scale: value = mantissa / 10**scale."""

    def __init__(self, mantissa: np.ndarray, scale: np.ndarray, fast: np.ndarray) -> None:
        self.mantissa = mantissa
        self.scale = scale
        self.fast = fast


def decimals(folded: pa.Array, certain: np.ndarray) -> Decimals:
    """parse.parse_decimal of each cell, for plain and ¥/円/comma-grouped numbers."""
    n = len(folded)
    mantissa = np.zeros(n, dtype=np.int64)
    scale = np.zeros(n, dtype=np.int64)
    fast = np.zeros(n, dtype=bool)
    plain = plain_integers(folded) & certain
    if plain.all():
        mantissa = np.asarray(pc.cast(folded, pa.int64()).to_numpy(), dtype=np.int64)
        return Decimals(mantissa, scale, plain)
    if plain.any():
        idx = np.flatnonzero(plain)
        mantissa[idx] = pc.cast(folded.filter(pa.array(plain)), pa.int64()).to_numpy()
        fast[idx] = True
    rest = np.flatnonzero(certain & ~plain & mask(pc.is_valid(folded)))
    if len(rest):
        sub = pc.replace_substring_regex(folded.take(pa.array(rest)), _NOISE, "")
        hit = _match(sub, _DECIMAL)
        rest, sub = rest[hit], sub.filter(pa.array(hit))
        whole = pc.replace_substring_regex(sub, r"\..*$", "")
        frac = pc.replace_substring_regex(sub, r"^[^.]*\.?", "")
        digits = np.asarray(pc.utf8_length(frac).to_numpy(zero_copy_only=False), dtype=np.int64)
        size = np.asarray(
            pc.utf8_length(pc.utf8_ltrim(whole, "-")).to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
        small = size + digits <= 18
        joined = pc.binary_join_element_wise(whole, frac, "")
        rest, joined = rest[small], joined.filter(pa.array(small))
        mantissa[rest] = pc.cast(joined, pa.int64()).to_numpy()
        scale[rest] = digits[small]
        fast[rest] = True
    return Decimals(mantissa, scale, fast)


def round_half_up(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator rounded half away from zero (Decimal's ROUND_HALF_UP)."""
    if (numerator >= 0).all() and (denominator > 0).all():  # the usual amounts: no signs
        return np.asarray((2 * numerator + denominator) // (2 * denominator), dtype=np.int64)
    sign = np.sign(numerator) * np.sign(denominator)
    n, d = np.abs(numerator), np.abs(denominator)
    return np.asarray(sign * ((2 * n + d) // (2 * d)), dtype=np.int64)


def integers(
    dec: Decimals, round_fraction: bool, whole_only: bool
) -> tuple[np.ndarray, np.ndarray]:
    """parse_money (whole_only=False) or parse_integer (True) from parsed decimals."""
    if not dec.scale.any():  # no fractions at all: the mantissas are the values
        return dec.mantissa, dec.fast.copy()
    power = 10 ** np.minimum(dec.scale, 18)
    whole = dec.mantissa % power == 0
    if whole_only or not round_fraction:
        fast = dec.fast & whole
        return np.where(fast, dec.mantissa // np.where(fast, power, 1), 0), fast
    return round_half_up(dec.mantissa, power), dec.fast.copy()


# Limits that keep products of two operands inside int64.
_OPERAND = 10**9


def arithmetic(transform: str, ops: Sequence[Decimals]) -> tuple[np.ndarray, np.ndarray]:
    """validate._arithmetic for operands that are small enough for int64 arithmetic."""
    a, b = ops[0], ops[1]
    fast = a.fast & b.fast
    for op in ops:
        fast &= (np.abs(op.mantissa) < _OPERAND) & (op.scale <= 4)
    whole = not (a.scale.any() or b.scale.any())
    # Whole operands (the usual case) need no powers of ten.
    pa_ = np.ones(1, dtype=np.int64) if whole else 10 ** np.where(fast, a.scale, 0)
    pb = np.ones(1, dtype=np.int64) if whole else 10 ** np.where(fast, b.scale, 0)
    if fast.all():
        am, bm = a.mantissa, b.mantissa
    else:
        am, bm = np.where(fast, a.mantissa, 0), np.where(fast, b.mantissa, 1)
    if transform == "multiply":
        return round_half_up(am * bm, pa_ * pb), fast
    if transform == "divide":
        fast &= bm != 0
        bm = np.where(fast, bm, 1)
        return round_half_up(am * pb, bm * pa_), fast
    # add_tax: per-unit tax rounded half up, then times the quantity.
    fast &= np.abs(bm) < 10**6
    unit = round_half_up(am * (100 * pb + bm), pa_ * pb * 100)
    if len(ops) < 3:
        return unit, fast
    c = ops[2]
    fast &= c.fast & (np.abs(unit) < _OPERAND)
    cm = np.where(fast, c.mantissa, 0)
    return round_half_up(np.where(fast, unit, 0) * cm, 10 ** np.where(fast, c.scale, 0)), fast


# --- codes -------------------------------------------------------------------------------


def lookup(keys: pa.Array, table: dict[str, str]) -> tuple[pa.Array, np.ndarray]:
    """table[key] for each cell, and which cells were found."""
    names = pa.array(list(table), pa.string())
    position = pc.index_in(keys, value_set=names)
    values = pa.array(list(table.values()), pa.string()).take(position)
    return values, mask(pc.is_valid(position))


def booleans(folded: pa.Array, certain: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """parse.parse_boolean: ASCII letters lowered (the word lists have no other cased letters)."""
    lowered = pc.ascii_lower(folded)
    true = mask(pc.is_in(lowered, pa.array(sorted(parse.TRUE_WORDS))))
    false = mask(pc.is_in(lowered, pa.array(sorted(parse.FALSE_WORDS))))
    fast = (true | false) & certain
    return pa.array(true, pa.bool_(), mask=~fast), fast


def postal_codes(folded: pa.Array, certain: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """parse.parse_postal_code for ASCII digits with 〒, hyphens and spaces."""
    digits = pc.replace_substring_regex(folded, "[〒 \\-‐―ー−]", "")
    fast = _match(digits, r"^[0-9]{7}$") & certain
    return digits, fast


def prefectures(folded: pa.Array, certain: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """parse.parse_prefecture via its lookup table."""
    keys = pc.replace_substring(pc.ascii_lower(folded), " ", "")
    values, found = lookup(keys, parse._PREFECTURES)
    return values, found & certain
