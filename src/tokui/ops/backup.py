"""Backups of both stores and the workspace configuration, and restoring them.

A backup is a folder `tokui-backup-<UTC time>/` (mode 0700, files 0600: it holds the
secret key and every customer's data) with:
- `state.db` (SQLite, through SQLite's online backup API: consistent while the server
  writes) or `state.pgdump` (PostgreSQL, `pg_dump --format=custom`);
- `warehouse.duckdb` (DuckDB: `COPY FROM DATABASE` into a fresh file; DuckDB lets one
  process hold the file for writing, so the server must be stopped, or `--only state`)
  or `warehouse.pgdump` (PostgreSQL);
- `tokui.toml`, the workspace configuration with its secret key;
- `manifest.json`: what each file is, its SHA-256, the state DB's migration revision and
  the Tokui version.

Restoring checks every checksum before it changes anything, and replaces each store
whole: SQLite through the backup API into the live file, DuckDB by moving a verified
copy into place, PostgreSQL by recreating the `public` schema and `pg_restore` in one
transaction. Warehouses on other engines (ClickHouse, Spark, BigQuery, Snowflake) are
backed up with the engine's own tools (docs/deploy.md); asking for them fails with that
advice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from sqlalchemy.engine import make_url

from tokui import __version__
from tokui.config import CONFIG_FILE, Settings
from tokui.state.db import current_revision, head_revision, make_engine, normalise_url

FORMAT = 1
MANIFEST = "manifest.json"
STORES = ("state", "warehouse")


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; nothing was changed."""


@dataclass(frozen=True)
class Store:
    """Where one store lives, as far as backups care."""

    name: str  # state | warehouse
    kind: str  # sqlite | duckdb | postgresql
    location: str  # a file path, or a libpq URL

    @property
    def file_name(self) -> str:
        suffix = {"sqlite": "db", "duckdb": "duckdb", "postgresql": "pgdump"}[self.kind]
        return f"{self.name}.{suffix}"


def state_store(settings: Settings) -> Store:
    url = normalise_url(settings.state_url)
    if url.startswith("sqlite:///"):
        return Store("state", "sqlite", url.removeprefix("sqlite:///"))
    if url.startswith("postgresql+psycopg://"):
        return Store("state", "postgresql", _libpq(url))
    raise BackupError(f"state_url {url.split('://', 1)[0]}://: no backup support")


def warehouse_store(settings: Settings) -> Store:
    url = settings.warehouse_url
    scheme, _, rest = url.partition("://")
    if scheme == "duckdb":
        if not rest or rest == ":memory:":
            raise BackupError("the warehouse is in memory: there is nothing to back up")
        return Store("warehouse", "duckdb", rest)
    if scheme in ("postgres", "postgresql"):
        return Store("warehouse", "postgresql", _libpq(url))
    raise BackupError(
        f"warehouse_url {scheme}://: back this warehouse up with its engine's own tools "
        "(docs/deploy.md), and run `tokui backup --only state`"
    )


def _libpq(url: str) -> str:
    """postgresql+psycopg://… or postgres://… as the plain URL libpq tools accept."""
    scheme, _, rest = url.partition("://")
    del scheme
    return "postgresql://" + rest


def _pg_env(url: str) -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore: the password stays out of the command
    line, where any local user could read it in the process list."""
    u = make_url(url)
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", u.host),
        ("PGPORT", u.port),
        ("PGUSER", u.username),
        ("PGPASSWORD", u.password),
        ("PGDATABASE", u.database),
    ):
        if value is not None:
            env[var] = str(value)
    sslmode = u.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env


def _run(args: list[str], env: Mapping[str, str]) -> None:
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"{args[0]} is not installed; install the PostgreSQL client tools")
    result = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [tool, *args[1:]], env=dict(env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private(path: Path) -> None:
    path.chmod(0o600)


# --- backing up ------------------------------------------------------------------------


def _backup_sqlite(source: str, target: Path) -> None:
    if not Path(source).exists():
        raise BackupError(f"the state DB {source} does not exist")
    src = sqlite3.connect(_read_only_uri(source), uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _read_only_uri(path: str | Path) -> str:
    """An SQLite URI opening `path` read-only (as_uri escapes ? and # in the path)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _path_literal(path: str) -> str:
    """A file path as a DuckDB string literal: ATTACH takes no bound parameters. The
    paths come from the operator's configuration and the command line, never from a web
    request; quotes are doubled, and control characters refused."""
    if any(ord(ch) < 0x20 for ch in path):
        raise BackupError(f"{path!r}: a file path with control characters")
    return "'" + path.replace("'", "''") + "'"


def _duckdb_copy(source: str, target: Path, what: str) -> None:
    """A consistent copy of a DuckDB file into a new file (also compacts it)."""
    if not Path(source).exists():
        raise BackupError(f"the {what} {source} does not exist")
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH {_path_literal(source)} AS src (READ_ONLY)")
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise BackupError(
                    f"the {what} {source} is open for writing by another process (is "
                    "`tokui serve` running?). Stop it for the backup, or back up the state "
                    "DB alone with --only state"
                ) from None
            raise
        con.execute(f"ATTACH {_path_literal(str(target))} AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH dst")
        con.execute("DETACH src")
    finally:
        con.close()


def _backup_store(store: Store, folder: Path) -> dict[str, Any]:
    target = folder / store.file_name
    if store.kind == "sqlite":
        _backup_sqlite(store.location, target)
    elif store.kind == "duckdb":
        _duckdb_copy(store.location, target, "warehouse")
    else:
        _run(
            ["pg_dump", "--format=custom", "--file", str(target)],
            _pg_env(store.location),
        )
    _private(target)
    return {"kind": store.kind, "file": store.file_name, "sha256": _sha256(target)}


def backup(settings: Settings, destination: Path, now: datetime, only: str | None = None) -> Path:
    """Write a backup folder under `destination`; returns its path."""
    if only is not None and only not in STORES:
        raise BackupError(f"--only {only!r}: use state or warehouse")
    names = [only] if only else list(STORES)
    stores = [state_store(settings) if n == "state" else warehouse_store(settings) for n in names]
    destination.mkdir(parents=True, exist_ok=True)
    folder = destination / f"tokui-backup-{now:%Y%m%dT%H%M%SZ}"
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        raise BackupError(
            f"{folder} exists already; wait a second or choose another place"
        ) from None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tokui_version": __version__,
        "created_at": now.isoformat(),
        "stores": {},
    }
    try:
        for store in stores:
            manifest["stores"][store.name] = _backup_store(store, folder)
        if "state" in names:
            engine = make_engine(settings.state_url)
            try:
                manifest["stores"]["state"]["revision"] = current_revision(engine)
            finally:
                engine.dispose()
        config = settings.home / CONFIG_FILE
        if config.exists():
            shutil.copyfile(config, folder / CONFIG_FILE)
            _private(folder / CONFIG_FILE)
            manifest["config"] = {"file": CONFIG_FILE, "sha256": _sha256(folder / CONFIG_FILE)}
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no half backup that looks whole
        raise
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _private(folder / MANIFEST)
    return folder


