"""The FastAPI application: middleware stack, routes and error pages."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tokui.clock import Clock, SystemClock
from tokui.state.db import session_scope
from tokui.state.models import User
from tokui.web.api import create_api
from tokui.web.auth import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    ForbiddenError,
    LoginThrottle,
    NotAuthenticatedError,
    RevokedSessions,
    safe_next,
)
from tokui.web.context import WebContext
from tokui.web.csrf import CSRFMiddleware
from tokui.web.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, supported
from tokui.web.routes import analyses, customers, imports, pages, privacy, segments, users
from tokui.web.routes import auth as auth_routes
from tokui.web.routes import channels as channels_routes
from tokui.web.routes import measurement as measurement_routes
from tokui.web.routes import messages as messages_routes
from tokui.web.routes import models as models_routes
from tokui.web.routes import ops as ops_routes
from tokui.web.routes import scenarios as scenarios_routes
from tokui.web.security import SecurityHeadersMiddleware
from tokui.web.templating import TEMPLATES_DIR, make_templates, render
from tokui.workspace import Workspace

STATIC_DIR = TEMPLATES_DIR.parent / "static"


def create_app(ws: Workspace, clock: Clock | None = None) -> FastAPI:
    if not ws.settings.secret_key:
        # An empty key would sign cookies anyone can forge.
        raise RuntimeError("secret_key is empty; set it in tokui.toml or TOKUI_SECRET_KEY")
    app = FastAPI(title="Tokui", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.tokui = WebContext(
        ws=ws,
        clock=clock or SystemClock(),
        throttle=LoginThrottle(ws.sessions),
        revoked=RevokedSessions(ws.sessions),
    )
    app.state.templates = make_templates()

    app.include_router(pages.router)
    app.include_router(ops_routes.router)  # /readyz, /metrics
    app.include_router(auth_routes.router)
    app.include_router(users.router)
    app.include_router(analyses.router)
    app.include_router(customers.router)
    app.include_router(imports.router)
    app.include_router(privacy.router)
    app.include_router(segments.router)
    app.include_router(models_routes.router)
    app.include_router(scenarios_routes.router)
    app.include_router(measurement_routes.router)  # /measurement, /scenarios/{key}/results
    app.include_router(messages_routes.router)  # /messages and the public /t/ tracking
    app.include_router(channels_routes.router)  # channels, DM, /calls, /hooks/line
    app.mount("/api/v1", create_api(app.state.tokui))  # key-authenticated; own OpenAPI
    # After the plotly route in pages, which serves one file from the plotly package.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_exception_handler(NotAuthenticatedError, _redirect_to_login)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    # Added innermost first: headers wrap everything, the session wraps the CSRF check
    # and the language switch, which both read it.
    app.add_middleware(LanguageSwitchMiddleware, ws=ws)
    app.add_middleware(CSRFMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=ws.settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=ws.settings.secure_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _redirect_to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotAuthenticatedError)
    return RedirectResponse(exc.next_path, status_code=303)


def _forbidden(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        {"title_key": "error.forbidden.title", "body_key": "error.forbidden.body"},
        status_code=403,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render(
            request,
            "error.html",
            {"title_key": "error.not_found.title", "body_key": "error.not_found.body"},
            status_code=404,
        )
    return Response(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


class LanguageSwitchMiddleware:
    """`?lang=xx` on any page: remember the choice and come back without the parameter.

    The choice goes into a cookie and, when signed in, into the user's profile. It is a
    GET that writes, which a CSRF token cannot guard; the only effect is the language.
    """

    def __init__(self, app: ASGIApp, ws: Workspace) -> None:
        self.app = app
        self.ws = ws

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        raw = request.query_params.get("lang")
        if raw is None:
            await self.app(scope, receive, send)
            return
        lang = supported(raw)
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        target = request.url.path
        if rest:
            target += "?" + urlencode(rest)
        response = RedirectResponse(safe_next(target), status_code=303)
        if lang is not None:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=LANG_COOKIE_MAX_AGE,
                httponly=True,
                samesite="lax",
                secure=self.ws.settings.secure_cookies,
            )
            uid = scope.get("session", {}).get("uid")
            if isinstance(uid, int):
                await run_in_threadpool(self._save, uid, lang)
        await response(scope, receive, send)

    def _save(self, uid: int, lang: str) -> None:
        with session_scope(self.ws.sessions) as db:
            user = db.get(User, uid)
            if user is not None and user.is_active:
                user.language = lang
