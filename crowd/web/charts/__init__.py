"""Server-side SVG charts of crowd's own: pure functions from data to an SVG string.

Every chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``,
with every text escaped, and colours given as SVG presentation attributes and
classes: the pages' CSP forbids ``style`` attributes, even inside SVG.
"""
from crowd.web.charts.bars import bar_chart, stacked_bar
from crowd.web.charts.heatmap import heat_map
from crowd.web.charts.histogram import histogram
from crowd.web.charts.lines import Marker, line_chart

__all__ = ["Marker", "bar_chart", "heat_map", "histogram", "line_chart", "stacked_bar"]
