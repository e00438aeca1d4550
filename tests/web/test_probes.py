"""``/healthz`` and ``/readyz`` through the test client, on both databases.

(Through gunicorn, with the database really cut or silent, they are tested in
tests/system/test_faults.py.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

import config
from crowd import create_app, migrate
from crowd.web.errors import RETRY_AFTER_SECONDS
from crowd.web.health import head_revisions
from tests.databases import backends, scratch_postgres
from tests.system.tcp_proxy import TcpProxy


def _via(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def test_probes_on_a_migrated_database(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ok"


def test_readyz_503_while_the_proxy_is_cut(postgres: Any) -> None:
    """PostgreSQL only (SQLite has no connection to cut; see the unreachable-file test)."""
    database_url = postgres.fresh()
    with TcpProxy("127.0.0.1", make_url(database_url).port or 5432) as proxy:
        url = _via(database_url, proxy.port)
        app = create_app(config.TestConfig(url, DATABASE_CONNECT_TIMEOUT=2))
        try:
            client = app.test_client()
            assert client.get("/readyz").status_code == 200
            proxy.cut()
            cut = client.get("/readyz")
            assert cut.status_code == 503
            assert cut.get_json()["error"]["code"] == "database_unavailable"
            assert cut.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert client.get("/healthz").status_code == 200
            proxy.restore()
            assert client.get("/readyz").status_code == 200
        finally:
            app.extensions["crowd_db"].engine.dispose()


@pytest.mark.parametrize("backend", backends())
def test_readyz_503_on_a_database_behind_head(backend: str, tmp_path: Path) -> None:
    """A fresh, unmigrated database answers, but is not ready."""
    urls = iter([f"sqlite:///{tmp_path / 'empty.sqlite'}"]) if backend == "sqlite" \
        else scratch_postgres()
    for url in urls:
        app = create_app(config.TestConfig(url))
        try:
            ready = app.test_client().get("/readyz")
        finally:
            app.extensions["crowd_db"].engine.dispose()
        assert ready.status_code == 503
        error = ready.get_json()["error"]
        assert error["code"] == "migrations_not_at_head"
        assert error["details"] == {"current": [], "head": sorted(head_revisions())}
        first = ScriptDirectory.from_config(migrate.alembic_config()).get_base()
        migrate.upgrade(url, first)  # one step on, still behind head
        app = create_app(config.TestConfig(url))
        try:
            behind = app.test_client().get("/readyz")
        finally:
            app.extensions["crowd_db"].engine.dispose()
        assert behind.status_code == 503
        assert behind.get_json()["error"]["details"]["current"] == [first]
