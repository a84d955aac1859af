"""Sessions, the signed-in user, role checks and login throttling.

The session lives in a cookie signed with the workspace secret (Starlette's
SessionMiddleware, itsdangerous underneath): it holds the user id, a random nonce that
identifies this sign-in, the CSRF token and the sign-in time. The user row is re-read on
every request, so deactivating a user or changing their role takes effect at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from tokui.clock import utc_naive
from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.state.sign_in import LoginFailure, RevokedSession
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

    In the state DB (tokui.state.sign_in), so a logout holds in every web process and
    across restarts.
    """

    def __init__(self, sessions: sessionmaker[Session], max_age: int = SESSION_MAX_AGE) -> None:
        self.sessions = sessions
        self.max_age = timedelta(seconds=max_age)

    def revoke(self, nonce: str, now: datetime) -> None:
        at = utc_naive(now)
        with session_scope(self.sessions) as db:
            db.execute(delete(RevokedSession).where(RevokedSession.until <= at))
            db.merge(RevokedSession(nonce=nonce, until=at + self.max_age))

    def is_revoked(self, nonce: str, now: datetime) -> bool:
        with session_scope(self.sessions) as db:
            found = db.scalar(
                select(RevokedSession.nonce).where(
                    RevokedSession.nonce == nonce, RevokedSession.until > utc_naive(now)
                )
            )
        return found is not None


@dataclass
class LoginThrottle:
    """Counts failed logins per email and per client address; locks either when too many.

    Per email it stops guessing one account's password; per address it slows one client
    spraying many accounts. The failures are rows of the state DB (tokui.state.sign_in),
    shared by every web process; rows older than the window are deleted as new ones come.
    """

    sessions: sessionmaker[Session]
    max_per_email: int = 5
    max_per_address: int = 20
    window: timedelta = timedelta(minutes=15)

    def _keys(self, email: str, address: str) -> list[tuple[str, int]]:
        return [
            ("email:" + email.strip().lower(), self.max_per_email),
            ("addr:" + address, self.max_per_address),
        ]

    def locked_for(self, email: str, address: str, now: datetime) -> timedelta | None:
        """How long the pair stays locked, or None when a login may be tried."""
        at = utc_naive(now)
        waits = []
        with session_scope(self.sessions) as db:
            for key, limit in self._keys(email, address):
                recent = list(
                    db.scalars(
                        select(LoginFailure.at)
                        .where(LoginFailure.key == key[:400], LoginFailure.at > at - self.window)
                        .order_by(LoginFailure.at.desc())
                        .limit(limit)
                    )
                )
                if len(recent) >= limit:
                    # Locked until the limit-th newest failure leaves the window.
                    waits.append(recent[-1] + self.window - at)
        return max(waits) if waits else None

    def record_failure(self, email: str, address: str, now: datetime) -> None:
        at = utc_naive(now)
        with session_scope(self.sessions) as db:
            db.execute(delete(LoginFailure).where(LoginFailure.at <= at - self.window))
            db.add_all(LoginFailure(key=key[:400], at=at) for key, _ in self._keys(email, address))

    def record_success(self, email: str) -> None:
        key = self._keys(email, "")[0][0]
        with session_scope(self.sessions) as db:
            db.execute(delete(LoginFailure).where(LoginFailure.key == key[:400]))


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
        ctx.revoked.revoke(nonce, ctx.clock.now())
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
    if ctx.revoked.is_revoked(nonce, ctx.clock.now()):
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
