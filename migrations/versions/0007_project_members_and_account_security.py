"""project members and enrollment; login throttles; session versions; token expiry

Existing projects keep who could reach them: the creator (or, where none is
recorded, every manager) becomes a manager member and every expert an expert
member; enrollment stays ``open``, so workers keep joining by starting work.
Existing tokens expire 30 days after this migration.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00
"""
from datetime import UTC, datetime, timedelta
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from crowd.persistence.base import UTCDateTime


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TOKEN_DAYS = 30


def upgrade() -> None:
    op.create_table(
        'project_members',
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('added_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('removed_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('project_id', 'user_id'),
    )
    op.create_index('ix_project_members_user', 'project_members', ['user_id', 'project_id'])
    op.create_table(
        'login_throttles',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrollment', sa.String(length=16), nullable=False,
                                      server_default='open'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True))
    now = datetime.now(UTC)
    op.get_bind().execute(sa.text('UPDATE api_tokens SET expires_at = :at').bindparams(
        sa.bindparam('at', type_=UTCDateTime())), {'at': now + timedelta(days=TOKEN_DAYS)})
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=UTCDateTime(timezone=True),
                              nullable=False)
    _keep_todays_access(now)


def _keep_todays_access(now: datetime) -> None:
    bind = op.get_bind()
    insert = sa.text('INSERT INTO project_members (project_id, user_id, role, added_at) '
                     'VALUES (:project, :user, :role, :at)').bindparams(
        sa.bindparam('at', type_=UTCDateTime()))
    managers = [row[0] for row in bind.execute(sa.text(
        "SELECT id FROM users WHERE role = 'manager'"))]
    experts = [row[0] for row in bind.execute(sa.text(
        "SELECT id FROM users WHERE role = 'expert'"))]
    for project, creator, creator_role in bind.execute(sa.text(
            'SELECT p.id, p.created_by_id, u.role FROM projects p '
            'LEFT JOIN users u ON u.id = p.created_by_id')):
        owners = [creator] if creator is not None and creator_role == 'manager' else managers
        rows = [(user, 'manager') for user in owners] + [(user, 'expert') for user in experts]
        for user, role in rows:
            bind.execute(insert, {'project': project, 'user': user, 'role': role, 'at': now})


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('enrollment')
    op.drop_table('login_throttles')
    op.drop_index('ix_project_members_user', table_name='project_members')
    op.drop_table('project_members')
