"""An email template version rendered for one recipient: subject, HTML and text.

The marketer's HTML is a fragment rendered in the sandbox; our own layout (trusted,
autoescaped) wraps it in the responsive table frame and, for marketing mail, adds the
footer 特定電子メール法 requires: the sender's name, postal address, a contact for
complaints and a visible opt-out link. Links then go through the signed click redirect,
with UTM parameters on the shop's own links, and the open pixel is added.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

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
    html = _layout_env.get_template("email.html").render(
        subject=subject,
        preheader=ctx.get("preheader", ""),
        body=as_markup(body),
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
