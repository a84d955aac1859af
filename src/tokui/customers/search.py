"""Searching customers by name (kanji or kana), email, phone or customer id, with paging.

The typed text only ever becomes an Ibis literal compared with columns; sort fields and
directions come from a fixed list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import ibis
from ibis.backends import BaseBackend

PAGE_SIZE = 25
MAX_QUERY = 100
# Public sort names -> columns; every order ends on customer_id so pages never overlap.
SORTS = {"id": "customer_id", "name": "name_kana", "registered": "registered_at"}
DIRECTIONS = ("asc", "desc")
COLUMNS = (
    "customer_id",
    "name",
    "name_kana",
    "email",
    "phone",
    "prefecture",
    "rank",
    "registered_at",
)

_SPACES = re.compile(r"\s+")
_PHONE_LIKE = re.compile(r"^\+?[0-9()\- ]+$")


class SearchInputError(ValueError):
    """A parameter outside its allowed values, named so the page can say which."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name)
        self.field = field_name


@dataclass(frozen=True)
class CustomerQuery:
    text: str = ""
    sort: str = "id"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def parse(
        cls, text: str | None, sort: str | None, direction: str | None, page: str | None
    ) -> CustomerQuery:
        """Validate raw query parameters; raises SearchInputError naming the bad one."""
        clean = unicodedata.normalize("NFKC", text or "").strip()
        if len(clean) > MAX_QUERY or any(ord(c) < 0x20 for c in clean):
            raise SearchInputError("q")
        sort = sort or "id"
        if sort not in SORTS:
            raise SearchInputError("sort")
        direction = direction or "asc"
        if direction not in DIRECTIONS:
            raise SearchInputError("dir")
        try:
            number = int(page or "1")
        except ValueError:
            raise SearchInputError("page") from None
        if not 1 <= number <= 1_000_000:
            raise SearchInputError("page")
        return cls(clean, sort, direction, number)


@dataclass
class SearchPage:
    query: CustomerQuery
    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def to_katakana(text: str) -> str:
    """ひらがな -> カタカナ, so a kana search matches the katakana the carts store."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def _no_spaces(value: ibis.StringValue) -> ibis.StringValue:
    return value.replace(" ", "").replace("\u3000", "")


def _predicate(t: ibis.Table, text: str) -> ibis.BooleanValue:
    compact = _SPACES.sub("", text)
    kana = to_katakana(compact)
    lowered = text.lower()
    conditions = [
        t.customer_id == text,
        t.customer_id.startswith(text),
        _no_spaces(t.name).contains(compact),
        _no_spaces(t.name_kana).contains(kana),
        t.email.lower().contains(lowered),
    ]
    digits = re.sub(r"[^0-9]", "", text)
    if _PHONE_LIKE.match(text) and len(digits) >= 3:
        if text.startswith("+81"):
            digits = "0" + digits[2:]
        conditions.append(t.phone.re_replace("[^0-9]", "").contains(digits))
    # Empty columns give NULL, which must read as "no match", not poison the OR.
    return ibis.or_(*[c.fill_null(False) for c in conditions])


def search_customers(con: BaseBackend, query: CustomerQuery) -> SearchPage:
    t = con.table("customers")
    if query.text:
        t = t.filter(_predicate(t, query.text))
    total = int(t.count().execute())
    column = t[SORTS[query.sort]]
    key = (
        column.desc(nulls_first=False)
        if query.direction == "desc"
        else column.asc(nulls_first=False)
    )
    order = [key] if query.sort == "id" else [key, t.customer_id.asc()]
    rows = (
        t.order_by(order)
        .select(*COLUMNS)
        .limit(PAGE_SIZE, offset=(query.page - 1) * PAGE_SIZE)
        .to_pyarrow()
        .to_pylist()
    )
    return SearchPage(query, total, rows)
