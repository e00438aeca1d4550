"""Drift checks on active workers: the gold CUSUM, the agreement CUSUM and the
Dawid-Skene check. Each one that fires hands its finding to
``crowd.services.sanctions.sanction_low_quality``, which discounts the
worker's labels since the onset and sends them back to training.

Where the statistics start: ``WorkerStanding.drift_since``, set by the last
sanction (never by anything else). A worker's record is therefore carried
across every other change of state (a manager's suspension and reinstatement,
say): a worker cannot shed evidence by coming back. Only a sanction, which
the worker can leave only by passing retraining (or by a manager's say-so),
restarts it; restarting there is right because the labels behind the old
evidence were discounted and the retraining round is fresh evidence that the
worker is back above the bar.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from crowd.domain.drift import ALPHA, binomial_cdf, change_point
from crowd.domain.reliability import worker_confusion
from crowd.domain.review import item_posterior
from crowd.domain.sequential import (
    AGREEMENT_EVERY,
    AGREEMENT_THRESHOLD,
    agreement_design,
    agreement_weights,
    gold_cusum,
    run_cusum,
)
from crowd.persistence import AggregationRun, Item, Label, Project, WorkerStanding
from crowd.services.sanctions import Finding, sanction_low_quality

RECENT_WORK = 200  # work labels the agreement CUSUM and the onset search look back over


class RecentWork:
    """A worker's recent counted work labels (oldest first) and, for each item,
    the posterior from everyone else's labels (zeros where nobody else labelled it)."""

    def __init__(self, times: list[datetime], given: np.ndarray, others: np.ndarray) -> None:
        self.times, self.given, self.others = times, given, others

    def agreed(self) -> list[bool]:
        """Whether each label matches the others' top class, where there are others."""
        known = self.others.sum(axis=1) > 0
        top = np.argmax(self.others, axis=1)
        return [bool(t == g) for t, g, k in zip(top, self.given, known, strict=True) if k]


def check_gold_drift(
    session: Session, project: Project, standing: WorkerStanding, correct: bool,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """Add an active worker's hidden-gold outcome to their CUSUM; sanction on alarm.

    Costs no statement beyond the standing's update (made for ``gold_seen``
    anyway) unless it fires, so a gold answer is no slower than a work one.
    """
    if standing.state != "active":
        return False
    cusum = gold_cusum(project.min_accuracy, len(project.labels))
    standing.gold_cusum = cusum.step(standing.gold_cusum, correct)
    if standing.gold_cusum == 0.0:
        standing.gold_cusum_zero_at = now
    if not cusum.alarmed(standing.gold_cusum):
        return False
    mine = (Label.project_id == project.id, Label.worker_id == standing.worker_id)
    # Never zero since the statistics started: the worker's whole record is suspect.
    onset = (standing.gold_cusum_zero_at or standing.drift_since
             or session.scalar(select(func.min(Label.created_at)).where(*mine)) or now)
    after = (Label.created_at > onset if standing.gold_cusum_zero_at
             else Label.created_at >= onset)
    seen, right = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Label.correct.is_(True), 1),
                                                         else_=0)), 0))
        .where(*mine, Label.is_gold.is_(True), Label.mode == "work", after)
    ).one()
    finding = Finding(
        rule="gold_cusum", reason_code="drift",
        reason=(f"{right}/{seen} hidden-gold answers right since {onset:%Y-%m-%d %H:%M:%S} UTC: "
                f"evidence of accuracy below the project's {project.min_accuracy:.0%} floor; "
                "back to training"),
        statistic=standing.gold_cusum, threshold=cusum.threshold, onset=onset,
        detail={"gold_since_onset": int(seen), "correct_since_onset": int(right),
                "min_accuracy": project.min_accuracy, "p0": cusum.p0, "p1": cusum.p1},
    )
    sanction_low_quality(session, project, standing, finding, rng, now)
    return True


