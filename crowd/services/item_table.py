"""The manager's item table: one page of a project's items, by keyset.

Items are listed in ``external_id`` order, compared byte by byte (``COLLATE "C"``
on PostgreSQL, SQLite's own binary order), so an id prefix is one range of that
order and a page starts right after the last id of the one before: no OFFSET,
and each filter (status or gold, top label, id prefix) walks an index of its own
from the page's first row (migration 0012; ``tests/integration/test_item_table_plan.py``
explains every combination on PostgreSQL).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crowd.persistence import Item
from crowd.persistence.projects import ITEM_STATUSES

PAGE_SIZE = 50
MAX_KEY = 255  # characters of external_id (and so of a prefix or a page key)
STATUS_FILTERS = (*ITEM_STATUSES, "gold")  # "gold": every gold item; the others: work items
COLUMNS = (Item.external_id, Item.status, Item.is_gold, Item.n_labels, Item.needed,
           Item.result_label, Item.confidence, Item.result_source)


@dataclass(frozen=True)
class ItemFilter:
    """What the table shows: a status (or ``gold``), a top label, an id prefix."""

    status: str | None = None
    label: str | None = None
    prefix: str = ""


@dataclass(frozen=True)
class ItemPage:
    """One page of rows and the key the next page starts after (None: the last page)."""

    rows: list[dict[str, Any]]
    next_after: str | None


def _key(session: Session) -> ColumnElement[str]:
    """``external_id`` in byte order on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return Item.external_id.collate("C")
    return Item.external_id  # type: ignore[return-value]


def prefix_end(prefix: str) -> str | None:
    """The first string after every string that starts with ``prefix`` in code point
    order, or None when there is none (a prefix of only U+10FFFF)."""
    stripped = prefix.rstrip(chr(sys.maxunicode))
    if not stripped:
        return None
    last = ord(stripped[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no surrogates in stored text: skip past them
        last = 0xE000
    return stripped[:-1] + chr(last)


def item_page(session: Session, project_id: int, wanted: ItemFilter,
              after: str | None = None, size: int | None = None) -> ItemPage:
    """The items of ``project_id`` that ``wanted`` lets through, after the key ``after``
    (``size`` of them, ``PAGE_SIZE`` unless given)."""
    size = size or PAGE_SIZE
    key = _key(session)
    query = select(*COLUMNS).where(Item.project_id == project_id)
    if wanted.status == "gold":
        query = query.where(Item.is_gold == true())
    elif wanted.status is not None:
        query = query.where(Item.is_gold == false(), Item.status == wanted.status)
    if wanted.label is not None:
        query = query.where(Item.result_label == wanted.label)
    if wanted.prefix:
        query = query.where(key >= wanted.prefix)
        end = prefix_end(wanted.prefix)
        if end is not None:
            query = query.where(key < end)
    if after is not None:
        query = query.where(key > after)
    found = session.execute(query.order_by(key).limit(size + 1)).mappings().all()
    rows = [dict(row) for row in found[:size]]
    return ItemPage(rows, rows[-1]["external_id"] if len(found) > size else None)
