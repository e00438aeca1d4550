"""worker standings carry the drift CUSUM

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 07:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import crowd.persistence.base


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gold_cusum', sa.Double(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('gold_cusum_zero_at',
                                      crowd.persistence.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('drift_since',
                                      crowd.persistence.base.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.drop_column('drift_since')
        batch_op.drop_column('gold_cusum_zero_at')
        batch_op.drop_column('gold_cusum')
