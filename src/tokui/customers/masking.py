"""Partial masking of contact data for roles that need to recognise, not contact, people."""

from __future__ import annotations


def mask_email(value: str | None) -> str | None:
    """t***@example.com: the first character and the domain stay, to tell people apart."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return value[:1] + "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str | None) -> str | None:
    """Every digit but the last four becomes *, keeping separators: ***-****-5678."""
    if not value:
        return value
    total = sum(ch.isdigit() for ch in value)
    keep_from = total - 4
    out = []
    seen = 0
    for ch in value:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)
