"""The scenarios area: list with headline figures, one scenario, the editor, enable /
pause / resume, YAML import and export, test send to one customer, dry run.

Who may do what: everyone signed in (not the call center) reads the list, a scenario's
page and its YAML; analysts and above run dry runs; marketers and above edit, import,
add from the library, enable, pause, resume and send tests. Every change is written to
the audit log.

The editor is a plain HTML form that works without JavaScript: each button (add a step,
move it, remove it) posts the whole form and the server draws it again, and the
definition is validated by ScenarioDefinition before anything is saved.
static/scenarios.js only re-draws the form when a choice changes which inputs fit (the
trigger type, a send step's channel) and keeps the scroll position.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, UploadFile
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.messaging.service import Messaging, MessagingError
from tokui.messaging.settings import MessagingSettingsError
from tokui.messaging.store import TemplateStoreError, list_templates
from tokui.messaging.templates import TemplateRenderError
from tokui.scenarios import library, store
from tokui.scenarios.definition import DefinitionError, EntryRules, Goal, ScenarioDefinition
from tokui.scenarios.dryrun import DryRun, dry_run
from tokui.scenarios.kpis import Kpis, scenario_kpis
from tokui.scenarios.testsend import StepSent, send_for_test, send_steps
from tokui.segments.compile import SegmentError
from tokui.segments.store import all_definitions
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.models import Role, User
from tokui.state.scenarios import Scenario, ScenarioVersion
from tokui.web import audit
from tokui.web.auth import require
from tokui.web.context import WebContext, web_context
from tokui.web.i18n import translate
from tokui.web.scenario_form import (
    EditorState,
    Outcome,
    Widget,
    apply_action,
    first,
    from_definition,
    new_state,
    read_state,
    step_types,
    triggers,
    validate,
    widgets,
)
from tokui.web.scenario_text import Describer, field_label, known, option_label, type_label
from tokui.web.templating import render, request_language

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Analyst = Annotated[User, require(Role.analyst)]
Marketer = Annotated[User, require(Role.marketer)]

# Paths under /scenarios/ that a scenario's key must not shadow.
RESERVED_KEYS = frozenset({"new", "import", "library"})
DRY_RUN_DAYS = 90
MAX_DRY_RUN_DAYS = 400
SAMPLE_ROWS = 20
KPI_DAYS = 30
MAX_YAML_BYTES = 256 * 1024
STRUCTURAL = ("add_step", "remove:", "up:", "down:", "add_row:", "remove_row:", "refresh")
TRANSITIONS = {
    "enable": ("draft", "enabled"),
    "pause": ("enabled", "paused"),
    "resume": ("paused", "enabled"),
}


def _tz(ctx: WebContext) -> ZoneInfo:
    return ZoneInfo(ctx.ws.settings.timezone)


def _local(ctx: WebContext, at: datetime) -> datetime:
    """A stored UTC time (naive) in the shop's time zone, for display."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(_tz(ctx))


def _name(d: ScenarioDefinition, lang: str) -> str:
    return d.name_ja if lang == "ja" else d.name_en


def _quote(value: str) -> str:
    return quote(value, safe="")


def _rate(k: Kpis) -> str:
    return "—" if k.goal_rate is None else f"{k.goal_rate:.1%}"


@dataclass
class Lookups:
    """Display names the pages need, read once per request."""

    segments: dict[str, str]
    templates: dict[str, str]
    template_rows: list[tuple[str, str, str]]  # key, name, channel

    def describer(self, lang: str, tz: ZoneInfo) -> Describer:
        return Describer(lang, tz, self.segments, self.templates)


def _lookups(ctx: WebContext, lang: str) -> Lookups:
    with session_scope(ctx.ws.sessions) as db:
        segs = all_definitions(db)
        templates = list_templates(db)
        rows = [(t.key, t.name, t.channel) for t in templates]
    return Lookups(
        segments={k: (d.name_ja if lang == "ja" else d.name_en) for k, d in segs.items()},
        templates={k: name for k, name, _ in rows},
        template_rows=rows,
    )


