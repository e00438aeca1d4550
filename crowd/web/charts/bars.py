"""Bar charts: counts per category or per period, and one stacked progress bar."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from crowd.web.charts.svg import (
    ACCENT,
    INK,
    MUTED,
    count,
    document,
    empty,
    line,
    nice_scale,
    rect,
    short,
    text,
    y_axis,
)

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 62, 8, 12, 34


def bar_chart(name: str, title: str, bars: Sequence[tuple[str, float]], *,
              unit: str = "labels", tick_every: int = 1, fill: str = ACCENT) -> Markup:
    """Vertical bars, one per ``(label, value)``; every ``tick_every``-th label is
    written under the axis (each bar's ``<title>`` names it and its value)."""
    if not bars or all(value <= 0 for _, value in bars):
        return empty(name, title, f"No {unit} yet.")
    top_value, steps = nice_scale(max(value for _, value in bars))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    parts = y_axis(LEFT, TOP, plot_h, WIDTH - RIGHT, top_value, steps=steps)
    for i, (label, value) in enumerate(bars):
        height = plot_h * max(value, 0) / top_value
        x = LEFT + i * slot
        parts.append(rect(x + slot * 0.12, TOP + plot_h - height, slot * 0.76, height, fill,
                          cls="bar", tip=f"{label}: {count(value)} {unit}"))
        if i % max(tick_every, 1) == 0:
            parts.append(text(x + slot / 2, HEIGHT - BOTTOM + 16, short(label, 10),
                              anchor="middle", fill=MUTED, size=11))
    parts.append(line(LEFT, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h, INK))
    total = sum(value for _, value in bars)
    peak = max(bars, key=lambda bar: bar[1])
    description = (f"{count(total)} {unit} over {len(bars)} bars, from {bars[0][0]} to "
                   f"{bars[-1][0]}; the highest is {peak[0]} with {count(peak[1])}.")
    return document(name, title, description, WIDTH, HEIGHT, parts)


def stacked_bar(name: str, title: str, parts: Sequence[tuple[str, float, str]]) -> Markup:
    """One horizontal bar split into ``(label, value, fill)`` parts, with a legend
    of each part's count and share under it."""
    total = sum(max(value, 0) for _, value, _ in parts)
    if total <= 0:
        return empty(name, title, "No items yet.", height=60)
    width, bar_h, legend_row = 640.0, 28.0, 26.0
    columns = 2
    rows = -(-len(parts) // columns)
    height = bar_h + 12 + rows * legend_row
    shapes, x = [], 0.0
    for label, value, fill in parts:
        share = max(value, 0) / total
        shapes.append(rect(x, 0, width * share, bar_h, fill, cls="segment",
                           tip=f"{label}: {count(value)} ({share:.0%})"))
        x += width * share
    for i, (label, value, fill) in enumerate(parts):
        lx = (i % columns) * (width / columns)
        ly = bar_h + 12 + (i // columns) * legend_row
        shapes.append(rect(lx, ly, 16, 16, fill))
        share = max(value, 0) / total
        shapes.append(text(lx + 22, ly + 14, f"{label}: {count(value)} ({share:.0%})",
                           fill=INK, size=16))
    description = "; ".join(f"{label} {count(value)} of {count(total)}"
                            for label, value, _ in parts) + "."
    return document(name, title, description, width, height, shapes, cls="chart stacked")
