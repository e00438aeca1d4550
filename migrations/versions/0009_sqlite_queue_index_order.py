"""the work queue index keeps its descending columns on SQLite

Migration 0001 made ix_items_queue inside batch mode, and on SQLite the
``started DESC, priority DESC`` came out ascending: every `next` then sorted all
of a project's open items (14.65 ms at 10,000 items, 973 ms at 1,000,000).
PostgreSQL has had the right index all along and is left alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:50:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

QUEUE = ("CREATE INDEX ix_items_queue ON items "
         "(project_id, is_gold, status, {started}, {priority}, id)")


def _recreate(started: str, priority: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP INDEX IF EXISTS ix_items_queue")
    op.execute(QUEUE.format(started=started, priority=priority))


def upgrade() -> None:
    _recreate("started DESC", "priority DESC")


def downgrade() -> None:
    _recreate("started", "priority")
