"""An email template version rendered for one recipient: subject, HTML and text.

The marketer's HTML is a fragment rendered in the sandbox; our own layout (trusted,
autoescaped) wraps it in the responsive table frame and, for marketing mail, adds the
footer 特定電子メール法 requires: the sender's name, postal address, a contact for
complaints and a visible opt-out link. Links then go through the signed click redirect,
with UTM parameters on the shop's own links, and the open pixel is added.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape

from tokui.messaging.channel import RenderRequest
from tokui.messaging.htmltext import html_to_text
from tokui.messaging.settings import MessagingSettings
from tokui.messaging.templates import as_markup, render_part
from tokui.messaging.tracking import UNSUBSCRIBE_PATH, UTM, rewrite_links

LAYOUTS = Path(__file__).parent / "layouts"

_layout_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(LAYOUTS),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    auto_reload=False,
)


def _one_line(text: str) -> str:
    """A header value: newlines would start a new header (header injection)."""
    return " ".join(text.split())


def footer_lines(footer: dict[str, str]) -> str:
    return (
        "\n----\n"
        f"配信停止: {footer['unsubscribe_url']}\n"
        f"送信者: {footer['sender_name']}\n"
        f"住所: {footer['address']}\n"
        f"お問い合わせ・苦情の窓口: {footer['contact']}\n"
    )


def render_layout(
    *,
    subject: str,
    preheader: Any,
    body: str,
    shop: dict[str, str],
    footer: dict[str, str] | None,
    open_pixel_url: str,
) -> str:
    """The layout around a rendered body: the reference for `layout` (and its fallback)."""
    return _layout_env.get_template("email.html").render(
        subject=subject,
        preheader=preheader,
        body=as_markup(body),
        shop=shop,
        footer=footer,
        open_pixel_url=open_pixel_url,
    )


# The per-message values of the layout, in the order of their marks below.
_SLOTS = ("subject", "preheader", "body", "unsubscribe_url", "open_pixel_url")
_MARK = re.compile("\x00tokui-slot-([0-9])\x00")
_frames: dict[tuple[Any, ...], tuple[list[str], list[int]] | None] = {}


def _frame(
    shop: dict[str, str], footer: dict[str, str] | None, preheader: bool
) -> tuple[list[str], list[int]] | None:
    """The layout rendered once with a mark in place of each per-message value, split
    at the marks: (literal pieces, the slot after each piece but the last). Everything
    else in it (the shop, the footer's sender) is the same for every message of a shop.
    None when a mark did not come out intact (then the layout is rendered each time)."""
    rest = tuple(sorted((k, v) for k, v in (footer or {}).items() if k != "unsubscribe_url"))
    key = (tuple(sorted(shop.items())), footer is not None, rest, preheader)
    if key not in _frames:
        marks = {name: f"\x00tokui-slot-{i}\x00" for i, name in enumerate(_SLOTS)}
        marked_footer = (
            None if footer is None else footer | {"unsubscribe_url": marks["unsubscribe_url"]}
        )
        text = render_layout(
            subject=marks["subject"],
            preheader=marks["preheader"] if preheader else "",
            body=marks["body"],
            shop=shop,
            footer=marked_footer,
            open_pixel_url=marks["open_pixel_url"],
        )
        parts = _MARK.split(text)
        pieces, slots = parts[0::2], [int(i) for i in parts[1::2]]
        ok = "\x00" not in "".join(pieces)
        if len(_frames) > 64:
            _frames.clear()
        _frames[key] = (pieces, slots) if ok else None
    return _frames[key]


def layout(
    *,
    subject: str,
    preheader: Any,
    body: str,
    shop: dict[str, str],
    footer: dict[str, str] | None,
    open_pixel_url: str,
) -> str:
    """render_layout's output, by filling the cached frame: rendering the whole layout
    per message cost as much as the marketer's template. The values are escaped as the
    layout's autoescaping does; the body is the sandbox's escaped output, as is."""
    frame = _frame(shop, footer, bool(preheader))
    if frame is None:
        return render_layout(
            subject=subject,
            preheader=preheader,
            body=body,
            shop=shop,
            footer=footer,
            open_pixel_url=open_pixel_url,
        )
    values = (
        str(escape(subject)),
        str(escape(preheader)),
        body,
        str(escape(footer["unsubscribe_url"])) if footer is not None else "",
        str(escape(open_pixel_url)),
    )
    pieces, slots = frame
    out = [pieces[0]]
    for slot, piece in zip(slots, pieces[1:], strict=True):
        out.append(values[slot])
        out.append(piece)
    return "".join(out)


def render_email(request: RenderRequest, settings: MessagingSettings) -> dict[str, Any]:
    source, ctx, signer = request.source, request.context, request.signer
    subject = _one_line(render_part(source, "subject", ctx))
    body = render_part(source, "html", ctx)
    shop = request.shop.as_dict()
    unsubscribe_url = signer.unsubscribe_url(request.outbox_id)
    footer = None
    if request.is_marketing:
        footer = {
            "unsubscribe_url": unsubscribe_url,
            "sender_name": shop["sender_name"],
            "address": shop["address"],
            "contact": shop["contact"],
        }
    html = layout(
        subject=subject,
        preheader=ctx.get("preheader") or "",
        body=body,
        shop=shop,
        footer=footer,
        open_pixel_url=signer.open_url(request.outbox_id),
    )
    utm = UTM(medium="email", campaign=source.key, content=f"v{source.version}")
    html = rewrite_links(
        html,
        request.outbox_id,
        signer,
        tuple(settings.shop_domains),
        utm,
        skip_prefixes=(signer.base_url + UNSUBSCRIBE_PATH,),
    )
    if source.text is not None:
        text = render_part(source, "text", ctx).rstrip("\n") + "\n"
        if footer is not None:
            text += footer_lines(footer)
    else:
        text = html_to_text(html)
    payload: dict[str, Any] = {"subject": subject, "html": html, "text": text}
    if request.is_marketing:
        payload["list_unsubscribe"] = unsubscribe_url
        if settings.unsubscribe_mailto:
            payload["list_unsubscribe_mailto"] = (
                f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-"
                f"{signer.unsubscribe_token(request.outbox_id)}"
            )
    return payload
