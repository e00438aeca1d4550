"""A worker's home page: each project they may work on, with their standing in it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.persistence import Project, WorkerStanding
from crowd.services import standing_report


@dataclass(frozen=True)
class HomeRow:
    """One project on the worker's home page; ``standing`` is ``own_standing``'s
    answer (gold in whole blocks, reasons), None before their first item there."""

    project: Project
    standing: dict[str, Any] | None


def home_rows(session: Session, worker_id: int, projects: list[Project]) -> list[HomeRow]:
    """The worker's standing in each of ``projects`` (in their order). One statement
    finds where they have started; only those projects read the standing itself."""
    started = set(session.scalars(
        select(WorkerStanding.project_id)
        .where(WorkerStanding.worker_id == worker_id,
               WorkerStanding.project_id.in_([p.id for p in projects]))))
    rows = [HomeRow(p, standing_report.own_standing(session, p.id, worker_id)
                    if p.id in started else None) for p in projects]
    session.commit()
    return rows
