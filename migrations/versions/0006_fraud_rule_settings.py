"""projects carry the fraud rules' settings

One column per setting (``crowd.domain.fraud.settings``); existing projects get
the defaults, every rule on with its conservative threshold.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Written out here, not read from the models, so the file never changes with them.
COLUMNS = (
    ('fast_answer_ms', sa.Integer(), '1000'),
    ('fast_answer_count', sa.Integer(), '4'),
    ('fast_answer_window', sa.Integer(), '10'),
    ('same_label_alpha', sa.Double(), '0.000001'),
    ('majority_alpha', sa.Double(), '0.0001'),
    ('collusion_alpha', sa.Double(), '0.000001'),
    ('collusion_min_shared', sa.Integer(), '20'),
    ('sniffing_alpha', sa.Double(), '0.0001'),
)


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for name, kind, default in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=default))


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for name, _, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
