"""Stepping migrations down and up again keeps the rows in the tables they rebuild.

On SQLite, alembic's batch mode rebuilds a table by copy, drop and rename; with
foreign keys on, dropping ``projects`` cascaded and emptied items, labels and
standings (migrations/env.py now turns them off around a migration).
"""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, func, select

from crowd import migrate
from crowd.persistence import Item, Label, Project, WorkerStanding
from tests.support import item_names, work_through


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {model.__tablename__: conn.scalar(select(func.count()).select_from(model))
                    for model in (Project, Item, Label, WorkerStanding)}
    finally:
        engine.dispose()


def test_a_round_trip_through_every_migration_keeps_projects_items_and_labels(
        app, database_url, make_project, manager, make_user):
    project = make_project(n_items=6, n_gold=2, redundancy=1, max_redundancy=1)
    _, token = make_user("worker")
    done = work_through(manager.as_(token), project["id"], item_names(app, project["id"]),
                        lambda name: "a")
    app.extensions["crowd_db"].engine.dispose()
    before = _counts(database_url)
    assert before["items"] == 8 and before["labels"] == len(done) > 0
    assert before["worker_standings"] == 1

    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0002")
    assert _counts(database_url) == before
    command.upgrade(config, "head")
    assert _counts(database_url) == before
