"""A line chart over numeric x (a time series: seconds, or an answer's number) with
markers: vertical rules at given x, each named (a drift test's decision)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from crowd.web.charts.svg import (
    ACCENT,
    INK,
    MUTED,
    count,
    document,
    empty,
    esc,
    line,
    nice_scale,
    num,
    short,
    text,
    y_axis,
)

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 26, 34
MARKER_COLOURS = {"suspended": "#b3261e", "retraining": "#8a5a00", "active": "#1f7a4a"}


@dataclass(frozen=True)
class Marker:
    """A vertical rule at ``x`` named ``label`` (``kind`` picks its colour)."""

    x: float
    label: str
    kind: str = ""


TICK_GAP = 90  # the least room, in chart units, between two x-axis labels


def line_chart(name: str, title: str, points: Sequence[tuple[float, float]], *,
               x_ticks: Sequence[tuple[float, str]] = (), markers: Sequence[Marker] = (),
               percent: bool = False, unit: str = "") -> Markup:
    """``points`` (x, y) joined in x order, each a dot with its value as a tooltip;
    ``x_ticks`` label the x axis; ``percent`` draws y from 0 to 100%."""
    if not points:
        return empty(name, title, "Nothing to draw yet.")
    points = sorted(points)
    xs = [x for x, _ in points] + [m.x for m in markers]
    low, high = min(xs), max(xs)
    span = (high - low) or 1.0
    top_value, steps = (1.0, 4) if percent else nice_scale(max(y for _, y in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + plot_w * ((x - low) / span if high > low else 0.5)

    def py(y: float) -> float:
        return TOP + plot_h - plot_h * min(max(y / top_value, 0.0), 1.0)

    parts = y_axis(LEFT, TOP, plot_h, WIDTH - RIGHT, top_value, steps=steps, percent=percent)
    last_tick = -TICK_GAP
    for x, label in sorted(x_ticks):
        at = px(x)
        if not low <= x <= high or at - last_tick < TICK_GAP:
            continue  # ticks close together would print over each other: the first stays
        last_tick = at
        anchor = "end" if at > WIDTH - RIGHT - TICK_GAP / 2 else "middle"
        parts.append(text(at, HEIGHT - BOTTOM + 16, short(label, 12), anchor=anchor,
                          fill=MUTED, size=11))
    for i, marker in enumerate(markers):
        colour = MARKER_COLOURS.get(marker.kind, INK)
        mx = px(marker.x)
        right = mx > LEFT + plot_w * 0.7  # a name near the right edge goes left of its rule
        name = text(mx - 3 if right else mx + 3, TOP - 8 + (i % 2) * 10,
                    short(marker.label, 18), anchor="end" if right else "start", fill=colour,
                    size=10)
        parts.append(f'<g class="marker"><title>{esc(marker.label)}</title>'
                     f'{line(mx, TOP - 4, mx, TOP + plot_h, colour, width=2, dash="4 3")}'
                     f"{name}</g>")
    path = " ".join(f"{'M' if i == 0 else 'L'}{num(px(x))},{num(py(y))}"
                    for i, (x, y) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    shown = (lambda v: f"{v * 100:.0f}%") if percent else count
    for x, y in points if len(points) <= 200 else ():
        parts.append(f'<circle cx="{num(px(x))}" cy="{num(py(y))}" r="3" fill="{ACCENT}">'
                     f"<title>{esc(shown(y))} {esc(unit)}</title></circle>")
    parts.append(line(LEFT, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h, INK))
    description = (f"{len(points)} points from {shown(points[0][1])} to "
                   f"{shown(points[-1][1])}" + (f" {unit}" if unit else "") + "; "
                   + (f"{len(markers)} marked: " + "; ".join(m.label for m in markers)
                      if markers else "no markers") + ".")
    return document(name, title, description, WIDTH, HEIGHT, parts)
