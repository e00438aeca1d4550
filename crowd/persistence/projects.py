"""Projects and their items."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from crowd.domain.public_ids import draw_public_ids, random_public_id
from crowd.persistence.base import Base, utcnow

ITEM_STATUSES = ("open", "complete", "in_review", "resolved")


class Project(Base):
    """A labeling project: its classes, guidelines and quality settings."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    labels: Mapped[list[str]]
    guidelines: Mapped[str] = mapped_column(Text, default="")
    guidelines_version: Mapped[int] = mapped_column(default=1)
    redundancy: Mapped[int]
    max_redundancy: Mapped[int]
    confidence_threshold: Mapped[float]
    gold_rate: Mapped[float]
    lease_seconds: Mapped[int]
    qualification_size: Mapped[int]
    qualification_accuracy: Mapped[float]
    min_accuracy: Mapped[float]
    drift_window: Mapped[int]
    review_rate: Mapped[float]
    # The fraud rules' settings (crowd.domain.fraud.settings; 0 turns a rule off).
    fast_answer_ms: Mapped[int] = mapped_column(default=1000)
    fast_answer_count: Mapped[int] = mapped_column(default=4)
    fast_answer_window: Mapped[int] = mapped_column(default=10)
    same_label_alpha: Mapped[float] = mapped_column(default=1e-6)
    majority_alpha: Mapped[float] = mapped_column(default=1e-4)
    collusion_alpha: Mapped[float] = mapped_column(default=1e-6)
    collusion_min_shared: Mapped[int] = mapped_column(default=20)
    sniffing_alpha: Mapped[float] = mapped_column(default=1e-4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enrollment: Mapped[str] = mapped_column(String(16), default="open")
    # A worker may take back their last work answer while its lease lives
    # (crowd.services.undo; migration 0010).
    allow_undo: Mapped[bool] = mapped_column(default=False)


class Item(Base):
    """One thing to label. Gold items carry a hidden ``gold_label``.

    ``id`` is internal (sequential, in import order) and never shown to a worker
    or an expert: they know an item only by its random ``public_id``.

    ``needed`` is how many work labels the item currently wants (``redundancy``,
    raised up to ``max_redundancy`` when labels disagree); ``n_labels`` counts the
    labels that count. The result columns hold the latest aggregation.
    """

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        # Gold picking: a random start point on shuffle_key, then walk.
        Index("ix_items_gold_pick", "project_id", "is_gold", "shuffle_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[int] = mapped_column(BigInteger, unique=True, default=random_public_id)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    data: Mapped[dict[str, Any]]
    gold_label: Mapped[str | None] = mapped_column(String(200))
    is_gold: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(default=0)
    needed: Mapped[int]
    n_labels: Mapped[int] = mapped_column(default=0)
    # Set by the item's first label: started items go first, to be finished.
    started: Mapped[bool] = mapped_column(default=False)
    shuffle_key: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    result_label: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None]
    result_source: Mapped[str | None] = mapped_column(String(16))
    posterior: Mapped[dict[str, Any] | None]
    review_reason: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]


# The work queue: open work items of a project, labelled ones first, then by
# priority, then oldest. `next` walks this index in order (see routing queries).
Index(
    "ix_items_queue",
    Item.project_id, Item.is_gold, Item.status,
    Item.started.desc(), Item.priority.desc(), Item.id,
)

# The manager's item table (crowd.services.item_table, migration 0012): one index per
# filter, each ending in external_id compared byte by byte (COLLATE "C" on PostgreSQL;
# SQLite's default order is already that), so every page is a walk from its first row.
_BYTE_ORDER = {"external_id": 'COLLATE "C"'}
Index("ix_items_table", Item.project_id, Item.external_id, postgresql_ops=_BYTE_ORDER)
Index("ix_items_table_status", Item.project_id, Item.is_gold, Item.status, Item.external_id,
      postgresql_ops=_BYTE_ORDER)
Index("ix_items_table_label", Item.project_id, Item.result_label, Item.external_id,
      postgresql_ops=_BYTE_ORDER)
Index("ix_items_table_status_label", Item.project_id, Item.is_gold, Item.status,
      Item.result_label, Item.external_id, postgresql_ops=_BYTE_ORDER)
Index("ix_items_table_gold", Item.project_id, Item.external_id, postgresql_ops=_BYTE_ORDER,
      postgresql_where=Item.is_gold == true(), sqlite_where=Item.is_gold == true())
Index("ix_items_table_gold_label", Item.project_id, Item.result_label, Item.external_id,
      postgresql_ops=_BYTE_ORDER, postgresql_where=Item.is_gold == true(),
      sqlite_where=Item.is_gold == true())


def fresh_public_ids(session: Session, rng: np.random.Generator, n: int,
                     chunk: int = 1000) -> list[int]:
    """``n`` random public ids that no item has yet (the rare clash is drawn again)."""
    ids = draw_public_ids(rng, n)
    taken: set[int] = set()
    while True:
        clashes = {
            found
            for start in range(0, len(ids), chunk)
            for found in session.scalars(
                select(Item.public_id).where(Item.public_id.in_(ids[start:start + chunk])))
        }
        if not clashes:
            return ids
        taken |= set(ids)
        redrawn = iter(draw_public_ids(rng, len(clashes), taken))
        ids = [next(redrawn) if value in clashes else value for value in ids]


class ProjectMember(Base):
    """A user's role in one project. A removed member keeps the row (with
    ``removed_at``), so a worker removed from an open project cannot rejoin by
    starting work, and their labels keep their provenance."""

    __tablename__ = "project_members"
    __table_args__ = (Index("ix_project_members_user", "user_id", "project_id"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    removed_at: Mapped[datetime | None]

# The expert's review queue (crowd.services.reviews.QUEUE_ORDER, migration 0014): in
# review, least confident first, nulls first. PostgreSQL needs NULLS FIRST said; SQLite
# has no such clause in an index and puts nulls first in ascending order anyway, so
# migration 0014 makes it plain there (the schema is only ever made by migrations).
Index("ix_items_review", Item.project_id, Item.is_gold, Item.status,
      Item.confidence.asc().nulls_first(), Item.id)
# An expert's decisions, newest first (crowd.services.review_history).
Index("ix_items_resolved_by", Item.resolved_by_id, Item.project_id, Item.resolved_at.desc(),
      Item.public_id.desc(), postgresql_where=Item.resolved_by_id.is_not(None),
      sqlite_where=Item.resolved_by_id.is_not(None))
