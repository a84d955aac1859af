"""The "send test" of a channel's settings page: one fixed, transactional message through
the channel as configured, to an address the admin gives, delivered at once.

It goes through the outbox and the worker like any message (so the deliveries log shows
the result and the error), with a key of its own that no scenario can collide with.
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from tokui.clock import utc_naive
from tokui.messaging.outbox import enqueue
from tokui.messaging.service import Messaging, MessagingError
from tokui.messaging.templates import TemplateSource
from tokui.state.messages import OutboxMessage

TESTABLE = ("email", "line", "webhook", "push")
# What the template editor's preview renders to, for channels whose address is not email.
PREVIEW_RECIPIENTS = {
    "line": "test",
    "webhook": "https://preview.invalid/",
    "push": "preview-device-token",
}

TEST_SOURCES = {
    "email": TemplateSource(
        "channel-test",
        1,
        subject="[TEST] {{ shop.name }}: Tokui",
        html="<p>Tokui からのテスト送信です。This is a test from Tokui.</p>",
    ),
    "line": TemplateSource(
        "channel-test", 1, line_text="Tokui からのテスト送信です。This is a test from Tokui."
    ),
    "webhook": TemplateSource("channel-test", 1, text='{"test": true, "shop": "{{ shop.name }}"}'),
    "push": TemplateSource(
        "channel-test", 1, subject="Tokui test", text="Tokui からのテスト送信です。"
    ),
}


def queue_channel_test(messaging: Messaging, db: Session, channel: str, to: str) -> OutboxMessage:
    if channel not in TESTABLE:
        raise MessagingError(f"channel {channel!r} has no send test (it sends nothing out)")
    if channel == "webhook" and not to:
        to = messaging.channel_settings.webhook.url
    if not to or len(to) > 320:
        raise MessagingError("to: the address to send the test to (1 to 320 characters)")
    source = TEST_SOURCES[channel]
    context = messaging.sample_context()
    key = f"channel-test:{channel}:{secrets.token_hex(6)}"

    def render(outbox_id: int) -> tuple[dict[str, object], str | None]:
        payload = messaging.render(source, channel, context, to, False, outbox_id, key)
        return payload, messaging.channel(channel).provider_message_id(outbox_id, key)

    row = enqueue(
        db,
        idempotency_key=key,
        channel=channel,
        recipient=to,
        customer_id=None,
        now=utc_naive(messaging.clock.now()),
        is_marketing=False,
        render=render,
    )
    assert row is not None  # the key is fresh
    return row
