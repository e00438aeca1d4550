"""Shared fixtures: an app per test on each database, an API client, data builders."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import TestConfig
from crowd import create_app
from tests.databases import (
    PostgresDatabase,
    SqliteTemplate,
    backends,
    pg_admin_url,
    scratch_postgres,
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    database = PostgresDatabase(pg_admin_url())
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database for one test, once per backend (migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite'}"
    else:
        yield from scratch_postgres()


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for one test, once per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_template").fresh(tmp_path)
    return request.getfixturevalue("postgres").fresh()


class Clock:
    """A settable clock for lease tests."""

    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


# One app per PostgreSQL test database (a worker's, emptied before each test): building
# an app compiles every URL rule (~15 ms) and a new pool connects afresh each time.
_POSTGRES_APPS: dict[str, Flask] = {}


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, clock: Clock) -> Iterator[Flask]:
    """The app on this test's database, with a settable clock and the seeded random
    source made anew (so a test draws the same numbers whatever ran before it). On
    PostgreSQL the app is kept between tests; ``@pytest.mark.fresh_app`` asks for a
    new one (a test that changes the app's config or routes)."""
    from crowd import runtime

    keep = database_url.startswith("postgresql") and not request.node.get_closest_marker(
        "fresh_app")
    application = _POSTGRES_APPS.get(database_url) if keep else None
    if application is None:
        application = create_app(TestConfig(database_url))
        if keep:
            _POSTGRES_APPS[database_url] = application
    runtime.init_app(application)
    application.extensions["crowd_clock"] = clock
    yield application
    if not keep:
        application.extensions["crowd_db"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Api:
    """A thin JSON client over the test client, with a bearer token."""

    client: FlaskClient
    token: str | None = None

    def _headers(self, token: str | None) -> dict[str, str]:
        token = token or self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, json: Any = None, token: str | None = None,
             **kwargs: Any) -> Any:
        if json is not None:
            kwargs["json"] = json
        return self.client.open(f"/api/v1{path}", method=method,
                                headers=self._headers(token), **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("PATCH", path, json, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    def as_(self, token: str) -> Api:
        return Api(self.client, token)


def new_user(app: Flask, role: str, username: str) -> tuple[int, str]:
    """Create a user with a role in ``app``; returns (id, bearer token)."""
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    with app.app_context():
        account = create_user(db.session, username, "password-123", role)
        return account.id, issue_token(db.session, account)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., tuple[int, str]]:
    """Create a user with a role; returns (id, bearer token)."""
    counter = {"n": 0}

    def build(role: str = "worker", username: str | None = None) -> tuple[int, str]:
        counter["n"] += 1
        return new_user(app, role, username or f"{role}{counter['n']}")

    return build


def cheap_password_hash(password: str, method: str | None = None) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method="pbkdf2:sha256:1")


def use_cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from crowd.services import accounts

    monkeypatch.setattr(accounts, "generate_password_hash", cheap_password_hash)


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap hashes for the users a test makes: scrypt (~50-300 ms a hash on this
    machine) was most of the suite's time. A test of hashing itself opts out with
    ``@pytest.mark.real_password_hashing``."""
    if not request.node.get_closest_marker("real_password_hashing"):
        use_cheap_password_hashing(monkeypatch)


@pytest.fixture
def manager(make_user: Callable[..., tuple[int, str]], client: FlaskClient) -> Api:
    return Api(client, make_user("manager")[1])


def new_project(manager: Api, n_items: int = 10, n_gold: int = 0,
                labels: tuple[str, ...] = ("a", "b", "c"), **settings: Any) -> dict[str, Any]:
    """Create a project with items as ``manager``; gold items are named g<n>, work items w<n>."""
    body = {"name": "test project", "labels": list(labels), "qualification_size": 0,
            "gold_rate": 0.0, **settings}
    response = manager.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    project = response.get_json()
    items = [{"external_id": f"w{i}", "data": {"text": f"item {i}"}} for i in range(n_items)]
    items += [{"external_id": f"g{i}", "data": {"text": f"gold {i}"}, "gold_label": labels[0]}
              for i in range(n_gold)]
    if items:
        imported = manager.post(f"/projects/{project['id']}/items", items)
        assert imported.status_code == 201, imported.get_json()
    return project


@pytest.fixture
def make_project(manager: Api) -> Callable[..., dict[str, Any]]:
    """Create a project with items; gold items are named g<n>, work items w<n>."""
    return functools.partial(new_project, manager)


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.id.split("-") if callspec else []
    return "postgresql" in params or item.get_closest_marker("postgresql") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``CROWD_TEST_DATABASE_URL`` (and outside CI) leave the PostgreSQL half
    out, said once in the header and once in the summary, instead of a skip per test.
    Then start the long tests first on every xdist worker."""
    from tests.databases import in_ci, postgres_configured

    if not (postgres_configured() or in_ci()):
        left_out = [item for item in items if _needs_postgres(item)]
        if left_out:
            items[:] = [item for item in items if not _needs_postgres(item)]
            config.hook.pytest_deselected(items=left_out)
    items[:] = long_ones_first(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def long_ones_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """The order that starts the ``slow`` tests first on each of ``workers`` workers.

    xdist's worksteal hands each worker an equal contiguous run of the collection and
    idle workers take the far half of a busy one's rest. A minute-long test reached
    at the end of a run keeps one worker going while the others wait, so the slow
    tests are dealt round-robin to the head of each worker's run; the others keep
    their order (and so their module-scoped fixtures) behind them.
    """
    slow = [item for item in items if item.get_closest_marker("slow")]
    if workers < 2 or not slow:
        return items
    rest = [item for item in items if not item.get_closest_marker("slow")]
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker in range(workers):
        size = left // (workers - worker)  # what xdist's worksteal sends this worker
        head = slow[worker::workers]
        take = max(0, size - len(head))
        ordered += head + rest[:take]
        del rest[:take]
        left -= size
    return ordered + rest


def _postgres_left_out() -> bool:
    from tests.databases import in_ci, postgres_configured

    return not postgres_configured() and not in_ci()


def pytest_report_header(config: pytest.Config) -> str | None:
    if _postgres_left_out():
        return ("PostgreSQL half skipped: CROWD_TEST_DATABASE_URL is not set "
                "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: the PostgreSQL run, the shared data sets
    and the browser must all have been there."""
    from tests.databases import in_ci

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if in_ci() and skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) were skipped; failing the run", red=True)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many database tests passed on each backend, so a CI log shows both ran."""
    counts = {backend: 0 for backend in backends()}
    for report in terminalreporter.stats.get("passed", []):
        for backend in counts:
            if f"[{backend}" in report.nodeid or f"-{backend}" in report.nodeid:
                counts[backend] += 1
    summary = ", ".join(f"{n} on {backend}" for backend, n in counts.items())
    terminalreporter.write_line(f"database tests passed: {summary}")
    if _postgres_left_out():
        terminalreporter.write_line("PostgreSQL half skipped: set CROWD_TEST_DATABASE_URL "
                                    "to run the database tests on PostgreSQL too")
