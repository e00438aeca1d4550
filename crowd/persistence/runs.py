"""Records of aggregation runs and scheduled jobs, and the jobs' lock rows."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.persistence.base import Base, utcnow


class AggregationRun(Base):
    """One Dawid-Skene run over a project: its settings, effort and outcome."""

    __tablename__ = "aggregation_runs"
    __table_args__ = (Index("ix_aggregation_runs_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    settings: Mapped[dict[str, Any]]
    items: Mapped[int]
    workers: Mapped[int]
    labels: Mapped[int]
    iterations: Mapped[int]
    converged: Mapped[bool]
    log_likelihood: Mapped[float | None]
    duration_ms: Mapped[int]
    priors: Mapped[dict[str, Any] | None]
    changes: Mapped[dict[str, Any]]
    trigger: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobState(Base):
    """A scheduled job's lock row: when it may next run, and who holds it now."""

    __tablename__ = "job_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime]
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None]


class JobRun(Base):
    """One run of a scheduled job, by one process."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    detail: Mapped[str | None] = mapped_column(Text)
