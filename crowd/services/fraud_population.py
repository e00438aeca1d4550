"""The fraud rules that need the whole crowd: the majority clicker, collusion and
sniffing, run per project by the periodic drift job (``check_project_fraud``).

Each reads only evidence since the worker was last made active and sanctions
through ``crowd.services.fraud.fraud_sanction`` (see there for the ladder).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from crowd.domain.drift import change_point
from crowd.domain.fraud import COLLUSION, MAJORITY
from crowd.domain.fraud.collusion import MIN_EXCESS, colluding, expected_agreement
from crowd.domain.fraud.majority import WINDOW, majority_clicker
from crowd.domain.fraud.settings import FraudSettings
from crowd.domain.fraud.stats import wilson
from crowd.domain.reliability import one_coin_confusion, worker_confusion
from crowd.persistence import Label, Project, WorkerStanding
from crowd.services.fraud import class_shares, fraud_sanction
from crowd.services.sanctions import Finding
from crowd.services.sniffing import check_sniffing


def check_project_fraud(session: Session, project: Project, rng: np.random.Generator,
                        now: datetime) -> int:
    """Sniffing and majority checks on every active worker, then collusion on
    every pair; returns how many workers were sanctioned. The caller commits."""
    standings = session.scalars(
        select(WorkerStanding)
        .where(WorkerStanding.project_id == project.id, WorkerStanding.state == "active")
        .order_by(WorkerStanding.id).with_for_update()).all()
    shares, n_items = class_shares(session, project)
    sent = 0
    for standing in standings:
        if (check_sniffing(session, project, standing, rng, now)
                or check_majority(session, project, standing, shares, n_items, rng, now)):
            sent += 1
    return sent + check_collusion(session, project, [s for s in standings
                                                     if s.state == "active"], shares, rng, now)


def check_majority(
    session: Session, project: Project, standing: WorkerStanding, shares: np.ndarray,
    n_items: float, rng: np.random.Generator, now: datetime,
) -> bool:
    """The majority-clicker test on the worker's last counted work labels."""
    alpha = FraudSettings.of(project).majority_alpha
    if standing.state != "active" or alpha <= 0:
        return False
    labels = project.labels
    rows = session.execute(
        select(Label.label, Label.created_at)
        .where(Label.project_id == project.id, Label.worker_id == standing.worker_id,
               Label.is_gold.is_(False), Label.mode == "work", Label.counted.is_(True),
               Label.created_at >= standing.state_changed_at)
        .order_by(Label.id.desc()).limit(WINDOW)).all()[::-1]
    rows = [r for r in rows if r[0] in labels]
    given = [labels.index(r[0]) for r in rows]
    verdict = majority_clicker(given, shares, n_items, alpha)
    if verdict is None:
        return False
    split = change_point([g != verdict.label for g in given])
    name = labels[verdict.label]
    fraud_sanction(session, project, standing, Finding(
        rule="majority_clicker", reason_code=MAJORITY,
        reason=(f"{verdict.count} of your last {verdict.labels} labels were {name!r}, far "
                "more than the items call for; back to training"),
        statistic=verdict.p_value, threshold=alpha / len(labels), onset=rows[split][1],
        detail={"label": name, "count": verdict.count, "labels": verdict.labels,
                "tested_share": round(verdict.tested_share, 4),
                "project_shares": {n: round(float(s), 4) for n, s in zip(labels, shares)},
                "alpha": alpha, "fires": "statistic below threshold"}), rng, now)
    return True


