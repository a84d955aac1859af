"""The segments area: list with counts and trend, one segment, the builder, CSV export.

Who may do what: everyone signed in reads the list, a segment's page and its YAML;
analysts and above may open the builder to draft and count, and export members without
contact details; marketers and above save segments and export contact details (names,
addresses, emails, phone numbers). Every export is consent-filtered for its channel and
written to the audit log.

The builder is a plain HTML form that works without JavaScript (each button posts it and
the page comes back with the count); static/segments.js adds the live count by posting
the same fields as JSON to /segments/builder/count with the CSRF token in a header.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd
from fastapi import APIRouter, Form
from ibis.backends import BaseBackend
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.features.customer_features import FEATURES
from tokui.segments.compile import SegmentError, compile_condition
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.export import (
    CONSENT,
    CONTACT_COLUMNS,
    ENCODINGS,
    PII_COLUMNS,
    member_rows,
    to_csv,
)
from tokui.segments.fields import (
    OPS_BY_KIND,
    builder_fields,
    builder_menus,
)
from tokui.segments.library import library, to_yaml
from tokui.segments.preview import count_members, make_context, overlap_with, preview
from tokui.segments.snapshot import SIZES
from tokui.segments.store import all_definitions, save
from tokui.state.db import session_scope
from tokui.state.models import Role, SavedSegment, User
from tokui.web.audit import record
from tokui.web.auth import optional_user, require
from tokui.web.context import WebContext, web_context
from tokui.web.i18n import translate
from tokui.web.plotly_assets import GLOBAL_STYLE_ID, plotly_version, style_guard_ids
from tokui.web.segment_form import (
    GROUP_TYPES,
    LEAF_TYPES,
    SUBSCRIPTION_STATES,
    FormData,
    Node,
    Outcome,
    apply_action,
    errors_by_node,
    from_condition,
    read_meta,
    read_tree,
    to_definition,
)
from tokui.web.segment_text import describe, field_label, value_label
from tokui.web.templating import json_for_script, render, request_language

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Analyst = Annotated[User, require(Role.analyst)]

# Paths under /segments/ that a saved segment's key must not shadow.
RESERVED_KEYS = frozenset({"new", "builder"})
SORTS = ("key", "name", "members", "source", "updated")
SAMPLE_ROWS = 20
TREND_POINTS = 90
LOCK_WAIT_SECONDS = 15.0
# What an export without contact details holds (analysts): no name, address, email, phone.
ANALYST_COLUMNS = ("customer_id", "prefecture")


class WarehouseBusyError(RuntimeError):
    """Another request held the warehouse for longer than LOCK_WAIT_SECONDS."""


class _NoFeaturesError(Exception):
    """customer_features is missing or empty: nothing to count yet."""


@contextmanager
def warehouse(ctx: WebContext) -> Iterator[BaseBackend]:
    """The shared warehouse connection, waited for at most LOCK_WAIT_SECONDS."""
    lock: threading.Lock = ctx.warehouse_lock
    if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
        raise WarehouseBusyError
    try:
        yield ctx.ws.warehouse
    finally:
        lock.release()


def _definitions(ctx: WebContext) -> tuple[dict[str, SegmentDefinition], dict[str, SavedSegment]]:
    with session_scope(ctx.ws.sessions) as db:
        definitions = all_definitions(db)
        rows = {r.key: r for r in db.scalars(select(SavedSegment).where(SavedSegment.is_active))}
        db.expunge_all()
    return definitions, rows


def _local(ctx: WebContext, at: datetime) -> datetime:
    """A stored UTC time in the shop's time zone, for display."""
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(ctx.ws.settings.timezone))


def _name(d: SegmentDefinition, lang: str) -> str:
    return d.name_ja if lang == "ja" else d.name_en


def _quote(value: str) -> str:
    return quote(value, safe="")


def _share(members: int | None, total: int) -> str:
    if members is None or not total:
        return "—"
    return f"{members / total:.1%}"


