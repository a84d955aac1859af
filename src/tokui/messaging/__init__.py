"""Messaging: sandboxed templates, the outbox and its delivery workers, channels,
tracking, consent and suppression (docs/messaging.md)."""
