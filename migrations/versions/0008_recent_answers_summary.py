"""worker standings carry a summary of their recent answers for the fraud rules

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # NULL for every existing standing: not known, so each worker's next answer
    # reads their answers once and builds it (crowd.domain.fraud.recent).
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recent_answers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.drop_column('recent_answers')
