"""Parsers for the values Japanese carts and spreadsheets write.

Each parser takes the raw cell text and returns a typed value or raises ParseError with
the rule it broke, so validation can name the rule in its report.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SHOP_TZ = "Asia/Tokyo"


class ParseError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII, trimmed.

    Only for values we parse (numbers, dates, codes); names keep their original form.
    """
    return unicodedata.normalize("NFKC", text).strip()


_DATE = re.compile(
    r"^(?P<y>\d{4})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<m8>\d{2})(?P<d8>\d{2}))"
    r"(?:(?:\s+|T)(?P<H>\d{1,2})\s*[:時]\s*(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:]\s*(?P<S>\d{1,2})(?:\.(?P<f>\d{1,6})\d*)?|\s*(?P<S2>\d{1,2})秒)?)?"
    r"\s*(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?$"
)


def _match(text: str) -> re.Match[str]:
    m = _DATE.match(fold(text))
    if m is None:
        raise ParseError("date_format", f"not a date: {text!r}")
    return m


def parse_date(text: str) -> date:
    """2024/01/05, 2024-01-05, 2024年1月5日, 20240105 (a time part is ignored)."""
    m = _match(text)
    month = m["m"] or m["m8"]
    day = m["d"] or m["d8"]
    try:
        return date(int(m["y"]), int(month), int(day))
    except ValueError as exc:
        raise ParseError("date_range", f"no such date: {text!r}") from exc


def parse_datetime(text: str, tz: str = SHOP_TZ) -> datetime:
    """A local time in the file as naive UTC.

    A time with an explicit offset (Shopify writes `-0400`) keeps its offset; otherwise
    the time is taken as local to `tz`, the shop's zone.
    """
    m = _match(text)
    d = parse_date(text)
    try:
        local = datetime(
            d.year,
            d.month,
            d.day,
            int(m["H"] or 0),
            int(m["M"] or 0),
            int(m["S"] or m["S2"] or 0),
            int((m["f"] or "0").ljust(6, "0")),
        )
    except ValueError as exc:
        raise ParseError("date_range", f"no such time: {text!r}") from exc
    offset = m["tz"]
    try:
        if offset in ("Z", "UTC"):
            aware = local.replace(tzinfo=UTC)
        elif offset:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            aware = local.replace(tzinfo=timezone(sign * delta))
        else:
            aware = local.replace(tzinfo=ZoneInfo(tz))
        return aware.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        # An offset of a day or more, or a time that leaves the calendar in UTC.
        raise ParseError("date_range", f"no such time: {text!r}") from exc


_MONEY_NOISE = re.compile(r"[¥円,\s]|JPY|EUR|USD|\$")


def parse_decimal(text: str) -> Decimal:
    s = fold(text)
    negative = False
    # Japanese accounting marks negatives with a triangle instead of a minus sign.
    if s[:1] in ("△", "▲"):
        negative, s = True, s[1:]
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    s = _MONEY_NOISE.sub("", s)
    try:
        value = Decimal(s)
    except InvalidOperation as exc:
        raise ParseError("number_format", f"not a number: {text!r}") from exc
    if not value.is_finite():
        raise ParseError("number_format", f"not a number: {text!r}")
    return -value if negative else value


def parse_money(text: str, round_fraction: bool = False) -> int:
    """¥1,234 / 1,234円 / １２３４ as integer yen.

    Yen has no minor unit, so a fraction is an error unless the profile asks to round
    (exports from shops in other currencies, e.g. the Shopify samples).
    """
    value = parse_decimal(text)
    if value != value.to_integral_value():
        if not round_fraction:
            raise ParseError("money_fraction", f"amount has a fraction: {text!r}")
        value = value.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(value)


def parse_integer(text: str) -> int:
    value = parse_decimal(text)
    if value != value.to_integral_value():
        raise ParseError("integer_format", f"not a whole number: {text!r}")
    return int(value)


