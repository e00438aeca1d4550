"""What the worker's task page says and how it lays an item out (pure).

The words here are shown for hidden gold and work alike: none of them may depend on
whether the item on screen is gold.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from crowd.domain.item_fields import Field, fields
from crowd.domain.qualification import CAP_FACTOR

# "Items left" is counted up to this many (the count walks an index and stops there).
LEFT_CAP = 100
# An origin in CROWD_IMAGE_SOURCES: scheme, host name (labels of letters, digits and
# inner hyphens) and an optional port; no path, no wildcard.
_ORIGIN = re.compile(r"https?://(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*"
                     r"(:\d{1,5})?")


@dataclass(frozen=True)
class Block:
    """A run of an item's fields shown together: ``table`` (short text and values,
    one row each), ``image``, ``image_link`` or ``long_text`` (one field each)."""

    kind: str
    fields: tuple[Field, ...]


def parse_origins(raw: str) -> tuple[str, ...]:
    """The image origins a deployment allows (``CROWD_IMAGE_SOURCES``): origins such
    as ``https://images.example.com`` separated by spaces or commas. Raises
    ``ValueError`` naming anything else (a path, a wildcard, another scheme)."""
    origins = []
    for part in re.split(r"[\s,]+", raw.strip()):
        if not part:
            continue
        origin = part.lower().rstrip("/")
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"CROWD_IMAGE_SOURCES: {part!r} is not an origin such as "
                             "https://images.example.com")
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}" + (f":{port}" if port else "")


def layout(data: object, image_origins: Iterable[str] = ()) -> list[Block]:
    """An item's fields in their own order, consecutive short ones grouped into one
    table. An image URL from an allowed origin (the CSP's ``img-src`` lists them) is
    shown as an image; from elsewhere, as a link."""
    allowed = set(image_origins)
    blocks: list[Block] = []
    for field in fields(data):
        if field.kind == "image_link" and origin_of(field.text) in allowed:
            field = Field(field.name, "image", field.text)
        if field.kind in ("text", "value"):
            if blocks and blocks[-1].kind == "table":
                blocks[-1] = Block("table", (*blocks[-1].fields, field))
            else:
                blocks.append(Block("table", (field,)))
        else:
            blocks.append(Block(field.kind, (field,)))
    return blocks


def round_counter(answered: int, size: int) -> str:
    """Where the item on screen stands in a qualification or training round.

    ``answered`` round answers came before it. A pass takes at least ``size`` answers
    and the round ends by ``CAP_FACTOR * size`` (an early fail needs overwhelming
    evidence and may come sooner; ``crowd.domain.qualification``)."""
    at_least, at_most = max(size, 1), CAP_FACTOR * max(size, 1)
    return (f"answer {answered + 1} · a pass takes at least {at_least} answers, "
            f"the round ends by {at_most}")


def left_words(left: int, cap: int = LEFT_CAP) -> str:
    """Items left after the one on screen, counted up to ``cap``. The count holds
    unseen gold too (so it falls by one whatever the item was): it is a bound."""
    if left >= cap:
        return f"{cap} or more items left for you"
    if left <= 0:
        return "this may be the last item for you"
    return f"up to {left} more item{'s' if left != 1 else ''} for you"


def lease_words(seconds: float) -> str:
    """How long the lease on the item still holds, in words (the script counts down)."""
    whole = max(int(seconds), 0)
    if whole >= 120:
        return f"{whole // 60} minutes"
    if whole >= 60:
        return f"1 minute {whole - 60} seconds" if whole > 60 else "1 minute"
    return f"{whole} second{'s' if whole != 1 else ''}"
