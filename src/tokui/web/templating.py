"""Jinja2 environment and the page renderer.

Autoescape is on for every template whatever its extension; values that are already
HTML must be wrapped in Markup explicitly, which keeps such places few and greppable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from tokui.state.models import Role, User
from tokui.web.auth import optional_user
from tokui.web.context import web_context
from tokui.web.csrf import csrf_field, csrf_token
from tokui.web.i18n import LANG_COOKIE, LANGUAGES, resolve_language, translate

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    key: str
    path: str
    role: Role = Role.viewer


NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", "/"),
    NavItem("customers", "/customers"),
    NavItem("analyses", "/analyses"),
    NavItem("segments", "/segments"),
    NavItem("models", "/models"),
    NavItem("scenarios", "/scenarios"),
    NavItem("messages", "/messages"),
    NavItem("measurement", "/measurement"),
    NavItem("calls", "/calls", Role.call_center),
    NavItem("import", "/import"),
    NavItem("settings", "/settings"),
)


def yen(value: int | float) -> str:
    return f"¥{round(value):,}"


def number(value: int | float) -> str:
    return f"{round(value):,}"


def json_for_script(data: object) -> Markup:
    """JSON safe to place inside <script type="application/json">.

    Escaping '<' means no value can close the script element; '>' and '&' are escaped
    too so the text is also inert if it ever lands in HTML by mistake.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: object) -> str:
    return translate(context.get("lang", "ja"), key, **values)


@jinja2.pass_context
def _csrf_field(context: jinja2.runtime.Context) -> Markup:
    request: Request = context["request"]
    return csrf_field(request)


@jinja2.pass_context
def _lang_url(context: jinja2.runtime.Context, lang: str) -> str:
    request: Request = context["request"]
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", lang))
    return request.url.path + "?" + urlencode(query)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        t=_t, csrf_field=_csrf_field, lang_url=_lang_url, nav=NAV, languages=LANGUAGES
    )
    env.filters.update(yen=yen, number=number)
    return Jinja2Templates(env=env)


def request_language(request: Request, user: User | None) -> str:
    cached = getattr(request.state, "lang", None)
    if isinstance(cached, str):
        return cached
    lang = resolve_language(
        cookie=request.cookies.get(LANG_COOKIE),
        user_language=user.language if user else None,
        accept_language=request.headers.get("accept-language"),
        default=web_context(request).ws.settings.default_language,
    )
    request.state.lang = lang
    return lang


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    user = optional_user(request)
    lang = request_language(request, user)
    ctx = web_context(request)
    # Touch the token so the session cookie carries it before any form is posted.
    csrf_token(request)
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": lang,
        "shop_name": ctx.ws.settings.shop_name,
        "current_path": request.url.path,
        "Role": Role,
    }
    values.update(context or {})
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, values, status_code=status_code)
