"""items.public_id: the opaque, random id workers and experts know an item by

Existing items get random ids too, so gold imported in its own batch stops
standing out by its neighbouring sequential ids.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:40:00
"""
from __future__ import annotations

import secrets
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PUBLIC_ID_MAX = 2**53 - 1  # as crowd.domain.public_ids; copied so this file never changes
CHUNK = 1000


def _distinct_ids(n: int) -> list[int]:
    """``n`` distinct random ids in the order drawn (a set's order would follow
    the low bits, which is no order to hand out along the sequential ids)."""
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < n:
        value = secrets.randbelow(PUBLIC_ID_MAX) + 1
        if value not in seen:
            seen.add(value)
            chosen.append(value)
    return chosen


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    items = sa.table('items', sa.column('id', sa.Integer()),
                     sa.column('public_id', sa.BigInteger()))
    ids = list(connection.scalars(sa.select(items.c.id)))
    drawn = _distinct_ids(len(ids))
    fill = (items.update().where(items.c.id == sa.bindparam('item'))
            .values(public_id=sa.bindparam('public')))
    for start in range(0, len(ids), CHUNK):
        connection.execute(fill, [{'item': i, 'public': p}
                                  for i, p in zip(ids[start:start + CHUNK],
                                                  drawn[start:start + CHUNK])])
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_items_public_id'), ['public_id'])


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_items_public_id'), type_='unique')
        batch_op.drop_column('public_id')
