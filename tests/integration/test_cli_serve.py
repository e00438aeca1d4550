"""``crowd demo`` and ``crowd serve`` for a newcomer: the demo has an admin, prints the
address it will really be served at, and ``crowd serve`` runs the schedule (so the demo
aggregates) unless told not to."""
from __future__ import annotations

from typing import Any

import pytest
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from crowd.cli import main
from crowd.cli_serve import login_url, serve_command
from tests.integration.test_cli import cli_env  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cli_env")


def _passwords(out: str) -> dict[str, str]:
    return {line.split()[1]: line.split("password: ")[1] for line in out.splitlines()
            if "password: " in line}


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``app.run`` was asked for, and every scheduler started (none really runs)."""
    seen: dict[str, Any] = {"runs": [], "schedulers": []}
    monkeypatch.setattr(Flask, "run", lambda self, **kw: seen["runs"].append(kw))
    monkeypatch.setattr(BaseScheduler, "start",
                        lambda self, *a, **k: seen["schedulers"].append(type(self).__name__))
    monkeypatch.setattr(BaseScheduler, "shutdown", lambda self, wait=True: None)
    return seen


def test_demo_has_an_admin_and_prints_the_port_it_will_be_served_at(
        capsys: Any, client: Any, served: dict[str, Any]) -> None:
    assert main(["demo", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "log in at http://127.0.0.1:8123/login" in out
    assert "start the server:  crowd serve --port 8123" in out
    assert "5000" not in out
    passwords = _passwords(out)
    assert set(passwords) == {"demo-worker", "demo-worker-2", "demo-expert", "demo-manager",
                              "demo-admin"}
    token = client.post("/api/v1/tokens", json={"username": "demo-admin",
                                                "password": passwords["demo-admin"]})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.get_json()["role"] == "admin"
    assert served["runs"] == []  # only seeded


def test_demo_serve_serves_where_it_said_with_the_schedule(
        capsys: Any, served: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROWD_SCHEDULER_ENABLED", raising=False)
    assert main(["demo", "--serve", "--host", "0.0.0.0", "--port", "8124"]) == 0
    out = capsys.readouterr().out
    assert "log in at http://127.0.0.1:8124/login" in out and "start the server" not in out
    assert served["runs"] == [{"host": "0.0.0.0", "port": 8124, "debug": False,
                               "threaded": True}]
    assert served["schedulers"] == ["BackgroundScheduler"]
    assert "scheduled jobs (aggregation" in out


@pytest.mark.parametrize(("env", "flags", "runs"), [
    (None, [], True),  # a newcomer's serve aggregates
    (None, ["--no-scheduler"], False),
    ("false", [], False),  # an operator's explicit setting holds
    ("false", ["--scheduler"], True),
    ("true", ["--no-scheduler"], False),
])
def test_serve_runs_the_schedule_by_default(env: str | None, flags: list[str], runs: bool,
                                            capsys: Any,
                                            served: dict[str, Any],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if env is None:
        monkeypatch.delenv("CROWD_SCHEDULER_ENABLED", raising=False)
    else:
        monkeypatch.setenv("CROWD_SCHEDULER_ENABLED", env)
    assert main(["serve", "--port", "8125", *flags]) == 0
    assert served["schedulers"] == (["BackgroundScheduler"] if runs else [])
    out = capsys.readouterr().out
    assert "log in at http://127.0.0.1:8125/login" in out
    assert ("run in this process" in out) is runs


def test_projects_commands_start_no_scheduler(served: dict[str, Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWD_SCHEDULER_ENABLED", "true")
    assert main(["projects", "create", "quiet", "--labels", "a,b"]) == 0
    assert main(["projects", "list"]) == 0
    assert served["schedulers"] == []


@pytest.mark.parametrize(("host", "port", "url", "command"), [
    ("127.0.0.1", 5000, "http://127.0.0.1:5000/login", "crowd serve"),
    ("0.0.0.0", 8080, "http://127.0.0.1:8080/login", "crowd serve --host 0.0.0.0 --port 8080"),
    ("::", 5000, "http://[::1]:5000/login", "crowd serve --host ::"),
    ("fe80::1", 81, "http://[fe80::1]:81/login", "crowd serve --host fe80::1 --port 81"),
    ("crowd.local", 5000, "http://crowd.local:5000/login", "crowd serve --host crowd.local"),
])
def test_the_login_address_and_the_serve_command_agree(host: str, port: int, url: str,
                                                       command: str) -> None:
    assert login_url(host, port) == url
    assert serve_command(host, port) == command
