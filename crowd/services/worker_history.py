"""One worker as their manager sees them: standing, state history with evidence,
gold accuracy over time, activity, and the state changes that may be made."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.domain.activity import rolling_accuracy
from crowd.domain.overrides import Transition, transitions
from crowd.persistence import Label, WorkerActivity
from crowd.services.standing_report import worker_detail

GOLD_SHOWN = 2_000  # the latest gold answers drawn over time
WINDOW = 10


@dataclass(frozen=True)
class GoldPoint:
    """A gold answer: when, whether right, the accuracy of the last ``WINDOW``, its mode."""

    at: datetime
    correct: bool
    rolling: float
    mode: str


@dataclass(frozen=True)
class WorkerPage:
    """``detail`` is ``standing_report.worker_detail``'s answer."""

    detail: dict[str, Any]
    gold: list[GoldPoint]
    median_ms: int | None
    answers: int
    last_active_at: datetime | None
    transitions: list[Transition]


def worker_page(session: Session, project_id: int, worker_id: int) -> WorkerPage:
    """Everything the worker page shows; ``NotFound`` if they never worked here."""
    detail = worker_detail(session, project_id, worker_id)
    rows = session.execute(
        select(Label.created_at, Label.correct, Label.mode)
        .where(Label.project_id == project_id, Label.worker_id == worker_id,
               Label.is_gold.is_(True))
        .order_by(Label.id.desc()).limit(GOLD_SHOWN)
    ).all()[::-1]
    rolling = rolling_accuracy([bool(row.correct) for row in rows], WINDOW)
    gold = [GoldPoint(row.created_at, bool(row.correct), share, row.mode)
            for row, share in zip(rows, rolling)]
    kept = session.get(WorkerActivity, (project_id, worker_id))
    return WorkerPage(
        detail=detail, gold=gold,
        median_ms=kept.median_ms if kept else None, answers=kept.answers if kept else 0,
        last_active_at=kept.last_active_at if kept else None,
        transitions=transitions(detail["state"]),
    )
