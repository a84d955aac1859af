"""The hand-written RFC 2047 subject encoder: whatever the text, a mail reader decodes
exactly that text, and no header line grows past 78 characters."""

from __future__ import annotations

import email
import email.policy

from hypothesis import given
from hypothesis import strategies as st

from tokui.messaging.mime import _encode_header

# Text a subject may hold: any character but controls and surrogates.
SUBJECT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=300
)


def _decoded(encoded: str) -> str:
    msg = email.message_from_bytes(
        f"Subject: {encoded}\r\n\r\nbody\r\n".encode("ascii"), policy=email.policy.default
    )
    return str(msg["Subject"])


@given(SUBJECT.filter(lambda s: not s.isascii()))
def test_any_subject_round_trips_within_the_line_limit(subject: str) -> None:
    encoded = _encode_header(subject)
    lines = f"Subject: {encoded}".split("\r\n")
    assert max(len(line) for line in lines) <= 78
    assert _decoded(encoded) == subject


def test_words_hold_whole_characters() -> None:
    # 14 three-byte characters fill a 42-byte word exactly; the 15th starts the next.
    encoded = _encode_header("冬" * 16)
    assert encoded == "=?utf-8?b?" + "5Yas" * 14 + "?=\r\n =?utf-8?b?5Yas5Yas?="


def test_ascii_subjects_stay_as_they_are() -> None:
    assert _encode_header("Winter sale: 20% off") == "Winter sale: 20% off"
