"""Uploaded import files, kept in a private folder of the workspace until imported.

A file is stored under a random token, never under the name the browser sent (which is
kept for display only): no path the visitor chose ever reaches the file system. A JSON
sidecar holds the display name, the chosen profile and the uploader. Files leave as soon
as their import finishes, and any left behind are swept after a day.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

UPLOAD_FOLDER = "uploads"
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
MAX_AGE_SECONDS = 24 * 60 * 60
MAX_DISPLAY_NAME = 200
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_CHUNK = 1024 * 1024


class UploadError(ValueError):
    """A file we will not keep: wrong type, empty or too large. `key` names the message."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class Upload:
    token: str
    display_name: str
    suffix: str
    uploaded_by: int
    uploaded_at: float
    size: int
    profile_name: str | None = None
    profile_yaml: str | None = None

    def path(self, home: Path) -> Path:
        return upload_dir(home) / f"{self.token}{self.suffix}"


def upload_dir(home: Path) -> Path:
    folder = home / UPLOAD_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _display_name(name: str | None) -> str:
    # Only for showing: the last path segment, no control characters, clipped.
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base[:MAX_DISPLAY_NAME] or "upload"


def suffix_of(name: str | None) -> str:
    suffix = Path(_display_name(name)).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError("imports.error.type", types=", ".join(SUFFIXES))
    return suffix


def save_upload(
    home: Path, source: BinaryIO, name: str | None, user_id: int, max_bytes: int
) -> Upload:
    """Copy the upload into the workspace under a random name; all or nothing."""
    suffix = suffix_of(name)
    token = secrets.token_urlsafe(24)
    upload = Upload(token, _display_name(name), suffix, user_id, time.time(), 0)
    path = upload.path(home)
    size = 0
    try:
        # O_EXCL: a token collision (never expected) cannot overwrite another upload.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError("imports.error.size", mb=max_bytes // (1024 * 1024))
                out.write(chunk)
        if size == 0:
            raise UploadError("imports.error.empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    upload.size = size
    write_meta(home, upload)
    return upload


def _meta_path(home: Path, token: str) -> Path:
    return upload_dir(home) / f"{token}.json"


def write_meta(home: Path, upload: Upload) -> None:
    path = _meta_path(home, upload.token)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(upload), ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def load_upload(home: Path, token: str) -> Upload | None:
    """The upload with this token, or None (bad token, gone, or file missing)."""
    if not _TOKEN.match(token):
        return None
    meta = _meta_path(home, token)
    if not meta.is_file():
        return None
    upload = Upload(**json.loads(meta.read_text(encoding="utf-8")))
    if upload.token != token or upload.suffix not in SUFFIXES:
        return None
    if not upload.path(home).is_file():
        return None
    return upload


def delete_upload(home: Path, token: str) -> None:
    if not _TOKEN.match(token):
        return
    for path in upload_dir(home).glob(f"{token}.*"):
        path.unlink(missing_ok=True)


def sweep(home: Path, now: float | None = None) -> int:
    """Delete uploads older than MAX_AGE_SECONDS; returns how many files went."""
    limit = (now if now is not None else time.time()) - MAX_AGE_SECONDS
    removed = 0
    for path in upload_dir(home).iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
