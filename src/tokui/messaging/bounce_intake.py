"""Where bounces and complaints come from: a mailbox on disk or an IMAP folder.

`tokui messages bounces PATH` reads a Maildir (a folder with cur/ and new/), an mbox
file, a folder of .eml files or a single message; `--imap` polls `[bounces] imap_*`.
Each message is parsed (tokui.messaging.dsn) and applied (tokui.messaging.bounces) in its
own transaction, so one unreadable message does not hold up the others, and because a
message bounces and is complained about at most once, reading the same mailbox again
changes nothing.

Messages are never deleted or moved. On IMAP only unseen messages are fetched (with
BODY.PEEK, which leaves them unseen) and each is flagged \\Seen once its transaction has
committed: a poll that dies midway fetches the rest, and the repeats are harmless.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tokui.messaging.bounces import BouncePolicy, Outcome, record_report
from tokui.messaging.dsn import parse_report
from tokui.messaging.settings import BounceSettings, MessagingSettings
from tokui.messaging.verp import VERPSigner
from tokui.state.db import session_scope

# A report is a few kilobytes; a bounce returning a large original is cut to this much,
# which always keeps the report parts and the original's headers.
MAX_MESSAGE_BYTES = 2_000_000


class BounceIntakeError(ValueError):
    """The mailbox cannot be read (missing, unknown format, IMAP refused); says why."""


@dataclass
class IntakeReport:
    read: int = 0
    hard: int = 0
    soft: int = 0
    block: int = 0
    complaint: int = 0
    suppressed: int = 0
    duplicate: int = 0
    ignored: int = 0
    unmatched: int = 0
    errors: list[str] = field(default_factory=list)
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)

    def add(self, label: str, outcome: Outcome) -> None:
        setattr(self, outcome.result, getattr(self, outcome.result) + 1)
        self.suppressed += int(outcome.suppressed)
        self.outcomes.append((label, outcome))

    def summary(self) -> str:
        return (
            f"read {self.read}: hard {self.hard}, soft {self.soft}, block {self.block}, "
            f"complaints {self.complaint}, newly suppressed {self.suppressed}, "
            f"already recorded {self.duplicate}, not ours {self.unmatched}, "
            f"ignored {self.ignored}, errors {len(self.errors)}"
        )


def _read_file(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_MESSAGE_BYTES)


def read_mailbox(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw message) for each message at `path`."""
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                with box.get_file(key) as fh:
                    yield f"{path.name}/{key}", fh.read(MAX_MESSAGE_BYTES)
            return
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
        if not files:
            raise BounceIntakeError(f"{path}: neither a Maildir (cur/, new/) nor .eml files")
        for file in files:
            yield file.name, _read_file(file)
        return
    if not path.is_file():
        raise BounceIntakeError(f"{path}: no such file or folder")
    with path.open("rb") as fh:
        head = fh.read(5)
    if head == b"From ":
        box_file = mailbox.mbox(path, factory=None, create=False)
        for number, key in enumerate(box_file.keys(), start=1):
            with box_file.get_file(key) as fh:
                yield f"{path.name}#{number}", fh.read(MAX_MESSAGE_BYTES)
        return
    yield path.name, _read_file(path)


class BounceProcessor:
    """Parses and applies reports for one workspace."""

    def __init__(
        self, sessions: sessionmaker[Session], secret: str, settings: MessagingSettings
    ) -> None:
        self.sessions = sessions
        bounces = settings.bounces
        self.verp = VERPSigner(secret, bounces.local_part, settings.bounce_domain)
        self.policy = BouncePolicy(bounces.soft_limit, bounces.soft_days)

    def process_one(self, raw: bytes, now: datetime) -> Outcome:
        report = parse_report(raw, self.verp)
        with session_scope(self.sessions) as db:
            return record_report(db, report, now, self.policy)

    def process(self, messages: Iterator[tuple[str, bytes]], now: datetime) -> IntakeReport:
        result = IntakeReport()
        for label, raw in messages:
            result.read += 1
            try:
                outcome = self.process_one(raw, now)
            except Exception as exc:  # one bad message must not stop the mailbox
                result.errors.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            result.add(label, outcome)
        return result

    def poll_imap(self, settings: BounceSettings, now: datetime) -> IntakeReport:
        if not settings.imap_host:
            raise BounceIntakeError("[bounces] imap_host is not set in tokui.toml")
        if not settings.imap_username or not settings.imap_password:
            raise BounceIntakeError(
                "[bounces] imap_username and TOKUI_BOUNCES_IMAP_PASSWORD are needed for IMAP"
            )
        try:
            client = _connect(settings)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise BounceIntakeError(f"IMAP {settings.imap_host}: {exc}") from None
        result = IntakeReport()
        try:
            client.login(settings.imap_username, settings.imap_password)
            status, _ = client.select(_quoted(settings.imap_folder))
            if status != "OK":
                raise BounceIntakeError(f"IMAP folder {settings.imap_folder!r} cannot be opened")
            status, data = client.uid("SEARCH", "UNSEEN")
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for uid in uids:
                label = f"imap:{uid.decode()}"
                result.read += 1
                status, parts = client.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)")
                raw = next(
                    (p[1] for p in parts if isinstance(p, tuple) and len(p) == 2),
                    None,
                )
                if status != "OK" or not isinstance(raw, bytes):
                    result.errors.append(f"{label}: could not be fetched")
                    continue
                try:
                    outcome = self.process_one(raw[:MAX_MESSAGE_BYTES], now)
                except Exception as exc:  # leave it unseen: the next poll tries again
                    result.errors.append(f"{label}: {type(exc).__name__}: {exc}")
                    continue
                result.add(label, outcome)
                client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        except imaplib.IMAP4.error as exc:
            raise BounceIntakeError(f"IMAP {settings.imap_host}: {exc}") from None
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
        return result


def _quoted(folder: str) -> str:
    if any(c in folder for c in '"\\\r\n'):
        raise BounceIntakeError(f"[bounces] imap_folder {folder!r}: no quotes or line breaks")
    return f'"{folder}"'


def _connect(settings: BounceSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    timeout = settings.imap_timeout_seconds
    if settings.imap_security == "ssl":
        return imaplib.IMAP4_SSL(
            settings.imap_host, settings.imap_port, ssl_context=context, timeout=timeout
        )
    client = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=timeout)
    if settings.imap_security == "starttls":
        client.starttls(ssl_context=context)
    return client
