"""How many labels a project's open items still want: computed by the activity job
(it reads every open item, so never per view) and read by the dashboard."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crowd.persistence import Item
from crowd.persistence.activity import ProjectBacklog

STALE = timedelta(minutes=10)  # recomputed at least this often while the job runs


def measure(session: Session, project_id: int) -> tuple[int, int]:
    """Labels the open work items still want (needed minus labels, never below 0 an
    item), and how many items are open: one read of every open item."""
    wanted, open_items = session.execute(
        select(func.coalesce(func.sum(case((Item.needed > Item.n_labels,
                                            Item.needed - Item.n_labels), else_=0)), 0),
               func.count())
        .where(Item.project_id == project_id, Item.is_gold.is_(False), Item.status == "open")
    ).one()
    return max(int(wanted), 0), int(open_items)


def refresh(session: Session, project_id: int, now: datetime) -> ProjectBacklog:
    """Recompute and store the project's backlog (the caller commits)."""
    wanted, open_items = measure(session, project_id)
    row = session.get(ProjectBacklog, project_id)
    if row is None:
        row = ProjectBacklog(project_id=project_id, labels_needed=0, open_items=0)
        session.add(row)
    row.labels_needed, row.open_items, row.computed_at = wanted, open_items, now
    return row


def is_stale(row: ProjectBacklog | None, now: datetime) -> bool:
    """Whether the job should recompute this backlog even without new labels."""
    return row is None or now - row.computed_at >= STALE


def read(session: Session, project_id: int) -> ProjectBacklog | None:
    """The stored backlog, or None before the job first computed it."""
    return session.get(ProjectBacklog, project_id)
