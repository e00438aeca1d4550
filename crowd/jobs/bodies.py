"""What each scheduled job does: one service call per project, in a session of its own."""
from __future__ import annotations

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowd.persistence import (
    AggregationRun,
    Assignment,
    Label,
    Project,
    WorkerStanding,
    utcnow,
)
from crowd.persistence.statistics import analyse, stale_tables
from crowd.services.aggregation_runs import aggregate_project
from crowd.services.drift import check_work_drift
from crowd.services.fraud_population import check_project_fraud


def reaggregate(session: Session) -> str:
    """Re-run Dawid-Skene on every project with labels newer than its last run."""
    done = []
    rng = np.random.default_rng()
    for project_id in session.scalars(select(Project.id).order_by(Project.id)).all():
        newest = session.scalar(select(func.max(Label.id)).where(Label.project_id == project_id))
        last = session.scalar(
            select(AggregationRun.labels).where(AggregationRun.project_id == project_id)
            .order_by(AggregationRun.id.desc()).limit(1))
        count = session.scalar(select(func.count()).select_from(Label)
                               .where(Label.project_id == project_id, Label.counted.is_(True)))
        if newest is None or last == count:
            continue
        run = aggregate_project(session, project_id, rng, utcnow(), trigger="schedule")
        done.append(f"project {project_id}: {run.items} items, {run.iterations} iterations")
    return "; ".join(done) or "nothing new"


def check_drift(session: Session) -> str:
    """Re-test every active worker's work labels: the agreement CUSUM and the
    Dawid-Skene check (the gold CUSUM moves with each gold answer), then the
    population fraud rules (sniffing, majority clicker, collusion). A worker who
    fails any is sanctioned through ``sanction_low_quality``."""
    rng = np.random.default_rng()
    sent = 0
    for project in session.scalars(select(Project).order_by(Project.id)).all():
        standings = session.scalars(
            select(WorkerStanding)
            .where(WorkerStanding.project_id == project.id, WorkerStanding.state == "active")
            .order_by(WorkerStanding.id)
            .with_for_update()
        ).all()
        for standing in standings:
            now = utcnow()
            if check_work_drift(session, project, standing, rng, now):
                sent += 1
        sent += check_project_fraud(session, project, rng, utcnow())
        session.commit()
    return f"{sent} worker(s) sent to retraining"


def clean_leases(session: Session) -> str:
    """Mark expired, unanswered leases released (their slots were free already)."""
    now = utcnow()
    result = session.execute(
        update(Assignment)
        .where(Assignment.answered_at.is_(None), Assignment.released_at.is_(None),
               Assignment.expires_at < now)
        .values(released_at=Assignment.expires_at)
    )
    session.commit()
    return f"{result.rowcount} expired lease(s) closed"


def refresh_statistics(session: Session) -> str:
    """ANALYZE, one commit each, crowd's tables changed by more than 50 rows plus a
    tenth since their last analysis (autovacuum's default rule): the assignments
    and labels the worker loop adds one at a time get no bulk change's refresh."""
    analysed = []
    for table in stale_tables(session):
        analyse(session, [table])
        session.commit()
        analysed.append(table.name)
    session.commit()
    return f"analysed {', '.join(analysed)}" if analysed else "no table changed enough"
