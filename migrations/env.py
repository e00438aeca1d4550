"""Alembic environment: crowd's models, batch mode on SQLite, type comparison."""
from __future__ import annotations

from alembic import context

from crowd.extensions import make_engine
from crowd.persistence import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from config import config_from_env

        url = config_from_env().DATABASE_URL
    return url


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "sqlite" and not connection.in_transaction():
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys on,
        # dropping a parent such as projects cascades and empties its children.
        # The pragma only takes effect outside a transaction, hence the driver level.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            _migrate(connection)
        finally:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        return
    _migrate(connection)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
