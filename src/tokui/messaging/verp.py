"""VERP envelope senders: one bounce address per message, signed.

Every email leaves with its own envelope sender (MAIL FROM, which the receiving server
writes into Return-Path and to which it sends any later bounce):

    bounce+<outbox id>-<signature>@<bounce domain>

The signature is 80 bits of HMAC-SHA256 over the outbox id, keyed with a key derived
from the workspace secret (like the click links in tokui.messaging.tracking), written
in lower-case base32 so that a server that folds the local part's case cannot break it.
A bounce to such an address names its message even when the report carries nothing
else of the original (a qmail notice, a DSN that returns no headers), and nobody can
make up the address of a message they did not receive, so a forged bounce can at worst
concern the forger's own copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from tokui.messaging.tracking import derive_key

SIGNATURE_BYTES = 10  # 80 bits: 16 base32 characters
_LOCAL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


class VERPSigner:
    """Builds and reads the per-message envelope senders of one workspace."""

    def __init__(self, secret: str, local_part: str, domain: str) -> None:
        local = local_part.lower()
        if not _LOCAL.match(local):
            raise ValueError(
                f"bounce local part {local_part!r}: letters, digits, '.', '_' and '-', "
                "up to 32, no '+'"
            )
        self.local_part = local
        self.domain = domain.lower()
        self._key = derive_key(secret, "verp")
        self._mac = hmac.new(self._key, digestmod=hashlib.sha256)  # keyed once, copied
        # Anywhere in a text: headers of the report, the returned original, a plain
        # notice quoting the address. The signature decides; the pattern only finds.
        self._pattern = re.compile(
            rf"(?<![A-Za-z0-9._+-]){re.escape(local)}\+(\d{{1,18}})-([a-z2-7]{{16}})@",
            re.IGNORECASE,
        )

    def signature(self, outbox_id: int) -> str:
        mac = self._mac.copy()
        mac.update(str(outbox_id).encode())
        return base64.b32encode(mac.digest()[:SIGNATURE_BYTES]).decode().lower()

    def envelope_sender(self, outbox_id: int) -> str:
        return f"{self.local_part}+{outbox_id}-{self.signature(outbox_id)}@{self.domain}"

    def find(self, texts: Iterable[str]) -> int | None:
        """The outbox id of the first correctly signed bounce address in `texts`."""
        for text in texts:
            for match in self._pattern.finditer(text):
                outbox_id = int(match.group(1))
                expected = self.signature(outbox_id)
                if hmac.compare_digest(expected.encode(), match.group(2).lower().encode()):
                    return outbox_id
        return None
