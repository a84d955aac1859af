"""The scenario pages on the hand-made shop of tests/web/scenarios_shop.py (2026-01-05
12:00 JST): list with figures from a hand-made state, the editor (validation, saving,
versions), enable / pause / resume, YAML export and import, test send, dry run, roles,
CSRF and escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.scenarios.shop import NOW, scenario
from tests.web.conftest import csrf_from, login
from tests.web.scenarios_shop import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ANALYST_EMAIL,
    ANALYST_PASSWORD,
    CALLER_EMAIL,
    CALLER_PASSWORD,
    MARKETER_EMAIL,
    MARKETER_PASSWORD,
    VIEWER_EMAIL,
    VIEWER_PASSWORD,
    build,
    open_copy,
)
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template
from tokui.scenarios import library, store
from tokui.scenarios.definition import parse_definition
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage, SandboxInboxMessage
from tokui.state.models import AuditLog
from tokui.state.scenarios import Enrollment, JourneyEntry, Scenario, ScenarioVersion
from tokui.web.app import create_app
from tokui.workspace import Workspace

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
AT = utc_naive(NOW)


@pytest.fixture(scope="session")
def scenarios_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("scenario-pages") / "shop"
    build(home)
    return home


@pytest.fixture
def sc_ws(scenarios_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_copy(scenarios_template, tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def sc_client(sc_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(sc_ws, FixedClock(NOW))) as c:
        yield c


def as_user(client: TestClient, email: str = MARKETER_EMAIL, pw: str = MARKETER_PASSWORD) -> str:
    """Sign in; returns the session's CSRF token."""
    assert login(client, email, pw).status_code == 303
    return csrf_from(client.get("/settings").text)


def save(ws: Workspace, **overrides: Any) -> int:
    with session_scope(ws.sessions) as db:
        saved = store.save(db, parse_definition(scenario(**overrides)), AT)
        return saved.scenario.id


def row_of(page: str, key: str) -> str:
    match = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row for {key}"
    return match.group(1)


def kpi(row: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}"[^>]*>([^<]*)<', row)
    assert match, name
    return match.group(1).strip()


def errors_for(page: str, where: str) -> list[str]:
    match = re.search(rf'data-error-for="{re.escape(where)}">(.*?)</ul>', page, re.DOTALL)
    assert match, f"no error list for {where}"
    return [unescape(m) for m in re.findall(r"<li>(.*?)</li>", match.group(1))]


