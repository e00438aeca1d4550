"""A histogram: counts over consecutive bins given by their edges."""
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
    num,
    rect,
    text,
    y_axis,
)

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 62, 26, 12, 34


def _edge(value: float, percent: bool) -> str:
    return f"{value * 100:.0f}%" if percent else num(value)


def histogram(name: str, title: str, edges: Sequence[float], counts: Sequence[int], *,
              unit: str = "workers", percent: bool = False) -> Markup:
    """Touching bars, bin ``i`` from ``edges[i]`` to ``edges[i + 1]`` with ``counts[i]``;
    ``percent`` writes the edges as percentages."""
    if len(edges) != len(counts) + 1:
        raise ValueError("a histogram needs one more edge than counts")
    if not counts or sum(counts) <= 0:
        return empty(name, title, f"No {unit} to show yet.")
    top_value, steps = nice_scale(max(counts))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(counts)
    parts = y_axis(LEFT, TOP, plot_h, WIDTH - RIGHT, top_value, steps=steps)
    step = max(1, len(counts) // 10)
    for i, n in enumerate(counts):
        height = plot_h * n / top_value
        x = LEFT + i * slot
        tip = (f"{_edge(edges[i], percent)} to {_edge(edges[i + 1], percent)}: "
               f"{count(n)} {unit}")
        parts.append(rect(x + 0.5, TOP + plot_h - height, slot - 1, height, ACCENT,
                          cls="bar", tip=tip))
        if i % step == 0:
            parts.append(text(x, HEIGHT - BOTTOM + 16, _edge(edges[i], percent),
                              anchor="middle", fill=MUTED, size=11))
    parts.append(text(LEFT + plot_w, HEIGHT - BOTTOM + 16, _edge(edges[-1], percent),
                      anchor="middle", fill=MUTED, size=11))
    parts.append(line(LEFT, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h, INK))
    busiest = max(range(len(counts)), key=lambda i: counts[i])
    description = (f"{count(sum(counts))} {unit} in {len(counts)} bins from "
                   f"{_edge(edges[0], percent)} to {_edge(edges[-1], percent)}; most "
                   f"({count(counts[busiest])}) between {_edge(edges[busiest], percent)} and "
                   f"{_edge(edges[busiest + 1], percent)}.")
    return document(name, title, description, WIDTH, HEIGHT, parts)
