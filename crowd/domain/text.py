"""Client text and JSON at the edges: what may be stored, and how long it may be (pure).

Every string a client sends ends up in a database column, a template or a JSON
answer. Two kinds of character break those: NUL (PostgreSQL text cannot hold
it) and a lone UTF-16 surrogate such as ``"\\ud800"`` (valid in a JSON escape,
but not Unicode text that UTF-8 can encode: the driver, the template and the
JSON encoder all fail on it later). ``clean_text`` refuses both in one string;
``check_json`` walks a whole parsed JSON value (iteratively, so any nesting the
parser accepted is safe to walk) and refuses them in every key and value, along
with nesting and numbers beyond stated bounds.
"""
from __future__ import annotations

import math
import re
from typing import Any

from crowd.domain.errors import InvalidInput

# Per-field ceilings, in characters (see the README's "Input limits").
MAX_USERNAME = 80
MAX_PASSWORD = 1024
MAX_PROJECT_NAME = 200
MAX_LABEL = 200
MAX_GUIDELINES = 100_000
MAX_EXTERNAL_ID = 255
MAX_REASON = 2000
MAX_NOTE = 2000

# Any parsed JSON: nesting depth, and the largest integer (a signed 64-bit one).
MAX_JSON_DEPTH = 64
MAX_INTEGER = 2**63 - 1
# One item's ``data``: nesting depth and size as UTF-8 JSON.
MAX_ITEM_DEPTH = 32
MAX_ITEM_DATA_BYTES = 256 * 1024

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text ("contains a NUL character", ...), or None."""
    if "\x00" in value:
        return "contains a NUL character"
    if not value.isascii():
        found = _SURROGATE.search(value)
        if found:
            return (f"contains a lone surrogate (U+{ord(found.group()):04X}), "
                    "which is not valid Unicode text")
    return None


def clean_text(value: str, field: str, max_length: int | None = None, *,
               code: str = "invalid_text") -> str:
    """``value`` unchanged if it is storable text of at most ``max_length`` characters.

    A NUL or a lone surrogate is ``InvalidInput`` with code ``invalid_text``;
    a string that is too long has ``code`` (the field's own, where it has one).
    Both name ``field`` in the message and in ``details``.
    """
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{field} {problem}", code="invalid_text", details={"field": field})
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", code=code,
                           details={"field": field})
    return value


def whole_number(text: str, high: int) -> int | None:
    """``text`` as a whole number from 0 to ``high`` (ASCII digits only), or None."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if number <= high else None


def check_json(value: Any, field: str = "body", *, max_depth: int = MAX_JSON_DEPTH,
               max_integer: int = MAX_INTEGER) -> None:
    """Refuse a parsed JSON value holding anything that cannot be stored or served.

    Raises ``InvalidInput`` naming the path of the first offender (``labels[1]``,
    ``data.text``): code ``invalid_text`` for a key or string with NUL or a
    lone surrogate, ``invalid_number`` for an integer beyond ``max_integer``
    in size or a number that is not finite, ``too_deep`` for containers nested
    deeper than ``max_depth``. Walked with a stack, never recursion.
    """
    # Entries: (value, path, depth of the container holding it); a path is a
    # linked tuple (parent, step) so it is only made into text on a refusal.
    stack: list[tuple[Any, Any, int]] = [(value, None, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                _refuse(field, path, f"{problem}", "invalid_text")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -max_integer <= item <= max_integer:
                _refuse(field, path, f"is a number larger than {max_integer} in size",
                        "invalid_number")
        elif isinstance(item, float):
            if not math.isfinite(item):
                _refuse(field, path, "is a number out of range (not finite)", "invalid_number")
        elif isinstance(item, (dict, list)):
            if depth + 1 > max_depth:
                _refuse(field, path, f"is nested deeper than {max_depth} levels", "too_deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = text_problem(key) if isinstance(key, str) else None
                    if problem:
                        _refuse(field, path, f"has a key that {problem}", "invalid_text")
                    stack.append((child, (path, key), depth + 1))
            else:
                stack.extend((child, (path, index), depth + 1)
                             for index, child in enumerate(item))


def json_path(field: str, path: Any) -> str:
    """``field`` followed by the steps of a linked path: ``data.text``, ``labels[0]``."""
    steps: list[Any] = []
    while path is not None:
        path, step = path
        steps.append(step)
    out = field
    for step in reversed(steps):
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.isidentifier() and step.isascii():
            out += f".{step}" if out else step
        else:
            out += "[" + repr(step) + "]"
    return out


def _refuse(field: str, path: Any, problem: str, code: str) -> None:
    where = json_path(field, path) or "the body"
    raise InvalidInput(f"{where} {problem}", code=code, details={"field": where})