# ------------------------------------------------------------------ list


@dataclass
class ListRow:
    key: str
    name: str
    other_name: str
    source: str
    members: int | None
    share: str
    trend: list[tuple[date, int]]
    spark: str
    updated: datetime | None
    version: int | None


def sparkline(values: list[int], width: int = 100, height: int = 24) -> str:
    """SVG polyline points for a small trend line, drawn by the server (no script)."""
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    low, high = min(values), max(values)
    span = high - low or 1
    step = width / (len(values) - 1)
    points = []
    for i, v in enumerate(values):
        y = height - 2 - (v - low) / span * (height - 4) if high != low else height / 2
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)


def _sizes(con: BaseBackend) -> pd.DataFrame | None:
    if SIZES not in con.list_tables():
        return None
    t = con.table(SIZES)
    df = t.order_by(["segment_key", "as_of"]).execute()
    df["as_of"] = pd.to_datetime(df["as_of"]).dt.date
    return df


def _customer_total(con: BaseBackend) -> int:
    if FEATURES not in con.list_tables():
        return 0
    return int(con.table(FEATURES).count().execute())


@router.get("/segments")
def segment_list(request: Request, user: Viewer, sort: str = "key", dir: str = "asc") -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    definitions, saved_rows = _definitions(ctx)
    try:
        with warehouse(ctx) as con:
            sizes = _sizes(con)
            total = _customer_total(con)
    except WarehouseBusyError:
        return _busy(request)
    last = max(sizes["as_of"]) if sizes is not None and len(sizes) else None
    shipped = library()
    rows = []
    for key, d in definitions.items():
        trend: list[tuple[date, int]] = []
        if sizes is not None:
            mine = sizes[sizes.segment_key == key].tail(TREND_POINTS)
            trend = [(r.as_of, int(r.members)) for r in mine.itertuples()]
        members = trend[-1][1] if trend and trend[-1][0] == last else None
        saved_row = saved_rows.get(key)
        rows.append(
            ListRow(
                key=key,
                name=_name(d, lang),
                other_name=d.name_en if lang == "ja" else d.name_ja,
                source="saved" if saved_row is not None or key not in shipped else "library",
                members=members,
                share=_share(members, total),
                trend=trend,
                spark=sparkline([m for _, m in trend]),
                updated=_local(ctx, saved_row.updated_at) if saved_row else None,
                version=saved_row.version if saved_row else None,
            )
        )
    sort = sort if sort in SORTS else "key"
    descending = dir == "desc"
    sort_keys: dict[str, Any] = {
        "key": lambda r: r.key,
        "name": lambda r: r.name,
        "members": lambda r: (r.members is not None, r.members or 0),
        "source": lambda r: (r.source, r.key),
        "updated": lambda r: (r.updated is not None, r.updated.timestamp() if r.updated else 0.0),
    }
    rows.sort(key=sort_keys[sort], reverse=descending)
    sort_links = {
        s: f"/segments?sort={s}&dir={'desc' if sort == s and not descending else 'asc'}"
        for s in SORTS
    }
    return render(
        request,
        "segments.html",
        {
            "rows": rows,
            "last": last,
            "total": total,
            "sort": sort,
            "descending": descending,
            "sort_links": sort_links,
            "can_build": user.role_enum.allows(Role.analyst),
        },
    )


def _busy(request: Request) -> Response:
    return render(
        request,
        "segment_message.html",
        {"message": translate(request_language(request, None), "segments.err.busy")},
        status_code=503,
    )


# ------------------------------------------------------------------ one segment


def _definition_or_404(definitions: Mapping[str, SegmentDefinition], key: str) -> SegmentDefinition:
    d = definitions.get(key)
    if d is None:
        raise HTTPException(status_code=404)
    return d


@router.get("/segments/new")
def builder_new(request: Request, user: Analyst) -> Response:
    return _builder(request, user, None, Node("and"), {}, action=None)


