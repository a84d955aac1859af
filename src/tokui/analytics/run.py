"""Running a template: resolve parameters, build, execute, order, export.

The final row order is applied twice: in the expression (so a caller that limits or
pages the expression gets the right rows) and again on the fetched frame, in Python.
The second pass makes the order independent of the database: PostgreSQL sorts text by
the database collation (ja_JP and C order Japanese differently) and puts nulls first in
descending order, while DuckDB sorts by code point with nulls last. Python orders text by
code point and we put nulls last, so every backend hands back the same rows in the same
order.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.registry import ParamError, Template, get


def _template(template: Template | str) -> Template:
    return get(template) if isinstance(template, str) else template


def build(con: BaseBackend, template: Template | str, raw: Mapping[str, Any]) -> ibis.Table:
    tpl = _template(template)
    if con.name in tpl.unsupported:
        raise ParamError(f"{tpl.id} cannot run on {con.name}: {tpl.unsupported[con.name]}")
    expr = tpl.build(con, tpl.resolve(raw))
    if tpl.order_by:
        keys = []
        for spec in tpl.order_by:
            name, _, direction = spec.partition(" ")
            keys.append(ibis.desc(expr[name]) if direction == "desc" else expr[name])
        expr = expr.order_by(keys)
    return expr


def sort_frame(df: pd.DataFrame, order_by: tuple[str, ...]) -> pd.DataFrame:
    """Rows in the template's order: text by code point, nulls last, stable."""
    if not order_by or df.empty:
        return df.reset_index(drop=True)
    names = [spec.partition(" ")[0] for spec in order_by]
    ascending = [spec.partition(" ")[2] != "desc" for spec in order_by]
    return df.sort_values(
        names, ascending=ascending, kind="mergesort", na_position="last"
    ).reset_index(drop=True)


def run(con: BaseBackend, template: Template | str, raw: Mapping[str, Any]) -> pd.DataFrame:
    tpl = _template(template)
    return sort_frame(build(con, tpl, raw).execute(), tpl.order_by)


def to_csv(df: pd.DataFrame) -> bytes:
    # UTF-8 with a byte-order mark: Excel (Japanese Windows) reads a BOM-less CSV as
    # Shift_JIS and garbles every Japanese name; with the BOM it opens it correctly.
    return str(df.to_csv(index=False)).encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, sheet: str = "result") -> bytes:
    out = df.copy()
    for col in out.columns:
        # Excel has no time zones; openpyxl refuses aware timestamps.
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        out.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buf.getvalue()