def check_agreement_on_schedule(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """The agreement CUSUM after every ``AGREEMENT_EVERY``-th work-mode answer.

    Counted over hidden gold and work labels alike, so the extra queries say
    nothing about whether the item just answered was gold.
    """
    if (standing.hidden_gold_seen + standing.work_labels) % AGREEMENT_EVERY:
        return False
    return check_agreement_drift(session, project, standing, rng, now)


def check_agreement_drift(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime, recent: RecentWork | None = None,
) -> bool:
    """The agreement CUSUM over the worker's recent work labels; sanction on alarm."""
    if standing.state != "active":
        return False
    if recent is None:
        recent = recent_work(session, project, standing)
    weights = agreement_weights(recent.others, recent.given, project.min_accuracy)
    run = run_cusum(weights, AGREEMENT_THRESHOLD)
    if run.alarm_index is None or run.onset_index is None:
        return False
    onset = recent.times[run.onset_index]
    scored = recent.others[run.onset_index:].sum(axis=1) > 0
    agreed = recent.agreed()
    p0, p1 = agreement_design(project.min_accuracy, len(project.labels))
    finding = Finding(
        rule="agreement_cusum", reason_code="agreement_drift",
        reason=(f"recent work labels disagree with other workers' labels far more often than "
                f"a worker at the project's {project.min_accuracy:.0%} floor would; "
                "back to training"),
        statistic=run.statistic, threshold=AGREEMENT_THRESHOLD, onset=onset,
        detail={"labels_since_onset": int(scored.sum()), "labels_checked": len(agreed),
                "agreement": round(sum(agreed) / len(agreed), 4) if agreed else None,
                "min_accuracy": project.min_accuracy, "p0": p0, "p1": round(p1, 4)},
    )
    sanction_low_quality(session, project, standing, finding, rng, now)
    return True


def check_estimated_drift(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime, recent: RecentWork | None = None,
) -> bool:
    """Retrain an active worker whose Dawid-Skene accuracy is clearly below the floor.

    The binomial test, with the estimated accuracy as the share correct of the
    worker's counted work labels since ``drift_since`` that the estimate saw
    (given before the last fit; at least 2 x drift_window, at most 5 x): an
    estimate from a handful of labels is not tested as if it rested on dozens.
    Skipped while the estimate predates the worker's last sanction. The
    estimate averages the whole record, so the
    onset is the most likely start of a drop in the worker's agreement with
    the others (a max-likelihood split), or the oldest label tested.
    """
    if standing.state != "active" or standing.estimated_accuracy is None:
        return False
    estimated_at = session.scalar(select(func.max(AggregationRun.created_at))
                                  .where(AggregationRun.project_id == project.id))
    if estimated_at is None or (standing.drift_since is not None
                                and estimated_at < standing.drift_since):
        return False
    if recent is None:
        recent = recent_work(session, project, standing)
    fitted = sum(1 for t in recent.times if t <= estimated_at)
    n = min(fitted, 5 * project.drift_window)
    if n < 2 * project.drift_window:
        return False
    correct = int(round(standing.estimated_accuracy * n))
    p_value = binomial_cdf(correct, n, project.min_accuracy)
    if p_value >= ALPHA:
        return False
    known = np.flatnonzero(recent.others.sum(axis=1) > 0)
    split = change_point(recent.agreed())
    start = int(known[split]) if split and len(known) else len(recent.times) - n
    finding = Finding(
        rule="dawid_skene", reason_code="low_estimated_accuracy",
        reason=(f"estimated accuracy {standing.estimated_accuracy:.0%} on work items is below "
                f"the project's {project.min_accuracy:.0%} floor; back to training"),
        statistic=p_value, threshold=ALPHA, onset=recent.times[max(0, start)],
        detail={"estimated_accuracy": round(standing.estimated_accuracy, 4), "labels": n,
                "p_value": round(p_value, 6), "min_accuracy": project.min_accuracy,
                "alpha": ALPHA, "fires": "statistic below threshold"},
    )
    sanction_low_quality(session, project, standing, finding, rng, now)
    return True


def check_work_drift(
    session: Session, project: Project, standing: WorkerStanding,
    rng: np.random.Generator, now: datetime,
) -> bool:
    """The periodic checks on work labels: agreement CUSUM, then Dawid-Skene."""
    if standing.state != "active":
        return False
    recent = recent_work(session, project, standing)
    return (check_agreement_drift(session, project, standing, rng, now, recent)
            or check_estimated_drift(session, project, standing, rng, now, recent))


def recent_work(session: Session, project: Project, standing: WorkerStanding,
                limit: int = RECENT_WORK) -> RecentWork:
    """The worker's last ``limit`` counted work labels since ``drift_since``, with
    each item's posterior from the other workers' counted labels (two queries).

    An item an expert resolved has its resolution as the posterior.
    """
    query = (select(Label.item_id, Label.label, Label.created_at)
             .where(Label.project_id == project.id, Label.worker_id == standing.worker_id,
                    Label.is_gold.is_(False), Label.mode == "work", Label.counted.is_(True)))
    if standing.drift_since is not None:
        query = query.where(Label.created_at >= standing.drift_since)
    mine = session.execute(query.order_by(Label.id.desc()).limit(limit)).all()[::-1]
    labels = project.labels
    index = {name: i for i, name in enumerate(labels)}
    mine = [r for r in mine if r[1] in index]
    others = np.zeros((len(mine), len(labels)))
    if mine:
        _fill_others(session, project, standing.worker_id, [r[0] for r in mine], index, others)
    return RecentWork([r[2] for r in mine], np.array([index[r[1]] for r in mine], dtype=np.intp),
                      others)


def _fill_others(session: Session, project: Project, worker_id: int, item_ids: list[int],
                 index: dict[str, int], others: np.ndarray) -> None:
    rows = session.execute(
        select(Label.item_id, Label.label, Label.worker_id, WorkerStanding.confusion,
               WorkerStanding.hidden_gold_seen, WorkerStanding.hidden_gold_correct)
        .outerjoin(WorkerStanding, and_(WorkerStanding.project_id == Label.project_id,
                                        WorkerStanding.worker_id == Label.worker_id))
        .where(Label.item_id.in_(set(item_ids)), Label.worker_id != worker_id,
               Label.counted.is_(True), Label.is_gold.is_(False))
    ).all()
    expert = dict(session.execute(
        select(Item.id, Item.result_label)
        .where(Item.id.in_(set(item_ids)), Item.result_source == "expert")).all())
    by_item: dict[int, list[tuple[int, np.ndarray]]] = {}
    matrices: dict[int, np.ndarray] = {}
    for item_id, label, other, confusion, seen, right in rows:
        if label in index:
            if other not in matrices:
                matrices[other] = worker_confusion(project.labels, confusion, seen or 0, right or 0)
            by_item.setdefault(item_id, []).append((index[label], matrices[other]))
    for row, item_id in enumerate(item_ids):
        if expert.get(item_id) in index:
            others[row, index[expert[item_id]]] = 1.0
        elif item_id in by_item:
            given = np.array([g for g, _ in by_item[item_id]], dtype=np.intp)
            others[row] = item_posterior(given, np.stack([m for _, m in by_item[item_id]]))
