"""Everything the manager's dashboard shows, read without counting every label or
item: items by status (stored by the activity job for a large project), labels
from the activity counters, the ETA from the stored backlog, the latest run."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crowd.domain.activity import RATE_HOURS, Eta, daily, eta, hour_of, hourly
from crowd.persistence import AggregationRun, Project
from crowd.services import activity, backlog
from crowd.services.aggregation_runs import latest_run
from crowd.services.projects import get_project

DAYS, HOURS = 30, 48


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's figures (see ``dashboard``)."""

    project: Project
    items: dict[str, int]
    items_at: datetime | None
    labels: dict[str, int]
    per_day: list[tuple[datetime, int]]
    per_hour: list[tuple[datetime, int]]
    eta: Eta
    backlog_at: datetime | None
    cost: dict[str, float | None]
    run: AggregationRun | None
    freshness: str


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(session: Session, project_id: int, now: datetime) -> Dashboard:
    """The dashboard of one project at ``now``.

    Labels per day and hour come from the hourly counters plus the labels since
    the activity job last ran; the ETA divides the labels the open items still want
    (the job's backlog) by the work labels per hour of the last ``RATE_HOURS`` hours.
    """
    project = get_project(session, project_id)
    stored = backlog.read(session, project_id)
    items, items_at = backlog.counts_now(session, project_id, stored)
    recent = activity.tail(session, project_id)
    since = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS - 1)
    hours = activity.hour_counts(session, project_id, since, recent)
    totals = activity.totals(session, project_id, recent)
    all_labels = {hour: counts[0] for hour, counts in hours.items()}
    first_recent = hour_of(now) - timedelta(hours=RATE_HOURS - 1)
    recent_work = sum(c[0] - c[1] - c[2] for hour, c in hours.items() if hour >= first_recent)
    needed = stored.labels_needed if stored else backlog.measure(session, project_id)[0]
    finished = items["complete"] + items["resolved"]
    cost = {
        "work_labels_per_finished_item": _ratio(totals["work"], finished),
        "labels_per_finished_item": _ratio(totals["labels"], finished),
        "gold_share": _ratio(totals["hidden_gold"] + totals["rounds"], totals["labels"]),
        "hidden_gold_share": _ratio(totals["hidden_gold"], totals["labels"]),
    }
    return Dashboard(
        project=project, items=items, items_at=items_at, labels=totals,
        per_day=daily(all_labels, now, DAYS), per_hour=hourly(all_labels, now, HOURS),
        eta=eta(needed, recent_work), backlog_at=stored.computed_at if stored else None,
        cost=cost, run=latest_run(session, project_id), freshness=activity.describe(recent),
    )


def run_summary(run: AggregationRun) -> str:
    """What an aggregation run did, in words: the labels it fitted and why they are
    not the labels collected, and how many items changed status."""
    changes: dict[str, Any] = run.changes or {}
    moved = (f"{changes.get('completed', 0)} completed, {changes.get('reopened', 0)} "
             f"reopened for one more label (their result was no longer confident), "
             f"{changes.get('to_review', 0)} sent to expert review, "
             f"{changes.get('widened', 0)} asked for more labels")
    return (f"Dawid-Skene fitted {run.labels:,} labels on {run.items:,} items from "
            f"{run.workers:,} workers in {run.iterations} iterations: the labels that count "
            "in work mode, hidden gold included; qualification and training answers and the "
            "discounted labels of sanctioned workers are left out, so this differs from "
            f"labels collected. Items: {moved}.")