class FormFields(HTMLParser):
    """What a browser would submit from a form: inputs, checked boxes, the selected
    options and textareas, in document order (buttons left out)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._first_option, self._chosen = a["name"], None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._chosen = value
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            value = self._chosen if self._chosen is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # The HTML parser drops the newline that follows <textarea>, as browsers do.
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def editor_fields(page: str) -> dict[str, list[str]]:
    parser = FormFields("scenario-editor")
    parser.feed(page)
    out: dict[str, list[str]] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    return out


# ------------------------------------------------------------------ list


def test_list_shows_exact_figures_from_the_state(sc_client: TestClient, sc_ws: Workspace) -> None:
    cart = save(sc_ws)
    save(sc_ws, key="quiet", name_ja="静かなシナリオ", name_en="Quiet")
    with session_scope(sc_ws.sessions) as db:
        store.set_status(db, "cart", "enabled", AT)
        version = store.version_row(db, store.get(db, "cart")).id
        # Five enrollments: two active (one entered 3 months ago), one converted, one
        # held out, one completed long ago. Entered in the last 30 days (since
        # 2025-12-06 03:00 UTC): the 12-30, 12-20 and 12-25 ones.
        rows = [
            ("c1", "active", NOW - timedelta(days=6)),
            ("c2", "active", NOW - timedelta(days=95)),
            ("c3", "converted", NOW - timedelta(days=16)),
            ("c4", "holdout", NOW - timedelta(days=11)),
            ("c5", "completed", NOW - timedelta(days=96)),
        ]
        enrollments = []
        for cid, status, entered in rows:
            e = Enrollment(
                scenario_id=cart,
                version_id=version,
                customer_id=cid,
                occurrence=f"cart:{cid}",
                status=status,
                step_id="mail",
                due_at=utc_naive(entered),
                entered_at=utc_naive(entered),
                updated_at=utc_naive(entered),
            )
            db.add(e)
            enrollments.append(e)
        db.flush()
        # Three customer messages count; a call task, a hold and a skip do not.
        journal = [
            (enrollments[0], "queued", "email"),
            (enrollments[2], "queued", "line"),
            (enrollments[4], "queued", "email"),
            (enrollments[0], "queued", "call_center"),
            (enrollments[1], "held_quiet_hours", ""),
            (enrollments[1], "skipped", "email: no consent to email"),
        ]
        for e, outcome, detail in journal:
            db.add(
                JourneyEntry(
                    enrollment_id=e.id, step_id="mail", outcome=outcome, detail=detail, at=AT
                )
            )
    as_user(sc_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    page = sc_client.get("/scenarios")
    assert page.status_code == 200
    row = row_of(page.text, "cart")
    assert 'data-status="enabled"' in row and "配信中" in row
    assert "カート追加から1時間、注文なし" in row
    assert (kpi(row, "active"), kpi(row, "entered"), kpi(row, "messages")) == ("2", "3", "3")
    # Goal rate: 1 converted of the 4 enrollments that were not held out.
    assert (kpi(row, "converted"), kpi(row, "rate"), kpi(row, "holdouts")) == ("1", "25.0%", "1")
    quiet = row_of(page.text, "quiet")
    assert 'data-status="draft"' in quiet
    assert [kpi(quiet, k) for k in ("active", "entered", "messages", "converted", "rate")] == [
        "0", "0", "0", "0", "—"
    ]  # fmt: skip
    # Every library scenario not installed is offered; a viewer gets no button to add it.
    offered = re.findall(r'<tr data-ready="([^"]+)">', page.text)
    assert offered == [r.definition.key for r in library.load_library()]
    assert "/scenarios/library/" not in page.text
    # The same figures on the scenario's own page.
    detail = sc_client.get("/scenarios/cart").text
    figures = dict(re.findall(r'data-figure="(\w+)">.*?class="card-value">([^<]*)<', detail, re.S))
    assert figures == {
        "active": "2",
        "entered": "3",
        "messages": "3",
        "converted": "1",
        "holdouts": "1",
    }
    # ... and the way to what the scenario changed.
    assert 'href="/scenarios/cart/results" id="scenario-results"' in detail


def test_add_from_library(sc_client: TestClient, sc_ws: Workspace) -> None:
    token = as_user(sc_client)
    ready = next(r for r in library.load_library() if r.definition.key == "cart-abandonment")
    r = sc_client.post(
        "/scenarios/library/cart-abandonment/install",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/scenarios/cart-abandonment?saved=1"
    with session_scope(sc_ws.sessions) as db:
        s = store.get(db, "cart-abandonment")
        assert (s.status, s.current_version) == ("draft", 1)
        assert store.load_version(store.version_row(db, s)) == ready.definition
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "scenario.install")).one()
        assert entry.target == "cart-abandonment"
    page = sc_client.get("/scenarios").text
    assert 'data-ready="cart-abandonment"' not in page
    assert '<tr data-key="cart-abandonment">' in page
    # Its templates exist now, so its page lists no missing template.
    assert 'data-state="problem"' not in sc_client.get("/scenarios/cart-abandonment").text


# ------------------------------------------------------------------ editor


def new_form(token: str, **extra: str | list[str]) -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": token,
        "key": "promo",
        "name_ja": "販促",
        "name_en": "",
        "description": "",
        "trigger.type": "cart_abandoned",
        "trigger.hours": "2",
        "entry.segment": "",
        "entry.reentry": "never",
        "entry.reentry_days": "0",
        "entry.max_entries": "",
        "s.0.type": "send",
        "s.0.id": "mail",
        "s.0.channel": "email",
        "s.0.template": "sc-mail",
        "s.0.fallback_channel": "",
        "s.0.fallback_template": "",
        "s.0.next": "",
        "action": "save",
    }
    form.update(extra)
    return form


def count_scenarios(ws: Workspace) -> int:
    with session_scope(ws.sessions) as db:
        return int(db.scalar(select(func.count()).select_from(Scenario)) or 0)


def test_editor_rejects_a_bad_definition_naming_the_field(
    sc_client: TestClient, sc_ws: Workspace
) -> None:
    token = as_user(sc_client)
    bad = new_form(token, **{"trigger.hours": "0", "s.0.template": "", "s.0.channel": "fax"})
    r = sc_client.post("/scenarios/new", data=bad)
    assert r.status_code == 422
    assert 'data-state="has-errors"' in r.text
    assert errors_for(r.text, "trigger.hours") == ["1以上にしてください。"]
    assert errors_for(r.text, "s.0.template") == ["入力してください。"]
    assert errors_for(r.text, "s.0.channel") == ["選択肢から選んでください。"]
    # The inputs keep what was typed, marked invalid.
    assert re.search(r'name="trigger.hours" value="0"[^>]*aria-invalid="true"', r.text)
    assert count_scenarios(sc_ws) == 0

    # A link to a step that does not exist: the graph rule, named at the step's field.
    r = sc_client.post("/scenarios/new", data=new_form(token, **{"s.0.next": "nowhere"}))
    assert r.status_code == 422
    assert errors_for(r.text, "s.0.next") == ["ステップ「nowhere」はありません。"]
    # A key already taken, and a condition that is not YAML.
    save(sc_ws, key="promo")
    broken = new_form(
        token,
        **{"s.1.type": "condition", "s.1.id": "check", "s.1.condition": "{type: [compare"},
    )
    r = sc_client.post("/scenarios/new", data=broken)
    assert r.status_code == 422
    assert errors_for(r.text, "key") == ["キー「promo」はすでに使われています。"]
    assert errors_for(r.text, "s.1.condition") == ["YAMLとして読めません（1行目）。"]
    # A step type the models do not know is refused, not stored.
    alien = new_form(token, key="alien", **{"s.1.type": "exec", "s.1.id": "boom"})
    r = sc_client.post("/scenarios/new", data=alien)
    assert r.status_code == 422
    assert errors_for(r.text, "s.1") == ["選択肢から選んでください。"]
    assert count_scenarios(sc_ws) == 1
    with session_scope(sc_ws.sessions) as db:
        assert db.scalar(select(func.count()).select_from(ScenarioVersion)) == 1


def test_editor_builds_and_saves_a_new_scenario(sc_client: TestClient, sc_ws: Workspace) -> None:
    as_user(sc_client)
    page = sc_client.get("/scenarios/new")
    assert page.status_code == 200
    fields = editor_fields(page.text)
    assert fields["trigger.type"] == ["registered"]
    fields.update({"key": ["welcome2"], "name_ja": ["ようこそ"], "add_type": ["wait"]})
    # Add a wait, then a send; move the send above the wait; save.
    fields["action"] = ["add_step"]
    page = sc_client.post("/scenarios/new", data=fields)
    assert page.status_code == 200 and 'data-state="has-errors"' not in page.text
    fields = editor_fields(page.text)
    assert (fields["s.0.type"], fields["s.0.id"], fields["s.0.days"]) == (
        ["wait"],
        ["wait-1"],
        ["1"],
    )
    fields.update({"add_type": ["send"], "action": ["add_step"]})
    fields = editor_fields(sc_client.post("/scenarios/new", data=fields).text)
    assert fields["s.1.id"] == ["send-1"] and fields["s.1.channel"] == ["email"]
    fields.update({"s.1.template": ["sc-mail"], "action": ["up:1"]})
    page = sc_client.post("/scenarios/new", data=fields)
    fields = editor_fields(page.text)
    assert (fields["s.0.id"], fields["s.1.id"]) == (["send-1"], ["wait-1"])
    assert fields["s.0.template"] == ["sc-mail"]
    fields["action"] = ["save"]
    r = sc_client.post("/scenarios/new", data=fields, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/scenarios/welcome2?saved=1"
    with session_scope(sc_ws.sessions) as db:
        s = store.get(db, "welcome2")
        d = store.load_version(store.version_row(db, s))
        assert s.status == "draft"
        assert [(st.id, st.type) for st in d.steps] == [("send-1", "send"), ("wait-1", "wait")]
        assert d.name_en == "ようこそ"  # no English name given: the Japanese one
        assert d.trigger.type == "registered" and d.goal is None
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "scenario.save")).one()
        assert (entry.target, entry.detail) == ("welcome2", "v1")
    detail = sc_client.get(r.headers["location"]).text
    assert "保存しました（版 1）。" in detail
    assert "メールで「メール」を送る" in detail


def test_saving_an_enabled_scenario_creates_version_2(
    sc_client: TestClient, sc_ws: Workspace
) -> None:
    save(sc_ws)
    with session_scope(sc_ws.sessions) as db:
        store.set_status(db, "cart", "enabled", AT)
    as_user(sc_client)
    page = sc_client.get("/scenarios/cart/edit")
    assert 'data-state="live"' in page.text and "版 2 として保存され" in page.text
    fields = editor_fields(page.text)
    assert fields["trigger.hours"] == ["1"] and fields["s.0.template"] == ["sc-mail"]
    # Saved as it came: nothing changed, no new version.
    fields["action"] = ["save"]
    r = sc_client.post("/scenarios/cart/edit", data=fields, follow_redirects=False)
    assert r.headers["location"] == "/scenarios/cart?saved=1&unchanged=1"
    fields["trigger.hours"] = ["4"]
    fields["key"] = ["hijack"]  # the key of an edited scenario never changes
    r = sc_client.post("/scenarios/cart/edit", data=fields, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/scenarios/cart?saved=2"
    with session_scope(sc_ws.sessions) as db:
        s = store.get(db, "cart")
        assert (s.status, s.current_version) == ("enabled", 2)
        assert store.load_version(store.version_row(db, s, 1)).trigger.hours == 1  # type: ignore[union-attr]
        assert store.load_version(store.version_row(db, s, 2)).trigger.hours == 4  # type: ignore[union-attr]
        assert db.scalar(select(Scenario.id).where(Scenario.key == "hijack")) is None
    versions = sc_client.get("/scenarios/cart").text
    assert re.findall(r'<tr data-version="(\d+)">', versions) == ["2", "1"]
    assert "販促 三郎" in versions


def test_enable_pause_resume_are_audited(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(sc_ws)
    token = as_user(sc_client)

    def post(action: str) -> Any:
        return sc_client.post(
            "/scenarios/cart/status",
            data={"csrf_token": token, "action": action},
            follow_redirects=False,
        )

    assert post("pause").status_code == 409  # a draft is not running
    for action, status in (("enable", "enabled"), ("pause", "paused"), ("resume", "enabled")):
        r = post(action)
        assert r.status_code == 303 and r.headers["location"] == f"/scenarios/cart?changed={action}"
        with session_scope(sc_ws.sessions) as db:
            assert store.get(db, "cart").status == status
    assert post("enable").status_code == 409
    with session_scope(sc_ws.sessions) as db:
        actions = [
            (a.action, a.target, a.detail)
            for a in db.scalars(select(AuditLog).where(AuditLog.action.like("scenario.%")))
        ]
        assert store.get(db, "cart").trigger_checked_at == AT
    assert actions == [
        ("scenario.enable", "cart", "v1"),
        ("scenario.pause", "cart", "v1"),
        ("scenario.resume", "cart", "v1"),
    ]
    page = sc_client.get("/scenarios/cart").text
    assert 'id="pause-scenario"' in page and 'id="enable-scenario"' not in page


def test_forms_without_csrf_token_are_refused(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(sc_ws)
    token = as_user(sc_client)
    form = new_form(token)
    del form["csrf_token"]
    assert sc_client.post("/scenarios/new", data=form).status_code == 403
    r = sc_client.post("/scenarios/cart/status", data={"action": "enable"})
    assert r.status_code == 403
    r = sc_client.post("/scenarios/cart/test-send", data={"customer_id": "c1"})
    assert r.status_code == 403
    r = sc_client.post(
        "/scenarios/import", files={"file": ("x.yaml", b"key: x\n", "application/yaml")}
    )
    assert r.status_code == 403
    assert sc_client.post("/scenarios/library/birthday/install").status_code == 403
    fields = editor_fields(sc_client.get("/scenarios/cart/edit").text)
    fields.update({"trigger.hours": ["9"], "action": ["save"]})
    del fields["csrf_token"]
    assert sc_client.post("/scenarios/cart/edit", data=fields).status_code == 403
    with session_scope(sc_ws.sessions) as db:
        assert store.get(db, "cart").status == "draft"
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert store.get(db, "cart").current_version == 1
    assert count_scenarios(sc_ws) == 1


def test_roles(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(sc_ws)
    as_user(sc_client, CALLER_EMAIL, CALLER_PASSWORD)
    for path in ("/scenarios", "/scenarios/cart", "/scenarios/new", "/scenarios/cart/dry-run",
                 "/scenarios/cart/yaml", "/scenarios/cart/edit"):  # fmt: skip
        assert sc_client.get(path).status_code == 403, path
    assert 'href="/scenarios"' not in sc_client.get("/calls").text
    sc_client.cookies.clear()
    token = as_user(sc_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert sc_client.get("/scenarios").status_code == 200
    assert sc_client.get("/scenarios/cart").status_code == 200
    assert 'href="/scenarios"' in sc_client.get("/").text
    assert sc_client.get("/scenarios/new").status_code == 403
    assert sc_client.get("/scenarios/cart/dry-run").status_code == 403
    r = sc_client.post("/scenarios/cart/status", data={"csrf_token": token, "action": "enable"})
    assert r.status_code == 403
    sc_client.cookies.clear()
    as_user(sc_client, ANALYST_EMAIL, ANALYST_PASSWORD)
    assert sc_client.get("/scenarios/cart/dry-run").status_code == 200
    assert sc_client.get("/scenarios/cart/edit").status_code == 403
    with session_scope(sc_ws.sessions) as db:
        assert store.get(db, "cart").status == "draft"


# ------------------------------------------------------------------ YAML


def test_yaml_round_trip(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(
        sc_ws,
        goal={"within_days": 7, "category": "米"},
        entry={"reentry": "after_days", "reentry_days": 10},
        steps=[
            {"id": "ab", "type": "split",
             "arms": [{"name": "a", "weight": 3, "next": "mail"}, {"name": "b", "weight": 1}]},
            {"id": "line", "type": "send", "channel": "line", "template": "sc-line",
             "next": "done"},
            {"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"},
            {"id": "done", "type": "end"},
        ],
    )  # fmt: skip
    token = as_user(sc_client)
    r = sc_client.get("/scenarios/cart/yaml")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="scenario-cart-v1.yaml"'
    with session_scope(sc_ws.sessions) as db:
        stored = store.load_version(store.version_row(db, store.get(db, "cart")))
    assert store.from_yaml(r.text) == stored
    # The editor shows the same definition and saves it back unchanged.
    fields = editor_fields(sc_client.get("/scenarios/cart/edit").text)
    assert fields["s.0.arms.0.weight"] == ["3"] and fields["s.0.arms.0.next"] == ["mail"]
    fields["action"] = ["save"]
    r2 = sc_client.post("/scenarios/cart/edit", data=fields, follow_redirects=False)
    assert r2.headers["location"] == "/scenarios/cart?saved=1&unchanged=1"

    # Upload it changed: a new version; uploaded again: unchanged.
    changed = r.text.replace("name_ja: カゴ落ち", "name_ja: カゴ落ち (改)")
    upload = {"file": ("cart.yaml", changed.encode(), "application/yaml")}
    r = sc_client.post(
        "/scenarios/import", data={"csrf_token": token}, files=upload, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/scenarios/cart?saved=2"
    r = sc_client.post(
        "/scenarios/import", data={"csrf_token": token}, files=upload, follow_redirects=False
    )
    assert r.headers["location"] == "/scenarios/cart?saved=2&unchanged=1"
    with session_scope(sc_ws.sessions) as db:
        v2 = store.load_version(store.version_row(db, store.get(db, "cart")))
    assert v2 == stored.model_copy(update={"name_ja": "カゴ落ち (改)"})

    # An invalid file: the error names the step and field; nothing changes.
    data = yaml.safe_load(changed)
    data["steps"][2]["template"] = "NOT A KEY"
    bad = {
        "file": ("bad.yaml", yaml.safe_dump(data, allow_unicode=True).encode(), "application/yaml")
    }
    r = sc_client.post("/scenarios/import", data={"csrf_token": token}, files=bad)
    assert r.status_code == 422
    assert "bad.yaml: steps[2] (mail).template: String should match pattern" in r.text
    r = sc_client.post(
        "/scenarios/import",
        data={"csrf_token": token},
        files={"file": ("n.yaml", b"key: [unclosed", "application/yaml")},
    )
    assert r.status_code == 422 and "n.yaml: not valid YAML" in r.text
    big = {"file": ("big.yaml", b"#" * (256 * 1024 + 1), "application/yaml")}
    r = sc_client.post("/scenarios/import", data={"csrf_token": token}, files=big)
    assert r.status_code == 413 and "ファイルが大きすぎます（256KBまで）。" in r.text
    with session_scope(sc_ws.sessions) as db:
        assert store.get(db, "cart").current_version == 2


# ------------------------------------------------------------------ escaping


def test_hostile_names_are_escaped(sc_client: TestClient, sc_ws: Workspace) -> None:
    with session_scope(sc_ws.sessions) as db:
        create_template(
            db,
            key="evil",
            channel="email",
            draft=TemplateDraft(name=IMG, subject="s", html="<p>x</p>"),
            is_marketing=True,
            at=AT,
            user_id=None,
            check_context=Messaging(sc_ws, FixedClock(NOW)).sample_context(),
        )
    steps = [{"id": "mail", "type": "send", "channel": "email", "template": "evil"}]
    save(sc_ws, name_ja=SCRIPT, description=SCRIPT, steps=steps)
    as_user(sc_client)
    for path in ("/scenarios", "/scenarios/cart", "/scenarios/cart/edit"):
        page = sc_client.get(path).text
        assert SCRIPT not in page and IMG not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sc_client.get("/scenarios").text
    detail = sc_client.get("/scenarios/cart").text
    assert "メールで「&lt;img src=x onerror=&#34;alert(2)&#34;&gt;」を送る" in detail
    editor = sc_client.get("/scenarios/cart/edit").text
    assert (
        '<option value="evil" selected>&lt;img src=x onerror=&#34;alert(2)&#34;&gt; (evil)</option>'
        in editor
    )


# ------------------------------------------------------------------ test send


def test_test_send_queues_one_sandbox_message_and_enrolls_nobody(
    sc_client: TestClient, sc_ws: Workspace
) -> None:
    save(sc_ws)  # one send step: email, sc-mail
    token = as_user(sc_client)
    r = sc_client.post(
        "/scenarios/cart/test-send",
        data={"csrf_token": token, "customer_id": "c1", "steps": "mail"},
    )
    assert r.status_code == 200
    assert 'data-state="sandbox"' in r.text
    with session_scope(sc_ws.sessions) as db:
        rows = db.scalars(select(OutboxMessage)).all()
        assert len(rows) == 1
        m = rows[0]
        assert (m.channel, m.recipient, m.customer_id, m.status) == (
            "email",
            "c1@example.jp",
            "c1",
            "sent",
        )
        assert m.idempotency_key.startswith("test:sc-mail:v1:")
        inbox = db.scalars(select(SandboxInboxMessage)).all()
        assert len(inbox) == 1 and inbox[0].outbox_id == m.id
        assert inbox[0].subject.startswith("[TEST] ")
        assert db.scalar(select(func.count()).select_from(Enrollment)) == 0
        assert db.scalar(select(func.count()).select_from(JourneyEntry)) == 0
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "scenario.test_send")).one()
        assert entry.target == "cart" and '"customer_id": "c1"' in (entry.detail or "")
    assert f'data-outbox="{m.id}"' in r.text and 'data-status="sent"' in r.text
    row = row_of(sc_client.get("/scenarios").text, "cart")
    assert (kpi(row, "active"), kpi(row, "entered"), kpi(row, "messages")) == ("0", "0", "0")


def test_test_send_falls_back_and_names_what_it_could_not_send(
    sc_client: TestClient, sc_ws: Workspace
) -> None:
    steps = [
        {"id": "line", "type": "send", "channel": "line", "template": "sc-line",
         "fallback_channel": "email", "fallback_template": "sc-mail"},
        {"id": "gone", "type": "send", "channel": "email", "template": "no-such-template"},
    ]  # fmt: skip
    save(sc_ws, steps=steps)
    token = as_user(sc_client)
    # c3 has no LINE id: the fallback email goes; the second step has no template.
    r = sc_client.post(
        "/scenarios/cart/test-send",
        data={"csrf_token": token, "customer_id": "c3", "steps": ["line", "gone"]},
    )
    assert r.status_code == 200
    assert re.search(r'data-step="gone">.*?no template &#39;no-such-template&#39;', r.text, re.S)
    with session_scope(sc_ws.sessions) as db:
        rows = db.scalars(select(OutboxMessage)).all()
        assert [(m.channel, m.recipient) for m in rows] == [("email", "c3@example.jp")]
    r = sc_client.post("/scenarios/cart/test-send", data={"csrf_token": token, "customer_id": "zz"})
    assert r.status_code == 422 and "no customer &#39;zz&#39; in the warehouse" in r.text


# ------------------------------------------------------------------ dry run


def test_dry_run_page(sc_client: TestClient, sc_ws: Workspace) -> None:
    # c2's cart add at 01:00 UTC fires the 1-hour trigger at 02:00 UTC (11:00 JST); c2 has
    # LINE consent. The second message the same day is over the 1-a-day cap: held to
    # the next day, which is after the end of the replay.
    steps = [
        {"id": "first", "type": "send", "channel": "line", "template": "sc-line"},
        {"id": "second", "type": "send", "channel": "line", "template": "sc-line"},
    ]
    save(sc_ws, steps=steps)
    as_user(sc_client, ANALYST_EMAIL, ANALYST_PASSWORD)
    page = sc_client.get("/scenarios/cart/dry-run?days=30")
    assert page.status_code == 200
    html = page.text
    assert "2025-12-06 12:00 から 2026-01-05 12:00 までの30日間を再現しました。" in html
    figures = dict(re.findall(r'data-figure="(\w+)">.*?class="card-value">([^<]*)<', html, re.S))
    assert figures["entered"] == "1" and figures["messages"] == "1"
    assert "期間後に送られる予定: 1件" in html
    assert re.findall(r'data-day="([\d-]+)" data-count="(\d+)"', html)[-1] == ("2026-01-05", "1")
    assert len(re.findall(r"<rect ", html)) == 30
    assert re.search(r'<tr data-step="first">.*?data-count>1<', html, re.S)
    assert 'data-step="second"' not in html.split('id="dry-held"')[0].split('id="dry-messages"')[1]
    held = html.split('id="dry-held"')[1]
    assert re.search(
        r"<code>second</code></td><td>送信回数の上限</td><td class=\"num\" data-count>1<", held
    )
    assert '<a href="/customers/c2">c2</a>' in html
    with session_scope(sc_ws.sessions) as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert db.scalar(select(func.count()).select_from(Enrollment)) == 0


def test_dry_run_days_are_bounded(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(sc_ws)
    as_user(sc_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    html = sc_client.get("/scenarios/cart/dry-run?days=100000").text
    assert "の400日間を再現しました。" in html
    assert sc_client.get("/scenarios/nope/dry-run").status_code == 404


def test_english_pages(sc_client: TestClient, sc_ws: Workspace) -> None:
    save(sc_ws, trigger={"type": "cart_abandoned", "hours": 3})
    as_user(sc_client)
    sc_client.get("/scenarios?lang=en")
    page = sc_client.get("/scenarios").text
    assert '<html lang="en">' in page
    row = row_of(page, "cart")
    assert "A cart add with no order within 3 hours" in row and "Draft" in row
    assert "Send “Mail” by Email" not in page  # the list shows no steps
    detail = sc_client.get("/scenarios/cart").text
    assert "Send “メール” by Email" in detail
