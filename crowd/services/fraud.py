"""Fraud rules on a worker's answers: the cheap per-answer ones (too fast, long
runs of one label) and the shared parts of every fraud sanction.

Each rule is pure in ``crowd.domain.fraud``; this module loads its evidence,
and when it fires hands a ``Finding`` to ``fraud_sanction``, which picks the
step of the ladder (``crowd.domain.fraud.sanction_step``, shared with the drift
checks) and sanctions through
``crowd.services.sanctions.sanction_low_quality`` (labels since the onset stop
counting). Evidence is read only from ``WorkerStanding.state_changed_at`` on:
after a manager's override, a sanction or a passed round no rule fires again
on what came before. The population rules (majority, collusion, sniffing) run
in the periodic drift job: ``crowd.services.fraud_population``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowd.domain.fraud import FAST, RUN, recent
from crowd.domain.fraud.runs import (
    MAX_RUN,
    item_bound,
    run_bound,
    run_fires,
    run_length,
    shortest_suspect_run,
)
from crowd.domain.fraud.settings import FraudSettings
from crowd.domain.fraud.speed import too_fast
from crowd.domain.fraud.stats import most_likely_share
from crowd.persistence import AggregationRun, Item, Label, Project, WorkerStanding
from crowd.services.sanctions import Finding, sanction_low_quality


def class_shares(session: Session, project: Project) -> tuple[np.ndarray, float]:
    """(K,) the project's posterior class shares and how many items they rest on.

    The latest Dawid-Skene class priors; before the first run, the counted
    work-mode labels' mix (add-one smoothed). No data gives uniform shares
    resting on nothing, which every bound treats as "anything is possible".
    """
    labels = project.labels
    run = session.execute(
        select(AggregationRun.priors, AggregationRun.items)
        .where(AggregationRun.project_id == project.id)
        .order_by(AggregationRun.id.desc()).limit(1)).first()
    if run is not None and run[0] and run[1]:
        shares = np.array([float(run[0].get(name, 0.0)) for name in labels])
        if shares.sum() > 0:
            return shares / shares.sum(), float(run[1])
    counts = dict(session.execute(
        select(Label.label, func.count())
        .where(Label.project_id == project.id, Label.counted.is_(True),
               Label.is_gold.is_(False), Label.mode == "work")
        .group_by(Label.label)).all())
    raw = np.array([float(counts.get(name, 0)) for name in labels])
    return (raw + 1) / (raw.sum() + len(labels)), float(raw.sum())


def fraud_sanction(
    session: Session, project: Project, standing: WorkerStanding, finding: Finding,
    rng: np.random.Generator, now: datetime,
) -> dict[str, Any]:
    """Sanction a fraud finding at its step of the ladder; returns the recorded evidence."""
    detail = {**finding.detail, "evidence_since": standing.state_changed_at.isoformat(),
              "reason_code": finding.reason_code}
    finding = Finding(finding.rule, finding.reason_code, finding.reason, finding.statistic,
                      finding.threshold, finding.onset, detail)
    return sanction_low_quality(session, project, standing, finding, rng, now)


def check_answer_fraud(
    session: Session, project: Project, standing: WorkerStanding, label: str,
    duration_ms: int | None, rng: np.random.Generator, now: datetime,
) -> bool:
    """After a work-mode answer (``label``, ``duration_ms``) of an active worker:
    the too-fast and run rules.

    The worker's answers are read only when the summary on the standing
    (``crowd.domain.fraud.recent``) says a rule could fire, which depends on
    the worker's own answers alone: the same statements for hidden gold and
    work, so the check gives no gold away. True when one fired.
    """
    if standing.state != "active":
        return False
    settings = FraudSettings.of(project)
    known = recent.with_answer(standing.recent_answers, label, duration_ms)
    if known is not None:
        standing.recent_answers = known
        shortest = shortest_suspect_run(len(project.labels), settings.same_label_alpha)
        if not recent.may_fire(known, settings.fast_answer_ms, settings.fast_answer_count,
                               settings.fast_answer_window, shortest):
            return False
    session.flush()
    rows = session.execute(
        select(Label.item_id, Label.label, Label.duration_ms, Label.created_at)
        .where(Label.project_id == project.id, Label.worker_id == standing.worker_id,
               Label.mode == "work", Label.created_at > standing.state_changed_at)
        .order_by(Label.id.desc()).limit(MAX_RUN)).all()[::-1]
    standing.recent_answers = recent.summary([(r[1], r[2]) for r in rows])
    if not rows:
        return False
    fast = too_fast([(r[3], r[2]) for r in rows], settings.fast_answer_ms,
                    settings.fast_answer_count, settings.fast_answer_window)
    if fast is not None:
        fraud_sanction(session, project, standing, Finding(
            rule="fast_answers", reason_code=FAST,
            reason=(f"{fast.fast} of your last {fast.window} answers took under "
                    f"{settings.fast_answer_ms} ms; back to training"),
            statistic=fast.fast, threshold=settings.fast_answer_count, onset=fast.onset,
            detail={"fast_answers": fast.fast, "window": fast.window,
                    "floor_ms": settings.fast_answer_ms, "fast_ms": fast.fast_ms}), rng, now)
        return True
    return _check_run(session, project, standing, settings, rows, rng, now)


def _check_run(
    session: Session, project: Project, standing: WorkerStanding, settings: FraudSettings,
    rows: list[Any], rng: np.random.Generator, now: datetime,
) -> bool:
    labels = project.labels
    alpha = settings.same_label_alpha
    length = run_length([r[1] for r in rows])
    if alpha <= 0 or length < shortest_suspect_run(len(labels), alpha):
        return False
    run = rows[-length:]
    if run[-1][1] not in labels:
        return False
    given = labels.index(run[-1][1])
    items = {r[0]: (r[1], r[2]) for r in session.execute(
        select(Item.id, Item.posterior, Item.gold_label)
        .where(Item.id.in_({r[0] for r in run})))}
    shares, n_items = class_shares(session, project)
    bound = most_likely_share(shares, n_items)
    p = np.array([_item_p(items.get(r[0]), labels, given, bound) for r in run])
    if not run_fires(p, alpha, len(labels)):
        return False
    log_bound = run_bound(p)
    fraud_sanction(session, project, standing, Finding(
        rule="same_label_run", reason_code=RUN,
        reason=(f"your last {length} answers were all {labels[given]!r}, a run no careful "
                "worker would give on these items; back to training"),
        statistic=log_bound, threshold=float(np.log(alpha / len(labels))), onset=run[0][3],
        detail={"label": labels[given], "run": length, "log_probability_bound":
                round(log_bound, 4), "alpha": alpha, "fires": "statistic below threshold"}),
        rng, now)
    return True


def _item_p(item: tuple[Any, Any] | None, labels: list[str], given: int,
            bound: np.ndarray) -> float:
    if item is None:
        return float(bound[given])
    posterior, gold = item
    gold_index = labels.index(gold) if gold in labels else None
    vector = (np.array([float(posterior.get(name, 0.0)) for name in labels])
              if posterior else None)
    return item_bound(vector, gold_index, given, bound)

