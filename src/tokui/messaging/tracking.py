"""Signed tracking links: clicks, opens and unsubscribes.

Click links carry the target URL and an HMAC over (message id, URL) keyed with a key
derived from the workspace secret. The redirect endpoint recomputes it and answers 400
to anything unsigned or altered, so the tracking domain can never be used as an open
redirect. Unsubscribe and open tokens are itsdangerous signatures of the outbox id with
their own salts; unsubscribe tokens do not expire, because the law wants the opt-out
to keep working for as long as the mail may be read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.signer import HMACAlgorithm, _lazy_sha1

CLICK_PATH = "/t/c/"
OPEN_PATH = "/t/o/"
UNSUBSCRIBE_PATH = "/t/u/"
SIGNATURE_BYTES = 16  # 128-bit truncated HMAC-SHA256

# <a ... href="..."> in rendered (autoescaped) HTML. Templates are our own layout plus
# sandboxed output, so attributes are always quoted; unquoted ones are left untracked.
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_ENTITIES = (("&amp;", "&"), ("&#39;", "'"), ("&#34;", '"'), ("&quot;", '"'))


def derive_key(secret: str, purpose: str) -> bytes:
    if not secret:
        raise ValueError("the workspace secret_key is empty; tracking links cannot be signed")
    return hmac.new(secret.encode(), f"tokui.messaging.{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class UTM:
    source: str = "tokui"
    medium: str = "email"
    campaign: str = ""
    content: str = ""

    def params(self) -> list[tuple[str, str]]:
        pairs = [("utm_source", self.source), ("utm_medium", self.medium)]
        if self.campaign:
            pairs.append(("utm_campaign", self.campaign))
        if self.content:
            pairs.append(("utm_content", self.content))
        return pairs


class IdTokens:
    """`serializer.dumps(n)` for an integer n, byte for byte, without what itsdangerous
    does on every call (derive the key, JSON, try zlib, look up the digest): a bulk send
    signs two tokens per message, and that was a fifth of its rendering. The token is
    base64(str(n)) "." base64(HMAC-SHA1(derived key, payload)); `serializer.loads` reads
    it as before (tests compare both for many ids)."""

    def __init__(self, serializer: URLSafeSerializer) -> None:
        signer = serializer.make_signer()
        self._serializer = serializer
        self._sep = signer.sep
        # The default signer (HMAC-SHA1, django-concat derivation) is what we build the
        # serializers with; anything else goes through itsdangerous itself.
        self._mac = (
            hmac.new(signer.derive_key(), digestmod=hashlib.sha1)
            if type(signer.algorithm) is HMACAlgorithm
            and signer.key_derivation == "django-concat"
            and signer.algorithm.digest_method in (_lazy_sha1, hashlib.sha1)
            else None
        )

    def dumps(self, n: int) -> str:
        digits = str(n).encode()
        # JSON of an int is its digits. itsdangerous zlib-compresses a payload when that
        # saves two bytes, impossible under 11 characters (zlib's output is at least 9).
        if self._mac is None or isinstance(n, bool) or len(digits) > 10:
            return str(self._serializer.dumps(n))
        payload = base64.urlsafe_b64encode(digits).rstrip(b"=")
        mac = self._mac.copy()
        mac.update(payload)
        signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=")
        return (payload + self._sep + signature).decode()


class LinkSigner:
    """Builds and checks the signed URLs of one workspace."""

    def __init__(self, secret: str, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._click_key = derive_key(secret, "click")
        self._click_mac = hmac.new(self._click_key, digestmod=hashlib.sha256)
        self._unsubscribe = URLSafeSerializer(secret, salt="tokui.messaging.unsubscribe")
        self._open = URLSafeSerializer(secret, salt="tokui.messaging.open")
        self._unsubscribe_tokens = IdTokens(self._unsubscribe)
        self._open_tokens = IdTokens(self._open)
        self._last_unsubscribe: tuple[int, str] | None = None

    # clicks
    def click_signature(self, message_id: int, url: str) -> str:
        mac = self._click_mac.copy()  # the keyed state, computed once
        mac.update(f"{message_id}\n{url}".encode())
        return base64.urlsafe_b64encode(mac.digest()[:SIGNATURE_BYTES]).rstrip(b"=").decode()

    def click_url(self, message_id: int, url: str) -> str:
        signature = self.click_signature(message_id, url)  # URL-safe base64 already
        return f"{self.base_url}{CLICK_PATH}{message_id}?u={_quoted(url)}&s={signature}"

    def verify_click(self, message_id: int, url: str, signature: str) -> bool:
        expected = self.click_signature(message_id, url)
        return hmac.compare_digest(expected.encode(), signature.encode())

    # unsubscribe
    def unsubscribe_token(self, message_id: int) -> str:
        # An email asks for its token twice (the footer link and List-Unsubscribe); the
        # signature is the costliest part of rendering it, so the last one is kept.
        last = self._last_unsubscribe
        if last is not None and last[0] == message_id:
            return last[1]
        token = self._unsubscribe_tokens.dumps(message_id)
        self._last_unsubscribe = (message_id, token)
        return token

    def unsubscribe_url(self, message_id: int) -> str:
        return f"{self.base_url}{UNSUBSCRIBE_PATH}{self.unsubscribe_token(message_id)}"

    def read_unsubscribe(self, token: str) -> int | None:
        return _read_id(self._unsubscribe, token)

    # opens
    def open_url(self, message_id: int) -> str:
        return f"{self.base_url}{OPEN_PATH}{self._open_tokens.dumps(message_id)}.gif"

    def read_open(self, token: str) -> int | None:
        return _read_id(self._open, token.removesuffix(".gif"))


def _read_id(serializer: URLSafeSerializer, token: str) -> int | None:
    try:
        value = serializer.loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@lru_cache(maxsize=4096)
def _quoted(url: str) -> str:
    """The URL as a query value; the same few links recur in every message of a send."""
    return quote(url, safe="")


@lru_cache(maxsize=4096)
def is_shop_link(url: str, shop_domains: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in shop_domains)


@lru_cache(maxsize=4096)
def add_utm(url: str, utm: UTM) -> str:
    """Adds the UTM parameters the link does not already carry."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query += [(k, v) for k, v in utm.params() if k not in present]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _unescape_attr(value: str) -> str:
    for entity, char in _ENTITIES:
        value = value.replace(entity, char)
    return value


