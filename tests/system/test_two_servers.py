"""Two app servers on one database, and clients spread over both: no invariant breaks.

Two gunicorn servers (``wsgi:app`` with ``config/gunicorn.py``, as in
``deploy/``) share one database, PostgreSQL and SQLite. Worker threads each send
their requests to the two servers in turn (``loop_support``): a lease taken on
one server is answered on the other. After next says 204 everywhere, every item
has exactly its redundancy of labels from distinct workers, every accepted
answer is stored once, and no request had a 5xx (clients' statuses and both
servers' logs). With Debian's nginx installed (``apt-get install nginx-light``)
the same loop runs through nginx with ``deploy/nginx/crowd.conf`` (ports
substituted), which must also hold request bodies to the limit, chunked or not,
and pass ``X-Request-Id`` through.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.system.loop_support import access_log_counts, check_database, run_workers
from tests.system.nginx_proxy import DEPLOY_SITE, LIMIT, NginxProxy, missing
from tests.system.server import GunicornServer
from tests.system.test_concurrency import (  # noqa: F401 - system_database is a fixture
    ACCESS_5XX,
    CLASSES,
    Client,
    _api,
    _make_users,
    system_database,
)

N_WORKERS = 12
N_ITEMS = 120
REDUNDANCY = 3
RUN_DEADLINE = 150.0  # seconds for the whole loop; it takes far less
MAX_LOOPS = N_ITEMS + 10  # per worker: each item at most once, plus slack
SHAPE = {"workers": 2, "threads": 4}  # per server; two servers share two cores here
def _servers(url: str, log_dir: Path, stack: ExitStack) -> list[GunicornServer]:
    servers = []
    for name in ("app-a", "app-b"):
        server = GunicornServer(url, log_dir=log_dir, name=name, **SHAPE)
        stack.callback(server.stop)
        servers.append(server.start())
    return servers


def _project(server: GunicornServer, manager_token: str) -> int:
    project = _api(server, manager_token, "POST", "/projects", {
        "name": "two servers", "labels": CLASSES, "redundancy": REDUNDANCY,
        "max_redundancy": REDUNDANCY, "qualification_size": 0, "gold_rate": 0.0,
    })
    items = [{"external_id": f"x{i:03d}", "data": {"text": f"item {i}"}} for i in range(N_ITEMS)]
    imported = _api(server, manager_token, "POST", f"/projects/{project['id']}/items", items)
    assert imported["created"] == N_ITEMS, imported
    return int(project["id"])


def _final_next_is_204_everywhere(servers: list[GunicornServer], workers: list[tuple[int, str]],
                                  project_id: int) -> Counter[int]:
    final: Counter[int] = Counter()
    for server in servers:
        for _, token in workers:
            client = Client(server, token)
            try:
                status, _ = client.call("POST", f"/projects/{project_id}/next")
            finally:
                client.close()
            final[status] += 1
    return final


def _no_server_errors(servers: list[GunicornServer]) -> None:
    for server in servers:
        bad = [line for line in server.log_text().splitlines()
               if ACCESS_5XX.search(line) or "Traceback" in line]
        assert not bad, f"{server.name}:\n" + "\n".join(bad[:20])


@pytest.mark.slow
def test_round_robin_over_two_servers_on_one_database(system_database: tuple[str, str],
                                                      tmp_path: Path) -> None:
    backend, url = system_database
    manager_token, workers = _make_users(url, N_WORKERS)
    with ExitStack() as stack:
        servers = _servers(url, tmp_path, stack)
        project_id = _project(servers[0], manager_token)
        runs, seconds = run_workers(servers, project_id, workers, RUN_DEADLINE, MAX_LOOPS)
        final = _final_next_is_204_everywhere(servers, workers, project_id)
        progress = _api(servers[1], manager_token, "GET", f"/projects/{project_id}")["progress"]
        _no_server_errors(servers)
        logged = [access_log_counts(server.log_text()) for server in servers]

    outcome = check_database(url, project_id, runs, N_ITEMS, REDUNDANCY)
    per_server = [sum(run.per_target[i] for run in runs) for i in range(len(servers))]
    print(f"\n[{backend}] 2 servers (-w {SHAPE['workers']} --threads {SHAPE['threads']} each), "
          f"{N_WORKERS} round-robin workers: requests per server {per_server} "
          f"(access logs {[dict(c) for c in logged]}), {outcome.labels} labels on {N_ITEMS} "
          f"items, statuses {dict(sorted(outcome.statuses.items()))}, "
          f"{sum(run.retries for run in runs)} reconnects, {seconds:.1f} s")
    assert final == Counter({204: 2 * N_WORKERS}), final
    assert min(per_server) > 0 and abs(per_server[0] - per_server[1]) <= N_WORKERS, per_server
    assert progress["open"] == 0 and progress["labels_collected"] == N_ITEMS * REDUNDANCY


@pytest.fixture
def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        missing("nginx is not installed (apt-get install nginx-light)")
    return str(found)


@pytest.fixture
def proxied(system_database: tuple[str, str], tmp_path: Path,
            nginx_binary: str) -> Iterator[tuple[str, str, list[GunicornServer],
                                                 NginxProxy]]:
    backend, url = system_database
    with ExitStack() as stack:
        servers = _servers(url, tmp_path, stack)
        proxy = NginxProxy(nginx_binary, servers, tmp_path / "nginx")
        stack.callback(proxy.stop)
        proxy.start()
        yield backend, url, servers, proxy


@pytest.mark.slow
def test_round_robin_through_nginx_with_the_deploy_config(proxied, tmp_path: Path) -> None:
    backend, url, servers, proxy = proxied
    manager_token, workers = _make_users(url, N_WORKERS)
    project_id = _project(proxy, manager_token)  # type: ignore[arg-type]
    runs, seconds = run_workers([proxy], project_id, workers, RUN_DEADLINE, MAX_LOOPS)
    final = _final_next_is_204_everywhere(servers, workers, project_id)
    _no_server_errors(servers)
    logged = [access_log_counts(server.log_text()) for server in servers]
    outcome = check_database(url, project_id, runs, N_ITEMS, REDUNDANCY)
    per_server = [sum(c.values()) for c in logged]
    print(f"\nnginx -t on the deploy site, ports substituted: {proxy.check_output}")
    print(f"[{backend}, nginx] 2 servers behind nginx, {N_WORKERS} workers: API requests "
          f"per server {per_server} (from their access logs), {outcome.labels} labels, "
          f"statuses {dict(sorted(outcome.statuses.items()))}, {seconds:.1f} s")
    assert final == Counter({204: 2 * N_WORKERS}), final
    assert all(c.get("5xx", 0) == 0 for c in logged), logged
    assert min(per_server) > 0.3 * sum(per_server), per_server  # nginx spreads the load


@pytest.mark.slow
def test_nginx_holds_bodies_to_the_limit_and_passes_the_request_id(proxied) -> None:
    _, url, servers, proxy = proxied
    manager_token, _ = _make_users(url, 0)
    project = _api(proxy, manager_token, "POST", "/projects", {  # type: ignore[arg-type]
        "name": "limits", "labels": CLASSES, "redundancy": 1, "max_redundancy": 1})
    items = f"/api/v1/projects/{project['id']}/items"
    before = [server.log_text().count("/items") for server in servers]
    # Declared too large: refused at once, as JSON, and never reaches an app server.
    status, headers, body = proxy.raw_post(items,
                                           declared=LIMIT + 1)
    assert status == 413 and b'"code": "too_large"' in body, (status, body)
    assert headers.get("content-type", "").startswith("application/json")
    # Chunked (no Content-Length) and past the limit: refused too.
    started = time.monotonic()
    status, _, body = proxy.raw_post(items,
                                     chunked_bytes=LIMIT + 1024 * 1024)
    assert status == 413 and b"too_large" in body, (status, body)
    assert [server.log_text().count("/items") for server in servers] == before
    # Chunked and just under the limit: buffered whole, then passed on to the app.
    status, _, body = proxy.raw_post(items, chunked_bytes=LIMIT - 1024 * 1024,
                                     token=manager_token)
    print(f"\na chunked body of {LIMIT - 1024 * 1024} bytes through nginx: {status} {body[:200]!r}")
    assert status != 413 and status < 500, (status, body)
    # A small chunked body is passed on whole (the app answers it: 401, no token).
    status, _, body = proxy.raw_post(items, chunked_bytes=1000)
    assert status == 401, (status, body)
    # A large one the app refuses unread (no token) still gets the app's 401, not a
    # 502 from nginx: the app reads what is left of a body within the limit before
    # the connection closes (crowd/web/limits.py), so closing never resets it.
    refused = [proxy.raw_post(items, chunked_bytes=LIMIT - 1024 * 1024)[0] for _ in range(4)]
    assert refused == [401] * 4, refused
    # X-Request-Id: the client's is kept, once; without one nginx makes one.
    status, headers, _ = proxy.get("/healthz", {"X-Request-Id": "trace-abc.123"})
    assert status == 200 and headers.get_all("X-Request-Id") == ["trace-abc.123"]
    status, headers, _ = proxy.get("/api/v1/me", {})
    made = headers.get_all("X-Request-Id") or []
    assert status == 401 and len(made) == 1 and len(made[0]) == 32, made
    print(f"\nnginx: 413 for a declared and a chunked body over {LIMIT} bytes "
          f"({time.monotonic() - started:.1f} s for the chunked one), request id kept")


def test_the_deploy_site_passes_nginx_t_as_it_is(nginx_binary: str, tmp_path: Path) -> None:
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
                    f"events {{}}\nhttp {{\n    include {DEPLOY_SITE};\n}}\n")
    check = subprocess.run([nginx_binary, "-t", "-p", str(tmp_path), "-c", str(main),
                            "-e", str(tmp_path / "error.log")],
                           capture_output=True, text=True, timeout=30, check=False)
    print(f"\nnginx -t on deploy/nginx/crowd.conf as it is: {check.stderr.strip()}")
    assert check.returncode == 0, check.stderr
