"""project backlogs keep the project's items by status

Counting a project's items by status reads every item (670 ms at 1,000,000 items
on PostgreSQL), so for a large project the activity job stores the counts with
the backlog and the dashboard shows them. NULL until the job's next run.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('project_backlogs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_counts', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('project_backlogs', schema=None) as batch_op:
        batch_op.drop_column('item_counts')