def _escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&#34;")


def rewrite_links(
    html: str,
    message_id: int,
    signer: LinkSigner,
    shop_domains: tuple[str, ...],
    utm: UTM | None,
    skip_prefixes: tuple[str, ...] = (),
) -> str:
    """Route every http(s) link through the signed click redirect; UTM on shop links.

    Links that start with one of `skip_prefixes` (the unsubscribe page) stay direct, so
    opting out never depends on the redirect.
    """

    def replace(match: re.Match[str]) -> str:
        url = _target(match.group(3), shop_domains, utm, skip_prefixes)
        if url is None:
            return match.group(0)
        tracked = signer.click_url(message_id, url)
        return f'{match.group(1)}"{_escape_attr(tracked)}"'

    return _HREF.sub(replace, html)


@lru_cache(maxsize=4096)
def _target(
    attr: str, shop_domains: tuple[str, ...], utm: UTM | None, skip_prefixes: tuple[str, ...]
) -> str | None:
    """The URL a link's click redirect leads to (with UTM on shop links), or None when the
    link stays as it is. The same few links recur in every message of a send."""
    url = _unescape_attr(attr).strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    if skip_prefixes and url.startswith(skip_prefixes):
        return None
    if utm is not None and is_shop_link(url, shop_domains):
        url = add_utm(url, utm)
    return url
