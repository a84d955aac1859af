"""Running a template: resolve parameters, build, execute, order, export."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.registry import ParamError, Template, get


def build(con: BaseBackend, template: Template | str, raw: Mapping[str, Any]) -> ibis.Table:
    tpl = get(template) if isinstance(template, str) else template
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


def run(con: BaseBackend, template: Template | str, raw: Mapping[str, Any]) -> pd.DataFrame:
    return build(con, template, raw).execute().reset_index(drop=True)


def to_csv(df: pd.DataFrame) -> bytes:
    # UTF-8 with BOM: Excel in Japan opens it without garbling.
    return str(df.to_csv(index=False)).encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()
