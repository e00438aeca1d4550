"""Faults against a real gunicorn on a real PostgreSQL: 503 and retry, never 500, nothing lost.

The database is cut for real: gunicorn reaches PostgreSQL through a TCP proxy
(tests/system/tcp_proxy.py) that closes every connection and turns new ones
away; workers are SIGKILLed (the gunicorn master starts new ones); backends are
ended from an admin connection with ``pg_terminate_backend``. Clients loop
``next`` -> ``answer`` and repeat a request that was dropped or answered 503
(both calls are idempotent). Afterwards every answer that got 200 must be in
the labels table exactly once, and nothing else. PostgreSQL only: these need a
server to cut (SQLite's faults are in tests/web/test_unavailable.py).
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crowd import migrate
from tests.databases import pg_admin_url, scratch_postgres
from tests.system.fault_clients import (
    Looper,
    call_once,
    join_all,
    kill_one_worker,
    make_users,
    run_loopers,
    stored_exactly_once,
)
from tests.system.server import GunicornServer
from tests.system.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

RUN_SECONDS = 60.0
N_CLIENTS = 16
N_ITEMS = 6000  # more than 16 clients answer in a minute here, so next never runs dry
OUTAGE_SECONDS = 5.0
KILL_AT = (10.0, 42.0)  # seconds into the run: SIGKILL one gunicorn worker
CUT_AT = 22.0  # seconds into the run: the database goes away for OUTAGE_SECONDS
RECOVERY_BOUND = 10.0  # generous: the figure itself is printed, not judged on a busy machine
RESPAWN_TIMEOUT = 30.0
SERVER_ERROR_LINES = ('" 500 ', "Exception on /")  # a 500 in the access log; Flask's 500 log


@pytest.fixture
def scratch_db() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own."""
    for url in scratch_postgres():
        migrate.upgrade(url)
        yield url


def _via(url: str, proxy: TcpProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)


def _project(server: GunicornServer, token: str, n_items: int) -> int:
    status, project, _ = call_once(server, token, "POST", "/api/v1/projects", {
        "name": "faults", "labels": ["cat", "dog", "bird"], "redundancy": 3,
        "max_redundancy": 3, "qualification_size": 0, "gold_rate": 0.0})
    assert status == 201, project
    items = [{"external_id": f"x{i}", "data": {"text": f"item {i}"}} for i in range(n_items)]
    status, imported, _ = call_once(server, token, "POST",
                                    f"/api/v1/projects/{project['id']}/items", items)
    assert status == 201 and imported["created"] == n_items, imported
    return int(project["id"])


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _checked(loopers: list[Looper], server_log: str) -> Counter[int]:
    """Statuses of every response; fails on a problem a client saw or a 5xx but 503."""
    problems = [f"worker {lp.worker_id}: {p}" for lp in loopers for p in lp.problems]
    assert not problems, "\n".join(problems[:20])
    statuses = Counter(status for lp in loopers for _, _, status in lp.events)
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    errors = [line for line in server_log.splitlines()
              if any(mark in line for mark in SERVER_ERROR_LINES)]
    assert not errors, "\n".join(errors[:20])
    return statuses


def test_clients_ride_out_killed_workers_and_a_database_outage(
    scratch_db: str, tmp_path: Path,
) -> None:
    manager_token, workers = make_users(scratch_db, N_CLIENTS)
    with TcpProxy("127.0.0.1", make_url(scratch_db).port or 5432) as proxy, GunicornServer(
        _via(scratch_db, proxy), log_dir=tmp_path, name="faults", workers=3, threads=4,
        env={"CROWD_DATABASE_CONNECT_TIMEOUT": "2"},
    ) as server:
        project_id = _project(server, manager_token, N_ITEMS)
        loopers = [Looper(server, project_id, worker_id, token, seed=100 + n)
                   for n, (worker_id, token) in enumerate(workers)]
        began, threads = run_loopers(loopers, RUN_SECONDS)
        rng = random.Random(7)
        _sleep_until(began + KILL_AT[0])
        killed = [kill_one_worker(server, rng, RESPAWN_TIMEOUT)]
        _sleep_until(began + CUT_AT)
        cut_at = time.monotonic()
        closed = proxy.cut()
        _sleep_until(cut_at + OUTAGE_SECONDS)
        proxy.restore()
        restored_at = time.monotonic()
        _sleep_until(began + KILL_AT[1])
        killed.append(kill_one_worker(server, rng, RESPAWN_TIMEOUT))
        stuck = join_all(threads, RUN_SECONDS + 120.0 - (time.monotonic() - began))
        assert not stuck, f"clients still running: {stuck}\n{server.log_tail()}"
        seconds = time.monotonic() - began
        server_log = server.log_text()

    statuses = _checked(loopers, server_log)
    events = [event for lp in loopers for event in lp.events]
    during = [t for t, _, s in events if s == 503 and cut_at <= t <= restored_at + 1.0]
    first_200 = min((t for t, _, s in events if s == 200 and t >= restored_at), default=None)
    recovery = None if first_200 is None else first_200 - restored_at
    counts = stored_exactly_once(scratch_db, project_id, loopers)
    print(
        f"\n[faults] {N_CLIENTS} clients, gunicorn -w 3 --threads 4, {seconds:.1f} s: "
        f"{len(events)} responses {dict(sorted(statuses.items()))}, "
        f"{sum(lp.drops for lp in loopers)} dropped connections; requests repeated "
        f"{dict(sum((lp.repeated for lp in loopers), Counter()))}; "
        f"workers {killed} SIGKILLed and replaced; outage {OUTAGE_SECONDS:.0f} s "
        f"({closed} connections cut): {len(during)} 503s during it, "
        f"{sum(1 for _, _, s in events if s == 503) - len(during)} 503s outside it; "
        f"first 200 {recovery if recovery is None else f'{recovery:.3f}'} s after restore; "
        f"{sum(len(lp.accepted) for lp in loopers)} answers got 200, "
        f"{counts['labels']} labels stored, each exactly once"
    )
    assert during, "no 503 while the database was cut"
    assert recovery is not None, "no 200 after the database came back"
    assert recovery < RECOVERY_BOUND, f"first 200 came {recovery:.1f} s after the restore"
    assert counts["labels"] > 0