TRUE_WORDS = frozenset(
    {"1", "true", "yes", "y", "t", "on", "はい", "する", "希望する", "有", "あり", "○", "◯"}
)
FALSE_WORDS = frozenset(
    {"0", "false", "no", "n", "f", "off", "いいえ", "しない", "希望しない", "無", "なし", "×"}
)


def parse_boolean(text: str) -> bool:
    s = fold(text).lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ParseError("boolean_format", f"not a yes/no value: {text!r}")


def parse_postal_code(text: str) -> str:
    """〒100-0001, １００−０００１, 1000001 -> 1000001."""
    s = fold(text).replace("〒", "")
    digits = re.sub(r"[\s\-‐―ー−]", "", s)
    if not re.fullmatch(r"\d{7}", digits):
        raise ParseError("postal_code", f"not a 7-digit postal code: {text!r}")
    return digits


PREFECTURES: tuple[tuple[str, str], ...] = (
    ("北海道", "hokkaido"),
    ("青森県", "aomori"),
    ("岩手県", "iwate"),
    ("宮城県", "miyagi"),
    ("秋田県", "akita"),
    ("山形県", "yamagata"),
    ("福島県", "fukushima"),
    ("茨城県", "ibaraki"),
    ("栃木県", "tochigi"),
    ("群馬県", "gunma"),
    ("埼玉県", "saitama"),
    ("千葉県", "chiba"),
    ("東京都", "tokyo"),
    ("神奈川県", "kanagawa"),
    ("新潟県", "niigata"),
    ("富山県", "toyama"),
    ("石川県", "ishikawa"),
    ("福井県", "fukui"),
    ("山梨県", "yamanashi"),
    ("長野県", "nagano"),
    ("岐阜県", "gifu"),
    ("静岡県", "shizuoka"),
    ("愛知県", "aichi"),
    ("三重県", "mie"),
    ("滋賀県", "shiga"),
    ("京都府", "kyoto"),
    ("大阪府", "osaka"),
    ("兵庫県", "hyogo"),
    ("奈良県", "nara"),
    ("和歌山県", "wakayama"),
    ("鳥取県", "tottori"),
    ("島根県", "shimane"),
    ("岡山県", "okayama"),
    ("広島県", "hiroshima"),
    ("山口県", "yamaguchi"),
    ("徳島県", "tokushima"),
    ("香川県", "kagawa"),
    ("愛媛県", "ehime"),
    ("高知県", "kochi"),
    ("福岡県", "fukuoka"),
    ("佐賀県", "saga"),
    ("長崎県", "nagasaki"),
    ("熊本県", "kumamoto"),
    ("大分県", "oita"),
    ("宮崎県", "miyazaki"),
    ("鹿児島県", "kagoshima"),
    ("沖縄県", "okinawa"),
)


def _prefecture_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, (name, romaji) in enumerate(PREFECTURES, start=1):
        short = name if name == "北海道" else name[:-1]
        for key in (name, short, romaji, str(code), f"{code:02d}"):
            table[key] = name
        table[f"jp-{code:02d}"] = name
        suffix = {"都": "to", "府": "fu", "県": "ken", "道": "do"}[name[-1]]
        table[f"{romaji}-{suffix}"] = name
    return table


_PREFECTURES = _prefecture_lookup()


def parse_prefecture(text: str) -> str:
    """東京 / 東京都 / Tokyo / JP-13 / 13 -> 東京都."""
    s = fold(text).lower().replace(" ", "")
    found = _PREFECTURES.get(s)
    if found is None:
        raise ParseError("prefecture", f"not a Japanese prefecture: {text!r}")
    return found


def split_name(text: str) -> tuple[str, str]:
    """Family and given name split at the first space (full-width or ASCII)."""
    parts = re.split(r"[\s\u3000]+", text.strip(), maxsplit=1)
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], parts[1]
