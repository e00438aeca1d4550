"""worker standings keep their hidden-gold record apart

``hidden_gold_seen`` and ``hidden_gold_correct`` count the gold a worker met in
work mode (hidden gold), the only gold that is evidence of reliability;
``gold_seen`` and ``gold_correct`` go on counting every gold answer, rounds
included, for the record managers see. Existing standings are filled in from
their labels.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 07:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The tables as this revision knows them, so the file never changes with the models.
standings = sa.table(
    'worker_standings', sa.column('project_id', sa.Integer), sa.column('worker_id', sa.Integer),
    sa.column('hidden_gold_seen', sa.Integer), sa.column('hidden_gold_correct', sa.Integer),
)
labels = sa.table(
    'labels', sa.column('project_id', sa.Integer), sa.column('worker_id', sa.Integer),
    sa.column('mode', sa.String), sa.column('is_gold', sa.Boolean),
    sa.column('correct', sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_gold_seen', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('hidden_gold_correct', sa.Integer(), nullable=False,
                                      server_default='0'))
    hidden = sa.and_(
        labels.c.project_id == standings.c.project_id,
        labels.c.worker_id == standings.c.worker_id,
        labels.c.is_gold.is_(True), labels.c.mode == 'work', labels.c.correct.is_not(None),
    )
    op.execute(standings.update().values(
        hidden_gold_seen=sa.select(sa.func.count()).where(hidden).scalar_subquery(),
        hidden_gold_correct=sa.select(sa.func.count())
        .where(hidden, labels.c.correct.is_(True)).scalar_subquery(),
    ))


def downgrade() -> None:
    with op.batch_alter_table('worker_standings', schema=None) as batch_op:
        batch_op.drop_column('hidden_gold_correct')
        batch_op.drop_column('hidden_gold_seen')
