"""CSRF protection: a synchronizer token kept in the signed session cookie.

Every unsafe request (POST, PUT, PATCH, DELETE) must echo the session's token, either in
the form field `csrf_token` or in the `X-CSRF-Token` header. The check sits in a
middleware rather than in each route so that no new route can forget it.

Anonymous visitors get a session holding only a token, so the login form is protected
too (login CSRF would let an attacker sign a victim into the attacker's account).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The mounted ingestion API (tokui.web.api) authenticates by API key only; nothing else
# may live under this prefix.
API_PREFIX = "/api/v1/"
# The one-click unsubscribe (RFC 8058) is POSTed by mailbox providers without cookies; a
# signed token in the URL authorises it (tokui.web.routes.tracking).
UNSUBSCRIBE_PREFIX = "/t/u/"
# Provider webhooks (LINE's /hooks/line) come without cookies; each route verifies the
# provider's signature of the raw body instead (tokui.messaging.line_webhook).
HOOKS_PREFIX = "/hooks/"
# Forms here are small; the import upload (tokui.web.routes.imports) alone gets more.
MAX_BODY_BYTES = 10 * 1024 * 1024
UPLOAD_PATH = "/import"
UPLOAD_MAX_BYTES = 100 * 1024 * 1024


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_token(session: dict[str, Any]) -> str:
    """The session's token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = new_token()
        session[SESSION_KEY] = token
    return token


def csrf_token(request: Request) -> str:
    return session_token(request.session)


def csrf_field(request: Request) -> Markup:
    """The hidden input that every form must contain."""
    token = escape(csrf_token(request))
    return Markup(f'<input type="hidden" name="{FORM_FIELD}" value="{token}">')  # noqa: S704


def tokens_match(expected: object, given: object) -> bool:
    if not isinstance(expected, str) or not isinstance(given, str) or not expected:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class CSRFMiddleware:
    """Rejects unsafe requests without the session's token with 403, before any route runs.

    Must sit inside the session middleware (it reads scope["session"]).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith((API_PREFIX, UNSUBSCRIBE_PREFIX, HOOKS_PREFIX)):
            # The ingestion API reads no session: it authenticates by API key, so a forged
            # cross-site request carries no credential and gets a 401 (docs/security.md).
            await self.app(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > (UPLOAD_MAX_BYTES if scope["path"] == UPLOAD_PATH else MAX_BODY_BYTES):
                await PlainTextResponse("Request too large", status_code=413)(scope, receive, send)
                return
        replay = _replayer(bytes(body), receive)
        expected = scope.get("session", {}).get(SESSION_KEY)
        given = Request(scope).headers.get(HEADER)
        if given is None:
            given = await _form_token(scope, _replayer(bytes(body), receive))
        if not tokens_match(expected, given):
            response = PlainTextResponse(
                "403 Forbidden: セッションの確認に失敗しました。ページを再読み込みして、"
                "もう一度お試しください。 (The form's security token is missing or stale; "
                "reload the page and try again.)",
                status_code=403,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, replay, send)


def _replayer(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_token(scope: Scope, receive: Receive) -> str | None:
    request = Request(scope, receive)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        form = await request.form()
    except Exception:
        # A malformed body cannot carry a valid token; the caller answers 403.
        return None
    try:
        value = form.get(FORM_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
