"""Test databases: a migrated SQLite template copied per test, and a PostgreSQL
database made for the run and truncated between tests."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crowd import migrate
from crowd.persistence import Base

PG_ENV = "CROWD_TEST_DATABASE_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def postgres_configured() -> bool:
    return bool(os.environ.get(PG_ENV, "").strip())


def backends() -> list[str]:
    """Every backend database tests are made for: SQLite and PostgreSQL. Without
    ``CROWD_TEST_DATABASE_URL`` the PostgreSQL ones are left out at collection
    (tests/conftest.py), except in CI, where they fail."""
    return ["sqlite", "postgresql"]


def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV, "")
    if not url:
        message = f"{PG_ENV} is not set: the PostgreSQL run of this test is skipped"
        if in_ci():
            pytest.fail(f"{message}, which CI does not allow")
        pytest.skip(message)
    return url


class SqliteTemplate:
    """A migrated SQLite file; each test gets a copy."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "template.sqlite"
        migrate.upgrade(f"sqlite:///{self.path}")

    def fresh(self, folder: Path) -> str:
        target = folder / "crowd.sqlite"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


class PostgresDatabase:
    """A database of its own for this test run, migrated once, emptied per test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"crowd_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
            admin.dispose()
            message = f"PostgreSQL at {make_url(admin_url).render_as_string()} is unusable: {exc}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        admin.dispose()
        migrate.upgrade(self.url)
        self.engine = create_engine(self.url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        self._truncate = text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

    def fresh(self) -> str:
        with self.engine.begin() as conn:
            conn.execute(self._truncate)
        return self.url

    def drop(self) -> None:
        self.engine.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def scratch_postgres(prefix: str = "crowd_scratch") -> Iterator[str]:
    """A brand-new, unmigrated PostgreSQL database (for migration tests, and tests
    that need one no other test has touched), named ``<prefix>_<random>``."""
    admin_url = pg_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
