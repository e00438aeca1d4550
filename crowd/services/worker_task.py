"""What the worker's task page reads besides the offer: the lease held, the standing,
the progress line and, for a suspended worker, whom to ask.

Every read here is the same for hidden gold and work: the counts take gold and work
alike, so a worker watching them after each answer learns nothing about the item.
Each count walks an index and stops early (``LEFT_CAP``), whatever the project's size.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session

from crowd.domain.worker_page import LEFT_CAP
from crowd.persistence import Assignment, Item, Project, ProjectMember, User, WorkerStanding
from crowd.services.assignment import Offer, live_lease
from crowd.services.standing_report import own_standing

MAX_MANAGERS = 5  # managers named on the suspended page


@dataclass(frozen=True)
class Progress:
    """The progress line: answers since 00:00 UTC and items left (up to ``LEFT_CAP``)."""

    answered_today: int
    left: int


@dataclass(frozen=True)
class TaskView:
    """Everything the task page shows around the offer (``offer`` None: nothing held).
    A suspended worker also gets whom to ask (``managers``) and their own record as
    ``own_standing`` gives it (``record``: hidden gold in whole blocks only)."""

    project: Project
    standing: WorkerStanding | None
    offer: Offer | None
    progress: Progress
    managers: list[str]
    record: dict[str, Any] | None


def held_offer(session: Session, project: Project, worker_id: int, now: datetime,
               assignment_id: int | None = None) -> Offer | None:
    """The live lease the worker holds in the project, as an offer: ``assignment_id``
    if that is one, else any (the oldest); None when they hold none. Reads only: it
    never reserves."""
    query = (select(Assignment, Item).join(Item, Item.id == Assignment.item_id)
             .where(Assignment.project_id == project.id, live_lease(worker_id, now))
             .order_by(Assignment.id).limit(1))
    row = None
    if assignment_id is not None:
        row = session.execute(query.where(Assignment.id == assignment_id)).first()
    if row is None:
        row = session.execute(query).first()
    return Offer(row[0], row[1], project.labels) if row else None


def _never_held(worker_id: int) -> object:
    return ~exists().where(Assignment.item_id == Item.id, Assignment.worker_id == worker_id)


def progress(session: Session, project_id: int, worker_id: int, now: datetime) -> Progress:
    """One statement. Items left: open work items with a free slot this worker never
    held plus gold they never saw, each counted up to ``LEFT_CAP`` (an index walk that
    stops there); the item on screen is held, so it is not among them."""
    leases = (
        select(func.count()).select_from(Assignment)
        .where(Assignment.item_id == Item.id, Assignment.answered_at.is_(None),
               Assignment.released_at.is_(None), Assignment.expires_at > now)
        .correlate(Item).scalar_subquery()
    )
    work = select(Item.id).where(
        Item.project_id == project_id, Item.is_gold.is_(False), Item.status == "open",
        Item.n_labels + leases < Item.needed, _never_held(worker_id),
    ).limit(LEFT_CAP).subquery()
    # In ix_items_gold_pick's order, so that it is walked, wherever the gold lies.
    gold = select(Item.id).where(
        Item.project_id == project_id, Item.is_gold == true(), _never_held(worker_id),
    ).order_by(Item.shuffle_key).limit(LEFT_CAP).subquery()
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    today = (select(func.count()).select_from(Assignment)
             .where(Assignment.worker_id == worker_id, Assignment.project_id == project_id,
                    Assignment.answered_at >= midnight).scalar_subquery())
    n_work, n_gold, answered = session.execute(select(
        select(func.count()).select_from(work).scalar_subquery(),
        select(func.count()).select_from(gold).scalar_subquery(),
        today,
    )).one()
    return Progress(answered_today=int(answered), left=min(int(n_work) + int(n_gold), LEFT_CAP))


def managers(session: Session, project_id: int) -> list[str]:
    """The project's current managers by username (the first few), to appeal to."""
    return list(session.scalars(
        select(User.username).join(ProjectMember, and_(ProjectMember.user_id == User.id))
        .where(ProjectMember.project_id == project_id, ProjectMember.role == "manager",
               ProjectMember.removed_at.is_(None), User.active.is_(True))
        .order_by(User.username).limit(MAX_MANAGERS)))


def task_view(session: Session, project: Project, worker_id: int, offer: Offer | None,
              now: datetime) -> TaskView:
    """The page around ``offer`` (from ``next`` or ``held_offer``); ends the read."""
    standing = session.scalar(
        select(WorkerStanding)
        .where(WorkerStanding.project_id == project.id, WorkerStanding.worker_id == worker_id))
    suspended = standing is not None and standing.state == "suspended"
    view = TaskView(project, standing, offer, progress(session, project.id, worker_id, now),
                    managers(session, project.id) if suspended else [],
                    own_standing(session, project.id, worker_id) if suspended else None)
    session.commit()
    return view
