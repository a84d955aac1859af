"""Who is calling the API: the key, its kind, its origin, and how often it calls.

Authentication is by API key only, never by the web session cookie: the routes of
/api/v1 read no session, so a signed-in browser tricked into posting to the API gets a
401 like anyone else. That is why the API may skip the session CSRF check.

- Secret keys travel in `Authorization: Bearer <key>` (or `X-Api-Key`), never in a URL,
  where proxies and logs would keep them.
- Public keys (the tracking snippet) may also travel as `?key=` because navigator.
  sendBeacon cannot set headers. They may post web events only, and only from a
  browser page on one of the source's allowed origins (the Origin header must match).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.requests import Request

from tokui.clock import utc_naive
from tokui.state.api_sources import SourceInfo, SourceKind, authenticate_key
from tokui.state.db import session_scope
from tokui.web.api.errors import ApiError
from tokui.web.context import WebContext

UNAUTHORISED = {"www-authenticate": 'Bearer realm="tokui-api"'}


@dataclass
class RateLimiter:
    """A sliding one-minute window of requests per key (a source, or a source and address).

    Secret keys come from one server: a generous limit per source guards against a
    runaway loop. Public keys come from every visitor's browser: the limit is per
    source and client address, so one abusive client cannot starve the shop's visitors.
    """

    per_source: int = 1200
    per_public_client: int = 120
    window: timedelta = timedelta(minutes=1)
    max_keys: int = 50_000
    _calls: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, key: str, limit: int, now: datetime) -> int | None:
        """Seconds to wait when over the limit; otherwise records the call, None."""
        with self._lock:
            calls = self._calls.get(key)
            if calls is None:
                if len(self._calls) >= self.max_keys:
                    # Drop the quietest half rather than grow without bound.
                    for stale in sorted(self._calls, key=lambda k: self._calls[k][-1])[
                        : self.max_keys // 2
                    ]:
                        del self._calls[stale]
                calls = self._calls[key] = deque()
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= limit:
                wait = calls[0] + self.window - now
                return max(1, int(wait.total_seconds() + 0.999))
            calls.append(now)
            return None


def presented_key(request: Request) -> tuple[str | None, str]:
    """The key and where it came from: header or query."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "Authorization must be 'Bearer <API key>'", headers=UNAUTHORISED)
        return value.strip(), "header"
    header = request.headers.get("x-api-key")
    if header:
        return header.strip(), "header"
    query = request.query_params.get("key")
    if query:
        return query.strip(), "query"
    return None, "none"


def authenticate(request: Request, ctx: WebContext) -> SourceInfo:
    """The calling source; 401 for a missing, unknown or revoked key (one message)."""
    key, where = presented_key(request)
    if key is None:
        raise ApiError(
            401,
            "an API key is required: Authorization: Bearer <key> (see /api/v1/docs)",
            headers=UNAUTHORISED,
        )
    with session_scope(ctx.ws.sessions) as session:
        source = authenticate_key(session, key, utc_naive(ctx.clock.now()))
    if source is None:
        raise ApiError(401, "unknown or revoked API key", headers=UNAUTHORISED)
    if where == "query" and source.kind is SourceKind.secret:
        # The key is valid, and now sits in someone's access log: say so plainly.
        raise ApiError(
            401,
            "secret keys must be sent in the Authorization header, never in the URL; "
            "consider revoking this key",
            headers=UNAUTHORISED,
        )
    return source


def allowed_origin(request: Request, source: SourceInfo) -> str | None:
    """The request's Origin when the source may be called from it.

    Public keys must come from a browser page on an allowed origin; secret keys never
    get CORS headers, so no web page can read an answer made with them.
    """
    origin = request.headers.get("origin")
    if source.kind is SourceKind.secret:
        return None
    if origin is None or origin not in source.origins:
        raise ApiError(
            403,
            f"origin {origin!r} is not allowed for source {source.name!r}"
            if origin
            else "a public key is only accepted from a browser page (Origin header)",
        )
    return origin


def cors_headers(origin: str | None) -> dict[str, str]:
    # No Access-Control-Allow-Credentials: the API never uses cookies.
    if origin is None:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin"}


def rate_limit(request: Request, ctx: WebContext, limiter: RateLimiter, source: SourceInfo) -> None:
    now = utc_naive(ctx.clock.now())
    if source.kind is SourceKind.public:
        client = request.client.host if request.client else "unknown"
        key, limit = f"{source.id}:{client}", limiter.per_public_client
    else:
        key, limit = str(source.id), limiter.per_source
    wait = limiter.check(key, limit, now)
    if wait is not None:
        raise ApiError(
            429,
            f"too many requests for this key; retry in {wait} s",
            headers={"retry-after": str(wait)},
        )
