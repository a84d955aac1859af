"""Templates in the state DB: create, save a new version, read, list.

A save never edits a version: it adds one and moves `current_version`, so every
message in the outbox points at exactly the text it was rendered from. A version is
checked (compiled and rendered against a sample customer) before it is saved, so a
template that cannot render never becomes current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.messaging.json_templates import render_json
from tokui.messaging.line_flex import FlexError, flex_message
from tokui.messaging.templates import TemplateRenderError, TemplateSource, check_template
from tokui.state.messages import MessageTemplate, MessageTemplateVersion

CHANNELS = ("email", "line", "webhook", "push", "postal_dm", "call_center")
# Channels whose `text` part is JSON (rendered in the JSON sandbox); for LINE it is an
# optional Flex message, the LINE text then being its altText.
JSON_TEXT = ("webhook", "postal_dm")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class TemplateStoreError(ValueError):
    """Bad input for a template; names the field."""


@dataclass(frozen=True)
class TemplateDraft:
    name: str
    subject: str = ""
    html: str = ""
    text: str | None = None
    line_text: str | None = None


def _check_draft(channel: str, draft: TemplateDraft) -> None:
    if not draft.name.strip():
        raise TemplateStoreError("name: required")
    if len(draft.name) > 200:
        raise TemplateStoreError("name: at most 200 characters")
    if channel == "email":
        if not draft.subject.strip():
            raise TemplateStoreError("subject: an email needs a subject")
        if not draft.html.strip():
            raise TemplateStoreError("html: an email needs an HTML body")
    elif channel == "line" and not (draft.line_text or "").strip():
        raise TemplateStoreError("line_text: a LINE message needs text")
    elif channel == "push" and not draft.subject.strip():
        raise TemplateStoreError("subject: a push notification needs a title")
    elif channel == "call_center" and not draft.subject.strip():
        raise TemplateStoreError("subject: a call task needs the offer to make")
    elif channel in JSON_TEXT and not (draft.text or "").strip():
        raise TemplateStoreError("text: the JSON body is required")


def _check_json(channel: str, source: TemplateSource, context: dict[str, Any]) -> None:
    """JSON parts must parse after rendering, and a LINE Flex must have LINE's shape."""
    if not source.text or not (channel in JSON_TEXT or channel == "line"):
        return
    value = render_json(source, "text", context)
    if channel == "line":
        try:
            flex_message("alt", value)
        except FlexError as exc:
            raise TemplateRenderError(source.label, "text", None, f"Flex: {exc}") from None
    elif channel == "postal_dm" and not isinstance(value, dict):
        raise TemplateRenderError(source.label, "text", None, "must be a JSON object of fields")


def source_of(template: MessageTemplate, version: MessageTemplateVersion) -> TemplateSource:
    return TemplateSource(
        key=template.key,
        version=version.version,
        subject=version.subject,
        html=version.html,
        text=version.text,
        line_text=version.line_text,
    )


def create_template(
    db: Session,
    *,
    key: str,
    channel: str,
    draft: TemplateDraft,
    is_marketing: bool,
    at: datetime,
    user_id: int | None,
    check_context: dict[str, Any],
) -> MessageTemplate:
    if not _KEY.match(key):
        raise TemplateStoreError(
            "key: lower-case letters, digits, '-' and '_', starting with a letter or digit"
        )
    if channel not in CHANNELS:
        raise TemplateStoreError(f"channel: one of {', '.join(CHANNELS)}")
    if db.scalar(select(MessageTemplate.id).where(MessageTemplate.key == key)) is not None:
        raise TemplateStoreError(f"key: a template {key!r} already exists")
    template = MessageTemplate(
        key=key,
        name=draft.name.strip(),
        channel=channel,
        is_marketing=is_marketing,
        current_version=0,
        created_by=user_id,
        created_at=at,
        updated_at=at,
    )
    db.add(template)
    db.flush()
    save_version(db, template, draft, at=at, user_id=user_id, check_context=check_context)
    return template


def save_version(
    db: Session,
    template: MessageTemplate,
    draft: TemplateDraft,
    *,
    at: datetime,
    user_id: int | None,
    check_context: dict[str, Any],
) -> MessageTemplateVersion:
    _check_draft(template.channel, draft)
    number = (
        db.scalar(
            select(func.max(MessageTemplateVersion.version)).where(
                MessageTemplateVersion.template_id == template.id
            )
        )
        or 0
    ) + 1
    if template.channel == "email":
        source = TemplateSource(
            template.key, number, subject=draft.subject, html=draft.html, text=draft.text or None
        )
    else:
        source = TemplateSource(
            template.key,
            number,
            subject=draft.subject,
            text=draft.text or None,
            line_text=draft.line_text,
        )
    problems = check_template(source, check_context)
    if problems:
        raise TemplateRenderError(source.label, "check", None, "; ".join(problems))
    _check_json(template.channel, source, check_context)
    version = MessageTemplateVersion(
        template_id=template.id,
        version=number,
        subject=source.subject,
        html=source.html,
        text=source.text,
        line_text=source.line_text,
        created_by=user_id,
        created_at=at,
    )
    db.add(version)
    template.name = draft.name.strip()
    template.current_version = number
    template.updated_at = at
    db.flush()
    return version


def version_problems(
    template: MessageTemplate, version: MessageTemplateVersion, context: dict[str, Any]
) -> list[str]:
    """What save_version would refuse in a stored version, rendered against `context`
    (a scenario being enabled checks the templates its steps send)."""
    source = source_of(template, version)
    problems = check_template(source, context)
    if not problems:
        try:
            _check_json(template.channel, source, context)
        except TemplateRenderError as exc:
            problems.append(str(exc))
    return problems


def get_template(db: Session, key_or_id: str | int) -> MessageTemplate | None:
    if isinstance(key_or_id, int):
        return db.get(MessageTemplate, key_or_id)
    return db.scalar(select(MessageTemplate).where(MessageTemplate.key == key_or_id))


def get_version(
    db: Session, template: MessageTemplate, version: int | None = None
) -> MessageTemplateVersion:
    number = version if version is not None else template.current_version
    found = db.scalar(
        select(MessageTemplateVersion).where(
            MessageTemplateVersion.template_id == template.id,
            MessageTemplateVersion.version == number,
        )
    )
    if found is None:
        raise TemplateStoreError(f"template {template.key!r} has no version {number}")
    return found


def list_templates(db: Session) -> list[MessageTemplate]:
    return list(db.scalars(select(MessageTemplate).order_by(MessageTemplate.key)))


def list_versions(db: Session, template: MessageTemplate) -> list[MessageTemplateVersion]:
    return list(
        db.scalars(
            select(MessageTemplateVersion)
            .where(MessageTemplateVersion.template_id == template.id)
            .order_by(MessageTemplateVersion.version.desc())
        )
    )
