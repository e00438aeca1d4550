"""The activity job: counters from new labels, backlogs, quality reports per run."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.persistence import Project, utcnow
from crowd.services import backlog, quality_cache
from crowd.services.activity import catch_up


def refresh_activity(session: Session) -> str:
    """Count the labels since the last run into the hourly and per-worker counters;
    recompute the backlog of projects with new labels (or a stale one); store the
    quality report of each project whose latest aggregation run has none yet. One
    commit per step and project."""
    now = utcnow()
    folded, touched = catch_up(session, now)
    refreshed, reports = 0, 0
    for project_id in session.scalars(select(Project.id).order_by(Project.id)).all():
        if project_id in touched or backlog.is_stale(backlog.read(session, project_id), now):
            backlog.refresh(session, project_id, now)
            session.commit()
            refreshed += 1
        run = quality_cache.is_stale(session, project_id)
        if run is not None:
            quality_cache.store(session, project_id, run, now)
            session.commit()
            reports += 1
    return (f"{folded} label(s) counted; {refreshed} backlog(s) and {reports} quality "
            "report(s) refreshed")
