"""indexes for the manager's item table: one per filter, ending in external_id

The item table (crowd.services.item_table) pages by keyset on external_id in byte
order, filtered by status (or gold), top label and an id prefix. Without these
indexes a filter whose rows are rare walked or sorted the whole project (at
1,000,000 items, every page). On PostgreSQL external_id is indexed COLLATE "C",
the order the table compares in; SQLite's default order is already byte order.
The build takes a lock that holds writes to items back for its length (seconds
per million items).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BYTE_ORDER = {"external_id": 'COLLATE "C"'}
INDEXES = {
    "ix_items_table": ["project_id", "external_id"],
    "ix_items_table_status": ["project_id", "is_gold", "status", "external_id"],
    "ix_items_table_label": ["project_id", "result_label", "external_id"],
    "ix_items_table_status_label": ["project_id", "is_gold", "status", "result_label",
                                    "external_id"],
}


# Gold items only (a few per hundred): small indexes for the gold filter.
GOLD_INDEXES = {
    "ix_items_table_gold": ["project_id", "external_id"],
    "ix_items_table_gold_label": ["project_id", "result_label", "external_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "items", columns, postgresql_ops=BYTE_ORDER)
    for name, columns in GOLD_INDEXES.items():
        op.create_index(name, "items", columns, postgresql_ops=BYTE_ORDER,
                        postgresql_where=sa.text("is_gold = true"),
                        sqlite_where=sa.text("is_gold = 1"))


def downgrade() -> None:
    for name in (*reversed(GOLD_INDEXES), *reversed(INDEXES)):
        op.drop_index(name, table_name="items")
