"""The quality page: the report (live or stored per run) and how the Dawid-Skene
estimates of the project's workers spread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.persistence import AggregationRun, WorkerStanding
from crowd.services import activity, quality_cache
from crowd.services.aggregation_runs import latest_run
from crowd.services.projects import get_project

BINS = 10


@dataclass(frozen=True)
class QualityPage:
    """The report, the histogram of estimated accuracy, the latest run."""

    report: quality_cache.Report
    estimated_edges: list[float]
    estimated_counts: list[int]
    run: AggregationRun | None
    labels: int


def quality_page(session: Session, project_id: int, now: datetime) -> QualityPage:
    """What the quality page shows; the report is computed live only for a project
    of at most ``quality_cache.LIVE_LIMIT`` labels."""
    get_project(session, project_id)
    labels = activity.totals(session, project_id, activity.tail(session, project_id))["labels"]
    estimates = [v for v in session.scalars(
        select(WorkerStanding.estimated_accuracy)
        .where(WorkerStanding.project_id == project_id,
               WorkerStanding.estimated_accuracy.is_not(None)))]
    counts, edges = np.histogram(np.asarray(estimates, dtype=float), bins=BINS, range=(0.0, 1.0))
    return QualityPage(
        report=quality_cache.report(session, project_id, labels, now),
        estimated_edges=[round(float(e), 2) for e in edges],
        estimated_counts=[int(c) for c in counts], run=latest_run(session, project_id),
        labels=labels,
    )
