"""Many workers against a real gunicorn server: no over-assignment, no lost answers.

32+ worker threads, each with its own HTTP connection, loop ``next``/``answer``
over a 300-item project with redundancy 3 until ``next`` says 204 to all of
them; then the labels table must hold exactly the accepted answers, three per
item, never two from one worker on one item, and no request may have had a 5xx.
"""
from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import create_engine, select

import config
from crowd import create_app, migrate
from crowd.persistence import Assignment, Item, Label
from tests.databases import scratch_postgres
from tests.system.server import GunicornServer
from tests.support import HUMAN_DURATION_MS, agreeing_label

N_WORKERS = 32
N_ITEMS = 300
REDUNDANCY = 3
CLASSES = ["cat", "dog", "bird"]
HTTP_TIMEOUT = 30.0
RUN_DEADLINE = 120.0  # seconds for the whole worker loop; it takes far less
MAX_LOOPS = N_ITEMS + 10  # per worker: one item at most once, plus slack
# Connection errors on a kept-alive connection (the server may close an idle
# one) are retried once on a new connection: next and answer are idempotent.
RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
             http.client.CannotSendRequest)
# A 5xx in gunicorn's access log: ... "POST /api/v1/... HTTP/1.1" 503 123 ...
ACCESS_5XX = re.compile(r'" 5\d\d ')
# gunicorn: several processes on both backends.
SERVER_SHAPE = {"sqlite": {"workers": 4, "threads": 4},
                "postgresql": {"workers": 4, "threads": 4}}


@pytest.fixture(params=["sqlite", "postgresql"])
def system_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(backend, url) of a fresh, migrated database that a server process can open."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crowd.sqlite'}"
        migrate.upgrade(url)
        yield "sqlite", url
    else:
        for url in scratch_postgres():
            migrate.upgrade(url)
            yield "postgresql", url


def _make_users(url: str, n_workers: int) -> tuple[str, list[tuple[int, str]]]:
    """A manager's token and (id, token) of each worker, made in the database directly.

    Every user has the same password, so its scrypt hash (~50-300 ms a time on
    a busy machine) is computed once and reused; the clients use tokens anyway.
    """
    from crowd.extensions import db
    from crowd.services import accounts
    from crowd.services.accounts import create_user, issue_token

    hashes: dict[tuple[str, str], str] = {}
    real_hash = accounts.generate_password_hash

    def hash_once(password: str, method: str) -> str:
        if (password, method) not in hashes:
            hashes[password, method] = real_hash(password, method=method)
        return hashes[password, method]

    app = create_app(config.TestConfig(url))
    try:
        with app.app_context(), mock.patch.object(accounts, "generate_password_hash", hash_once):
            manager = create_user(db.session, "manager", "password-123", "manager")
            manager_token = issue_token(db.session, manager)
            workers = []
            for i in range(n_workers):
                account = create_user(db.session, f"worker{i:02d}", "password-123", "worker")
                workers.append((account.id, issue_token(db.session, account)))
    finally:
        app.extensions["crowd_db"].engine.dispose()
    return manager_token, workers


class Client:
    """A JSON client on one kept-alive HTTP connection, recording every status."""

    def __init__(self, server: GunicornServer, token: str) -> None:
        self.server = server
        self.token = token
        self.conn = server.connection(HTTP_TIMEOUT)
        self.statuses: Counter[int] = Counter()
        self.retries = 0

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, f"/api/v1{path}", body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except RETRYABLE:
                self.conn.close()
                self.conn = self.server.connection(HTTP_TIMEOUT)
                if attempt == 2:
                    raise
                self.retries += 1
        self.statuses[response.status] += 1
        data = json.loads(raw) if raw and response.getheader(
            "Content-Type", "").startswith("application/json") else raw
        return response.status, data

    def close(self) -> None:
        self.conn.close()


@dataclass
class WorkerRun:
    """What one worker thread saw."""

    worker_id: int
    accepted: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retries: int = 0
    finished: bool = False


def _work(server: GunicornServer, project_id: int, worker_id: int, token: str, seed: int,
          start: threading.Barrier, deadline: float, run: WorkerRun) -> None:
    rng = random.Random(seed)
    client = Client(server, token)
    seen_items: set[int] = set()
    try:
        start.wait(timeout=30)
        for _ in range(MAX_LOOPS):
            if time.monotonic() > deadline:
                run.problems.append("deadline passed before next said 204")
                return
            status, offer = client.call("POST", f"/projects/{project_id}/next")
            if status == 204:
                run.finished = True
                return
            if status != 200:
                run.problems.append(f"next -> {status}: {offer!r}")
                return
            item_id = offer["item"]["id"]
            if item_id in seen_items:
                run.problems.append(f"item {item_id} offered twice to worker {worker_id}")
                return
            seen_items.add(item_id)
            label = agreeing_label(offer)
            duration = rng.randint(*HUMAN_DURATION_MS)
            body = {"label": label, "duration_ms": duration}
            status, answer = client.call(
                "POST", f"/assignments/{offer['assignment_id']}/answer", body)
            if status != 200:
                run.problems.append(f"answer -> {status}: {answer!r}")
                return
            if not isinstance(answer, dict) or answer.get("accepted") is not True \
                    or "feedback" in answer:
                run.problems.append(f"answer body {answer!r}")
            run.accepted.append({"assignment_id": offer["assignment_id"], "item_id": item_id,
                                 "label": label, "duration_ms": duration})
        run.problems.append(f"no 204 after {MAX_LOOPS} loops")
    except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
        run.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        run.statuses = client.statuses
        run.retries = client.retries
        client.close()


def _api(server: GunicornServer, token: str, method: str, path: str, body: Any = None) -> Any:
    client = Client(server, token)
    try:
        status, data = client.call(method, path, body)
    finally:
        client.close()
    assert status in (200, 201), (method, path, status, data)
    return data


