"""A project's items by status and the labels its open items still want: both read
every item, so for a large project the activity job computes them (and "Aggregate
now" after its run) and the dashboard reads the stored row."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crowd.persistence import Item
from crowd.persistence.activity import ProjectBacklog

STALE = timedelta(minutes=2)  # recomputed at least this often while the job runs
LIVE_ITEMS = 50_000  # a project with fewer items is counted live on each view
STATUSES = ("open", "complete", "in_review", "resolved")


def item_counts(session: Session, project_id: int) -> dict[str, int]:
    """Work items by status, their total (``items``), and gold items apart (``gold``)."""
    counts = {"items": 0, "gold": 0, **{status: 0 for status in STATUSES}}
    for is_gold, status, n in session.execute(
        select(Item.is_gold, Item.status, func.count())
        .where(Item.project_id == project_id).group_by(Item.is_gold, Item.status)
    ):
        if is_gold:
            counts["gold"] += n
        else:
            counts["items"] += n
            counts[status] = counts.get(status, 0) + n
    return counts


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
    """Recompute and store the project's backlog and item counts (the caller commits)."""
    wanted, open_items = measure(session, project_id)
    row = session.get(ProjectBacklog, project_id)
    if row is None:
        row = ProjectBacklog(project_id=project_id, labels_needed=0, open_items=0)
        session.add(row)
    row.labels_needed, row.open_items, row.computed_at = wanted, open_items, now
    row.item_counts = item_counts(session, project_id)
    return row


def is_stale(row: ProjectBacklog | None, now: datetime) -> bool:
    """Whether the job should recompute this backlog even without new labels."""
    return row is None or row.item_counts is None or now - row.computed_at >= STALE


def read(session: Session, project_id: int) -> ProjectBacklog | None:
    """The stored backlog, or None before the job first computed it."""
    return session.get(ProjectBacklog, project_id)


def counts_now(session: Session, project_id: int,
               stored: ProjectBacklog | None) -> tuple[dict[str, int], datetime | None]:
    """The item counts to show and when they were counted (None: just now): live for
    a project of fewer than ``LIVE_ITEMS`` items (or none stored yet), else stored."""
    kept = stored.item_counts if stored is not None else None
    if kept is None or kept.get("items", 0) + kept.get("gold", 0) < LIVE_ITEMS:
        return item_counts(session, project_id), None
    return {key: int(value) for key, value in kept.items()}, stored.computed_at if stored else None
