"""What the manager's project pages read besides the project: which projects, their
progress, and whether a project's labels may still change.

Progress is the dashboard's (``crowd.services.backlog`` and ``crowd.services.activity``):
items by status counted live for a small project and stored by the activity job for a
large one, labels from the hourly counters, so no view counts every item or label.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowd.persistence import Label, User
from crowd.services import activity, backlog
from crowd.services.members import visible_projects


def progress(session: Session, project_id: int) -> tuple[dict[str, int], datetime | None]:
    """Items by status, gold items and work labels collected (``labels_collected``), and
    when the item counts were taken (None: just now)."""
    items, counted_at = backlog.counts_now(session, project_id, backlog.read(session, project_id))
    labels = activity.totals(session, project_id, activity.tail(session, project_id))
    return {**items, "labels_collected": labels["work"]}, counted_at


def managed_projects(session: Session, account: User) -> list[dict[str, Any]]:
    """The projects ``account`` may see, newest first, each with its progress."""
    out = []
    for project in visible_projects(session, account):
        counts, counted_at = progress(session, project.id)
        out.append({"project": project, "progress": counts, "counted_at": counted_at})
    return out


def labels_locked(session: Session, project_id: int) -> bool:
    """Whether answers were collected, so the labels can no longer change (the rule
    of ``crowd.services.projects.update_project``)."""
    return session.scalar(
        select(Label.id).where(Label.project_id == project_id).limit(1)) is not None
