"""Acting on drift: retraining a worker whose accuracy fell, and discounting
their labels from the point the drop began."""
from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crowd.domain.drift import ALPHA, binomial_cdf, check_window
from crowd.domain.qualification import StateChange
from crowd.persistence import Item, Label, Project, WorkerStanding
from crowd.services.settling import settle_item
from crowd.services.standing import change_state


def check_gold_drift(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """Test an active worker's recent hidden-gold answers; retrain them on drift.

    Only answers since the worker last became active count, so a worker back
    from retraining starts with a clean window. One query when nothing fires.
    """
    if standing.state != "active":
        return False
    rows = session.execute(
        select(Label.correct, Label.created_at)
        .where(Label.project_id == project.id, Label.worker_id == standing.worker_id,
               Label.is_gold.is_(True), Label.mode == "work",
               Label.created_at >= standing.state_changed_at)
        .order_by(Label.id.desc())
        .limit(2 * project.drift_window)
    ).all()[::-1]
    verdict = check_window([bool(r[0]) for r in rows], project.drift_window, project.min_accuracy)
    if not verdict.drifted:
        return False
    onset = rows[verdict.onset_index or 0][1]
    evidence = verdict.evidence(project.min_accuracy)
    evidence["onset"] = onset.isoformat()
    # Counted before the event is written: the JSON evidence is not tracked for
    # changes once the event has been flushed.
    evidence["discounted_labels"] = discount_labels(session, project, standing.worker_id, onset, rng)
    change = StateChange(
        "retraining", "drift",
        f"recent checked answers: {verdict.correct}/{verdict.window} correct, below the "
        f"project's {project.min_accuracy:.0%} floor; back to training",
        evidence,
    )
    change_state(session, standing, change, now)
    return True


def check_estimated_drift(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """Retrain an active worker whose Dawid-Skene accuracy is clearly below the floor.

    The same binomial test as for gold, on the worker's work labels with the
    estimated accuracy as the share correct, once they have at least
    2 × drift_window labels; catches a poor worker who gets little gold.
    """
    if standing.state != "active" or standing.estimated_accuracy is None:
        return False
    n = min(standing.work_labels, 5 * project.drift_window)
    if n < 2 * project.drift_window:
        return False
    correct = int(round(standing.estimated_accuracy * n))
    p_value = binomial_cdf(correct, n, project.min_accuracy)
    if p_value >= ALPHA:
        return False
    change = StateChange(
        "retraining", "low_estimated_accuracy",
        f"estimated accuracy {standing.estimated_accuracy:.0%} on work items is below the "
        f"project's {project.min_accuracy:.0%} floor; back to training",
        {"estimated_accuracy": round(standing.estimated_accuracy, 4), "labels": n,
         "p_value": round(p_value, 6), "min_accuracy": project.min_accuracy, "alpha": ALPHA},
    )
    change_state(session, standing, change, now)
    return True


def discount_labels(
    session: Session, project: Project, worker_id: int, since: datetime, rng: np.random.Generator
) -> int:
    """Stop counting a worker's work labels given since ``since``; reopen their items.

    Items an expert resolved stay resolved. Returns how many labels stopped counting.
    """
    rows = session.execute(
        select(Label.id, Label.item_id)
        .where(Label.project_id == project.id, Label.worker_id == worker_id,
               Label.is_gold.is_(False), Label.counted.is_(True), Label.created_at >= since)
    ).all()
    if not rows:
        return 0
    session.execute(
        update(Label).where(Label.id.in_([r[0] for r in rows])).values(counted=False)
    )
    items = session.scalars(
        select(Item).where(Item.id.in_({r[1] for r in rows})).order_by(Item.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    for item in items:
        item.n_labels = max(0, item.n_labels - 1)
        if item.status == "resolved":
            continue
        item.status, item.review_reason = "open", None
        item.needed = max(item.needed, project.redundancy)
        session.flush()
        settle_item(session, project, item, rng)
    return len(rows)
