"""The workspace: one folder with tokui.toml, the warehouse and the state DB.

A Workspace opens its stores lazily, so a command that only reads the state DB never
takes the DuckDB file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ibis.backends import BaseBackend
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tokui.config import Settings, load_settings, write_sample_config
from tokui.state.db import make_engine, migrate, session_factory, session_scope
from tokui.state.models import Role
from tokui.state.users import count_users, create_user
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import create_schema


class WorkspaceBusyError(RuntimeError):
    """Another process (normally `tokui serve`) owns the workspace."""


@dataclass
class Workspace:
    settings: Settings
    _warehouse: BaseBackend | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)

    @classmethod
    def open(cls, home: Path | None = None) -> Workspace:
        return cls(load_settings(home))

    @property
    def home(self) -> Path:
        return self.settings.home

    @property
    def warehouse(self) -> BaseBackend:
        if self._warehouse is None:
            self._warehouse = connect(
                self.settings.warehouse_url, memory_limit=self.settings.duckdb_memory_limit
            )
        return self._warehouse

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.state_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = session_factory(self.engine)
        return self._sessions

    def drop_warehouse(self) -> None:
        """Forget the warehouse connection (after it failed: a server that restarted), so
        the next use connects again."""
        warehouse, self._warehouse = self._warehouse, None
        if warehouse is not None:
            # It failed already; whatever disconnecting it raises, a new one replaces it.
            with contextlib.suppress(Exception):
                warehouse.disconnect()

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.disconnect()
            self._warehouse = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessions = None


def init_workspace(
    home: Path,
    admin_email: str | None = None,
    admin_password: str | None = None,
    shop_name: str = "Tokui Shop",
) -> Workspace:
    """Create (or bring up to date) a workspace: config, warehouse tables, migrations.

    Safe to run again: existing data, config and users are kept.
    """
    home.mkdir(parents=True, exist_ok=True)
    write_sample_config(home, shop_name)
    ws = Workspace.open(home)
    create_schema(ws.warehouse)
    migrate(ws.engine)
    if admin_email and admin_password:
        with session_scope(ws.sessions) as session:
            if count_users(session) == 0:
                create_user(session, admin_email, admin_password, Role.admin, "Admin")
    return ws


class ServerLock:
    """An advisory lock file saying which process serves the workspace.

    DuckDB already refuses a second writer; this lock lets every command say why,
    before it touches the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise WorkspaceBusyError(
                f"the workspace {self.path.parent} is served by pid {holder}; stop "
                "`tokui serve` first, or send the work through its web API"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def holder(self) -> str | None:
        """The pid holding the lock, or None when the workspace is free."""
        if not self.path.exists():
            return None
        with self.path.open("a+", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                return fh.read().strip() or "unknown"
            fcntl.flock(fh, fcntl.LOCK_UN)
            return None

    def ensure_free(self) -> None:
        pid = self.holder()
        if pid is not None and pid != str(os.getpid()):
            raise WorkspaceBusyError(
                f"the workspace {self.path.parent} is served by pid {pid}; stop `tokui serve` "
                "first, or send the work through its web API"
            )
