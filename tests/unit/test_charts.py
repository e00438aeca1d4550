"""The SVG charts: well-formed XML, accessible, hostile text escaped, empty data drawn."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from crowd.web.charts import Marker, bar_chart, heat_map, histogram, line_chart, stacked_bar

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \' " ]]>'


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return root


def every_attribute(root: ET.Element) -> set[str]:
    return {name for element in root.iter() for name in element.attrib}


ALL_CHARTS = [
    lambda label: bar_chart("bars", label, [(label, 3), ("b", 5)]),
    lambda label: stacked_bar("stack", label, [(label, 3, "#123456"), ("done", 1, "#654321")]),
    lambda label: histogram("hist", label, [0, 0.5, 1], [2, 3], percent=True),
    lambda label: line_chart("line", label, [(0, 0.5), (10, 0.7)], x_ticks=[(0, label)],
                             markers=[Marker(5, label, "suspended")], percent=True),
    lambda label: heat_map("heat", label, [label, "b"], [label, "b"], [[3, 1], [0, 2]]),
]


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_every_chart_is_valid_accessible_svg_without_style_attributes(chart) -> None:
    root = parse(chart("a chart"))
    assert "style" not in every_attribute(root)
    assert root.find(f".//{SVG}style") is None and root.find(f".//{SVG}script") is None


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_hostile_labels_are_text_never_markup(chart) -> None:
    markup = str(chart(HOSTILE))
    root = parse(markup)
    assert "<script" not in markup
    assert root.find(f".//{SVG}script") is None
    texts = " ".join("".join(element.itertext()) for element in root.iter())
    assert "<script>" in texts  # shown as the characters it is made of


@pytest.mark.parametrize("chart", [
    lambda: bar_chart("bars", "nothing", []),
    lambda: bar_chart("zeros", "nothing", [("a", 0), ("b", 0)]),
    lambda: stacked_bar("stack", "nothing", [("open", 0, "#abcdef")]),
    lambda: histogram("hist", "nothing", [0, 1], [0]),
    lambda: histogram("hist0", "nothing", [0], []),
    lambda: line_chart("line", "nothing", []),
    lambda: heat_map("heat", "nothing", [], [], []),
    lambda: heat_map("heat0", "nothing", ["a"], ["a"], [[0]]),
])
def test_empty_data_draws_a_frame_with_a_message(chart) -> None:
    root = parse(chart())
    assert "No" in "".join(root.itertext()) or "Nothing" in "".join(root.itertext())


def test_a_bar_per_value_scaled_to_the_largest() -> None:
    root = parse(bar_chart("bars", "t", [("a", 1), ("b", 4), ("c", 2)]))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    heights = [float(r.get("height")) for r in bars]
    assert len(bars) == 3 and heights[1] == max(heights) and heights[0] * 4 == pytest.approx(
        heights[1])
    assert [r.find(f"{SVG}title").text for r in bars] == ["a: 1 labels", "b: 4 labels",
                                                           "c: 2 labels"]


def test_the_stacked_bar_splits_its_width_by_share() -> None:
    root = parse(stacked_bar("s", "t", [("open", 3, "#111111"), ("complete", 1, "#222222")]))
    parts = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "segment"]
    widths = [float(r.get("width")) for r in parts]
    assert widths[0] == pytest.approx(3 * widths[1])
    assert "open 3 of 4" in root.find(f"{SVG}desc").text


def test_heat_map_cells_darken_with_their_share_and_keep_readable_text() -> None:
    root = parse(heat_map("h", "t", ["a", "b"], ["a", "b"], [[9, 1], [5, 5]]))
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"]
    assert cells[0].get("fill") != cells[1].get("fill")
    values = [t.text for t in root.iter(f"{SVG}text")]
    assert "9" in values and "1" in values


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        heat_map("h", "t", ["a"], ["a", "b"], [[1]])
    with pytest.raises(ValueError):
        histogram("h", "t", [0, 1], [1, 2])


def test_markers_are_drawn_and_named() -> None:
    root = parse(line_chart("l", "t", [(0, 0.9), (10, 0.4)], percent=True,
                            markers=[Marker(5, "retraining (gold_drift)", "retraining")]))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "marker"]
    assert len(groups) == 1 and groups[0].find(f"{SVG}title").text == "retraining (gold_drift)"


def test_x_axis_labels_close_together_are_thinned_so_none_prints_over_another() -> None:
    # Points seconds apart on an axis of a minute: their labels would overlap.
    ticks = [(x, f"14:{x:02d}") for x in (0, 1, 2, 3, 30, 31, 60)]
    root = parse(line_chart("l", "t", [(x, 0.5) for x, _ in ticks], x_ticks=ticks,
                            percent=True))
    shown = [t for t in root.iter(f"{SVG}text") if (t.text or "").startswith("14:")]
    assert [t.text for t in shown] == ["14:00", "14:30", "14:60"]
    xs = [float(t.get("x")) for t in shown]
    assert all(b - a >= 90 for a, b in zip(xs, xs[1:]))
    assert shown[-1].get("text-anchor") == "end"  # the last one stays inside the chart
