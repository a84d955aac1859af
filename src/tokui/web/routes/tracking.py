"""Public tracking endpoints under /t/: clicks, opens, unsubscribes.

No session and no login: recipients arrive from their mail client. Each URL carries a
signature (tokui.messaging.tracking), which is the only credential: an unsigned or
altered click link gets 400 and is never redirected, so /t/c/ is no open redirect. The
unsubscribe POST is exempt from the session CSRF check (mailbox providers send the
RFC 8058 one-click POST without cookies); the signed token in the URL authorises it,
and the worst a forged request can do is unsubscribe the token's own recipient.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.messaging.events import record_tracking
from tokui.messaging.service import Messaging
from tokui.messaging.tracking import LinkSigner
from tokui.messaging.unsubscribe import unsubscribe
from tokui.state.db import session_scope
from tokui.web.context import web_context
from tokui.web.templating import render

router = APIRouter()

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = {"cache-control": "no-store, private", "referrer-policy": "no-referrer"}
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


def _signer(request: Request) -> LinkSigner:
    ctx = web_context(request)
    return Messaging(ctx.ws, ctx.clock).signer


@router.get("/t/c/{message_id}")
def click(request: Request, message_id: int, u: str = "", s: str = "") -> Response:
    signer = _signer(request)
    if not u or not s or not signer.verify_click(message_id, u, s):
        return Response(
            "400 Bad Request: this link is not valid.", status_code=400, headers=_NO_STORE
        )
    if not u.lower().startswith(("https://", "http://")):
        return Response(
            "400 Bad Request: this link is not valid.", status_code=400, headers=_NO_STORE
        )
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        record_tracking(db, message_id, "clicked", utc_naive(ctx.clock.now()), detail=u)
    return RedirectResponse(u, status_code=302, headers=_NO_STORE)


@router.get("/t/o/{token}")
def open_pixel(request: Request, token: str) -> Response:
    message_id = _signer(request).read_open(token)
    if message_id is not None:
        ctx = web_context(request)
        with session_scope(ctx.ws.sessions) as db:
            record_tracking(db, message_id, "opened", utc_naive(ctx.clock.now()))
    # The same image either way: a mail client shows nothing broken for a bad token.
    return Response(PIXEL, media_type="image/gif", headers=_NO_STORE)


@router.get("/t/u/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    message_id = _signer(request).read_unsubscribe(token)
    if message_id is None:
        return _page(request, "invalid", status_code=400)
    return _page(request, "confirm", token=token)


@router.post("/t/u/{token}")
def unsubscribe_post(
    request: Request,
    token: str,
    one_click: Annotated[str, Form(alias="List-Unsubscribe")] = "",
) -> Response:
    message_id = _signer(request).read_unsubscribe(token)
    if message_id is None:
        return _page(request, "invalid", status_code=400)
    ctx = web_context(request)
    method = "one_click" if one_click == "One-Click" else "unsubscribe_page"
    agent = request.headers.get("user-agent", "")[:200]
    with session_scope(ctx.ws.sessions) as db:
        done = unsubscribe(
            db, message_id, utc_naive(ctx.clock.now()), method, evidence=f"user-agent: {agent}"
        )
    if done is None:
        return _page(request, "invalid", status_code=400)
    return _page(request, "done")


def _page(request: Request, state: str, status_code: int = 200, token: str = "") -> Response:
    response = render(
        request, "messages/unsubscribe.html", {"state": state, "token": token}, status_code
    )
    response.headers.update(_NO_STORE)
    return response
