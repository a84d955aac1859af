"""Messaging settings: the `[messaging]` and `[email]` tables of tokui.toml.

Secrets stay out of the file and the database: the SMTP password is read only from the
environment (TOKUI_SMTP_PASSWORD) and the DKIM key from a file the operator protects;
neither is ever shown in the UI, logs or exports. Example:

    [messaging]
    sandbox = false                      # true (default): capture, never send
    tracking_base_url = "https://crm.shop.example"
    shop_url = "https://shop.example"
    shop_domains = ["shop.example"]
    sender_name = "株式会社とくい食品"
    sender_address = "東京都千代田区丸の内1-1-1"
    contact = "support@shop.example / 03-1234-5678"

    [email]
    from_address = "news@shop.example"
    from_name = "とくい食品"
    host = "smtp.example.net"
    port = 587
    security = "starttls"               # starttls, ssl or none
    username = "apikey"
    dkim_domain = "shop.example"
    dkim_selector = "tokui"
    dkim_key_file = "dkim.pem"          # relative to the workspace

    [bounces]
    domain = "bounces.shop.example"     # envelope sender domain; empty: from_address's
    imap_host = "imap.shop.example"     # optional: `tokui messages bounces --imap`
    imap_username = "bounce@shop.example"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tokui.config import Settings, read_config_file

ENV_PREFIXES = {
    "email": "TOKUI_SMTP_",
    "messaging": "TOKUI_MESSAGING_",
    "bounces": "TOKUI_BOUNCES_",
}


class MessagingSettingsError(ValueError):
    """The [messaging] or [email] table of tokui.toml is invalid; names the field."""


class EmailSettings(BaseModel):
    from_address: str = "shop@example.com"
    from_name: str = ""
    reply_to: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = Field(default="", repr=False)
    timeout_seconds: float = Field(default=30.0, gt=0)
    pool_size: int = Field(default=4, ge=1, le=64)
    validate_certs: bool = True
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_key_file: str = ""

    @property
    def from_domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


class BounceSettings(BaseModel):
    """Bounce and complaint handling (tokui.messaging.bounces)."""

    # Each message's envelope sender is local_part+<id>-<signature>@domain (VERP), so a
    # bounce names its message; off: the envelope sender is [email] from_address.
    verp: bool = True
    local_part: str = Field(default="bounce", pattern=r"^[a-z0-9][a-z0-9._-]{0,31}$")
    # empty: the domain of [email] from_address
    domain: str = Field(default="", pattern=r"^$|^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
    # A soft bounce (4.x.x, mailbox full) suppresses the address once it is the
    # soft_limit-th within soft_days days.
    soft_limit: int = Field(default=3, ge=1, le=100)
    soft_days: int = Field(default=30, ge=1, le=3650)
    # The mailbox the bounces arrive in, polled by `tokui messages bounces --imap`.
    imap_host: str = ""
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Literal["ssl", "starttls", "none"] = "ssl"
    imap_username: str = ""
    imap_password: str = Field(default="", repr=False)
    imap_folder: str = "INBOX"
    imap_timeout_seconds: float = Field(default=30.0, gt=0)


class MessagingSettings(BaseModel):
    sandbox: bool = True
    tracking_base_url: str = ""
    shop_url: str = ""
    shop_domains: list[str] = Field(default_factory=list)
    sender_name: str = ""
    sender_address: str = ""
    contact: str = ""
    unsubscribe_mailto: str = ""
    rate_per_second: dict[str, float] = Field(default_factory=lambda: {"email": 50.0})
    batch_size: int = Field(default=200, ge=1, le=5000)
    concurrency: int = Field(default=16, ge=1, le=256)
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    email: EmailSettings = Field(default_factory=EmailSettings)
    bounces: BounceSettings = Field(default_factory=BounceSettings)

    @property
    def bounce_domain(self) -> str:
        return self.bounces.domain or self.email.from_domain


def _env_overrides(section: str, model: type[BaseModel]) -> dict[str, Any]:
    prefix = ENV_PREFIXES[section]
    out: dict[str, Any] = {}
    for name in model.model_fields:
        value = os.environ.get(prefix + name.upper())
        if value is not None:
            out[name] = value
    return out


def load_messaging_settings(settings: Settings) -> MessagingSettings:
    raw = read_config_file(settings.home)
    messaging = dict(raw.get("messaging", {}))
    email = dict(raw.get("email", {}))
    if "password" in email:
        raise MessagingSettingsError(
            "tokui.toml [email] password: keep the SMTP password out of the file; set "
            "TOKUI_SMTP_PASSWORD in the environment of `tokui serve` / `tokui outbox run`"
        )
    bounces = dict(raw.get("bounces", {}))
    if "imap_password" in bounces:
        raise MessagingSettingsError(
            "tokui.toml [bounces] imap_password: keep the password out of the file; set "
            "TOKUI_BOUNCES_IMAP_PASSWORD in the environment"
        )
    messaging.update(_env_overrides("messaging", MessagingSettings))
    messaging.pop("email", None)
    messaging.pop("bounces", None)
    email.update(_env_overrides("email", EmailSettings))
    bounces.update(_env_overrides("bounces", BounceSettings))
    try:
        result = MessagingSettings(
            **messaging, email=EmailSettings(**email), bounces=BounceSettings(**bounces)
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MessagingSettingsError(
            f"tokui.toml [messaging]/[email]/[bounces] {where}: {first['msg']}"
        ) from None
    if not result.tracking_base_url:
        result.tracking_base_url = f"http://{settings.host}:{settings.port}"
    if not result.shop_domains and result.shop_url:
        host = result.shop_url.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        result.shop_domains = [host.lower()] if host else []
    return result


def dkim_key(settings: Settings, email: EmailSettings) -> bytes | None:
    """The DKIM private key (PEM), or None when DKIM is not configured."""
    if not (email.dkim_domain and email.dkim_selector and email.dkim_key_file):
        return None
    path = Path(email.dkim_key_file)
    if not path.is_absolute():
        path = settings.home / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MessagingSettingsError(
            f"tokui.toml [email] dkim_key_file: cannot read {path}: {exc}"
        ) from None
