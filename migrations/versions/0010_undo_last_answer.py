"""projects may let a worker undo their last answer; standings keep what it changed

``projects.allow_undo`` (off for every existing project) and
``worker_standings.last_answer``: the values the worker's last work answer
changed, before and after it, so that undoing it puts back exactly what was
there (crowd.services.undo).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_undo', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # NULL for every existing standing: no answer given before the upgrade can be undone.
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_answer', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.drop_column('last_answer')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('allow_undo')