# --- restoring -------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreReport:
    restored: list[str]
    revision: str | None
    head: str | None
    notes: list[str]


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path}: not a Tokui backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r}, expected {FORMAT}")
    for name, entry in manifest.get("stores", {}).items():
        file = folder / str(entry.get("file", ""))
        if name not in STORES or not file.is_file():
            raise BackupError(f"{path}: store {name!r} names a missing file {file.name!r}")
        if _sha256(file) != entry.get("sha256"):
            raise BackupError(f"{file}: checksum does not match the manifest; it is damaged")
    return manifest


def _restore_sqlite(source: Path, target: str) -> None:
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(_read_only_uri(source), uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _restore_duckdb(source: Path, target: str) -> None:
    path = Path(target)
    temporary = path.with_name(path.name + ".restoring")
    temporary.unlink(missing_ok=True)
    _duckdb_copy(str(source), temporary, "backup")
    Path(target + ".wal").unlink(missing_ok=True)  # belongs to the file being replaced
    os.replace(temporary, path)


def _restore_postgres(source: Path, url: str) -> None:
    # The dump recreates every table; tables made after the backup (a newer migration)
    # would otherwise survive beside it, so the schema is emptied first.
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")
    env = _pg_env(url)
    restore_args = ["--no-owner", "--single-transaction", "--exit-on-error"]
    _run(["pg_restore", *restore_args, "--dbname", env["PGDATABASE"], str(source)], env)


def restore(settings: Settings, folder: Path, only: str | None = None) -> RestoreReport:
    """Replace the configured stores with the backup's (all that it has, or `only`)."""
    if only is not None and only not in STORES:
        raise BackupError(f"--only {only!r}: use state or warehouse")
    manifest = read_manifest(folder)
    names = [n for n in STORES if n in manifest["stores"] and (only is None or n == only)]
    if not names:
        raise BackupError(f"{folder} has no {only or 'store'} to restore")
    targets = {
        n: state_store(settings) if n == "state" else warehouse_store(settings) for n in names
    }
    for name, store in targets.items():
        kind = manifest["stores"][name]["kind"]
        if kind != store.kind:
            raise BackupError(
                f"the backup's {name} is {kind}, the workspace's is {store.kind}: restore it "
                f"with {'pg_restore' if kind == 'postgresql' else 'a workspace of that kind'}"
            )
    notes: list[str] = []
    for name in names:
        store, source = targets[name], folder / manifest["stores"][name]["file"]
        if store.kind == "sqlite":
            _restore_sqlite(source, store.location)
        elif store.kind == "duckdb":
            _restore_duckdb(source, store.location)
        else:
            _restore_postgres(source, store.location)
    revision = head = None
    if "state" in names:
        engine = make_engine(settings.state_url)
        try:
            revision, head = current_revision(engine), head_revision(engine)
        finally:
            engine.dispose()
        if revision != head:
            notes.append(
                f"the restored state DB is at migration {revision}, this Tokui at {head}: "
                "run `tokui db upgrade`"
            )
    saved = manifest.get("config")
    if saved and (folder / CONFIG_FILE).exists():
        current = settings.home / CONFIG_FILE
        if not current.exists():
            shutil.copyfile(folder / CONFIG_FILE, current)
            _private(current)
            notes.append(f"restored {CONFIG_FILE} (there was none)")
        elif _sha256(current) != saved["sha256"]:
            notes.append(
                f"{CONFIG_FILE} differs from the backup's and was kept; compare them, "
                "notably secret_key (unsubscribe links and sessions are signed with it)"
            )
    return RestoreReport(restored=names, revision=revision, head=head, notes=notes)
