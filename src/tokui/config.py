"""Typed settings.

Precedence (highest first): TOKUI_* environment variables, the workspace's tokui.toml,
defaults. The workspace folder is TOKUI_HOME or ./tokui-workspace.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_HOME = Path("tokui-workspace")
CONFIG_FILE = "tokui.toml"


_home_override: ContextVar[Path | None] = ContextVar("tokui_home_override", default=None)


def workspace_home() -> Path:
    override = _home_override.get()
    if override is not None:
        return override.resolve()
    return Path(os.environ.get("TOKUI_HOME", str(DEFAULT_HOME))).resolve()


class Settings(BaseSettings):
    """Everything Tokui needs to find its stores and run."""

    model_config = SettingsConfigDict(env_prefix="TOKUI_", extra="ignore")

    home: Path = Field(default_factory=workspace_home)
    warehouse_url: str = Field(
        default="",
        description="Ibis URL of the warehouse: duckdb:///path, postgres://..., pyspark://..., "
        "clickhouse://... or chdb:///path (docs/backends.md)",
    )
    state_url: str = Field(
        default="", description="SQLAlchemy URL of the state DB, e.g. sqlite:///path"
    )
    duckdb_memory_limit: str = Field(
        default="4GB",
        pattern=r"^[0-9]+(\.[0-9]+)?\s?(MB|MiB|GB|GiB)$",
        description="Most memory the embedded DuckDB warehouse uses before spilling to disk",
    )
    timezone: str = "Asia/Tokyo"
    currency: str = "JPY"
    shop_name: str = "Tokui Shop"
    secret_key: str = Field(default="", description="Signs session cookies and tokens")
    host: str = "127.0.0.1"
    port: int = 8000
    default_language: str = "ja"
    secure_cookies: bool = False
    # Global control group: this share of customers (a stable hash of the id) gets no
    # scenario at all, so the total effect of all marketing can be measured
    # (tokui.scenarios.control, docs/measurement.md). 0 turns it off.
    global_control_percent: float = Field(default=0.0, ge=0, le=50)
    # Operations (docs/deploy.md): log lines as text or one JSON object each; the bearer
    # token that /metrics asks for (empty: /metrics is off).
    log_format: str = Field(default="text", pattern=r"^(text|json)$")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    metrics_token: str = Field(default="", repr=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=workspace_home() / CONFIG_FILE)
        return (init_settings, env_settings, toml, file_secret_settings)

    def model_post_init(self, __context: Any) -> None:
        if not self.warehouse_url:
            self.warehouse_url = f"duckdb://{self.home / 'warehouse.duckdb'}"
        if not self.state_url:
            self.state_url = f"sqlite:///{self.home / 'state.db'}"

    @property
    def lock_path(self) -> Path:
        return self.home / "server.lock"

    @property
    def is_embedded_warehouse(self) -> bool:
        return self.warehouse_url.startswith("duckdb://")


def load_settings(home: Path | None = None, **overrides: Any) -> Settings:
    """Settings for the workspace at `home` (default: TOKUI_HOME or ./tokui-workspace)."""
    if home is None:
        return Settings(**overrides)
    token = _home_override.set(home)
    try:
        return Settings(home=home.resolve(), **overrides)
    finally:
        _home_override.reset(token)


SAMPLE_CONFIG = """\
# Tokui workspace configuration. Environment variables TOKUI_<NAME> override these.

# The shop, as shown in the UI and in message footers.
shop_name = "{shop_name}"
timezone = "Asia/Tokyo"
currency = "JPY"

# Signs session cookies and unsubscribe tokens. Generated at `tokui init`; keep it secret.
secret_key = "{secret_key}"

# Warehouse (customer data, analytics): an Ibis URL.
#   embedded default: duckdb://<workspace>/warehouse.duckdb
#   postgres://user@host:5432/dbname
#   pyspark:///spark-warehouse?spark.master=spark://host:7077   (pip install 'tokui[spark]')
#   clickhouse://user:password@host:8123/dbname                 (pip install 'tokui[clickhouse]')
#   more, and what each one can run: docs/backends.md
# warehouse_url = "postgres://tokui@127.0.0.1:5432/tokui"

# State DB (scenarios, outbox, users): an SQLAlchemy URL.
#   embedded default: sqlite:///<workspace>/state.db
#   postgresql+psycopg://user@host:5432/dbname
# state_url = "postgresql+psycopg://tokui@127.0.0.1:5432/tokui"

# Web server
host = "127.0.0.1"
port = 8000
default_language = "ja"
# Set to true behind HTTPS so cookies carry the Secure flag.
secure_cookies = false

# Operations. Logs: "text" or "json" (one object per line, for a log pipeline).
# log_format = "text"
# /metrics (Prometheus) answers only with `Authorization: Bearer <metrics_token>`;
# empty = off. Prefer TOKUI_METRICS_TOKEN in the environment to writing it here.
# metrics_token = ""

# Measurement: a stable share of customers (percent) that no scenario messages, to
# measure what all marketing together adds. 0 = off.
# global_control_percent = 5
"""


def write_sample_config(home: Path, shop_name: str = "Tokui Shop") -> Path:
    path = home / CONFIG_FILE
    if not path.exists():
        path.write_text(
            SAMPLE_CONFIG.format(shop_name=shop_name, secret_key=secrets.token_urlsafe(32)),
            encoding="utf-8",
        )
    return path


def read_config_file(home: Path) -> dict[str, Any]:
    path = home / CONFIG_FILE
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)
