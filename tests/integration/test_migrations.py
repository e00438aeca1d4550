"""The alembic migrations and the models describe the same schema."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from crowd import migrate
from crowd.persistence import Base


def test_migration_head_matches_models(blank_database: str) -> None:
    migrate.upgrade(blank_database)
    engine = create_engine(blank_database)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_downgrade_to_base_and_back(blank_database: str) -> None:
    migrate.upgrade(blank_database)
    from alembic import command

    command.downgrade(migrate.alembic_config(blank_database), "base")
    migrate.upgrade(blank_database)
