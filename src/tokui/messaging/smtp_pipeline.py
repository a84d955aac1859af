"""Many mail transactions on one SMTP connection, pipelined when the server allows it.

Sent in lock step, a message costs four round trips (MAIL, RCPT, DATA, the content),
each a wake-up of client and server. With PIPELINING (RFC 2920), which a server
advertises in its EHLO reply, the client sends a group of commands and then reads
their replies in order. DATA must end a group (the content may only follow its 354),
but the content of a message may begin one (RFC 2920 3.1), so a message costs one
write and one read: the content of message n, with its end-of-data, goes out together
with MAIL, RCPT and DATA of message n+1. After a failed transaction, RSET joins the
next group, since the server may still hold the failed envelope.

Every reply is checked against the command it answers, in order, so a refusal is the
refusal of its own message. A connection lost mid-group settles what was in flight:
a message whose content went out but whose final reply never came has an unknown
outcome and gets the network error (retried, as when sent in lock step); a message
whose content never went out was not delivered.

aiosmtplib (which opens the connection: TCP, TLS, EHLO, AUTH) has no pipelining, and
its protocol object drops replies that arrive before a command waits for them. So while
a batch runs, the connection's transport is handed to a small reply reader of our own
(asyncio's Transport.set_protocol) and handed back when every reply has been read; a
connection left in any other state is closed.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import SMTPResponse

# A reply line longer than this is not SMTP (RFC 5321 4.5.3.1.5 allows 512 octets).
MAX_REPLY_BUFFER = 64 * 1024
_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    # The message, not dot-stuffed.
    data: bytes
    # True when every line of `data` ends in CRLF and no CR or LF stands alone, as
    # tokui.messaging.mime.build_email writes it: then it is not checked again.
    crlf: bool = False


# A job's outcome: the server's final reply text, or the exception of its refusal or
# of the connection failing.
Outcome = str | BaseException
NextJob = Callable[[], Awaitable[tuple[int, Envelope] | None]]
Done = Callable[[int, Outcome], None]


def data_content(data: bytes, crlf: bool = False) -> bytes:
    """The message as sent after DATA: CRLF line ends, dot-stuffed, ended by CRLF.CRLF.
    `crlf`: the line ends are known to be CRLF already."""
    if not crlf and not (data.count(b"\r\n") == data.count(b"\n") == data.count(b"\r")):
        data = _LINE_ENDS.sub(b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b"."):
        data = b"." + data
    if b"\n." in data:
        data = data.replace(b"\n.", b"\n..")
    return data + b".\r\n"


def mail_commands(sender: str, recipient: str, size: int | None) -> bytes:
    """MAIL, RCPT and DATA of one message. Addresses passed check_address (no spaces,
    brackets or line breaks) and go as ASCII, as without SMTPUTF8."""
    option = b" SIZE=%d" % size if size is not None else b""
    return b"MAIL FROM:<%s>%s\r\nRCPT TO:<%s>\r\nDATA\r\n" % (
        sender.encode("ascii"),
        option,
        recipient.encode("ascii"),
    )


class ReplyReader(asyncio.Protocol):
    """Collects the server's replies in order; `read(n)` waits for n of them."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._lines: list[bytes] = []
        self._replies: deque[SMTPResponse] = deque()
        self._want = 0
        self._waiter: asyncio.Future[None] | None = None
        # Why no more replies will come: the connection was lost, timed out, or spoke
        # something that is not SMTP.
        self.lost: aiosmtplib.SMTPException | None = None

    @property
    def idle(self) -> bool:
        """Nothing received that was not read: the connection can carry on."""
        return self.lost is None and not self._buffer and not self._lines and not self._replies

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        start = 0
        while (end := buf.find(b"\n", start)) != -1:
            line = bytes(buf[start:end]).rstrip(b"\r")
            start = end + 1
            if len(line) < 3 or not line[:3].isdigit() or line[3:4] not in (b"", b" ", b"-"):
                self._stop(aiosmtplib.SMTPResponseException(-1, f"malformed reply {line[:80]!r}"))
                return
            self._lines.append(line[4:].strip())
            if line[3:4] != b"-":
                text = b"\n".join(self._lines).decode("utf-8", "surrogateescape")
                self._replies.append(SMTPResponse(int(line[:3]), text))
                self._lines = []
        del buf[:start]
        if len(buf) > MAX_REPLY_BUFFER:
            self._stop(aiosmtplib.SMTPResponseException(-1, "reply too long"))
            return
        if self._waiter is not None and len(self._replies) >= self._want:
            self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop(aiosmtplib.SMTPServerDisconnected("Connection lost"))

    def eof_received(self) -> bool:
        self._stop(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False

    def _stop(self, why: aiosmtplib.SMTPException) -> None:
        if self.lost is None:
            self.lost = why
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _timed_out(self) -> None:
        self._stop(aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"))

    async def read(self, n: int, timeout: float | None) -> list[SMTPResponse]:
        """The next n replies; fewer only when `lost` says why the rest will not come."""
        if len(self._replies) < n and self.lost is None:
            self._want = n
            self._waiter = self._loop.create_future()
            timer = self._loop.call_later(timeout, self._timed_out) if timeout else None
            try:
                await self._waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        return [self._replies.popleft() for _ in range(min(n, len(self._replies)))]


async def _pipeline(
    transport: asyncio.WriteTransport,
    reader: ReplyReader,
    next_job: NextJob,
    done: Done,
    size: bool,
    timeout: float | None,
) -> None:
    waiting: tuple[int, bytes] | None = None  # a message that had its 354: (job, content)
    reset = False
    while True:
        if reader.lost is not None:  # e.g. a 421 that closed the connection
            if waiting is not None:
                done(waiting[0], reader.lost)  # its content never went out
            raise reader.lost
        job = await next_job()
        out: list[bytes] = []
        if waiting is not None:
            out.append(waiting[1])
        if reset:
            out.append(b"RSET\r\n")
        if job is not None:
            env = job[1]
            out.append(mail_commands(env.sender, env.recipient, len(env.data) if size else None))
        if not out:
            return
        transport.write(b"".join(out))
        expected = (waiting is not None) + reset + 3 * (job is not None)
        replies = deque(await reader.read(expected, timeout))
        lost = reader.lost or aiosmtplib.SMTPServerDisconnected("Connection lost")
        if waiting is not None:
            index = waiting[0]
            waiting = None
            if not replies:  # the content went out; whether it arrived is unknown
                if job is not None:
                    done(job[0], lost)
                done(index, lost)
                raise lost
            final = replies.popleft()
            if final.code == 250:
                done(index, final.message)
            else:
                done(index, aiosmtplib.SMTPDataError(final.code, final.message))
        if reset:
            reset = False
            rset = replies.popleft() if replies else None
            if rset is None or rset.code != 250:
                why = lost if rset is None else aiosmtplib.SMTPResponseException(*rset)
                if job is not None:
                    done(job[0], why)
                raise why
        if job is None:
            return
        index, env = job
        mail, rcpt, data = (replies.popleft() if replies else None for _ in range(3))
        error: aiosmtplib.SMTPException | None = None
        # The first reply that refuses, or that is missing, decides (a 421 to MAIL is
        # often the last thing a server says before it closes).
        if mail is None or (rcpt is None and mail.code == 250):
            error = lost
        elif mail.code != 250:
            error = aiosmtplib.SMTPSenderRefused(mail.code, mail.message, env.sender)
        elif rcpt is not None and rcpt.code not in (250, 251):
            error = aiosmtplib.SMTPRecipientRefused(rcpt.code, rcpt.message, env.recipient)
        elif data is None:
            error = lost
        elif data.code != 354:
            error = aiosmtplib.SMTPDataError(data.code, data.message)
        if error is None:
            waiting = (index, data_content(env.data, env.crlf))
            continue
        done(index, error)
        if error is lost:
            raise lost
        reset = True
        if data is not None and data.code == 354:
            # The server took DATA after refusing the sender or recipient, which RFC 2920
            # forbids: end that transaction with no content; RSET drops it after.
            transport.write(b".\r\n")
            if not await reader.read(1, timeout):
                raise lost


async def pipelined(
    smtp: aiosmtplib.SMTP, next_job: NextJob, done: Done, timeout: float | None
) -> None:
    """Send jobs from `next_job` (None: no more) over `smtp`, which has had its EHLO and
    advertises PIPELINING; `done(index, outcome)` once for every job taken. Raises when
    the connection failed (every job taken has its outcome by then); the connection is
    then closed, else it is left ready for the next transaction."""
    transport = smtp.transport
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    reader = ReplyReader()
    saved = transport.get_protocol()
    transport.set_protocol(reader)
    clean = False
    try:
        await _pipeline(transport, reader, next_job, done, smtp.supports_extension("size"), timeout)
        clean = reader.idle
    finally:
        transport.set_protocol(saved)
        if not clean:
            smtp.close()
    if not clean:
        raise aiosmtplib.SMTPServerDisconnected("unexpected data from the server")


async def lockstep(smtp: aiosmtplib.SMTP, next_job: NextJob, done: Done) -> None:
    """`pipelined` for a server without PIPELINING: one command at a time."""
    while (job := await next_job()) is not None:
        index, env = job
        try:
            done(index, await transaction(smtp, env.sender, env.recipient, env.data))
        except aiosmtplib.SMTPResponseException as exc:
            done(index, exc)
            if exc.code == 421 or not smtp.is_connected:  # the server is closing
                raise
        except BaseException as exc:
            done(index, exc)
            raise


async def transaction(smtp: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
    """One mail transaction (MAIL, RCPT, DATA) to one recipient; the server's last reply.

    What aiosmtplib's sendmail does, less its address parsing: both addresses already
    passed check_address, and parsing them again with email.utils cost a tenth of a
    bulk send's CPU. Refusals raise the exceptions sendmail raises; the envelope is reset
    so the connection can carry the next message.
    """
    await ehlo(smtp)
    options = [f"SIZE={len(data)}".encode()] if smtp.supports_extension("size") else []
    try:
        reply = await smtp.execute_command(b"MAIL", b"FROM:<%s>" % sender.encode("ascii"), *options)
        if reply.code != 250:
            raise aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)
        reply = await smtp.execute_command(b"RCPT", b"TO:<%s>" % recipient.encode("ascii"))
        if reply.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)
        reply = await smtp.data(data)
    except aiosmtplib.SMTPResponseException:
        with suppress(ConnectionError, aiosmtplib.SMTPException):
            await smtp.rset()
        raise
    return reply.message


async def ehlo(smtp: aiosmtplib.SMTP) -> None:
    if smtp.is_ehlo_or_helo_needed:
        try:
            await smtp.ehlo()
        except aiosmtplib.SMTPHeloError:
            await smtp.helo()


async def deliver(
    smtp: aiosmtplib.SMTP, next_job: NextJob, done: Done, timeout: float | None
) -> None:
    """Jobs over one connection, pipelined when the server offers it."""
    await ehlo(smtp)
    if smtp.supports_extension("pipelining"):
        await pipelined(smtp, next_job, done, timeout)
    else:
        await lockstep(smtp, next_job, done)
