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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tokui.config import Settings, read_config_file

ENV_PREFIXES = {"email": "TOKUI_SMTP_", "messaging": "TOKUI_MESSAGING_"}


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
    messaging.update(_env_overrides("messaging", MessagingSettings))
    messaging.pop("email", None)
    email.update(_env_overrides("email", EmailSettings))
    try:
        result = MessagingSettings(**messaging, email=EmailSettings(**email))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MessagingSettingsError(
            f"tokui.toml [messaging]/[email] {where}: {first['msg']}"
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
