"""The pieces every chart is built from: escaping, the document, axes, numbers."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from html import escape

from markupsafe import Markup

INK = "#1d2330"
MUTED = "#5b6475"
GRID = "#dfe3ea"
ACCENT = "#2f5fd0"
FONT = 12


def esc(value: object) -> str:
    """``value`` as text safe in SVG content and in a quoted attribute."""
    return escape(str(value), quote=True)


def ident(value: str) -> str:
    """An XML id made from ``value`` (letters, digits, - and _ only)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", value)
    return cleaned if cleaned[:1].isalpha() else f"c-{cleaned}"


def num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def short(value: str, limit: int = 14) -> str:
    """A label cut to ``limit`` characters (the whole of it goes in a ``<title>``)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def count(value: float) -> str:
    """A count for an axis or a bar: 1234 -> 1,234; 1500000 -> 1.5M."""
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_scale(value: float, most: int = 5) -> tuple[float, int]:
    """An axis top for counts up to ``value`` and its number of steps (at most
    ``most``), each step a whole 1, 2 or 5 x a power of ten."""
    if value <= 0 or not math.isfinite(value):
        return 1.0, 1
    rough = max(value / most, 1.0)
    power = 10 ** math.floor(math.log10(rough))
    step = next(s * power for s in (1, 2, 5, 10) if s * power >= rough)
    steps = max(math.ceil(value / step), 1)
    return float(step * steps), steps


def text(x: float, y: float, content: str, *, anchor: str = "start", cls: str = "",
         fill: str = INK, size: int = FONT) -> str:
    """A ``<text>`` element with escaped content."""
    klass = f' class="{esc(cls)}"' if cls else ""
    return (f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{size}"'
            f' fill="{fill}"{klass}>{esc(content)}</text>')


def rect(x: float, y: float, width: float, height: float, fill: str, *, cls: str = "",
         tip: str | None = None, stroke: str | None = None) -> str:
    """A ``<rect>``, with a hover ``<title>`` when ``tip`` is given."""
    extra = (f' class="{esc(cls)}"' if cls else "") + (f' stroke="{stroke}"' if stroke else "")
    body = f"<title>{esc(tip)}</title>" if tip is not None else ""
    return (f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(width, 0))}"'
            f' height="{num(max(height, 0))}" fill="{fill}"{extra}>{body}</rect>')


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, *,
         width: float = 1, dash: str | None = None) -> str:
    """A ``<line>``."""
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}"'
            f' stroke="{stroke}" stroke-width="{num(width)}"{dashed}/>')


def y_axis(left: float, top: float, height: float, right: float, top_value: float,
           steps: int = 4, percent: bool = False) -> list[str]:
    """Grid lines and their values from 0 to ``top_value`` on the left edge."""
    parts = []
    for i in range(steps + 1):
        value = top_value * i / steps
        y = top + height - height * i / steps
        parts.append(line(left, y, right, y))
        label = f"{value * 100:.0f}%" if percent else count(value)
        parts.append(text(left - 6, y + 4, label, anchor="end", fill=MUTED, size=11))
    return parts


def document(name: str, title: str, description: str, width: float, height: float,
             body: Iterable[str], cls: str = "chart") -> Markup:
    """The ``<svg>`` around ``body``: role img, labelled by its title and description."""
    key = ident(name)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(cls)}" role="img"'
        f' viewBox="0 0 {num(width)} {num(height)}" width="{num(width)}" height="{num(height)}"'
        f' preserveAspectRatio="xMinYMin meet" aria-labelledby="{key}-title {key}-desc">'
        f'<title id="{key}-title">{esc(title)}</title><desc id="{key}-desc">{esc(description)}'
        f'</desc>{"".join(body)}</svg>'
    )


def empty(name: str, title: str, message: str, width: float = 600,
          height: float = 80) -> Markup:
    """A chart with nothing to draw: its frame and ``message``."""
    return document(name, title, message, width, height, [
        rect(0.5, 0.5, width - 1, height - 1, "#f6f7f9"),
        text(width / 2, height / 2 + 4, message, anchor="middle", fill=MUTED),
    ])
