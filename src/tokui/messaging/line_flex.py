"""The structure of a LINE Flex message, checked before anything is queued.

LINE answers a malformed Flex message with a 400 for the whole request (for a multicast:
for all 500 recipients). Checking the structure when the template is saved and again when
each message is rendered turns that into an error the marketer sees at once, naming the
place ("contents.body.contents[1].url: required"). The rules are those of the Messaging
API reference (the FlexContainer / FlexComponent / Action schemas of its OpenAPI
specification): container and component types, required fields, enumerations and the
documented size limits. Unknown optional properties are left for LINE to judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALT_TEXT_MAX = 1500
CAROUSEL_MAX = 12
TEXT_MAX = 5000

COMPONENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "box": ("layout", "contents"),
    "button": ("action",),
    "image": ("url",),
    "video": ("url", "previewUrl", "altContent"),
    "icon": ("url",),
    "text": (),
    "span": ("text",),
    "separator": (),
    "filler": (),
}
BOX_LAYOUTS = ("horizontal", "vertical", "baseline")
BUBBLE_SIZES = ("nano", "micro", "deca", "hecto", "kilo", "mega", "giga")
ACTION_REQUIRED: dict[str, tuple[str, ...]] = {
    "uri": ("uri",),
    "message": ("text",),
    "postback": ("data",),
    "datetimepicker": ("data", "mode"),
    "camera": (),
    "cameraRoll": (),
    "location": (),
    "richmenuswitch": ("richMenuAliasId", "data"),
    "clipboard": ("clipboardText",),
}
URL_FIELDS = ("url", "previewUrl")


class FlexError(ValueError):
    """The Flex JSON does not have LINE's structure; the message names the path."""


def _fail(path: str, message: str) -> FlexError:
    return FlexError(f"{path}: {message}")


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, "must be a JSON object")
    return value


def _string(value: Any, path: str, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(path, "must be a non-empty string")
    if max_len is not None and len(value) > max_len:
        raise _fail(path, f"at most {max_len} characters")
    return value


def check_action(value: Any, path: str) -> None:
    action = _object(value, path)
    kind = action.get("type")
    if kind not in ACTION_REQUIRED:
        raise _fail(f"{path}.type", f"one of {', '.join(ACTION_REQUIRED)}")
    for name in ACTION_REQUIRED[kind]:
        if name not in action:
            raise _fail(f"{path}.{name}", "required")
    if kind == "uri":
        uri = _string(action["uri"], f"{path}.uri", 1000)
        if not uri.startswith(("https://", "http://", "line://", "tel:")):
            raise _fail(f"{path}.uri", "must start with https://, http://, line:// or tel:")


def check_component(value: Any, path: str) -> None:
    comp = _object(value, path)
    kind = comp.get("type")
    if kind not in COMPONENT_REQUIRED:
        raise _fail(f"{path}.type", f"one of {', '.join(COMPONENT_REQUIRED)}")
    for name in COMPONENT_REQUIRED[kind]:
        if name not in comp:
            raise _fail(f"{path}.{name}", "required")
    for name in URL_FIELDS:
        if name in comp:
            url = _string(comp[name], f"{path}.{name}", 2000)
            if not url.startswith("https://"):
                raise _fail(f"{path}.{name}", "LINE loads images and videos over https only")
    if "action" in comp:
        check_action(comp["action"], f"{path}.action")
    if kind == "box":
        if comp["layout"] not in BOX_LAYOUTS:
            raise _fail(f"{path}.layout", f"one of {', '.join(BOX_LAYOUTS)}")
        contents = comp["contents"]
        if not isinstance(contents, list):
            raise _fail(f"{path}.contents", "must be a list")
        for i, child in enumerate(contents):
            check_component(child, f"{path}.contents[{i}]")
    elif kind == "text":
        if "text" not in comp and "contents" not in comp:
            raise _fail(f"{path}.text", "required (or contents with spans)")
        if "text" in comp:
            _string(comp["text"], f"{path}.text", TEXT_MAX)
        for i, span in enumerate(comp.get("contents") or []):
            check_component(span, f"{path}.contents[{i}]")
    elif kind == "span":
        _string(comp["text"], f"{path}.text", TEXT_MAX)


def _check_bubble(value: Any, path: str) -> None:
    bubble = _object(value, path)
    if bubble.get("type") != "bubble":
        raise _fail(f"{path}.type", "must be 'bubble'")
    if "size" in bubble and bubble["size"] not in BUBBLE_SIZES:
        raise _fail(f"{path}.size", f"one of {', '.join(BUBBLE_SIZES)}")
    if not any(block in bubble for block in ("header", "hero", "body", "footer")):
        raise _fail(path, "a bubble needs at least one of header, hero, body, footer")
    for block in ("header", "body", "footer"):
        if block in bubble:
            box = _object(bubble[block], f"{path}.{block}")
            if box.get("type") != "box":
                raise _fail(f"{path}.{block}.type", "must be 'box'")
            check_component(box, f"{path}.{block}")
    if "hero" in bubble:
        hero = _object(bubble["hero"], f"{path}.hero")
        if hero.get("type") not in ("box", "image", "video"):
            raise _fail(f"{path}.hero.type", "one of box, image, video")
        check_component(hero, f"{path}.hero")
    if "action" in bubble:
        check_action(bubble["action"], f"{path}.action")


def check_container(value: Any, path: str = "contents") -> None:
    container = _object(value, path)
    kind = container.get("type")
    if kind == "bubble":
        _check_bubble(container, path)
    elif kind == "carousel":
        bubbles = container.get("contents")
        if not isinstance(bubbles, list) or not bubbles:
            raise _fail(f"{path}.contents", "a carousel needs a list of bubbles")
        if len(bubbles) > CAROUSEL_MAX:
            raise _fail(f"{path}.contents", f"at most {CAROUSEL_MAX} bubbles")
        for i, bubble in enumerate(bubbles):
            _check_bubble(bubble, f"{path}.contents[{i}]")
    else:
        raise _fail(f"{path}.type", "must be 'bubble' or 'carousel'")


def flex_message(alt_text: str, contents: Any) -> dict[str, Any]:
    """The message object {type: flex, altText, contents}, checked."""
    _string(alt_text.strip(), "altText", ALT_TEXT_MAX)
    check_container(contents)
    return {"type": "flex", "altText": alt_text.strip(), "contents": contents}
