"""The manager pages' charts, drawn from the services' figures."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from crowd.services.dashboard import Dashboard
from crowd.services.worker_history import WorkerPage
from crowd.web.charts import Marker, bar_chart, heat_map, histogram, line_chart, stacked_bar

STATUS_FILLS = (("open", "open", "#8fa3c7"), ("complete", "complete", "#1f7a4a"),
                ("in_review", "in review", "#c98a00"), ("resolved", "resolved", "#6b4fbb"))


def dashboard_charts(board: Dashboard) -> dict[str, Markup]:
    """The progress bar and the labels per day and per hour."""
    return {
        "progress": stacked_bar("progress", "Work items by status", [
            (name, board.items[status], fill) for status, name, fill in STATUS_FILLS]),
        "per_day": bar_chart("per-day", "Labels per day, last 30 days (UTC)", [
            (day.strftime("%d %b"), n) for day, n in board.per_day], tick_every=5),
        "per_hour": bar_chart("per-hour", "Labels per hour, last 48 hours (UTC)", [
            (hour.strftime("%d %H:00"), n) for hour, n in board.per_hour], tick_every=8),
    }


def worker_charts(page: WorkerPage, labels: list[str]) -> dict[str, Markup]:
    """The confusion heat map and gold accuracy over time with state changes marked."""
    confusion = page.detail.get("confusion") or {}
    values = [[float((confusion.get(t) or {}).get(g, 0.0)) for g in labels] for t in labels]
    start = page.gold[0].at.timestamp() if page.gold else None
    markers = [
        Marker(_when(event["at"]), f"{event['to']} ({event['reason_code']})", event["to"])
        for event in page.detail["history"]
        if start is not None and event["from"] is not None and _when(event["at"]) >= start]
    points = [(point.at.timestamp(), point.rolling) for point in page.gold]
    ticks = [(point.at.timestamp(), point.at.strftime("%d %b %H:%M"))
             for point in page.gold[:: max(len(page.gold) // 4, 1)]]
    return {
        "confusion": heat_map("confusion", "Confusion matrix from the latest Dawid-Skene run",
                              labels, labels, values, as_share=True,
                              nothing="Dawid-Skene has not estimated this worker yet."),
        "gold": line_chart("gold", "Gold accuracy over the last 10 gold answers", points,
                           x_ticks=ticks, markers=markers, percent=True, unit="right"),
    }


def _when(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def quality_charts(report: dict[str, Any] | None, edges: list[float],
                   counts: list[int]) -> dict[str, Markup]:
    """Confusion against gold and expert truth, and how worker scores spread."""
    charts = {"estimated": histogram("estimated", "Workers by Dawid-Skene estimated accuracy",
                                     edges, counts, percent=True)}
    if report is None:
        return charts
    classes = report["confusion"]["classes"]
    hist = report["worker_accuracy"]["histogram"]
    charts.update(
        gold=heat_map("against-gold", "Worker labels against gold", classes, classes,
                      report["confusion"]["against_gold"], row_title="gold answer",
                      nothing="No worker label on a gold item yet."),
        expert=heat_map("against-expert", "Worker labels against expert truth", classes,
                        classes, report["confusion"]["against_expert"],
                        row_title="expert's label", nothing="No expert has resolved an item yet."),
        truth=histogram("truth", "Workers by accuracy on items of known truth",
                        hist["edges"], hist["counts"], percent=True),
    )
    return charts
