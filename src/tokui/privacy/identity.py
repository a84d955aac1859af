"""Normalised contact values and their keyed hashes.

Normalising first means "Taro@Example.com " and "taro@example.com", or "090-1234-5678"
and "+81 90 1234 5678", hash alike. The hash is an HMAC keyed with the workspace secret:
a plain SHA-256 of a phone number could be reversed by hashing every number there is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Literal

Kind = Literal["customer", "email", "phone", "line"]

_NOT_DIGIT = re.compile(r"[^0-9]")


def _fold(value: str) -> str:
    # NFKC turns full-width letters and digits (ｔａｒｏ＠, ０９０) into ASCII.
    return unicodedata.normalize("NFKC", value).strip()


def normalise_email(value: str | None) -> str | None:
    if value is None:
        return None
    text = _fold(value).lower()
    return text or None


def normalise_phone(value: str | None) -> str | None:
    """Digits only, in the domestic form: +81 90... becomes 090..."""
    if value is None:
        return None
    text = _fold(value)
    international = text.startswith("+")
    digits = _NOT_DIGIT.sub("", text)
    if international and digits.startswith("81"):
        digits = "0" + digits[2:]
    return digits or None


def normalise_line(value: str | None) -> str | None:
    if value is None:
        return None
    text = _fold(value)
    return text or None


def normalise_customer(value: str | None) -> str | None:
    if value is None:
        return None
    text = _fold(value)
    return text or None


NORMALISERS = {
    "customer": normalise_customer,
    "email": normalise_email,
    "phone": normalise_phone,
    "line": normalise_line,
}


def keyed_hash(secret: str, kind: Kind, value: str | None) -> str | None:
    """The HMAC-SHA256 (hex) of the normalised value, or None for an empty one."""
    if not secret:
        raise ValueError("the workspace secret_key is empty; hashes would be unkeyed")
    normal = NORMALISERS[kind](value)
    if normal is None:
        return None
    message = f"tokui-suppression-v1:{kind}:{normal}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
