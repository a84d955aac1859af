"""Settings of the channels beyond email: the [line], [webhook], [push], [postal_dm] and
[call_center] tables of tokui.toml, with secrets from the environment only.

    [line]
    api_base_url = "https://api.line.me"     # the stub server in tests
    timeout_seconds = 10
    # secrets: TOKUI_LINE_CHANNEL_ACCESS_TOKEN, TOKUI_LINE_CHANNEL_SECRET

    [webhook]
    url = "https://hooks.example.com/tokui"
    timeout_seconds = 10
    allow = ["callcenter.local", "10.20.0.0/24"]   # private targets allowed on purpose
    # secret: TOKUI_WEBHOOK_SECRET (HMAC-SHA256 key shared with the receiver)

    [push]
    project_id = "tokui-shop"
    service_account_file = "fcm-service-account.json"   # relative to the workspace
    # or the JSON itself in TOKUI_FCM_SERVICE_ACCOUNT

    [postal_dm]
    encoding = "utf-8-sig"                   # or "cp932" (Shift_JIS) for print vendors

    [call_center]
    mirror_webhook = false                   # also POST each task to [webhook] url

Every non-secret field can be overridden as TOKUI_<TABLE>_<FIELD> (TOKUI_LINE_API_BASE_URL,
...). A secret written into the file is refused with a message saying which variable to
set instead, so secrets never land in a file that is backed up or committed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from tokui.config import Settings, read_config_file


class ChannelSettingsError(ValueError):
    """A channel table of tokui.toml is invalid; names the table and field."""


class LineSettings(BaseModel):
    api_base_url: str = "https://api.line.me"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    notification_disabled: bool = False
    channel_access_token: str = Field(default="", repr=False)
    channel_secret: str = Field(default="", repr=False)


class WebhookSettings(BaseModel):
    url: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    allow: list[str] = Field(default_factory=list)
    secret: str = Field(default="", repr=False)


class PushSettings(BaseModel):
    project_id: str = ""
    api_base_url: str = "https://fcm.googleapis.com"
    service_account_file: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    service_account_json: str = Field(default="", repr=False)


class PostalDMSettings(BaseModel):
    encoding: Literal["utf-8-sig", "cp932"] = "utf-8-sig"


class CallCenterSettings(BaseModel):
    mirror_webhook: bool = False


class ChannelSettings(BaseModel):
    line: LineSettings = Field(default_factory=LineSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    postal_dm: PostalDMSettings = Field(default_factory=PostalDMSettings)
    call_center: CallCenterSettings = Field(default_factory=CallCenterSettings)


# (table, field) -> environment variable; these are never read from the file.
SECRETS: dict[tuple[str, str], str] = {
    ("line", "channel_access_token"): "TOKUI_LINE_CHANNEL_ACCESS_TOKEN",
    ("line", "channel_secret"): "TOKUI_LINE_CHANNEL_SECRET",
    ("webhook", "secret"): "TOKUI_WEBHOOK_SECRET",
    ("push", "service_account_json"): "TOKUI_FCM_SERVICE_ACCOUNT",
}
TABLES: dict[str, type[BaseModel]] = {
    "line": LineSettings,
    "webhook": WebhookSettings,
    "push": PushSettings,
    "postal_dm": PostalDMSettings,
    "call_center": CallCenterSettings,
}


def _table(raw: dict[str, Any], name: str, model: type[BaseModel]) -> dict[str, Any]:
    values = dict(raw.get(name, {}))
    for (table, field), env in SECRETS.items():
        if table == name and field in values:
            raise ChannelSettingsError(
                f"tokui.toml [{name}] {field}: keep secrets out of the file; set {env} in "
                "the environment of `tokui serve` / `tokui outbox run`"
            )
    prefix = f"TOKUI_{name.upper()}_"
    for field, info in model.model_fields.items():
        if (name, field) in SECRETS:
            value = os.environ.get(SECRETS[(name, field)])
        else:
            value = os.environ.get(prefix + field.upper())
        if value is None:
            continue
        # Lists from the environment are comma-separated.
        values[field] = (
            [v.strip() for v in value.split(",") if v.strip()]
            if (info.annotation == list[str])
            else value
        )
    return values


def load_channel_settings(settings: Settings) -> ChannelSettings:
    raw = read_config_file(settings.home)
    tables: dict[str, Any] = {}
    for name, model in TABLES.items():
        try:
            tables[name] = model(**_table(raw, name, model))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ChannelSettingsError(f"tokui.toml [{name}] {where}: {first['msg']}") from None
    result = ChannelSettings(**tables)
    push = result.push
    if push.service_account_file and not push.service_account_json:
        path = Path(push.service_account_file)
        if not path.is_absolute():
            path = settings.home / path
        try:
            push.service_account_json = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ChannelSettingsError(
                f"tokui.toml [push] service_account_file: cannot read {path}: {exc}"
            ) from None
    if push.service_account_json:
        try:
            json.loads(push.service_account_json)
        except json.JSONDecodeError as exc:
            raise ChannelSettingsError(
                f"[push] service account: not JSON (line {exc.lineno}): {exc.msg}"
            ) from None
    return result


def mask(value: str) -> str:
    """What a settings page shows of a secret: whether it is set, never any of it."""
    return "••••••••" if value else ""