@router.post("/segments/new")
async def builder_new_post(request: Request, user: Analyst) -> Response:
    data = await _form_data(request)
    return await run_in_threadpool(_builder_post, request, user, None, data)


@router.post("/segments/builder/count")
async def builder_count(request: Request, user: Analyst) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"ok": False, "error": "body is not JSON"}, status_code=400)
    data = _json_form(body)
    if data is None:
        return JSONResponse(
            {"ok": False, "error": "expected an object of field names to lists of strings"},
            status_code=400,
        )
    edit_key = body.get("editing") if isinstance(body, dict) else None
    return await run_in_threadpool(_count_json, request, user, data, edit_key)


@router.get("/segments/{key}")
def segment_page(request: Request, user: Viewer, key: str, saved: int | None = None) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    definitions, saved_rows = _definitions(ctx)
    d = _definition_or_404(definitions, key)
    names = {k: _name(v, lang) for k, v in definitions.items()}
    problem = None
    result = None
    overlaps: list[dict[str, Any]] = []
    history: list[tuple[date, int]] = []
    try:
        with warehouse(ctx) as con:
            sizes = _sizes(con)
            if sizes is not None:
                mine = sizes[sizes.segment_key == key]
                history = [(r.as_of, int(r.members)) for r in mine.itertuples()]
            try:
                if _customer_total(con) == 0:
                    raise _NoFeaturesError
                seg_ctx = make_context(con, resolve=definitions.get)
                result = preview(seg_ctx, d, sample=SAMPLE_ROWS)
                others = []
                broken = []
                for other in definitions.values():
                    if other.key == key:
                        continue
                    try:
                        seg_ctx._stack = [other.key]
                        compile_condition(other.condition, seg_ctx)
                        others.append(other)
                    except SegmentError:
                        broken.append(other.key)
                shared = overlap_with(seg_ctx, d, others)
            except _NoFeaturesError:
                problem = translate(lang, "segments.err.no_features")
                shared, broken = {}, []
            except SegmentError as exc:  # this segment no longer compiles (field removed...)
                problem = str(exc)
                shared, broken = {}, []
    except WarehouseBusyError:
        return _busy(request)
    for other_key, (both, size) in shared.items():
        overlaps.append(
            {
                "key": other_key,
                "name": names[other_key],
                "both": both,
                "size": size,
                "share_this": _share(both, result.members if result else 0),
            }
        )
    overlaps.sort(key=lambda o: (-o["both"], o["key"]))
    overlaps += [
        {"key": k, "name": names[k], "both": None, "size": None, "share_this": "—"} for k in broken
    ]
    sample = []
    if result is not None:
        for r in result.sample.to_dict("records"):
            sample.append(
                {
                    "customer_id": r["customer_id"],
                    "href": "/customers/" + _quote(str(r["customer_id"])),
                    "cells": [_cell(lang, c, r.get(c)) for c in SAMPLE_SHOWN],
                }
            )
    chart = _size_chart(history, lang) if history else None
    row = saved_rows.get(key)
    return render(
        request,
        "segment.html",
        {
            "d": d,
            "name": _name(d, lang),
            "description_text": describe(d.condition, lang, names),
            "yaml_text": to_yaml(d),
            "source": "saved" if row is not None or key not in library() else "library",
            "row": row,
            "updated": _local(ctx, row.updated_at) if row else None,
            "saved_version": saved,
            "result": result,
            "share": _share(result.members, result.customers) if result else "—",
            "problem": problem,
            "sample": sample,
            "sample_columns": [field_label(lang, c) for c in SAMPLE_SHOWN],
            "history": history,
            "chart_json": json_for_script(chart) if chart else None,
            "overlaps": overlaps,
            "plotly_version": plotly_version(),
            "plotly_style_id": GLOBAL_STYLE_ID,
            "plotly_guard_ids": style_guard_ids(),
            "can_export": user.role_enum.allows(Role.analyst),
            "can_export_pii": user.role_enum.allows(Role.marketer),
            "can_build": user.role_enum.allows(Role.analyst),
            "channels": list(CONSENT),
            "encodings": list(ENCODINGS),
        },
    )