def test_backends_terminated_one_by_one_answer_503_never_500(
    scratch_db: str, tmp_path: Path,
) -> None:
    manager_token, workers = make_users(scratch_db, 8)
    name = make_url(scratch_db).database
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    terminated: list[int] = []
    stop = threading.Event()

    def terminate_one_at_a_time() -> None:
        with admin.connect() as conn:
            while not stop.wait(0.3):
                pid = conn.scalar(text(
                    "SELECT pg_terminate_backend(pid)::int * pid FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' ORDER BY random() LIMIT 1"),
                    {"name": name})
                if pid:
                    terminated.append(int(pid))

    try:
        with GunicornServer(scratch_db, log_dir=tmp_path, name="terminate", workers=2,
                            threads=4) as server:
            project_id = _project(server, manager_token, 1500)
            loopers = [Looper(server, project_id, worker_id, token, seed=200 + n)
                       for n, (worker_id, token) in enumerate(workers)]
            killer = threading.Thread(target=terminate_one_at_a_time, daemon=True)
            began, threads = run_loopers(loopers, 20.0)
            killer.start()
            stuck = join_all(threads, 20.0 + 120.0)
            stop.set()
            killer.join(timeout=10)
            assert not stuck, f"clients still running: {stuck}\n{server.log_tail()}"
            server_log = server.log_text()
    finally:
        stop.set()
        admin.dispose()

    statuses = _checked(loopers, server_log)
    counts = stored_exactly_once(scratch_db, project_id, loopers)
    print(f"\n[terminate] {len(terminated)} backends terminated in "
          f"{time.monotonic() - began:.1f} s: statuses {dict(sorted(statuses.items()))}, "
          f"requests repeated {dict(sum((lp.repeated for lp in loopers), Counter()))}, "
          f"{counts['labels']} labels stored, each exactly once")
    assert len(terminated) >= 5, terminated
    assert counts["labels"] > 0


def test_probes_through_gunicorn_when_the_database_is_cut_or_silent(
    scratch_db: str, tmp_path: Path,
) -> None:
    with TcpProxy("127.0.0.1", make_url(scratch_db).port or 5432) as proxy, GunicornServer(
        _via(scratch_db, proxy), log_dir=tmp_path, name="probes", workers=1, threads=2,
        env={"CROWD_DATABASE_CONNECT_TIMEOUT": "1"},
    ) as server:
        assert call_once(server, "-", "GET", "/healthz")[:2] == (200, {"status": "ok"})
        assert call_once(server, "-", "GET", "/readyz")[0] == 200
        proxy.cut()
        status, body, headers = call_once(server, "-", "GET", "/readyz")
        assert (status, body["error"]["code"]) == (503, "database_unavailable"), body
        assert headers["Retry-After"].isdigit()
        assert call_once(server, "-", "GET", "/healthz")[0] == 200
        proxy.hang()  # the database accepts and never answers: only connect_timeout ends it
        asked = time.monotonic()
        status, body, headers = call_once(server, "-", "GET", "/readyz")
        waited = time.monotonic() - asked
        assert (status, body["error"]["code"]) == (503, "database_unavailable"), body
        assert waited < 15.0, f"readyz took {waited:.1f} s with a 1 s connect timeout"
        proxy.restore()
        end = time.monotonic() + RECOVERY_BOUND
        while call_once(server, "-", "GET", "/readyz")[0] != 200:
            assert time.monotonic() < end, "readyz did not come back after the restore"
            time.sleep(0.1)
    print(f"\n[probes] readyz answered 503 {waited:.2f} s into a silent database "
          f"(connect timeout 1 s)")


def test_readyz_503_through_gunicorn_on_a_database_behind_head(tmp_path: Path) -> None:
    for url in scratch_postgres():  # created, never migrated
        with GunicornServer(url, log_dir=tmp_path, name="unmigrated", workers=1,
                            threads=2) as server:
            status, body, _ = call_once(server, "-", "GET", "/readyz")
            assert call_once(server, "-", "GET", "/healthz")[0] == 200
    assert status == 503, body
    assert body["error"]["code"] == "migrations_not_at_head"
    assert body["error"]["details"]["current"] == []
