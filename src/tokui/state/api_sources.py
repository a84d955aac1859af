"""API sources: who may push data through /api/v1, and with which key.

A key is shown once, when its source is created, and only its SHA-256 digest is kept.
Keys are 256-bit random tokens, so a slow password hash (argon2) would add a few
milliseconds to every API call without making a stolen digest any harder to reverse.
The first characters of the key (its prefix) are stored in clear so a request can find
its source with an index lookup; the digest is then compared in constant time.

Two kinds of key:
- `secret`: server to server (the cart's back office); may post events, orders,
  customers and products; sent in the Authorization header only.
- `public`: pasted into the shop's pages with the tracking snippet, so anyone can read
  it; may post web events only, and only from the source's allowed origins.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tokui.state.models import Base


class SourceKind(StrEnum):
    secret = "secret"  # noqa: S105 - a kind of key, not a key
    public = "public"


KEY_PREFIXES = {SourceKind.secret: "tk_sec_", SourceKind.public: "tk_pub_"}
# Prefix plus the first random characters: enough to find the row, far too few to guess.
LOOKUP_CHARS = 16
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Writing last_used_at on every call would make each API request a state-DB write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class SourceError(ValueError):
    pass


class ApiSource(Base):
    __tablename__ = "api_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    key_prefix: Mapped[str] = mapped_column(String(LOOKUP_CHARS), index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    allowed_origins: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def kind_enum(self) -> SourceKind:
        return SourceKind(self.kind)

    @property
    def origins(self) -> list[str]:
        value = json.loads(self.allowed_origins or "[]")
        return [str(v) for v in value]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class SourceInfo:
    """What a request handler needs of a source, detached from the DB session."""

    id: int
    name: str
    kind: SourceKind
    origins: tuple[str, ...]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def normalise_origin(text: str) -> str:
    """`https://Shop.Example:443/` -> `https://shop.example`; the form browsers send."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"not an origin (scheme://host[:port]): {text!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise SourceError(f"an origin has no path, query or user: {text!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def create_source(
    session: Session,
    name: str,
    kind: SourceKind,
    now: datetime,
    origins: list[str] | None = None,
) -> tuple[ApiSource, str]:
    """A new source and its key; the key is returned here and nowhere else, ever."""
    if not NAME_PATTERN.fullmatch(name):
        raise SourceError(
            f"source name {name!r}: use 1-64 lowercase letters, digits, '_', '.' or '-'"
        )
    if session.scalar(select(ApiSource).where(ApiSource.name == name)) is not None:
        raise SourceError(f"a source named {name!r} exists already")
    allowed = sorted({normalise_origin(o) for o in origins or []})
    if kind is SourceKind.public and not allowed:
        raise SourceError("a public key needs at least one allowed origin (--origin)")
    if kind is SourceKind.secret and allowed:
        raise SourceError("secret keys are for servers; allowed origins apply to public keys")
    key = KEY_PREFIXES[kind] + secrets.token_urlsafe(32)
    source = ApiSource(
        name=name,
        kind=kind.value,
        key_prefix=key[:LOOKUP_CHARS],
        key_hash=digest(key),
        allowed_origins=json.dumps(allowed),
        created_at=now,
    )
    session.add(source)
    session.flush()
    return source, key


def list_sources(session: Session) -> list[ApiSource]:
    return list(session.scalars(select(ApiSource).order_by(ApiSource.id)))


def revoke_source(session: Session, name: str, now: datetime) -> ApiSource:
    source = session.scalar(select(ApiSource).where(ApiSource.name == name))
    if source is None:
        raise SourceError(f"no source named {name!r}")
    if source.revoked_at is None:
        source.revoked_at = now
    return source


def authenticate_key(session: Session, key: str, now: datetime) -> SourceInfo | None:
    """The active source owning `key`, or None. Updates last_used_at (coarsely)."""
    if not key.startswith(tuple(KEY_PREFIXES.values())) or len(key) > 200:
        return None
    candidates = session.scalars(
        select(ApiSource).where(ApiSource.key_prefix == key[:LOOKUP_CHARS])
    ).all()
    wanted = digest(key)
    found = None
    for source in candidates:
        # Constant-time, so response timing says nothing about how much of a key matched.
        if hmac.compare_digest(source.key_hash, wanted):
            found = source
    if found is None or found.revoked_at is not None:
        return None
    last = found.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        session.execute(update(ApiSource).where(ApiSource.id == found.id).values(last_used_at=now))
    return SourceInfo(found.id, found.name, found.kind_enum, tuple(found.origins))
