"""How to show an item's data fields on a page (pure).

A field is one of: an ``image`` a page may show itself (a ``data:image/...;base64,``
URI: the CSP allows ``data:`` images and nothing from elsewhere), an
``image_link`` (an http(s) URL ending in an image extension: the CSP's
``img-src 'self' data:`` would block it, so a page links to it instead),
``long_text`` (shown in a scrolling block), ``text``, or a ``value`` (a number,
true/false, null, a list or an object, shown as compact JSON).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

Kind = Literal["image", "image_link", "long_text", "text", "value"]

LONG_TEXT_CHARS = 280
LONG_TEXT_LINES = 4
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg|gif|webp|avif|bmp|svg\+xml);base64,"
                         r"[A-Za-z0-9+/=\s]+", re.IGNORECASE)


@dataclass(frozen=True)
class Field:
    """One field of an item: its name, kind, and the text to show (or the URL)."""

    name: str
    kind: Kind
    text: str


def field_kind(value: Any) -> Kind:
    """The kind of one field's value."""
    if not isinstance(value, str):
        return "value"
    if _DATA_IMAGE.fullmatch(value):
        return "image"
    if _is_image_url(value):
        return "image_link"
    if len(value) > LONG_TEXT_CHARS or value.count("\n") >= LONG_TEXT_LINES:
        return "long_text"
    return "text"


def _is_image_url(value: str) -> bool:
    if len(value) > 2048 or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.netloc)
            and parts.path.lower().endswith(IMAGE_EXTENSIONS))


def fields(data: Any) -> list[Field]:
    """An item's data as fields, in its own order (data that is not an object is
    one ``value`` field named "data")."""
    if not isinstance(data, dict):
        return [Field("data", "value", _compact(data))]
    shown = []
    for name, value in data.items():
        kind = field_kind(value)
        shown.append(Field(str(name), kind, value if kind != "value" else _compact(value)))
    return shown


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
