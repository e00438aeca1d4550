"""The review page's reads: one item of the queue at a time, and what is left.

Each view reads one item (the head of the queue, or the one asked for), its
labels, and a count: never the whole queue. Items this expert skipped (the page
keeps them in the session, see ``crowd.web.ui.review_skips``) go to the back of
their queue: the head is the most uncertain item they have not skipped, and only
when none is left do the skipped ones come round again, first skipped first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crowd.persistence import Item
from crowd.services.reviews import QUEUE_ORDER, entries, in_review


@dataclass(frozen=True)
class Skipped:
    """A skipped item still in review: its opaque id and its name."""

    id: int
    external_id: str


def queue_head(session: Session, project_id: int,
               skipped: Sequence[int]) -> dict[str, Any] | None:
    """The queue entry to show next (``reviews.entries`` shape), or None when the
    queue is empty. ``skipped``: opaque ids, first skipped first."""
    query = in_review(project_id)
    if skipped:
        query = query.where(Item.public_id.not_in(list(skipped)))
    item = session.scalar(query.order_by(*QUEUE_ORDER).limit(1))
    if item is None and skipped:
        by_id = {found.public_id: found for found in session.scalars(
            in_review(project_id).where(Item.public_id.in_(list(skipped))))}
        item = next((by_id[public] for public in skipped if public in by_id), None)
    return entries(session, [item])[0] if item is not None else None


def queue_entry(session: Session, project_id: int, public_id: int) -> dict[str, Any] | None:
    """The entry of the item with this opaque id if it is in this project's review
    queue; None for any other id (unknown, resolved, gold or another project's)."""
    item = session.scalar(in_review(project_id).where(Item.public_id == public_id))
    return entries(session, [item])[0] if item is not None else None


def left_in_review(session: Session, project_id: int, cap: int) -> int:
    """How many of the project's items are in review, counted up to ``cap`` (an
    index-only walk that stops there, however long the queue)."""
    some = (select(Item.id).where(Item.project_id == project_id, Item.is_gold.is_(False),
                                  Item.status == "in_review")
            .limit(cap).subquery())
    return session.scalar(select(func.count()).select_from(some)) or 0


def still_skipped(session: Session, project_id: int, skipped: Sequence[int]) -> list[Skipped]:
    """The skipped items still in this project's review queue, in skip order."""
    if not skipped:
        return []
    names = dict(session.execute(
        select(Item.public_id, Item.external_id)
        .where(Item.project_id == project_id, Item.is_gold.is_(False),
               Item.status == "in_review", Item.public_id.in_(list(skipped)))).all())
    return [Skipped(public, names[public]) for public in skipped if public in names]
