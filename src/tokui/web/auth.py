"""Sessions, the signed-in user, role checks and login throttling.

The session lives in a cookie signed with the workspace secret (Starlette's
SessionMiddleware, itsdangerous underneath): it holds the user id, a random nonce that
identifies this sign-in, the CSRF token and the sign-in time. The user row is re-read on
every request, so deactivating a user or changing their role takes effect at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends
from starlette.requests import Request

from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.web.csrf import SESSION_KEY as CSRF_KEY
from tokui.web.csrf import new_token

if TYPE_CHECKING:
    from tokui.web.context import WebContext

SESSION_COOKIE = "tokui_session"
# A working day plus margin; after that the signature no longer verifies.
SESSION_MAX_AGE = 12 * 60 * 60


class NotAuthenticatedError(Exception):
    """Raised by the role dependency; the app answers with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ForbiddenError(Exception):
    """Raised by the role dependency; the app answers with a 403 page."""


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else becomes "/".

    Only paths with a single leading slash pass: "//evil.example" and "/\\evil.example"
    are read by browsers as other hosts.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def login_url(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return "/login?next=" + quote(safe_next(target), safe="/")


class RevokedSessions:
    """Nonces of sessions ended by logout, kept until their cookies would expire anyway.

    In memory: a restart forgets them, which docs/security.md lists as an accepted risk
    (the cookie still expires after SESSION_MAX_AGE).
    """

    def __init__(self, max_age: int = SESSION_MAX_AGE) -> None:
        self.max_age = max_age
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def revoke(self, nonce: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._until = {n: t for n, t in self._until.items() if t > now}
            self._until[nonce] = now + self.max_age

    def is_revoked(self, nonce: str) -> bool:
        with self._lock:
            until = self._until.get(nonce)
        return until is not None and until > time.monotonic()


@dataclass
class LoginThrottle:
    """Counts failed logins per email and per client address; locks either when too many.

    Per email it stops guessing one account's password; per address it slows one client
    spraying many accounts. Memory is bounded by dropping the stalest keys.
    """

    max_per_email: int = 5
    max_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 10_000
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, email: str, address: str) -> list[tuple[str, int]]:
        return [
            ("email:" + email.strip().lower(), self.max_per_email),
            ("addr:" + address, self.max_per_address),
        ]

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def locked_for(self, email: str, address: str, now: datetime) -> timedelta | None:
        """How long the pair stays locked, or None when a login may be tried."""
        with self._lock:
            waits = []
            for key, limit in self._keys(email, address):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - now)
            return max(waits) if waits else None

    def record_failure(self, email: str, address: str, now: datetime) -> None:
        with self._lock:
            for key, _ in self._keys(email, address):
                times = self._recent(key, now)
                times.append(now)
                self._failures.pop(key, None)
                self._failures[key] = times  # re-insert: dict order is staleness order
            while len(self._failures) > self.max_keys:
                self._failures.pop(next(iter(self._failures)))

    def record_success(self, email: str) -> None:
        with self._lock:
            self._failures.pop("email:" + email.strip().lower(), None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def start_session(request: Request, user: User, now: datetime) -> None:
    """Replace whatever the browser had with a fresh session (no session fixation)."""
    request.session.clear()
    request.session.update(
        {
            "uid": user.id,
            "nonce": secrets.token_urlsafe(16),
            CSRF_KEY: new_token(),
            "since": now.isoformat(),
        }
    )


def end_session(request: Request, ctx: WebContext) -> None:
    nonce = request.session.get("nonce")
    if isinstance(nonce, str):
        ctx.revoked.revoke(nonce)
    request.session.clear()


def optional_user(request: Request) -> User | None:
    """The signed-in, still active user, or None; read once per request."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    user = _load_user(request)
    request.state.user = user
    return user


def _load_user(request: Request) -> User | None:
    from tokui.web.context import web_context

    session: dict[str, Any] = request.session
    uid, nonce = session.get("uid"), session.get("nonce")
    if not isinstance(uid, int) or not isinstance(nonce, str):
        return None
    ctx = web_context(request)
    if ctx.revoked.is_revoked(nonce):
        session.clear()
        return None
    with session_scope(ctx.ws.sessions) as db:
        user = db.get(User, uid)
    if user is None or not user.is_active:
        session.clear()
        return None
    return user


def require(role: Role) -> Any:
    """A dependency for `Annotated[User, require(Role.x)]`: the user, if allowed.

    Not signed in -> redirect to login; signed in with too small a role -> 403.
    """

    def dependency(request: Request) -> User:
        user = optional_user(request)
        if user is None:
            raise NotAuthenticatedError(login_url(request))
        if not user.role_enum.allows(role):
            raise ForbiddenError(role.value)
        return user

    dependency.__name__ = f"require_{role.value}"
    return Depends(dependency)
