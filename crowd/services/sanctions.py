"""Sanctioning a worker for low quality: one path for every rule.

Whatever rule fires (the gold CUSUM, the agreement CUSUM, the Dawid-Skene
check, or a fraud rule added later), it hands ``sanction_low_quality`` a
``Finding``: the rule's name, the reason code and text for the worker, the
statistic and the threshold it crossed, and the **onset**, the moment from
which the worker's labels are suspect (for a CUSUM, the last time its
statistic was zero). The sanction then

1. stops counting the worker's work labels given at or after the onset and
   reopens their items for other workers (items an expert resolved stay so);
2. restarts the worker's drift statistics from now (see ``drift_since``), so
   the next verdict rests only on what the worker does after retraining;
3. moves the worker one step down the ladder (``crowd.domain.fraud.sanction_step``):
   to ``retraining`` on the first low-quality finding since the last manager
   decision, to ``suspended`` on any later one (or straight to the state the
   rule asks for), and records the event with the evidence: rule, statistic,
   threshold, onset, labels discounted, the step and the earlier strikes, and
   whatever detail the rule adds.

A fraud rule's module needs nothing else::

    sanction_low_quality(session, project, standing, Finding(
        rule="speed", reason_code="too_fast", reason="answers faster than anyone reads",
        statistic=z, threshold=Z_MAX, onset=first_fast_answer_at,
        detail={"median_ms": median}), rng, now, to_state="suspended")
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crowd.domain.fraud import QUALITY_CODES, sanction_step
from crowd.domain.qualification import StateChange
from crowd.persistence import Item, Label, Project, StateEvent, WorkerStanding
from crowd.services.settling import settle_item
from crowd.services.standing import change_state

SANCTION_STATES = ("retraining", "suspended")


@dataclass(frozen=True)
class Finding:
    """What a quality rule found, and from when the worker's labels are suspect."""

    rule: str
    reason_code: str
    reason: str
    statistic: float
    threshold: float
    onset: datetime
    detail: dict[str, Any] = field(default_factory=dict)


def sanction_low_quality(
    session: Session, project: Project, standing: WorkerStanding, finding: Finding,
    rng: np.random.Generator, now: datetime, to_state: str = "retraining",
) -> dict[str, Any]:
    """Discount the worker's labels since the onset, reopen their items, restart
    the drift statistics and move the worker on; returns the recorded evidence.

    The caller holds the standing's row lock (``lock_standing`` or the drift
    job's ``FOR UPDATE``) and commits.
    """
    if to_state not in SANCTION_STATES:
        raise ValueError(f"a sanction moves a worker to one of {SANCTION_STATES}")
    step, earlier = ladder_step(session, standing)
    if to_state == "retraining":
        to_state = step
    discounted = discount_labels(session, project, standing.worker_id, finding.onset, rng)
    # Built whole before the event is written: the JSON evidence is not
    # tracked for changes once the event has been flushed.
    evidence: dict[str, Any] = {
        "rule": finding.rule,
        "statistic": round(float(finding.statistic), 6),
        "threshold": round(float(finding.threshold), 6),
        "onset": finding.onset.isoformat(),
        "discounted_labels": discounted,
        "step": to_state,
        "earlier_sanctions": earlier,
        **finding.detail,
    }
    standing.gold_cusum = 0.0
    standing.gold_cusum_zero_at = None
    standing.drift_since = now
    change_state(session, standing, StateChange(to_state, finding.reason_code, finding.reason,
                                                evidence), now)
    return evidence


def ladder_step(session: Session, standing: WorkerStanding) -> tuple[str, int]:
    """(the state a low-quality finding sends the worker to, the low-quality
    sanctions they had since the last manager decision)."""
    events = session.execute(
        select(StateEvent.reason_code, StateEvent.actor_id)
        .where(StateEvent.project_id == standing.project_id,
               StateEvent.worker_id == standing.worker_id)
        .order_by(StateEvent.id)).all()
    last_manager = max((i for i, (_, actor) in enumerate(events) if actor is not None),
                       default=-1)
    codes = [code for code, _ in events[last_manager + 1:]]
    return sanction_step(codes), sum(1 for code in codes if code in QUALITY_CODES)


def discount_labels(
    session: Session, project: Project, worker_id: int, since: datetime, rng: np.random.Generator
) -> int:
    """Stop counting a worker's work labels given at or after ``since``; reopen their items.

    Items an expert resolved stay resolved. An item short of its label count asks for
    a replacement; one whose counted labels disagree after it has had
    ``max_redundancy`` labels in all goes to review instead of asking for more.
    Returns how many labels stopped counting.
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
        # The widening the discounted label caused goes with it: an item whose
        # remaining labels are confident completes again at once.
        item.needed = max(item.n_labels, project.redundancy)
        session.flush()
        if settle_item(session, project, item, rng) == "more" and \
                _labels_given(session, item.id) >= project.max_redundancy:
            # Its label budget is spent (discounted labels were paid for too) and
            # what still counts does not settle it: an expert decides, rather than
            # a small pool, whose workers have all labelled it, never finishing it.
            item.status, item.review_reason = "in_review", "disagreement"
    return len(rows)


def _labels_given(session: Session, item_id: int) -> int:
    """Every work label the item was given, counted or not."""
    return session.scalar(select(func.count()).select_from(Label).where(
        Label.item_id == item_id, Label.is_gold.is_(False))) or 0