@pytest.mark.slow
def test_workers_in_parallel_never_over_assign_or_lose_answers(
    system_database: tuple[str, str], tmp_path: Path,
) -> None:
    backend, url = system_database
    setup_began = time.monotonic()
    manager_token, workers = _make_users(url, N_WORKERS)

    with GunicornServer(url, log_dir=tmp_path, name=f"crowd-{backend}",
                        **SERVER_SHAPE[backend]) as server:
        setup_seconds = time.monotonic() - setup_began
        project = _api(server, manager_token, "POST", "/projects", {
            "name": "concurrency", "labels": CLASSES, "redundancy": REDUNDANCY,
            "max_redundancy": REDUNDANCY, "qualification_size": 0, "gold_rate": 0.0,
        })
        project_id = project["id"]
        items = [{"external_id": f"x{i:03d}", "data": {"text": f"item {i}"}}
                 for i in range(N_ITEMS)]
        imported = _api(server, manager_token, "POST", f"/projects/{project_id}/items", items)
        assert imported["created"] == N_ITEMS, imported

        runs = [WorkerRun(worker_id) for worker_id, _ in workers]
        start = threading.Barrier(len(workers))
        began = time.monotonic()
        deadline = began + RUN_DEADLINE
        threads = [
            threading.Thread(
                target=_work, name=f"worker-{worker_id}", daemon=True,
                args=(server, project_id, worker_id, token, 1000 + n, start, deadline, run),
            )
            for n, ((worker_id, token), run) in enumerate(zip(workers, runs, strict=True))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, deadline + HTTP_TIMEOUT + 5 - time.monotonic()))
        seconds = time.monotonic() - began
        stuck = [t.name for t in threads if t.is_alive()]
        assert not stuck, f"threads still running: {stuck}\n{server.log_tail()}"

        # Once everyone has stopped, next is 204 for every worker.
        final: Counter[int] = Counter()
        for _, token in workers:
            client = Client(server, token)
            try:
                status, _ = client.call("POST", f"/projects/{project_id}/next")
            finally:
                client.close()
            final[status] += 1
        progress = _api(server, manager_token, "GET", f"/projects/{project_id}")["progress"]
        server_log = server.log_text()

    statuses: Counter[int] = Counter()
    for run in runs:
        statuses.update(run.statuses)
    statuses.update(final)
    requests = sum(statuses.values())
    retries = sum(run.retries for run in runs)
    problems = [f"worker {run.worker_id}: {p}" for run in runs for p in run.problems]
    accepted = {a["assignment_id"]: (run.worker_id, a) for run in runs for a in run.accepted}

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # Items by the opaque id the workers were offered.
            labels = conn.execute(select(
                Label.assignment_id, Item.public_id.label("item_id"), Label.worker_id,
                Label.label, Label.duration_ms, Label.project_id, Label.is_gold,
            ).join(Item, Item.id == Label.item_id)).all()
            item_rows = conn.execute(
                select(Item.public_id.label("id"), Item.status, Item.n_labels)
                .where(Item.project_id == project_id)
            ).all()
            open_leases = conn.execute(
                select(Assignment.id).where(Assignment.answered_at.is_(None))
            ).all()
    finally:
        engine.dispose()

    per_item = Counter(row.item_id for row in labels)
    pairs = Counter((row.item_id, row.worker_id) for row in labels)
    max_per_item = max(per_item.values(), default=0)
    print(
        f"\n[{backend}] {N_WORKERS} workers, gunicorn -w {server.workers} "
        f"--threads {server.threads}: {requests} requests in {seconds:.1f} s "
        f"({requests / seconds:.0f} req/s), {len(labels)} labels, "
        f"max {max_per_item} labels per item, statuses {dict(sorted(statuses.items()))}, "
        f"{retries} reconnects; setup (users, server start) {setup_seconds:.1f} s"
    )

    # A 503 names its cause in the server's log ("database unavailable (...)").
    unavailable = [line for line in server_log.splitlines() if "database unavailable" in line]
    assert not problems, "\n".join(problems[:20] + unavailable[:10])
    assert not [s for s in statuses if s >= 500], statuses
    server_errors = [line for line in server_log.splitlines()
                     if ACCESS_5XX.search(line) or "Traceback" in line]
    assert not server_errors, "\n".join(server_errors[:20])
    assert all(run.finished for run in runs)
    assert final == Counter({204: N_WORKERS}), final
    # Every item has exactly REDUNDANCY labels, from distinct workers.
    assert len(item_rows) == N_ITEMS
    assert set(per_item) == {row.id for row in item_rows}
    assert set(per_item.values()) == {REDUNDANCY}, Counter(per_item.values())
    assert all(row.n_labels == REDUNDANCY for row in item_rows)
    assert {row.status for row in item_rows} <= {"complete", "in_review"}
    assert max(pairs.values()) == 1, [p for p, n in pairs.items() if n > 1][:10]
    # Every accepted answer is stored as given, and nothing else is.
    stored = {row.assignment_id: row for row in labels}
    assert set(stored) == set(accepted)
    for assignment_id, (worker_id, answer) in accepted.items():
        row = stored[assignment_id]
        assert (row.worker_id, row.item_id, row.label, row.duration_ms, row.project_id) == (
            worker_id, answer["item_id"], answer["label"], answer["duration_ms"], project_id)
        assert row.is_gold is False
    assert len(labels) == N_ITEMS * REDUNDANCY
    assert open_leases == []
    assert progress["open"] == 0
    assert progress["complete"] + progress["in_review"] == N_ITEMS
    assert progress["labels_collected"] == N_ITEMS * REDUNDANCY
