"""The scene the web tests work in: a project with an item in review and a worker
holding a live lease, fresh for each test (``scene``) or kept for a module's
refusals (``still``)."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config import TestConfig
from crowd import create_app
from tests.conftest import Api, Clock, new_project, new_user, use_cheap_password_hashing
from tests.databases import PostgresDatabase, backends, pg_admin_url
from tests.support import answered_then_leased


@dataclass
class Scene:
    """A project with one item in review and a worker holding a live lease."""

    project: int
    worker_id: int
    assignment: int
    reviewed_item: int
    manager: str
    worker: str
    expert: str
    admin: str
    spare_token: int  # the id of a second token of the worker's, for DELETE /tokens/<id>


def build_scene(manager: Api, make_project: Callable[..., dict[str, Any]],
                make_user: Callable[..., tuple[int, str]]) -> Scene:
    live = answered_then_leased(manager, make_project, make_user, "scene-worker")
    expert_id, expert = make_user("expert")
    added = manager.post(f"/projects/{live.project}/members", {"user_id": expert_id})
    assert added.status_code == 201, added.get_json()
    spare = manager.post("/tokens", {"username": "scene-worker", "password": "password-123"})
    assert spare.status_code == 201, spare.get_json()
    return Scene(live.project, live.worker_id, live.assignment, live.reviewed_item,
                 str(manager.token), live.worker_token, expert, make_user("admin")[1],
                 spare.get_json()["id"])


@pytest.fixture
def scene(manager: Api, make_project: Callable[..., dict[str, Any]],
          make_user: Callable[..., tuple[int, str]]) -> Scene:
    return build_scene(manager, make_project, make_user)


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table, to prove a refused request changed nothing."""
    from crowd.extensions import db
    from crowd.persistence import Base

    with app.app_context(), db.engine.connect() as conn:
        return {table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                for table in Base.metadata.sorted_tables}


class Still(NamedTuple):
    """A scene kept for every test of a module that sends what must be refused."""

    scene: Scene
    app: Flask
    client: FlaskClient


@pytest.fixture(scope="session")
def still_postgres() -> Iterator[PostgresDatabase]:
    """A PostgreSQL database of its own: the per-test ``database_url`` truncates the
    other one, which would empty a scene kept across tests."""
    database = PostgresDatabase(pg_admin_url())
    yield database
    database.drop()


@contextmanager
def kept_app(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a database of its own for the fixture's backend (``request.param``),
    kept for as long as the (module-scoped) fixture asking for it."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_template").fresh(tmp_path_factory.mktemp("kept"))
    else:
        url = request.getfixturevalue("still_postgres").fresh()
    app = create_app(TestConfig(url))
    app.extensions["crowd_clock"] = Clock()
    try:
        with pytest.MonkeyPatch.context() as patch:
            use_cheap_password_hashing(patch)
            yield app
    finally:
        app.extensions["crowd_db"].engine.dispose()


@pytest.fixture(scope="module", params=backends())
def still_scene(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Still, Any]]:
    with kept_app(request, tmp_path_factory) as app:
        client = app.test_client()
        count = iter(range(1, 1_000))

        def make_user(role: str = "worker", username: str | None = None) -> tuple[int, str]:
            return new_user(app, role, username or f"{role}{next(count)}")

        manager = Api(client, make_user("manager")[1])
        scene = build_scene(manager, functools.partial(new_project, manager), make_user)
        yield Still(scene, app, client), snapshot(app)


@pytest.fixture
def still(still_scene: tuple[Still, Any]) -> Iterator[Still]:
    """The module's kept scene. Only for requests that must write nothing: after each
    test the whole database must still be as the scene left it, or the test errors
    (and the tests after it would see the write too)."""
    kept, baseline = still_scene
    yield kept
    assert snapshot(kept.app) == baseline, "this test wrote to the kept scene; use `scene`"
