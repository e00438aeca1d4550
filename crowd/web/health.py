"""Probes for load balancers and orchestrators: ``/healthz`` and ``/readyz``.

``/healthz`` says the process serves requests and touches nothing else, so a
database outage never gets healthy workers restarted. ``/readyz`` says whether
this process can do useful work: the database answers and its schema is at
the migrations' head. Both are outside ``/api/v1`` and need no login.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint

from crowd import migrate
from crowd.extensions import READONLY, db
from crowd.web.errors import error_response

bp = Blueprint("health", __name__)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The head revision(s) of crowd's migrations (read from disk once)."""
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


def current_revisions() -> frozenset[str]:
    """The revision(s) the database is at; empty for an unmigrated database.

    Raises SQLAlchemy's ``OperationalError`` when the database cannot be reached
    (answered as 503 ``database_unavailable`` by the error handlers).
    """
    # Read-only, so on SQLite the probe never queues behind a writer's lock.
    with db.engine.execution_options(**{READONLY: True}).connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


@bp.get("/healthz")
def healthz() -> Any:
    """200 while the process serves; the database is not touched."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Any:
    """200 when the database answers and is migrated to head, else 503 saying which."""
    current, head = current_revisions(), head_revisions()
    if current != head:
        return error_response(
            503, "migrations_not_at_head",
            "the database schema is not at the migrations' head; run `crowd db upgrade`",
            {"current": sorted(current), "head": sorted(head)},
        )
    return {"status": "ok", "database": "reachable", "revision": sorted(current)}
