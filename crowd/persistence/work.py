"""Assignments (leases), labels, worker standing and its history."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crowd.persistence.base import Base, utcnow

WORKER_STATES = ("qualification", "active", "retraining", "suspended")


class Assignment(Base):
    """A lease of one item to one worker until ``expires_at``.

    The unique (item, worker) pair means a worker is never given the same item
    twice, and so never holds two leases on it.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "worker_id"),
        Index("ix_assignments_worker_live", "worker_id", "project_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    is_gold: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]


class Label(Base):
    """One worker's answer on one item, with its provenance."""

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("item_id", "worker_id"),
        Index("ix_labels_worker_gold", "project_id", "worker_id", "is_gold", "id"),
        Index("ix_labels_project", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), unique=True
    )
    label: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    is_gold: Mapped[bool]
    correct: Mapped[bool | None]
    counted: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int | None]
    guidelines_version: Mapped[int]


class WorkerStanding(Base):
    """A worker's state and running scores in one project."""

    __tablename__ = "worker_standings"
    __table_args__ = (UniqueConstraint("project_id", "worker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    state_reason_code: Mapped[str | None] = mapped_column(String(32))
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    round_seen: Mapped[int] = mapped_column(default=0)
    round_correct: Mapped[int] = mapped_column(default=0)
    gold_seen: Mapped[int] = mapped_column(default=0)
    gold_correct: Mapped[int] = mapped_column(default=0)
    # The hidden-gold part of the record (gold met in work mode): the only gold
    # that counts as evidence of reliability (crowd.domain.reliability).
    hidden_gold_seen: Mapped[int] = mapped_column(default=0)
    hidden_gold_correct: Mapped[int] = mapped_column(default=0)
    work_labels: Mapped[int] = mapped_column(default=0)
    estimated_accuracy: Mapped[float | None]
    confusion: Mapped[dict[str, Any] | None]
    # The gold CUSUM (crowd.domain.sequential), in nats, and when it was last
    # zero (None: not since ``drift_since``). ``drift_since`` is where both drift
    # statistics start: the last low-quality sanction (None: never sanctioned).
    gold_cusum: Mapped[float] = mapped_column(default=0.0)
    gold_cusum_zero_at: Mapped[datetime | None]
    drift_since: Mapped[datetime | None]
    # The work-mode answers since state_changed_at in brief, for the per-answer
    # fraud rules (crowd.domain.fraud.recent); None: not known, read the answers.
    recent_answers: Mapped[dict[str, Any] | None]
    # What the worker's last answer changed, kept while it may be undone
    # (crowd.domain.undo; None: nothing to undo). Migration 0010.
    last_answer: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StateEvent(Base):
    """A recorded change of a worker's state: who, when, why, on what evidence."""

    __tablename__ = "state_events"
    __table_args__ = (Index("ix_state_events_worker", "project_id", "worker_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