def _current(ctx: WebContext, key: str) -> tuple[Scenario, ScenarioDefinition]:
    with session_scope(ctx.ws.sessions) as db:
        try:
            scenario = store.get(db, key)
            definition = store.load_version(store.version_row(db, scenario))
        except store.ScenarioStoreError:
            raise HTTPException(status_code=404) from None
        db.expunge(scenario)
    return scenario, definition


def _message(
    request: Request, message: str, status_code: int, back: str = "/scenarios"
) -> Response:
    return render(
        request,
        "scenario_message.html",
        {"message": message, "back": back},
        status_code=status_code,
    )


# ------------------------------------------------------------------ list


@dataclass
class ListRow:
    key: str
    name: str
    other_name: str
    status: str
    version: int
    trigger: str
    kpis: Kpis
    rate: str
    problem: str | None = None


@router.get("/scenarios")
def scenario_list(request: Request, user: Viewer) -> Response:
    return _list_page(request, user)


def _list_page(
    request: Request, user: User, import_errors: list[str] | None = None, status_code: int = 200
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    look = _lookups(ctx, lang)
    describer = look.describer(lang, _tz(ctx))
    rows = []
    with session_scope(ctx.ws.sessions) as db:
        kpis = scenario_kpis(db, ctx.clock.now(), KPI_DAYS)
        for s in store.list_all(db):
            k = kpis.get(s.id, Kpis())
            try:
                d = store.load_version(store.version_row(db, s))
            except ValidationError as exc:  # stored before a change of the models
                rows.append(
                    ListRow(
                        s.key, s.key, "", s.status, s.current_version, "—", k, _rate(k), str(exc)
                    )
                )
                continue
            rows.append(
                ListRow(
                    key=s.key,
                    name=_name(d, lang),
                    other_name=d.name_en if lang == "ja" else d.name_ja,
                    status=s.status,
                    version=s.current_version,
                    trigger=describer.trigger(d.trigger),
                    kpis=k,
                    rate=_rate(k),
                )
            )
    stored = {r.key for r in rows}
    ready = [
        {
            "key": r.definition.key,
            "name": _name(r.definition, lang),
            "description": r.definition.description,
            "trigger": describer.trigger(r.definition.trigger),
            "steps": len(r.definition.steps),
        }
        for r in library.load_library()
        if r.definition.key not in stored
    ]
    return render(
        request,
        "scenarios.html",
        {
            "rows": rows,
            "ready": ready,
            "kpi_days": KPI_DAYS,
            "can_edit": user.role_enum.allows(Role.marketer),
            "import_errors": import_errors or [],
        },
        status_code=status_code,
    )


@router.post("/scenarios/library/{key}/install")
def install_ready(request: Request, user: Marketer, key: str) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    ready = next((r for r in library.load_library() if r.definition.key == key), None)
    if ready is None:
        raise HTTPException(status_code=404)
    try:
        sample = Messaging(ctx.ws, ctx.clock).sample_context()
        with session_scope(ctx.ws.sessions) as db:
            if db.scalar(select(Scenario.id).where(Scenario.key == key)) is not None:
                return RedirectResponse(f"/scenarios/{_quote(key)}", status_code=303)
            saved = library.install(db, ready, utc_naive(ctx.clock.now()), sample)
            audit.add_entry(db, ctx, user.id, "scenario.install", key, ready.file)
            version = saved.version.version
    except (MessagingSettingsError, TemplateStoreError, TemplateRenderError) as exc:
        text = translate(lang, "scenarios.err.install", error=str(exc))
        return _message(request, text, 422)
    return RedirectResponse(f"/scenarios/{_quote(key)}?saved={version}", status_code=303)


@router.post("/scenarios/import")
async def import_yaml(
    request: Request, user: Marketer, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    lang = request_language(request, user)
    if file is None or not file.filename:
        return _list_page(request, user, [translate(lang, "scenarios.err.no_file")], 422)
    try:
        raw = await file.read(MAX_YAML_BYTES + 1)
    finally:
        await file.close()
    source = (file.filename or "upload.yaml")[:100]
    if len(raw) > MAX_YAML_BYTES:
        message = translate(lang, "scenarios.err.too_large", kb=MAX_YAML_BYTES // 1024)
        return _list_page(request, user, [message], 413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _list_page(request, user, [translate(lang, "scenarios.err.not_utf8")], 422)
    return await run_in_threadpool(_import_text, request, user, text, source)


def _import_text(request: Request, user: User, text: str, source: str) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    try:
        definition = store.from_yaml(text, source)
    except DefinitionError as exc:
        return _list_page(request, user, str(exc).split("; "), 422)
    if definition.key in RESERVED_KEYS:
        message = translate(lang, "scenarios.err.reserved", scenario=definition.key)
        return _list_page(request, user, [message], 422)
    with session_scope(ctx.ws.sessions) as db:
        saved = store.save(db, definition, utc_naive(ctx.clock.now()), user.id)
        version = saved.version.version
        detail = f"v{version}" + ("" if saved.changed else " unchanged") + f" from {source}"
        audit.add_entry(db, ctx, user.id, "scenario.import", definition.key, detail)
    suffix = "" if saved.changed else "&unchanged=1"
    return RedirectResponse(
        f"/scenarios/{_quote(definition.key)}?saved={version}{suffix}", status_code=303
    )


# ------------------------------------------------------------------ editor
# Declared before /scenarios/{key} so that "new" is never read as a key.


@router.get("/scenarios/new")
def editor_new(request: Request, user: Marketer) -> Response:
    return _editor(request, user, None, new_state(), None)


@router.post("/scenarios/new")
async def editor_new_post(request: Request, user: Marketer) -> Response:
    data = await _form_data(request)
    return await run_in_threadpool(_editor_post, request, user, None, data)


@router.get("/scenarios/{key}/edit")
def editor_edit(request: Request, user: Marketer, key: str) -> Response:
    ctx = web_context(request)
    _, definition = _current(ctx, key)
    return _editor(request, user, key, from_definition(definition, _tz(ctx)), None)


@router.post("/scenarios/{key}/edit")
async def editor_edit_post(request: Request, user: Marketer, key: str) -> Response:
    _current(web_context(request), key)  # 404 before reading a form for nothing
    data = await _form_data(request)
    return await run_in_threadpool(_editor_post, request, user, key, data)


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


def _editor_post(
    request: Request, user: User, key: str | None, data: dict[str, list[str]]
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    action = first(data, "action") or "check"
    state = read_state(data)
    if key is not None:
        state.meta["key"] = key  # the key of a scenario being edited never changes
    if action.startswith(STRUCTURAL):
        return _editor(request, user, key, apply_action(state, action, data), action)

    def t(k: str, **values: object) -> str:
        return translate(lang, k, **values)

    outcome = validate(state, _tz(ctx), t)
    new_key = state.meta.get("key", "")
    if key is None and new_key:
        with session_scope(ctx.ws.sessions) as db:
            taken = db.scalar(select(Scenario.id).where(Scenario.key == new_key)) is not None
        if taken or new_key in RESERVED_KEYS:
            outcome.add("key", t("scenarios.err.key_taken", scenario=new_key))
    if action == "save" and outcome.definition is not None and not outcome.errors:
        with session_scope(ctx.ws.sessions) as db:
            saved = store.save(db, outcome.definition, utc_naive(ctx.clock.now()), user.id)
            version = saved.version.version
            if saved.changed:
                audit.add_entry(db, ctx, user.id, "scenario.save", new_key, f"v{version}")
        suffix = "" if saved.changed else "&unchanged=1"
        return RedirectResponse(
            f"/scenarios/{_quote(new_key)}?saved={version}{suffix}", status_code=303
        )
    return _editor(request, user, key, state, action, outcome)


def _step_targets(state: EditorState) -> list[list[str]]:
    """For each step, the ids it may lead to: the steps after it in the list."""
    ids = [s.id for s in state.steps]
    return [[x for x in ids[i + 1 :] if x] for i in range(len(ids))]


def _template_options(
    look: Lookups, w: Widget, values: dict[str, str], step_type: str
) -> list[tuple[str, str, str]]:
    """Templates for a template picker: of the channel the step names for it (the
    `channel` beside `template`, `fallback_channel` beside `fallback_template`), or of
    the step's own channel (call_center, webhook); all when that is unknown."""
    channel = values.get(w.name.replace("template", "channel"))
    if channel is None and step_type in {c for _, _, c in look.template_rows}:
        channel = step_type
    rows = [r for r in look.template_rows if channel is None or r[2] == channel]
    return rows


def _editor(
    request: Request,
    user: User,
    key: str | None,
    state: EditorState,
    action: str | None,
    outcome: Outcome | None = None,
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    look = _lookups(ctx, lang)
    status = None
    version = None
    if key is not None:
        scenario, _ = _current(ctx, key)
        status, version = scenario.status, scenario.current_version
    errors = outcome.errors if outcome is not None else {}
    yaml_text = None
    describer = look.describer(lang, _tz(ctx))
    summaries: list[str] = []
    definition = outcome.definition if outcome is not None else None
    if definition is not None and not errors:
        summaries = [describer.step(s) for s in definition.steps]
        if action == "yaml":
            yaml_text = store.to_yaml(definition)
    elif outcome is None:
        # Opening or rearranging: the steps in words when they already validate, and
        # no error shown for what is still being typed.
        quiet = validate(state, _tz(ctx), lambda k, **v: k)
        if quiet.definition is not None:
            summaries = [describer.step(s) for s in quiet.definition.steps]
    trigger_model = triggers().get(state.trigger_type)
    return render(
        request,
        "scenario_editor.html",
        {
            "editing": key,
            "status": status,
            "version": version,
            "state": state,
            "errors": errors,
            "checked": action in ("check", "yaml") and definition is not None and not errors,
            "yaml_text": yaml_text,
            "summaries": summaries,
            "trigger_types": [(k, type_label(lang, "trigger", k)) for k in triggers()],
            "trigger_widgets": widgets(trigger_model) if trigger_model else (),
            "entry_widgets": widgets(EntryRules),
            "goal_widgets": widgets(Goal),
            "step_types": [(k, type_label(lang, "step", k)) for k in step_types()],
            "step_widgets": {k: widgets(m) for k, m in step_types().items()},
            "targets": _step_targets(state),
            "segments": sorted(look.segments.items()),
            "template_options": lambda w, values, step_type: _template_options(
                look, w, values, step_type
            ),
            "template_names": look.templates,
            "field_label": lambda name: field_label(lang, name),
            "option_label": lambda name, value: option_label(lang, name, value),
            "type_label": lambda kind, tag: type_label(lang, kind, tag),
            "help_text": lambda k: translate(lang, k) if known(k) else "",
        },
        status_code=422 if errors else 200,
    )


# ------------------------------------------------------------------ one scenario


@router.get("/scenarios/{key}")
def scenario_page(
    request: Request,
    user: Viewer,
    key: str,
    saved: int | None = None,
    unchanged: int | None = None,
    changed: str | None = None,
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    scenario, definition = _current(ctx, key)
    look = _lookups(ctx, lang)
    describer = look.describer(lang, _tz(ctx))
    with session_scope(ctx.ws.sessions) as db:
        k = scenario_kpis(db, ctx.clock.now(), KPI_DAYS).get(scenario.id, Kpis())
        versions = _versions(db, scenario.id)
        creators = {
            u.id: u.display_name
            for u in db.scalars(select(User).where(User.id.in_({v[2] for v in versions if v[2]})))
        }
    steps = [
        {
            "id": s.id,
            "type": type_label(lang, "step", str(s.type)),
            "text": describer.step(s),
            "next": s.next,
        }
        for s in definition.steps
    ]
    return render(
        request,
        "scenario.html",
        {
            "s": scenario,
            "d": definition,
            "name": _name(definition, lang),
            "other_name": definition.name_en if lang == "ja" else definition.name_ja,
            "trigger_text": describer.trigger(definition.trigger),
            "entry_text": describer.entry(definition.entry),
            "goal_text": describer.goal(definition.goal),
            "steps": steps,
            "kpis": k,
            "rate": _rate(k),
            "kpi_days": KPI_DAYS,
            "versions": [
                {
                    "version": number,
                    "at": _local(ctx, at),
                    "by": creators.get(by, "—") if by else "—",
                }
                for number, at, by in versions
            ],
            "problems": _problems(definition, look, lang),
            "send_steps": [{"id": s.id, "text": describer.step(s)} for s in send_steps(definition)],
            "saved_version": saved,
            "unchanged": bool(unchanged),
            "changed": changed if changed in TRANSITIONS else None,
            "can_edit": user.role_enum.allows(Role.marketer),
            "can_dry_run": user.role_enum.allows(Role.analyst),
            "sandbox": _sandbox(ctx),
            "dry_run_days": DRY_RUN_DAYS,
            "max_days": MAX_DRY_RUN_DAYS,
        },
    )


def _versions(db: Session, scenario_id: int) -> list[tuple[int, datetime, int | None]]:
    rows = db.execute(
        select(ScenarioVersion.version, ScenarioVersion.created_at, ScenarioVersion.created_by)
        .where(ScenarioVersion.scenario_id == scenario_id)
        .order_by(ScenarioVersion.version.desc())
    )
    return [(int(v), at, by) for v, at, by in rows]


def _sandbox(ctx: WebContext) -> bool | None:
    try:
        return Messaging(ctx.ws, ctx.clock).settings.sandbox
    except MessagingSettingsError:
        return None


def _problems(definition: ScenarioDefinition, look: Lookups, lang: str) -> list[str]:
    """Templates and segments the definition names that do not exist (yet): the engine
    would skip those steps, so the page says so before anyone enables it."""
    out = []
    channels = {k: c for k, _, c in look.template_rows}
    for step in definition.steps:
        model = type(step)
        for w in widgets(model):
            value = getattr(step, w.name, None)
            if not value:
                continue
            if w.kind == "template" and value not in channels:
                out.append(
                    translate(lang, "scenarios.problem.template", step=step.id, template=value)
                )
            elif w.kind == "segment" and value not in look.segments:
                out.append(
                    translate(lang, "scenarios.problem.segment", step=step.id, segment=value)
                )
    for part, value in (
        ("trigger", getattr(definition.trigger, "segment", None)),
        ("entry", definition.entry.segment),
    ):
        if value and value not in look.segments:
            out.append(translate(lang, "scenarios.problem.segment", step=part, segment=value))
    return out


@router.get("/scenarios/{key}/yaml")
def scenario_yaml(request: Request, user: Viewer, key: str, version: int | None = None) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        try:
            scenario = store.get(db, key)
            row = store.version_row(db, scenario, version)
            definition = store.load_version(row)
            number = row.version
        except store.ScenarioStoreError:
            raise HTTPException(status_code=404) from None
    filename = f"scenario-{definition.key}-v{number}.yaml"
    return Response(
        store.to_yaml(definition),
        media_type="application/yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/scenarios/{key}/status")
async def scenario_status(request: Request, user: Marketer, key: str) -> Response:
    data = await _form_data(request)
    return await run_in_threadpool(_set_status, request, user, key, first(data, "action"))


def _set_status(request: Request, user: User, key: str, action: str) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    if action not in TRANSITIONS:
        return _message(
            request, translate(lang, "scenarios.err.action"), 400, f"/scenarios/{_quote(key)}"
        )
    before, after = TRANSITIONS[action]
    with session_scope(ctx.ws.sessions) as db:
        try:
            scenario = store.get(db, key)
        except store.ScenarioStoreError:
            raise HTTPException(status_code=404) from None
        if scenario.status != before:
            text = translate(
                lang,
                "scenarios.err.transition",
                action=translate(lang, f"scenarios.action.{action}"),
                status=translate(lang, f"scenarios.status.{scenario.status}"),
            )
            return _message(request, text, 409, f"/scenarios/{_quote(key)}")
        try:
            store.set_status(db, key, after, utc_naive(ctx.clock.now()))
        except store.ScenarioStoreError as exc:  # a template that does not render
            return _message(request, str(exc), 422, f"/scenarios/{_quote(key)}")
        audit.add_entry(db, ctx, user.id, f"scenario.{action}", key, f"v{scenario.current_version}")
    return RedirectResponse(f"/scenarios/{_quote(key)}?changed={action}", status_code=303)


# ------------------------------------------------------------------ test send


@router.post("/scenarios/{key}/test-send")
async def test_send_form(request: Request, user: Marketer, key: str) -> Response:
    data = await _form_data(request)
    ctx = web_context(request)
    lang = request_language(request, user)
    customer_id = first(data, "customer_id", 64).strip()
    chosen = [s[:32] for s in data.get("steps", [])][:100]
    _, definition = _current(ctx, key)
    if not customer_id:
        return _test_page(
            request,
            key,
            definition,
            customer_id,
            [],
            translate(lang, "scenarios.err.customer_required"),
            422,
        )
    try:
        messaging = Messaging(ctx.ws, ctx.clock)
        results = await run_in_threadpool(
            _queue_tests, ctx, messaging, user, definition, customer_id, chosen or None
        )
    except (MessagingError, MessagingSettingsError, TemplateRenderError) as exc:
        return _test_page(request, key, definition, customer_id, [], str(exc), 422)
    ids = [r.outbox_id for r in results if r.outbox_id is not None]
    if ids:
        # Deliver right away, as the template page's test send does: in sandbox mode the
        # message lands in the sandbox inbox at once.
        worker = messaging.worker()
        try:
            await worker.run_once(ids=ids)
        finally:
            await worker.aclose()
    return await run_in_threadpool(
        _test_page, request, key, definition, customer_id, results, None, 200
    )


def _queue_tests(
    ctx: WebContext,
    messaging: Messaging,
    user: User,
    definition: ScenarioDefinition,
    customer_id: str,
    chosen: list[str] | None,
) -> list[StepSent]:
    with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
        results = send_for_test(messaging, db, definition, customer_id, chosen)
        detail = json.dumps(
            {
                "customer_id": customer_id,
                "steps": [r.step_id for r in results],
                "outbox": [r.outbox_id for r in results if r.outbox_id is not None],
            },
            ensure_ascii=False,
        )
        audit.add_entry(db, ctx, user.id, "scenario.test_send", definition.key, detail)
    return results


def _test_page(
    request: Request,
    key: str,
    definition: ScenarioDefinition,
    customer_id: str,
    results: list[StepSent],
    error: str | None,
    status_code: int,
) -> Response:
    ctx = web_context(request)
    ids = [r.outbox_id for r in results if r.outbox_id is not None]
    statuses: dict[int, str] = {}
    if ids:
        with session_scope(ctx.ws.sessions) as db:
            statuses = {
                int(i): str(st)
                for i, st in db.execute(
                    select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids))
                )
            }
    lang = request_language(request, None)
    look = _lookups(ctx, lang)
    rows = [
        {
            "step": r.step_id,
            "channel": r.channel,
            "channel_label": option_label(lang, "channel", r.channel) if r.channel else "",
            "template": r.template,
            "template_name": look.templates.get(r.template or "", r.template),
            "recipient": r.recipient,
            "outbox_id": r.outbox_id,
            "status": statuses.get(r.outbox_id or 0),
            "problem": r.problem,
        }
        for r in results
    ]
    return render(
        request,
        "scenario_test_send.html",
        {
            "key": key,
            "name": _name(definition, lang),
            "customer_id": customer_id,
            "customer_href": "/customers/" + _quote(customer_id),
            "rows": rows,
            "error": error,
            "sandbox": _sandbox(ctx),
        },
        status_code=status_code,
    )


# ------------------------------------------------------------------ dry run


@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


# The dry run's caveats (dryrun.NOTES) in the UI language; a new one shows as written.
NOTE_KEYS = {
    "condition steps use today's customer features": "scenarios.dry.note.features",
    "frequency caps across scenarios are not simulated": "scenarios.dry.note.caps",
    "score and segment triggers see only the refreshes kept in the warehouse": (
        "scenarios.dry.note.refreshes"
    ),
}
CHART_WIDTH = 900.0
CHART_HEIGHT = 160.0


def day_bars(counts: dict[date, int], first_day: date, last_day: date) -> list[Bar]:
    """One bar per day from first_day to last_day (zeros included), scaled to the chart;
    drawn by the server as SVG, so the page needs no chart script."""
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    if not days:
        return []
    top = max([counts.get(d, 0) for d in days] + [1])
    slot = CHART_WIDTH / len(days)
    bars = []
    for i, d in enumerate(days):
        n = counts.get(d, 0)
        h = (CHART_HEIGHT - 4) * n / top
        bars.append(Bar(d, n, i * slot, CHART_HEIGHT - h, max(slot - 1, 0.5), h))
    return bars


@router.get("/scenarios/{key}/dry-run")
def dry_run_page(request: Request, user: Analyst, key: str, days: int = DRY_RUN_DAYS) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    days = min(max(days, 1), MAX_DRY_RUN_DAYS)
    _, definition = _current(ctx, key)
    try:
        with ctx.warehouse_lock:
            report = dry_run(ctx.ws, definition, ctx.clock, days)
    except (SegmentError, ValueError) as exc:
        text = translate(lang, "scenarios.err.dry_run", error=str(exc))
        return _message(request, text, 422, f"/scenarios/{_quote(key)}")
    look = _lookups(ctx, lang)
    return render(
        request,
        "scenario_dryrun.html",
        _dry_run_context(ctx, lang, key, definition, report, days, look),
    )


def _dry_run_context(
    ctx: WebContext,
    lang: str,
    key: str,
    definition: ScenarioDefinition,
    report: DryRun,
    days: int,
    look: Lookups,
) -> dict[str, Any]:
    tz = _tz(ctx)
    per_day: Counter[date] = Counter()
    for _, _, at in report.entered:
        per_day[at.astimezone(tz).date()] += 1
    bars = day_bars(
        dict(per_day),
        report.since.astimezone(tz).date() + timedelta(days=1),
        report.until.astimezone(tz).date(),
    )
    by_step = Counter((m.step_id, m.channel, m.template) for m in report.messages)
    order = {s.id: i for i, s in enumerate(definition.steps)}
    messages = [
        {
            "step": step,
            "channel": option_label(lang, "channel", channel),
            "template": template,
            "template_name": look.templates.get(template, template),
            "count": n,
        }
        for (step, channel, template), n in sorted(
            by_step.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0])
        )
    ]
    actions = Counter((step, kind) for _, step, kind in report.actions)
    per_customer = Counter(m.customer_id for m in report.messages)
    sample = []
    seen: set[str] = set()
    for cid, occurrence, at in report.entered:
        if cid in seen:
            continue
        seen.add(cid)
        sample.append(
            {
                "customer_id": cid,
                "href": "/customers/" + _quote(cid),
                "occurrence": occurrence,
                "at": at.astimezone(tz),
                "messages": per_customer.get(cid, 0),
            }
        )
        if len(sample) >= SAMPLE_ROWS:
            break
    held = [
        {"step": step, "reason": translate(lang, f"scenarios.dry.held.{reason}"), "count": n}
        for (step, reason), n in sorted(
            report.held.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0][1])
        )
    ]
    notes = [translate(lang, NOTE_KEYS[n]) if n in NOTE_KEYS else n for n in report.notes]
    return {
        "key": key,
        "name": _name(definition, lang),
        "days": days,
        "max_days": MAX_DRY_RUN_DAYS,
        "since": report.since.astimezone(tz),
        "until": report.until.astimezone(tz),
        "entered": len(report.entered),
        "people": len({cid for cid, _, _ in report.entered}),
        "bars": bars,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "peak": max((b.count for b in bars), default=0),
        "messages": messages,
        "message_total": len(report.messages),
        "actions": [
            {"step": s, "kind": type_label(lang, "step", k), "count": n}
            for (s, k), n in sorted(actions.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0]))
        ],
        "held": held,
        "outcomes": [
            (translate(lang, f"scenarios.outcome.{o}") if known(f"scenarios.outcome.{o}") else o, n)
            for o, n in sorted(report.outcomes.items())
        ],
        "later": report.later,
        "sample": sample,
        "notes": notes,
    }
