"""Counters kept incrementally from the labels table by the activity job, so the
manager's pages never count all labels per view: labels per project and hour,
per worker activity (answers, last answer, a histogram of answer times), the
labels still wanted by each project's open items, a stored quality report, and
the job's watermark on ``labels.id``."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crowd.persistence.base import Base, utcnow


class LabelHour(Base):
    """Labels of one project whose ``created_at`` falls in one UTC hour: all of
    them, the hidden gold among them (work mode), and the qualification and
    training answers (round mode). Work labels are the rest."""

    __tablename__ = "label_hours"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    labels: Mapped[int] = mapped_column(default=0)
    hidden_gold: Mapped[int] = mapped_column(default=0)
    rounds: Mapped[int] = mapped_column(default=0)


class WorkerActivity(Base):
    """One worker's answers in one project up to the job's watermark: how many, the
    latest's time, and their durations as counts per bucket of
    ``crowd.domain.durations`` (keys are bucket numbers as strings)."""

    __tablename__ = "worker_activity"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           primary_key=True)
    answers: Mapped[int] = mapped_column(default=0)
    last_active_at: Mapped[datetime | None]
    durations: Mapped[dict[str, Any]]
    median_ms: Mapped[int | None]


class ProjectBacklog(Base):
    """How many more labels a project's open work items want (each item's
    ``needed`` minus its labels), the ETA's numerator, and its items by status
    (``crowd.services.backlog.item_counts``), as of ``computed_at``."""

    __tablename__ = "project_backlogs"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    labels_needed: Mapped[int]
    open_items: Mapped[int]
    item_counts: Mapped[dict[str, Any] | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredQualityReport(Base):
    """A project's quality report (``crowd.services.quality``) computed after its
    aggregation run ``run_id``, over ``labels`` counted labels."""

    __tablename__ = "quality_reports"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    run_id: Mapped[int | None]
    labels: Mapped[int]
    report: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityWatermark(Base):
    """How far the activity job has read ``labels``: every id up to ``label_id`` is
    counted, except ``holes`` (ids below it not yet visible when it read, by id,
    with when they were first missed): a label committed late by a slower
    transaction is counted when it appears; a hole older than the job's
    ``HOLE_SECONDS`` was a rolled-back insert and is forgotten."""

    __tablename__ = "activity_watermarks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_id: Mapped[int] = mapped_column(default=0)
    holes: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
