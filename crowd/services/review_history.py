"""An expert's decisions in a project, newest first, a page at a time by keyset.

The decisions are read off the items they resolved (``resolved_by_id``,
``resolved_at``, the label and note kept on the item): a resolved item is never
reopened, so every decision stays there. The keyset is (``resolved_at``,
``public_id``): the opaque id, so a cursor says nothing of import order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.persistence import Item

PAGE = 25
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"([0-9]{1,17})-([0-9]{1,16})")


@dataclass(frozen=True)
class Decision:
    """One resolution: the item, the label chosen, the note, whether it became gold."""

    item_id: int
    external_id: str
    label: str
    note: str | None
    promoted: bool
    resolved_at: datetime


@dataclass(frozen=True)
class Cursor:
    """Where a page of history starts: decisions strictly older than this one."""

    resolved_at: datetime
    public_id: int

    def token(self) -> str:
        """The cursor as a query-string value: microseconds since 1970, then the id."""
        micros = (self.resolved_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}-{self.public_id}"


def parse_cursor(token: str) -> Cursor | None:
    """The cursor a ``token`` names, or None when it is not one (the page says so)."""
    found = _CURSOR.fullmatch(token) if token.isascii() else None
    if found is None:
        return None
    micros, public_id = int(found.group(1)), int(found.group(2))
    if not 1 <= public_id <= PUBLIC_ID_MAX or micros > 10**16:
        return None
    return Cursor(EPOCH + timedelta(microseconds=micros), public_id)


def decisions(session: Session, project_id: int, expert_id: int, before: Cursor | None = None,
              limit: int = PAGE) -> tuple[list[Decision], Cursor | None]:
    """A page of the expert's decisions in the project, newest first, older than
    ``before``; and the cursor of the next page (None on the last).

    Resolved items are found by the work-queue index's prefix (project, is_gold,
    status), both values of ``is_gold`` since a promoted item became gold.
    """
    query = (
        select(Item.public_id, Item.external_id, Item.result_label, Item.review_note,
               Item.is_gold, Item.resolved_at)
        .where(Item.project_id == project_id, Item.is_gold.in_((False, True)),
               Item.status == "resolved", Item.resolved_by_id == expert_id)
        .order_by(Item.resolved_at.desc(), Item.public_id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        # A row-value comparison: PostgreSQL walks ix_items_resolved_by from the
        # cursor on (an OR of the two cases read every older decision, then sorted).
        query = query.where(tuple_(Item.resolved_at, Item.public_id)
                            < tuple_(before.resolved_at, before.public_id))
    rows = session.execute(query).all()
    page = [Decision(public, name, label or "", note, bool(gold), when)
            for public, name, label, note, gold, when in rows[:limit]]
    more = len(rows) > limit and page
    return page, Cursor(page[-1].resolved_at, page[-1].item_id) if more else None