def check_collusion(
    session: Session, project: Project, standings: list[WorkerStanding], shares: np.ndarray,
    rng: np.random.Generator, now: datetime,
) -> int:
    """Test every pair of active workers with enough shared items; sanction both of
    a flagged pair. Returns how many workers were sanctioned."""
    settings = FraudSettings.of(project)
    if settings.collusion_alpha <= 0 or len(standings) < 2:
        return 0
    by_worker = {s.worker_id: s for s in standings}
    first, second = aliased(Label), aliased(Label)
    one, two = aliased(WorkerStanding), aliased(WorkerStanding)

    def mine(label: Any, standing: Any) -> Any:
        """A counted work label of an active worker, given since they became active."""
        return and_(
            label.project_id == project.id, label.counted.is_(True), label.is_gold.is_(False),
            label.mode == "work", standing.project_id == project.id,
            standing.worker_id == label.worker_id, standing.state == "active",
            label.created_at >= standing.state_changed_at)

    pairs = session.execute(
        select(first.worker_id, second.worker_id, func.count(),
               func.sum(case((first.label == second.label, 1), else_=0)),
               func.min(first.created_at), func.min(second.created_at))
        .join(second, and_(second.item_id == first.item_id,
                           second.worker_id > first.worker_id))
        .join(one, mine(first, one)).join(two, mine(second, two))
        .group_by(first.worker_id, second.worker_id)
        .having(func.count() >= settings.collusion_min_shared)
        .order_by(first.worker_id, second.worker_id)).all()
    labels = project.labels
    sent = 0
    for u, v, shared, agreed, u_onset, v_onset in pairs:
        pair = [by_worker.get(u), by_worker.get(v)]
        if any(s is None for s in pair):
            continue
        expected = max(expected_agreement(*(m(labels, s) for s in pair), shares)
                       for m in (_matrix, _plain_matrix))
        verdict = colluding(int(shared), int(agreed or 0), expected,
                            settings.collusion_alpha, settings.collusion_min_shared)
        if verdict is None:
            continue
        for standing, partner, onset in ((pair[0], v, u_onset), (pair[1], u, v_onset)):
            if standing.state != "active":
                continue
            fraud_sanction(session, project, standing, Finding(
                rule="collusion", reason_code=COLLUSION,
                reason=(f"your labels matched another worker's on {verdict.agreed} of "
                        f"{verdict.shared} shared items, far more than either's accuracy "
                        "explains; back to training"),
                statistic=verdict.p_value, threshold=settings.collusion_alpha, onset=onset,
                detail={"partner": int(partner), "shared": verdict.shared,
                        "agreed": verdict.agreed, "expected_agreement": round(expected, 4),
                        "min_excess": MIN_EXCESS, "alpha": settings.collusion_alpha,
                        "fires": "statistic below threshold"}), rng, now)
            sent += 1
    return sent



def _matrix(labels: list[str], standing: WorkerStanding) -> np.ndarray:
    """The worker's Dawid-Skene matrix; without one, the one-coin matrix at the
    upper Wilson bound of their hidden-gold accuracy (1 with no gold at all), so
    two careful workers are never taken for colluders for want of gold."""
    if standing.confusion:
        return worker_confusion(labels, standing.confusion, 0, 0)
    upper = wilson(standing.hidden_gold_correct, standing.hidden_gold_seen)[1]
    return one_coin_confusion(upper, len(labels))




def _plain_matrix(labels: list[str], standing: WorkerStanding) -> np.ndarray:
    """The one-coin matrix at the higher of the worker's unsmoothed estimated
    accuracy and, once they have hidden gold, its upper Wilson bound. The pair is
    judged by the higher of the agreement this and ``_matrix`` predict: early in
    a project a fit rests on items with one or two labels and reads careful
    workers low (agreement 0.36-0.45 was predicted for pairs at 0.85, who agree
    on about 0.75, and crowd simulate retrained them), while a handful of hidden
    gold keeps the bound high until the evidence is in. Without hidden gold the
    fit alone speaks (with no fit either, ``_matrix``'s accuracy 1)."""
    if standing.estimated_accuracy is None:
        return _matrix(labels, standing)
    accuracy = standing.estimated_accuracy
    if standing.hidden_gold_seen:
        accuracy = max(accuracy, wilson(standing.hidden_gold_correct,
                                        standing.hidden_gold_seen)[1])
    return one_coin_confusion(accuracy, len(labels))
