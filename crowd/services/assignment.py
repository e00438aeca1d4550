"""``next``: reserving an item for a worker, atomically.

On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``:
concurrent workers never wait on each other and never take the same slot. On
SQLite every writing transaction starts with ``BEGIN IMMEDIATE`` (see
``crowd.extensions``), which serialises them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, exists, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from crowd.domain.errors import NotFound
from crowd.domain.fraud.sniffing import disguised
from crowd.domain.gold import SHUFFLE_KEYS
from crowd.domain.qualification import round_result
from crowd.domain.routing import Pick, gold_start_key, plan_next, round_class
from crowd.persistence import Assignment, Item, Project, WorkerStanding
from crowd.services.standing import change_state, lock_standing

# A PostgreSQL candidate can be filled by a transaction that committed after
# the pick's snapshot; the reserving INSERT re-counts, and we try the next one.
MAX_RESERVE_TRIES = 5
# Where the decoy gold search of a work offer starts (any point walks alike).
DECOY_GOLD_START = SHUFFLE_KEYS // 2


@dataclass(frozen=True)
class Offer:
    """An assignment as the worker sees it."""

    assignment: Assignment
    item: Item
    labels: list[str]

    def as_dict(self) -> dict[str, Any]:
        # The item's opaque public id, never its sequential one. The assignment
        # id is sequential too, but it is made now, for gold and work alike, so
        # it tells only the order of this worker's own `next` calls.
        return {
            "assignment_id": self.assignment.id,
            "item": {"id": self.item.public_id, "data": self.item.data},
            "labels": self.labels,
            "expires_at": self.assignment.expires_at.isoformat().replace("+00:00", "Z"),
            "mode": self.assignment.mode,
        }


def live_lease(worker_id: int, now: datetime) -> Any:
    """The condition for an unanswered, unreleased, unexpired lease of ``worker_id``."""
    return and_(
        Assignment.worker_id == worker_id,
        Assignment.answered_at.is_(None),
        Assignment.released_at.is_(None),
        Assignment.expires_at > now,
    )


def next_assignment(
    session: Session, project_id: int, worker_id: int, rng: np.random.Generator, now: datetime
) -> Offer | None:
    """Reserve the next item for a worker, or None when nothing is left for them.

    Raises ``NotFound`` for an unknown project and ``Forbidden`` (``suspended``)
    for a suspended worker.
    """
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    standing, held_id = _standing_and_held(session, project, worker_id, now)
    if held_id is not None:
        held = session.execute(
            select(Assignment, Item).join(Item, Item.id == Assignment.item_id)
            .where(Assignment.id == held_id)
        ).one()
        session.commit()
        return Offer(held[0], held[1], project.labels)
    for _ in range(2):
        plan = plan_next(standing.state, project.gold_rate, rng)
        if disguised(standing.state, standing.state_reason_code):  # gold served as work
            plan = [Pick(pick.pool, "work") for pick in plan]
        for pick in plan:
            for _ in range(MAX_RESERVE_TRIES):
                item = _pick(session, project, worker_id, pick, rng, now)
                if item is None:
                    break
                offer = _reserve(session, project, worker_id, item, pick, now)
                if offer is not None:
                    session.commit()
                    return offer
        if not _end_round_without_gold(session, project, standing, now):
            break
    session.commit()
    return None


def _standing_and_held(
    session: Session, project: Project, worker_id: int, now: datetime
) -> tuple[WorkerStanding, int | None]:
    """The worker's standing, locked (made on a first visit), and the id of a live
    lease they hold in the project, if any: one statement in the common case."""
    held = (
        select(Assignment.id)
        .where(Assignment.project_id == project.id, live_lease(worker_id, now))
        .limit(1).scalar_subquery()
    )
    row = session.execute(
        select(WorkerStanding, held)
        .where(WorkerStanding.project_id == project.id, WorkerStanding.worker_id == worker_id)
        .with_for_update(of=WorkerStanding)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:  # a first visit: no standing yet, so no lease either
        return lock_standing(session, project, worker_id, now), None
    return row[0], row[1]


def _pick(
    session: Session, project: Project, worker_id: int, pick: Pick,
    rng: np.random.Generator, now: datetime,
) -> Item | None:
    """The item for ``pick``, or None when its pool has nothing for this worker.

    In work mode (where gold is hidden, by ``gold_rate`` or in a disguised
    round) both pools are searched whichever was chosen, and the other's find
    is dropped: the same statements, the same index walks and the same row
    lock, so a worker timing `next` cannot tell hidden gold from work.
    """
    hidden = pick.mode == "work"
    if pick.pool == "gold":
        start = gold_start_key(rng, SHUFFLE_KEYS)
        if not hidden:  # a round with feedback: its gold covers the classes evenly
            item = _pick_gold(session, project.id, worker_id, start,
                              label=round_class(rng, project.labels))
            return item or _pick_gold(session, project.id, worker_id, start)
        item = _pick_gold(session, project.id, worker_id, start)
        if item is not None and _work_candidate(
                session, project.id, worker_id, now, wait=False) is None:
            # No work is left for this worker: hidden gold now would be the
            # only thing served, and so known for gold. Nothing is served.
            return None
        return item
    found = _work_candidate(session, project.id, worker_id, now, wait=True)
    if hidden:
        _pick_gold(session, project.id, worker_id, DECOY_GOLD_START)
    return found


def _work_candidate(
    session: Session, project_id: int, worker_id: int, now: datetime, *, wait: bool
) -> Item | None:
    """The first work item with a free slot, locked. On PostgreSQL rows others
    hold are skipped; with ``wait``, when every candidate is held, it waits for
    them once rather than wrongly telling the worker that nothing is left (an
    answer settling an item, another next hold them only briefly)."""
    if session.get_bind().dialect.name == "sqlite":
        return _pick_work(session, project_id, worker_id, now, skip_locked=False)
    item = _pick_work(session, project_id, worker_id, now, skip_locked=True)
    if item is None and wait:
        item = _pick_work(session, project_id, worker_id, now, skip_locked=False)
    return item


def _never_held(worker_id: int) -> Any:
    return ~exists().where(Assignment.item_id == Item.id, Assignment.worker_id == worker_id)


def _pick_work(
    session: Session, project_id: int, worker_id: int, now: datetime, *, skip_locked: bool
) -> Item | None:
    """The first open work item, in queue order, that still has a free slot and
    that this worker never held; locked (skipping rows others hold, if asked)."""
    leases = (
        select(func.count()).select_from(Assignment)
        .where(
            Assignment.item_id == Item.id,
            Assignment.answered_at.is_(None),
            Assignment.released_at.is_(None),
            Assignment.expires_at > now,
        )
        .correlate(Item)
        .scalar_subquery()
    )
    query = (
        select(Item)
        .where(
            Item.project_id == project_id,
            Item.is_gold.is_(False),
            Item.status == "open",
            Item.n_labels + leases < Item.needed,
            _never_held(worker_id),
        )
        .order_by(Item.started.desc(), Item.priority.desc(), Item.id)
        .limit(1)
        .with_for_update(skip_locked=skip_locked, of=Item)
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def _pick_gold(session: Session, project_id: int, worker_id: int, start: int,
               label: str | None = None) -> Item | None:
    """A uniformly random gold item this worker never saw (of gold label
    ``label``, if given): the first unseen one at or after a random point of
    the shuffle ring, wrapping around.

    One statement whatever the start: each half of the ring is one short walk
    of ix_items_gold_pick, and the half after the start wins.
    """
    base = select(Item.id, Item.shuffle_key).where(
        Item.project_id == project_id, Item.is_gold.is_(True), _never_held(worker_id)
    ).order_by(Item.shuffle_key).limit(1)
    if label is not None:
        base = base.where(Item.gold_label == label)
    after = base.where(Item.shuffle_key >= start).subquery()
    before = base.where(Item.shuffle_key < start).subquery()
    ring = union_all(
        select(after.c.id, literal(0).label("turn")),
        select(before.c.id, literal(1).label("turn")),
    ).subquery()
    return session.scalar(
        select(Item).join(ring, ring.c.id == Item.id).order_by(ring.c.turn).limit(1)
    )


def _reserve(
    session: Session, project: Project, worker_id: int, item: Item, pick: Pick, now: datetime
) -> Offer | None:
    """The lease of ``item`` (locked by the pick), or None when a work item's slots
    filled after the pick's snapshot was taken.

    One statement: the INSERT reads the item's live leases again (on PostgreSQL
    a new statement sees what committed since the pick; the item's row lock keeps
    anyone else from taking a slot now), and inserts only if a slot is free.
    Gold is never full (any number of workers may hold it): the same statement,
    its condition always true, so gold and work offers cost alike.
    """
    expires = now + timedelta(seconds=project.lease_seconds)
    leases = (
        select(func.count()).select_from(Assignment)
        .where(Assignment.item_id == Item.id, Assignment.answered_at.is_(None),
               Assignment.released_at.is_(None), Assignment.expires_at > now)
        .correlate(Item).scalar_subquery()
    )
    values = select(
        literal(project.id), Item.id, literal(worker_id), literal(pick.mode), Item.is_gold,
        literal(now, type_=Assignment.created_at.type),
        literal(expires, type_=Assignment.expires_at.type),
    ).where(Item.id == item.id, Item.is_gold | (Item.n_labels + leases < Item.needed))
    assignment_id = session.scalar(
        insert(Assignment)
        .from_select(["project_id", "item_id", "worker_id", "mode", "is_gold", "created_at",
                      "expires_at"], values)
        .returning(Assignment.id)
    )
    if assignment_id is None:
        return None
    assignment = Assignment(
        id=assignment_id, project_id=project.id, item_id=item.id, worker_id=worker_id,
        mode=pick.mode, is_gold=item.is_gold, created_at=now, expires_at=expires,
    )
    return Offer(assignment, item, project.labels)


def _end_round_without_gold(
    session: Session, project: Project, standing: WorkerStanding, now: datetime
) -> bool:
    """A qualification or retraining round that has run out of unseen gold ends
    on what was answered. True when the worker's state changed (so try again)."""
    if standing.state not in ("qualification", "retraining"):
        return False
    change = round_result(
        standing.state, standing.round_seen, standing.round_correct,
        project.qualification_size, project.qualification_accuracy, exhausted=True,
    )
    if change is None:
        return False
    change_state(session, standing, change, now)
    return True

