"""Under gunicorn with CROWD_LOG_FORMAT=json the server log is one JSON line per request.

The server's stdout and stderr go to one file. Every line of it is either the
test helper's own marker, a line of gunicorn's master/worker log (booting,
shutting down) or a JSON request line with every field; gunicorn's text access
lines are off, and nothing secret that the requests carried is there.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import config
from crowd import create_app, migrate
from tests.system.server import GunicornServer

FIELDS = {"time", "level", "request_id", "method", "route", "status", "duration_ms",
          "user_id", "client"}
PASSWORD = "pw-canary-gunicorn-4Hq9"
# gunicorn's own log lines: "[2026-01-01 12:00:00 +0000] [123] [INFO] Booting worker ..."
GUNICORN_LINE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")
HELPER_LINE = re.compile(r"--- start attempt \d+ on port \d+")


def _make_user(url: str) -> tuple[int, str]:
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    app = create_app(config.TestConfig(url))
    try:
        with app.app_context():
            account = create_user(db.session, "log-worker", PASSWORD, "worker")
            return account.id, issue_token(db.session, account)
    finally:
        app.extensions["crowd_db"].engine.dispose()


def _call(server: GunicornServer, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, X-Request-Id) of one request on a fresh connection."""
    conn = server.connection()
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("X-Request-Id", "")
    finally:
        conn.close()


def test_gunicorn_writes_one_json_line_per_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crowd.sqlite'}"
    migrate.upgrade(url)
    user_id, token = _make_user(url)
    bearer = {"Authorization": f"Bearer {token}"}
    # request id -> (method, route, status, user_id) its line must show
    expected: dict[str, tuple[str, str, int, int | None]] = {}
    server = GunicornServer(url, log_dir=tmp_path, workers=2, threads=2,
                            env={"CROWD_LOG_FORMAT": "json"})
    with server:
        status, rid = _call(server, "GET", "/api/v1/me",
                            headers={**bearer, "X-Request-Id": "sys-1"})
        assert (status, rid) == (200, "sys-1")
        expected[rid] = ("GET", "/api/v1/me", 200, user_id)
        status, rid = _call(server, "POST", "/api/v1/tokens",
                            {"username": "log-worker", "password": PASSWORD})
        expected[rid] = ("POST", "/api/v1/tokens", 201, None)
        status, rid = _call(server, "GET", f"/api/v1/me?token={token}",
                            headers={"X-Request-Id": "bad id!"})
        assert status == 401 and re.fullmatch(r"[0-9a-f]{32}", rid)
        expected[rid] = ("GET", "/api/v1/me", 401, None)
        status, rid = _call(server, "GET", "/no/such/page?password=" + PASSWORD, headers=bearer)
        expected[rid] = ("GET", "/no/such/page", 404, None)
        status, rid = _call(server, "GET", "/login")
        expected[rid] = ("GET", "/login", 200, None)
    log = server.log_text()

    seen: dict[str, dict[str, Any]] = {}
    for line in log.splitlines():
        if not line.strip() or HELPER_LINE.fullmatch(line) or GUNICORN_LINE.match(line):
            continue
        entry = json.loads(line)  # anything else must be a JSON line
        if entry.get("logger") == "crowd.request":
            assert FIELDS <= set(entry), entry
            assert entry["level"] == "info" and entry["time"].endswith("Z")
            assert entry["client"] == "127.0.0.1" and entry["duration_ms"] >= 0
            assert entry["request_id"] not in seen, "two lines for one request"
            seen[entry["request_id"]] = entry
    for rid, (method, route, status, who) in expected.items():
        entry = seen.get(rid)
        assert entry is not None, f"no line for {method} {route}:\n{log[-3000:]}"
        assert (entry["method"], entry["route"], entry["status"], entry["user_id"]) == (
            method, route, status, who)
    assert PASSWORD not in log and token not in log and "?" not in "".join(
        entry["route"] for entry in seen.values())

