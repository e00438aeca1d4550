"""activity counters for the manager's pages

Labels per project and hour, per-worker answers with a histogram of answer
times, each project's backlog of wanted labels and its stored quality report,
all filled by the activity job past a watermark on labels.id (so the dashboard,
workers table and quality page never count every label per view). Existing
labels are counted by the job's first run.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:31:11.973863
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import crowd.persistence.base


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('activity_watermarks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('label_id', sa.Integer(), nullable=False),
    sa.Column('holes', sa.JSON(), nullable=False),
    sa.Column('updated_at', crowd.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_activity_watermarks'))
    )
    op.create_table('label_hours',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('hour', crowd.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('labels', sa.Integer(), nullable=False),
    sa.Column('hidden_gold', sa.Integer(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_label_hours_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'hour', name=op.f('pk_label_hours'))
    )
    op.create_table('project_backlogs',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('labels_needed', sa.Integer(), nullable=False),
    sa.Column('open_items', sa.Integer(), nullable=False),
    sa.Column('computed_at', crowd.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_backlogs_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_backlogs'))
    )
    op.create_table('quality_reports',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('labels', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('computed_at', crowd.persistence.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_quality_reports_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_quality_reports'))
    )
    op.create_table('worker_activity',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('last_active_at', crowd.persistence.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('durations', sa.JSON(), nullable=False),
    sa.Column('median_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_worker_activity_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['worker_id'], ['users.id'], name=op.f('fk_worker_activity_worker_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'worker_id', name=op.f('pk_worker_activity'))
    )


def downgrade() -> None:
    op.drop_table('worker_activity')
    op.drop_table('quality_reports')
    op.drop_table('project_backlogs')
    op.drop_table('label_hours')
    op.drop_table('activity_watermarks')
