"""The analyses area: catalogue, one analysis (form, chart, table, exports), saving.

Running is a GET with the parameters in the query string: it changes nothing, and the
address of a result can be bookmarked or shared. Saving to the dashboard and arranging
the dashboard are POSTs behind the CSRF middleware.

Who may do what: everyone signed in (viewer and up) may browse the catalogue and run
analyses; exports and the dashboard (save, remove, reorder) need analyst or above.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from tokui.analytics import saved as saved_store
from tokui.analytics.charts import figure
from tokui.analytics.columns import column_format, format_value, label
from tokui.analytics.export import ExportTooLargeError, to_csv, to_xlsx
from tokui.analytics.registry import CATEGORIES, ParamError, Template, get, templates
from tokui.clock import utc_naive
from tokui.segments.store import all_definitions
from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.web.analysis_form import (
    Field,
    FormError,
    build_fields,
    options_for,
    picker_of,
    read_values,
    validate,
)
from tokui.web.analysis_runner import (
    AnalysisTimeoutError,
    Outcome,
    WarehouseBusyError,
    run_for_request,
)
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.i18n import translate
from tokui.web.plotly_assets import GLOBAL_STYLE_ID, plotly_version, style_guard_ids
from tokui.web.templating import json_for_script, render, request_language

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Analyst = Annotated[User, require(Role.analyst)]

PAGE_SIZE = 100
# Times are shown in the shop's time zone (Japan has no daylight saving time).
JST = timezone(timedelta(hours=9))
CARD_ROWS = 10
# A message key and its values.
Message = tuple[str, dict[str, object]]


# ---------------------------------------------------------------- catalogue


def search_templates(query: str) -> list[Template]:
    """Templates matching every word of the query (ja/en names, descriptions, id)."""
    words = query.split()
    found = templates()
    for word in words:
        matching = {t.id for t in templates(search=word)}
        found = [t for t in found if t.id in matching]
    return found


def category_name(category: str, lang: str) -> str:
    ja, en = CATEGORIES.get(category, (category, category))
    return ja if lang == "ja" else en


def template_name(t: Template, lang: str) -> str:
    return t.name_ja if lang == "ja" else t.name_en


def template_description(t: Template, lang: str) -> str:
    return t.description_ja if lang == "ja" else t.description_en


@router.get("/analyses")
def catalogue(request: Request, user: Viewer, q: str = "") -> Response:
    lang = request_language(request, user)
    q = q.strip()[:100]
    found = search_templates(q) if q else templates()
    groups: dict[str, list[Template]] = {}
    for t in found:
        groups.setdefault(t.category, []).append(t)
    return render(
        request,
        "analyses.html",
        {
            "q": q,
            "groups": [(c, category_name(c, lang), ts) for c, ts in groups.items()],
            "found": len(found),
            "total": len(templates()),
            "name": template_name,
            "description": template_description,
        },
    )


# ---------------------------------------------------------------- one analysis


def _template_or_404(template_id: str) -> Template:
    try:
        return get(template_id)
    except ParamError:
        raise HTTPException(status_code=404) from None


def _pickers(request: Request, template: Template) -> dict[str, list[tuple[str, str]] | None]:
    wanted: dict[str, str] = {}
    for p in template.params:
        kind = picker_of(p)
        if kind is not None:
            wanted[p.name] = kind
    if not wanted:
        return {}
    ctx = web_context(request)
    segments: dict[str, str] = {}
    if "segment" in wanted.values():
        lang = request_language(request, None)
        with session_scope(ctx.ws.sessions) as db:
            segments = {
                key: f"{key} — {d.name_ja if lang == 'ja' else d.name_en}"
                for key, d in all_definitions(db).items()
            }
    with ctx.warehouse_lock:
        con = ctx.ws.warehouse
        return {name: options_for(kind, con, segments) for name, kind in wanted.items()}


@dataclass
class Column:
    name: str
    label: str
    fmt: str

    @property
    def numeric(self) -> bool:
        return self.fmt in ("yen", "rate", "int", "decimal")


@dataclass
class Result:
    columns: list[Column]
    rows: list[list[str]]
    total: int
    page: int
    pages: int
    first: int
    outcome: Outcome
    chart_json: Any = None
    chart_kind: str | None = None
    chart_derived: bool = False
    chart_rows: int = 0
    computed_local: str = ""


def present(template: Template, outcome: Outcome, lang: str, page: int, size: int) -> Result:
    df = outcome.df
    columns = [Column(c, label(c, lang), column_format(c, df[c])) for c in df.columns]
    pages = max(1, math.ceil(len(df) / size))
    page = min(max(page, 1), pages)
    start = (page - 1) * size
    part = df.iloc[start : start + size]
    rows = [
        [format_value(v, col.fmt) for v, col in zip(row, columns, strict=True)]
        for row in part.itertuples(index=False, name=None)
    ]
    result = Result(columns, rows, len(df), page, pages, start + 1, outcome)
    result.computed_local = outcome.computed_at.astimezone(JST).strftime("%H:%M:%S")
    fig = figure(template, df, lang)
    if fig is not None and fig.spec.get("data"):
        result.chart_json = json_for_script(fig.spec)
        result.chart_kind = fig.kind
        result.chart_derived = fig.derived
        result.chart_rows = fig.rows_drawn
    return result


def _query(values: Mapping[str, str], **extra: str | int) -> str:
    items = [(k, v) for k, v in values.items() if v != ""]
    items += [(k, str(v)) for k, v in extra.items()]
    return urlencode(items)


def _plotly_context() -> dict[str, Any]:
    return {
        "plotly_version": plotly_version(),
        "plotly_style_id": GLOBAL_STYLE_ID,
        "plotly_guard_ids": style_guard_ids(),
    }


def _page(
    request: Request,
    user: User,
    template: Template,
    fields: list[Field],
    *,
    result: Result | None = None,
    values: Mapping[str, str] | None = None,
    message: Message | None = None,
    save_error: str | None = None,
    title: str = "",
    status_code: int = 200,
) -> Response:
    lang = request_language(request, user)
    values = values or {}
    return render(
        request,
        "analysis.html",
        {
            "template": template,
            "name": template_name(template, lang),
            "description": template_description(template, lang),
            "category": category_name(template.category, lang),
            "fields": fields,
            "result": result,
            "message": message,
            "query": _query(values),
            "page_query": lambda page: _query(values, run=1, page=page),
            "can_export": user.role_enum.allows(Role.analyst),
            "can_save": user.role_enum.allows(Role.analyst),
            "save_error": save_error,
            "save_title": title or template_name(template, lang),
            "values": values,
            **_plotly_context(),
        },
        status_code=status_code,
    )


def _outcome_or_message(
    request: Request, template: Template, raw: Mapping[str, str], fresh: bool
) -> tuple[Outcome | None, Message | None, int]:
    try:
        return run_for_request(request, template, raw, fresh=fresh), None, 200
    except WarehouseBusyError:
        return None, ("analyses.error.busy", {}), 503
    except AnalysisTimeoutError as exc:
        return None, ("analyses.error.timeout", {"detail": str(exc)}), 503
    except ParamError as exc:
        # Checks that span several parameters happen in the builder.
        return None, ("analyses.error.params", {"detail": str(exc)}), 422


@router.get("/analyses/{template_id}")
def analysis(request: Request, user: Viewer, template_id: str) -> Response:
    template = _template_or_404(template_id)
    lang = request_language(request, user)
    params = request.query_params
    try:
        values = read_values(template, params, list(params.multi_items()))
    except FormError as exc:
        return PlainTextResponse(
            translate(lang, "analyses.error.form", name=exc.field_name, detail=str(exc)),
            status_code=400,
        )
    pickers = _pickers(request, template)
    fields = build_fields(template, values, lang, pickers)
    if "run" not in params:
        return _page(request, user, template, fields, values=values)
    raw = validate(template, fields, lang, pickers)
    if any(f.error for f in fields):
        invalid: Message = ("analyses.error.invalid", {})
        return _page(
            request, user, template, fields, values=values, message=invalid, status_code=422
        )
    outcome, message, status = _outcome_or_message(
        request, template, raw, fresh=params.get("fresh") == "1"
    )
    result = None
    if outcome is not None:
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            page = 1
        result = present(template, outcome, lang, page, PAGE_SIZE)
    return _page(
        request,
        user,
        template,
        fields,
        result=result,
        values=values,
        message=message,
        status_code=status,
    )


@router.get("/analyses/{template_id}/export.{fmt}")
def export(request: Request, user: Analyst, template_id: str, fmt: str) -> Response:
    template = _template_or_404(template_id)
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404)
    lang = request_language(request, user)
    params = request.query_params
    try:
        values = read_values(template, params, list(params.multi_items()))
    except FormError as exc:
        return PlainTextResponse(
            translate(lang, "analyses.error.form", name=exc.field_name, detail=str(exc)),
            status_code=400,
        )
    pickers = _pickers(request, template)
    fields = build_fields(template, values, lang, pickers)
    raw = validate(template, fields, lang, pickers)
    errors = [f.error for f in fields if f.error]
    if errors:
        return PlainTextResponse("\n".join(errors), status_code=422)
    outcome, message, status = _outcome_or_message(request, template, raw, fresh=False)
    if outcome is None:
        assert message is not None
        return PlainTextResponse(translate(lang, message[0], **message[1]), status_code=status)
    stamp = outcome.computed_at.strftime("%Y%m%d")
    filename = f"{template.id}_{stamp}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(to_csv(outcome.df), media_type="text/csv; charset=utf-8", headers=headers)
    try:
        data = to_xlsx(outcome.df)
    except ExportTooLargeError as exc:
        return PlainTextResponse(str(exc), status_code=422)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=media, headers=headers)


# ---------------------------------------------------------------- the dashboard


@router.post("/analyses/{template_id}/save")
async def save(request: Request, user: Analyst, template_id: str) -> Response:
    template = _template_or_404(template_id)
    lang = request_language(request, user)
    form = await request.form()
    text = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    try:
        values = read_values(template, text, form.multi_items())
    except FormError as exc:
        return PlainTextResponse(
            translate(lang, "analyses.error.form", name=exc.field_name, detail=str(exc)),
            status_code=400,
        )
    title = str(form.get("title") or "")
    return await run_in_threadpool(_save_sync, request, user, template, values, title, lang)


def _save_sync(
    request: Request,
    user: User,
    template: Template,
    values: dict[str, str],
    title: str,
    lang: str,
) -> Response:
    pickers = _pickers(request, template)
    fields = build_fields(template, values, lang, pickers)
    validate(template, fields, lang, pickers)
    if any(f.error for f in fields):
        message: Message = ("analyses.error.invalid", {})
        return _page(
            request,
            user,
            template,
            fields,
            values=values,
            message=message,
            title=title,
            status_code=422,
        )
    ctx = web_context(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            # What was sent, not the defaults filled in: an empty "as of" must keep
            # meaning "the last order date" on every later day.
            now = utc_naive(ctx.clock.now())
            row = saved_store.add(db, template, values, title, user.id, now)
            saved_id = row.id
    except (saved_store.SavedAnalysisError, ParamError) as exc:
        error = translate(lang, "analyses.error.save", detail=str(exc))
        return _page(
            request,
            user,
            template,
            fields,
            values=values,
            save_error=error,
            title=title,
            status_code=422,
        )
    return RedirectResponse(f"/?saved={saved_id}#saved-{saved_id}", status_code=303)


@router.post("/dashboard/analyses/{saved_id}/remove")
def remove(request: Request, user: Analyst, saved_id: int) -> Response:
    ctx = web_context(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            saved_store.remove(db, saved_id, user.id, utc_naive(ctx.clock.now()))
    except saved_store.SavedAnalysisError:
        raise HTTPException(status_code=404) from None
    return RedirectResponse("/#saved-analyses", status_code=303)


@router.post("/dashboard/analyses/{saved_id}/move")
def move(
    request: Request, user: Analyst, saved_id: int, direction: Annotated[str, Form()] = ""
) -> Response:
    if direction not in ("up", "down"):
        return PlainTextResponse("direction: must be up or down", status_code=400)
    ctx = web_context(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            saved_store.move(db, saved_id, direction, user.id, utc_naive(ctx.clock.now()))
    except saved_store.SavedAnalysisError:
        raise HTTPException(status_code=404) from None
    return RedirectResponse(f"/#saved-{saved_id}", status_code=303)


@dataclass
class Card:
    id: int
    title: str
    template_id: str
    template_name: str
    link: str
    error: str | None = None
    result: Result | None = None


def dashboard_cards(request: Request, lang: str) -> list[Card]:
    """The saved analyses, each run (or taken from the cache) and ready to draw."""
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        loaded = saved_store.list_saved(db)
    cards: list[Card] = []
    for item in loaded:
        link = f"/analyses/{item.template_id}?" + _query(item.raw, run=1)
        card = Card(item.id, item.title, item.template_id, item.template_id, link)
        cards.append(card)
        if item.template is None or item.error:
            card.error = translate(lang, "analyses.card.invalid", detail=item.error or "")
            continue
        card.template_name = template_name(item.template, lang)
        outcome, message, _ = _outcome_or_message(request, item.template, item.raw, fresh=False)
        if outcome is None:
            assert message is not None
            card.error = translate(lang, message[0], **message[1])
            continue
        card.result = present(item.template, outcome, lang, 1, CARD_ROWS)
    return cards
