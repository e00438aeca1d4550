"""deploy/ stays in step with the code: every setting in the environment file
example, nginx's limits equal to the app's and gunicorn's, and the compose file,
the systemd units and the nginx site naming the same commands and servers.
(nginx itself checks the site in tests/system/test_two_servers.py.)"""
from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
import yaml

import config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SITE = (DEPLOY / "nginx" / "crowd.conf").read_text()
ENV_EXAMPLE = (DEPLOY / "systemd" / "crowd.env.example").read_text()
TEST_ONLY = {"CROWD_TEST_DATABASE_URL", "CROWD_DATASETS_DIR"}


def _settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in [*(REPO / "config").glob("*.py"), REPO / "wsgi.py"]:
        text = path.read_text()
        names |= {f"CROWD_{n}" for n in re.findall(r'_env(?:_int|_bool)?\(\s*"([A-Z_]+)"', text)}
        names |= set(re.findall(r'"(CROWD_[A-Z_]+)"', text))
    return names - TEST_ONLY


def _nginx(directive: str) -> str:
    values = re.findall(rf"^\s*{directive}\s+([^;]+);", SITE, re.MULTILINE)
    assert len(values) == 1, (directive, values)
    return values[0].strip()


def _gunicorn_defaults(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    import os

    for name in [n for n in os.environ if n.startswith("CROWD_")]:
        monkeypatch.delenv(name)
    return runpy.run_path(str(REPO / "config" / "gunicorn.py"))


def test_the_environment_file_example_names_every_setting() -> None:
    listed = set(re.findall(r"^#?(CROWD_[A-Z_]+)=", ENV_EXAMPLE, re.MULTILINE))
    read = _settings_read_by_the_code()
    assert len(read) > 10
    assert read - listed == set(), "add these to deploy/systemd/crowd.env.example"
    assert listed - read == set(), "these are read by nothing"


def test_nginx_limits_match_the_app_and_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CROWD_MAX_IMPORT_BYTES", raising=False)
    limit = config.BaseConfig().MAX_IMPORT_BYTES
    size = _nginx("client_max_body_size")
    assert size.endswith("m") and int(size[:-1]) * 1024 * 1024 == limit
    assert f"the limit of {limit} bytes" in SITE  # nginx's own 413 says the same
    assert _nginx("proxy_request_buffering") == "on"
    timeout = _gunicorn_defaults(monkeypatch)["timeout"]
    assert _nginx("proxy_read_timeout") == f"{timeout}s"
    assert _nginx("proxy_send_timeout") == f"{timeout}s"
    for header in ("X-Request-Id", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert re.search(rf"proxy_set_header {header} \$", SITE), header
    assert "location = /healthz" in SITE and "location = /readyz" in SITE


def test_nginx_closes_idle_upstream_connections_before_gunicorn_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Were gunicorn to drop an idle keep-alive connection first, a POST nginx sends on
    it at that instant fails and is not resent: a 502 (CI saw one on ``next``)."""
    upstream = re.search(r"upstream crowd_app \{(.*?)\}", SITE, re.DOTALL)
    assert upstream is not None
    idle = re.findall(r"^\s*keepalive_timeout\s+(\d+)s;", upstream.group(1), re.MULTILINE)
    assert len(idle) == 1, "set keepalive_timeout in the upstream block"
    assert int(idle[0]) < _gunicorn_defaults(monkeypatch)["keepalive"]


def test_the_systemd_units_and_the_upstream_name_the_same_ports() -> None:
    upstream = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", SITE, re.MULTILINE)
    target = (DEPLOY / "systemd" / "crowd.target").read_text()
    assert upstream == re.findall(r"crowd-web@(\d+)\.service", target) == ["8001", "8002"]
    web = (DEPLOY / "systemd" / "crowd-web@.service").read_text()
    assert "gunicorn -c config/gunicorn.py --bind 127.0.0.1:%i wsgi:app" in web
    scheduler = (DEPLOY / "systemd" / "crowd-scheduler.service").read_text()
    assert re.search(r"^ExecStart=\S+/crowd scheduler$", scheduler, re.MULTILINE)
    assert re.search(r"^CROWD_SCHEDULER_ENABLED=false$", ENV_EXAMPLE, re.MULTILINE)


def test_the_compose_file_runs_each_role_once(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web1", "web2", "scheduler", "nginx"}
    commands = {name: " ".join(s.get("command", [])) for name, s in services.items()
                if name != "nginx"}
    assert commands["migrate"] == "crowd db upgrade"
    assert commands["web1"] == commands["web2"] == "gunicorn -c config/gunicorn.py wsgi:app"
    assert commands["scheduler"] == "crowd scheduler"
    for name in ("migrate", "web1", "web2", "scheduler"):
        env = services[name]["environment"]
        assert env["CROWD_SCHEDULER_ENABLED"] == "false", name
        assert env["CROWD_CONFIG"] == "production"
        assert set(env) <= _settings_read_by_the_code(), name
    for name in ("web1", "web2", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    assert services["web1"]["environment"]["CROWD_TIMEOUT"] == \
        str(_gunicorn_defaults(monkeypatch)["timeout"])
    nginx = " ".join(services["nginx"]["command"])
    for address in ("127.0.0.1:8001", "127.0.0.1:8002", "/var/log/nginx/crowd.access.log"):
        assert address in nginx and address in SITE, address
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for needed in ("crowd", "config", "migrations", "templates", "wsgi.py", "pyproject.toml"):
        assert re.search(rf"^COPY .*\b{re.escape(needed)}\b", dockerfile, re.MULTILINE), needed
        assert (REPO / needed).exists()
