"""The sniffing check: hidden gold answered much better than work.

``crowd.domain.fraud.sniffing`` has the test; this loads the worker's hidden
gold and work labels since they were last made active, and on a finding sends
them to a retraining round served as work, with no feedback
(``crowd.domain.fraud.sniffing.disguised``; the round is decided as any
other, so failing it suspends), after discounting their work labels since the
gap most likely opened. A second fraud finding suspends them at once.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crowd.domain.drift import change_point
from crowd.domain.fraud import SNIFFING
from crowd.domain.fraud.settings import FraudSettings
from crowd.domain.fraud.sniffing import MIN_GAP, sniffing
from crowd.persistence import Label, Project, WorkerStanding
from crowd.services.drift import RecentWork, recent_work
from crowd.services.fraud import fraud_sanction
from crowd.services.sanctions import Finding


def check_sniffing(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """Test an active worker's hidden-gold accuracy against their work agreement;
    sanction on a finding. The caller holds the standing's row lock and commits."""
    alpha = FraudSettings.of(project).sniffing_alpha
    if standing.state != "active" or alpha <= 0:
        return False
    since = standing.state_changed_at
    seen, right = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Label.correct.is_(True), 1),
                                                         else_=0)), 0))
        .where(Label.project_id == project.id, Label.worker_id == standing.worker_id,
               Label.is_gold.is_(True), Label.mode == "work", Label.created_at >= since)
    ).one()
    recent = _since(recent_work(session, project, standing), since)
    verdict = sniffing(int(seen), int(right), recent.others, recent.given, alpha)
    if verdict is None:
        return False
    known = np.flatnonzero(recent.others.sum(axis=1) > 0)
    split = change_point(recent.agreed())
    onset = recent.times[int(known[split])] if split else recent.times[0]
    fraud_sanction(session, project, standing, Finding(
        rule="gold_sniffing", reason_code=SNIFFING,
        reason=(f"hidden-gold accuracy {verdict.gold_accuracy:.0%} is far above your "
                f"{verdict.work_accuracy:.0%} on work items; retraining"),
        statistic=verdict.z, threshold=verdict.threshold, onset=onset,
        detail={"gold_accuracy": round(verdict.gold_accuracy, 4),
                "work_accuracy": round(verdict.work_accuracy, 4),
                "gold_seen": verdict.gold_seen, "gold_correct": int(right),
                "work_labels": verdict.work_labels, "alpha": alpha, "min_gap": MIN_GAP}),
        rng, now)
    return True


def _since(recent: RecentWork, since: datetime) -> RecentWork:
    """Only the labels given at or after ``since``."""
    keep = [i for i, at in enumerate(recent.times) if at >= since]
    return RecentWork([recent.times[i] for i in keep], recent.given[keep], recent.others[keep])
