"""Readiness and Prometheus metrics (liveness, /healthz, is in pages.py).

/readyz needs no login and says only which store failed (tokui.ops.health). /metrics
is off unless `metrics_token` is set, and then answers only a request that carries it
as `Authorization: Bearer <token>`: queue depths and send rates are business figures,
and scraping must not need a user session (docs/security.md).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokui.ops import metrics
from tokui.ops.health import readiness
from tokui.web.context import web_context

router = APIRouter()


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    ctx = web_context(request)
    result = readiness(ctx.ws, ctx.warehouse_lock)
    return JSONResponse(
        result.as_dict(),
        status_code=200 if result.ready else 503,
        headers={"cache-control": "no-store"},
    )


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@router.get("/metrics")
async def prometheus(request: Request) -> Response:
    ctx = web_context(request)
    token = ctx.ws.settings.metrics_token
    if not token:
        return Response("not found\n", status_code=404, media_type="text/plain")
    if not _authorised(request, token):
        return Response(
            "unauthorised\n",
            status_code=401,
            media_type="text/plain",
            headers={"www-authenticate": 'Bearer realm="tokui-metrics"'},
        )
    collector = metrics.StateCollector(ctx.ws.sessions, ctx.clock)
    body = await run_in_threadpool(metrics.render, collector)
    return Response(body, media_type=metrics.CONTENT_TYPE, headers={"cache-control": "no-store"})
