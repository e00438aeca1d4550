"""The quality report per aggregation run: ``crowd.services.quality`` groups every
counted label in the database (24.6 s at 5,000,000 labels), so a large project's
report is computed once per run (by the activity job, or by "Aggregate now") and
stored; a small one is computed live."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crowd.persistence import AggregationRun
from crowd.persistence.activity import StoredQualityReport
from crowd.services import backlog, quality
from crowd.services.aggregation_runs import latest_run

LIVE_LIMIT = 50_000  # a project with at most this many labels (and few items) gets it live


@dataclass(frozen=True)
class Report:
    """A quality report, when it was computed and after which run (None: none yet)."""

    data: dict[str, Any] | None
    computed_at: datetime | None
    run_id: int | None
    live: bool


def store(session: Session, project_id: int, run: AggregationRun | None,
          now: datetime) -> StoredQualityReport:
    """Compute the report now and keep it as the one of ``run`` (the caller commits)."""
    data = quality.quality_report(session, project_id)
    row = session.get(StoredQualityReport, project_id)
    if row is None:
        row = StoredQualityReport(project_id=project_id, labels=0, report={})
        session.add(row)
    row.run_id, row.labels, row.report, row.computed_at = (
        run.id if run else None, data["labels"], data, now)
    return row


def is_stale(session: Session, project_id: int) -> AggregationRun | None:
    """The project's latest run when its stored report is not of that run, else None."""
    run = latest_run(session, project_id)
    if run is None:
        return None
    row = session.get(StoredQualityReport, project_id)
    return run if row is None or row.run_id != run.id else None


def report(session: Session, project_id: int, labels: int, now: datetime) -> Report:
    """The report to show: live for a project of at most ``LIVE_LIMIT`` labels and
    fewer than ``backlog.LIVE_ITEMS`` items (it reads every decided item too), else
    the stored one (None before the first is computed)."""
    counts, _ = backlog.counts_now(session, project_id, backlog.read(session, project_id))
    if labels <= LIVE_LIMIT and counts["items"] + counts["gold"] < backlog.LIVE_ITEMS:
        run = latest_run(session, project_id)
        return Report(quality.quality_report(session, project_id), now,
                      run.id if run else None, True)
    row = session.get(StoredQualityReport, project_id)
    if row is None:
        return Report(None, None, None, False)
    return Report(row.report, row.computed_at, row.run_id, False)