SAMPLE_SHOWN = ("prefecture", "frequency", "monetary", "lifecycle_stage", "persona")


def _cell(lang: str, column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if column == "monetary":
        return f"¥{round(value):,}"
    return value_label(lang, value, column)


def _size_chart(history: list[tuple[date, int]], lang: str) -> dict[str, Any]:
    name = translate(lang, "segments.members")
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [d.isoformat() for d, _ in history],
                "y": [m for _, m in history],
                "line": {"color": "#2f6f9f"},
                "hovertemplate": "%{x}<br>" + name + ": %{y:,}<extra></extra>",
            }
        ],
        "layout": {
            "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
            "yaxis": {"tickformat": ",d", "rangemode": "tozero"},
            "xaxis": {"type": "date"},
            "showlegend": False,
            "font": {"family": "Noto Sans CJK JP, Noto Sans JP, sans-serif", "size": 13},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


@router.get("/segments/{key}/yaml")
def segment_yaml(request: Request, user: Viewer, key: str) -> Response:
    definitions, _ = _definitions(web_context(request))
    d = _definition_or_404(definitions, key)
    return Response(
        to_yaml(d),
        media_type="application/yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="segment-{d.key}.yaml"'},
    )


@router.post("/segments/{key}/export")
def segment_export(
    request: Request,
    user: Analyst,
    key: str,
    channel: Annotated[str, Form()] = "",
    encoding: Annotated[str, Form()] = "utf-8",
    pii: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    definitions, _ = _definitions(ctx)
    d = _definition_or_404(definitions, key)
    with_pii = pii == "1"
    if with_pii and not user.role_enum.allows(Role.marketer):
        # Analysts may count and list members, never take their contact details away.
        raise HTTPException(status_code=403)
    if channel not in CONSENT or encoding not in ENCODINGS:
        return _message(request, translate(lang, "segments.err.required"), 400)
    columns = CONTACT_COLUMNS if with_pii else ANALYST_COLUMNS
    try:
        with warehouse(ctx) as con:
            df = member_rows(con, definitions, d.key, channel, columns)
            as_of = make_context(con).as_of
        data = to_csv(df, encoding)
    except WarehouseBusyError:
        return _busy(request)
    except SegmentError as exc:  # ExportEncodingError among them: names customer and column
        return _message(request, str(exc), 422)
    detail: dict[str, object] = {
        "channel": channel,
        "encoding": encoding,
        "pii": with_pii,
        "rows": len(df),
    }
    if with_pii:
        detail["columns"] = sorted(PII_COLUMNS)
    record(ctx, user.id, "segment.export", d.key, json.dumps(detail, ensure_ascii=False))
    charset = "utf-8" if encoding == "utf-8" else "shift_jis"
    filename = f"segment-{d.key}-{channel}-{as_of:%Y%m%d}.csv"
    return Response(
        data,
        media_type=f"text/csv; charset={charset}",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _no_features(request: Request) -> Response:
    lang = request_language(request, optional_user(request))
    return _message(request, translate(lang, "segments.err.no_features"), 409)


def _message(request: Request, message: str, status_code: int) -> Response:
    return render(request, "segment_message.html", {"message": message}, status_code=status_code)


# ------------------------------------------------------------------ builder


@router.get("/segments/{key}/edit")
def builder_edit(request: Request, user: Analyst, key: str) -> Response:
    definitions, _ = _definitions(web_context(request))
    d = _definition_or_404(definitions, key)
    meta = {"key": d.key, "name_ja": d.name_ja, "name_en": d.name_en, "description": d.description}
    return _builder(request, user, d.key, from_condition(d.condition), meta, action=None)


@router.post("/segments/{key}/edit")
async def builder_edit_post(request: Request, user: Analyst, key: str) -> Response:
    definitions, _ = _definitions(web_context(request))
    _definition_or_404(definitions, key)
    data = await _form_data(request)
    return await run_in_threadpool(_builder_post, request, user, key, data)


async def _form_data(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    try:
        data: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, str):
                data.setdefault(name, []).append(value)
        return data
    finally:
        await form.close()


def _json_form(body: object) -> dict[str, list[str]] | None:
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        return None
    data: dict[str, list[str]] = {}
    for name, value in body["fields"].items():
        if isinstance(value, str):
            data[name] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            data[name] = value
        else:
            return None
    return data


@dataclass
class Count:
    members: int
    customers: int


@dataclass
class Check:
    """What a builder submission came to: the outcome and, if valid, the count."""

    outcome: Outcome
    count: Count | None = None


def _check(
    lang: str,
    root: Node,
    meta: dict[str, str],
    definitions: dict[str, SegmentDefinition],
    for_save: bool,
    con: BaseBackend,
) -> Check:
    fields = builder_fields(con)
    counted: list[Count] = []
    draft = not meta.get("key")
    if not for_save:
        # Counting needs no name yet; saving does.
        meta = {
            **meta,
            "key": meta.get("key") or "draft",
            "name_ja": meta.get("name_ja") or "draft",
        }

    def count(d: SegmentDefinition) -> None:
        resolve = definitions if draft else {**definitions, d.key: d}
        seg_ctx = make_context(con, resolve=resolve.get)
        counted.append(Count(count_members(seg_ctx, d), int(seg_ctx.features.count().execute())))

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    outcome = to_definition(root, meta, fields, t, compile_check=count)
    return Check(outcome, counted[0] if counted else None)


def _count_json(request: Request, user: User, data: FormData, edit_key: object) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    definitions, _ = _definitions(ctx)
    root = read_tree(data)
    meta = read_meta(data)
    if isinstance(edit_key, str) and edit_key in definitions:
        meta["key"] = edit_key
    try:
        with warehouse(ctx) as con:
            result = _check(lang, root, meta, definitions, False, con)
    except WarehouseBusyError:
        return JSONResponse(
            {"ok": False, "error": translate(lang, "segments.err.busy")}, status_code=503
        )
    except SegmentError:  # only a missing or empty customer_features gets here
        return JSONResponse(
            {"ok": False, "error": translate(lang, "segments.err.no_features"), "errors": {}},
            status_code=409,
        )
    errors = errors_by_node(result.outcome.errors)
    payload: dict[str, Any] = {"ok": result.count is not None, "errors": errors}
    definition = result.outcome.definition
    if result.count is not None and definition is not None:
        names = {k: _name(v, lang) for k, v in definitions.items()}
        payload.update(
            members=result.count.members,
            customers=result.count.customers,
            text=_count_text(lang, result.count),
            description=describe(definition.condition, lang, names),
        )
    return JSONResponse(payload)


def _count_text(lang: str, count: Count) -> str:
    return translate(
        lang,
        "segments.live_count",
        members=f"{count.members:,}",
        customers=f"{count.customers:,}",
        share=_share(count.members, count.customers),
    )


def _builder_post(request: Request, user: User, key: str | None, data: FormData) -> Response:
    ctx = web_context(request)
    action = (data.get("action") or ["count"])[0]
    definitions, _ = _definitions(ctx)
    root = read_tree(data)
    meta = read_meta(data)
    if key is not None:
        meta["key"] = key  # the key of a segment being edited never changes
    try:
        with warehouse(ctx) as con:
            fields = builder_fields(con)
    except WarehouseBusyError:
        return _busy(request)
    except SegmentError:  # only a missing or empty customer_features gets here
        return _no_features(request)
    if action.startswith(("add:", "group:", "remove:")):
        root = apply_action(root, action, data, fields)
        return _builder(request, user, key, root, meta, action=action)
    if action == "save":
        if not user.role_enum.allows(Role.marketer):
            raise HTTPException(status_code=403)
        return _save(request, user, key, root, meta, definitions)
    return _builder(request, user, key, root, meta, action=action)


def _save(
    request: Request,
    user: User,
    key: str | None,
    root: Node,
    meta: dict[str, str],
    definitions: dict[str, SegmentDefinition],
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    if key is None and meta.get("key") in RESERVED_KEYS:
        extra = {"key": [translate(lang, "segments.err.key_taken", segment=meta["key"])]}
        return _builder(request, user, key, root, meta, action="save", extra_errors=extra)
    if key is None and meta.get("key") in definitions:
        extra = {"key": [translate(lang, "segments.err.key_taken", segment=meta["key"])]}
        return _builder(request, user, key, root, meta, action="save", extra_errors=extra)
    try:
        with warehouse(ctx) as con:
            result = _check(lang, root, meta, definitions, True, con)
    except WarehouseBusyError:
        return _busy(request)
    definition = result.outcome.definition
    if definition is None:
        return _builder(request, user, key, root, meta, action="save", precomputed=result)
    with session_scope(ctx.ws.sessions) as db:
        row = save(db, definition, utc_naive(ctx.clock.now()), user.id)
        version = row.version
    return RedirectResponse(f"/segments/{definition.key}?saved={version}", status_code=303)


def _builder(
    request: Request,
    user: User,
    key: str | None,
    root: Node,
    meta: dict[str, str],
    action: str | None,
    extra_errors: dict[str, list[str]] | None = None,
    precomputed: Check | None = None,
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    definitions, _ = _definitions(ctx)
    names = {k: _name(v, lang) for k, v in definitions.items()}
    result = precomputed
    try:
        with warehouse(ctx) as con:
            fields = builder_fields(con)
            menus = builder_menus(con)
            values, categories = menus.values, menus.categories
            if result is None and action is not None:
                result = _check(lang, root, meta, definitions, False, con)
    except WarehouseBusyError:
        return _busy(request)
    except SegmentError:  # only a missing or empty customer_features gets here
        return _no_features(request)
    structural = action is not None and action.startswith(("add:", "group:", "remove:", "refresh"))
    # Right after adding a condition its empty inputs are not yet mistakes.
    raw_errors = result.outcome.errors if result and not structural else {}
    errors = errors_by_node(raw_errors)
    for where, messages in (extra_errors or {}).items():
        errors.setdefault(where, []).extend(messages)
    yaml_text = None
    if action == "yaml" and result is not None and result.outcome.definition is not None:
        yaml_text = to_yaml(result.outcome.definition)
    status = 422 if errors else 200
    return render(
        request,
        "segment_builder.html",
        {
            "editing": key,
            "meta": meta,
            "root": root,
            "fields": list(fields.values()),
            "field_kinds": {f.name: f.kind for f in fields.values()},
            "field_labels": {f.name: field_label(lang, f.name) for f in fields.values()},
            "ops_by_kind": OPS_BY_KIND,
            "values": values,
            "categories": categories,
            "segments": [(k, names[k]) for k in sorted(definitions) if k != key],
            "leaf_types": LEAF_TYPES,
            "group_types": GROUP_TYPES,
            "states": SUBSCRIPTION_STATES,
            "errors": errors,
            "invalid": set(raw_errors),
            "count_text": _count_text(lang, result.count) if result and result.count else None,
            "yaml_text": yaml_text,
            "can_save": user.role_enum.allows(Role.marketer),
            "value_label": lambda v, f: value_label(lang, v, f),
            "description_text": (
                describe(result.outcome.definition.condition, lang, names)
                if result and result.outcome.definition
                else None
            ),
        },
        status_code=status,
    )
