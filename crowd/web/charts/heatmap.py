"""A heat map of a square or rectangular matrix (a confusion matrix)."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from crowd.web.charts.svg import GRID, INK, MUTED, document, empty, esc, rect, short, text

CELL, HEAD = 56, 110
WHITE = (255, 255, 255)
DARK = (31, 63, 150)  # #1f3f96: white text on it passes WCAG AA


def _fill(share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    r, g, b = (round(w + (d - w) * share) for w, d in zip(WHITE, DARK))
    return f"#{r:02x}{g:02x}{b:02x}"


def _cell_text(value: float, as_share: bool) -> str:
    if as_share:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.2f}"


def heat_map(name: str, title: str, rows: Sequence[str], columns: Sequence[str],
             values: Sequence[Sequence[float]], *, row_title: str = "true class",
             column_title: str = "label given", as_share: bool = False,
             nothing: str = "No data yet.") -> Markup:
    """``values[i][j]`` for row ``rows[i]`` and column ``columns[j]``; darker is more.
    Counts are shaded by their share of their row; ``as_share`` values are shares
    already (0..1) and are written as percentages."""
    if len(values) != len(rows) or any(len(row) != len(columns) for row in values):
        raise ValueError("values must have one row per row name and one cell per column")
    if not rows or not columns or not any(any(v for v in row) for row in values):
        return empty(name, title, nothing)
    width = HEAD + CELL * len(columns) + 8
    top = 50
    height = top + CELL * len(rows) + 8
    parts = [text(HEAD + CELL * len(columns) / 2, 14, column_title, anchor="middle",
                  fill=MUTED, size=11)]
    for j, column in enumerate(columns):
        parts.append(f"<g><title>{esc(column)}</title>"
                     + text(HEAD + CELL * j + CELL / 2, top - 10, short(column, 8),
                            anchor="middle") + "</g>")
    parts.append(text(HEAD - 8, top - 10, f"{row_title} ↓", anchor="end", fill=MUTED, size=11))
    for i, (row_name, row) in enumerate(zip(rows, values)):
        y = top + CELL * i
        parts.append(f"<g><title>{esc(row_name)}</title>"
                     + text(HEAD - 8, y + CELL / 2 + 4, short(row_name, 14), anchor="end")
                     + "</g>")
        total = sum(row) or 1.0
        for j, value in enumerate(row):
            share = value if as_share else value / total
            x = HEAD + CELL * j
            tip = f"{row_name} → {columns[j]}: {_cell_text(value, as_share)}"
            parts.append(rect(x + 1, y + 1, CELL - 2, CELL - 2, _fill(share), cls="cell",
                              tip=tip, stroke=GRID))
            colour = "#ffffff" if share >= 0.5 else INK
            parts.append(text(x + CELL / 2, y + CELL / 2 + 4, _cell_text(value, as_share),
                              anchor="middle", fill=colour))
    description = (f"{len(rows)} by {len(columns)} matrix, rows are the {row_title}, "
                   f"columns the {column_title}. " + " ".join(
                       f"{row_name}: " + ", ".join(
                           f"{column} {_cell_text(v, as_share)}" for column, v in
                           zip(columns, row)) + "."
                       for row_name, row in zip(rows, values)))
    return document(name, title, description, width, height, parts, cls="chart heat")

