"""Clients, server handles and checks for the fault tests (tests/system/test_faults.py).

A ``Looper`` is one worker's client looping ``next`` -> ``answer`` on its own
kept-alive connection until a deadline. It treats a dropped connection (a
gunicorn worker killed under it) and a 503 as "retry the same request": both
calls are idempotent, so a retry must end in the answer the first try would
have had. Each response is recorded with the time it arrived, so the test can
tell what happened during an outage and how soon after it the first 200 came.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import create_engine, select

import config
from crowd import create_app
from crowd.persistence import Item, Label
from tests.system.server import GunicornServer
from tests.support import agreeing_label

HTTP_TIMEOUT = 30.0
RETRY_PAUSE = 0.1  # seconds after a 503 or a drop: clients here measure the server, not backoff
MAX_ATTEMPTS = 400  # per request; at RETRY_PAUSE this outlasts any outage the tests make
DROPPED = (http.client.HTTPException, ConnectionError, socket.timeout, OSError)


def make_users(url: str, n_workers: int) -> tuple[str, list[tuple[int, str]]]:
    """A manager's token and (id, token) of each worker, made in the database directly
    (one password hash for all: scrypt is slow and the clients use tokens)."""
    from crowd.extensions import db
    from crowd.services import accounts

    real_hash, hashes = accounts.generate_password_hash, {}

    def hash_once(password: str, method: str) -> str:
        return hashes.setdefault((password, method), real_hash(password, method=method))

    app = create_app(config.TestConfig(url))
    try:
        with app.app_context(), mock.patch.object(accounts, "generate_password_hash", hash_once):
            manager = accounts.create_user(db.session, "manager", "password-123", "manager")
            workers = [accounts.create_user(db.session, f"w{i:02d}", "password-123", "worker")
                       for i in range(n_workers)]
            return (accounts.issue_token(db.session, manager),
                    [(w.id, accounts.issue_token(db.session, w)) for w in workers])
    finally:
        app.extensions["crowd_db"].engine.dispose()


def call_once(server: GunicornServer, token: str, method: str, path: str,
              body: Any = None) -> tuple[int, Any, dict[str, str]]:
    """One request on a fresh connection: (status, JSON or raw body, headers)."""
    conn = server.connection(HTTP_TIMEOUT)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers=headers)
        response = conn.getresponse()
        raw = response.read()
        kind = response.getheader("Content-Type", "")
        data = json.loads(raw) if raw and kind.startswith("application/json") else raw
        return response.status, data, dict(response.getheaders())
    finally:
        conn.close()


@dataclass
class Looper:
    """One worker's client: what it sent, what came back, and when."""

    server: GunicornServer
    project_id: int
    worker_id: int
    token: str
    seed: int
    events: list[tuple[float, str, int]] = field(default_factory=list)  # (time, call, status)
    accepted: dict[int, str] = field(default_factory=dict)  # assignment -> label (got 200)
    problems: list[str] = field(default_factory=list)
    drops: int = 0
    repeated: Counter[str] = field(default_factory=Counter)  # call -> times sent again

    def __post_init__(self) -> None:
        self.conn = self.server.connection(HTTP_TIMEOUT)

    def _call(self, kind: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send until a status other than 503 comes back; a drop or a 503 repeats it."""
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.repeated[kind] += 1
            try:
                self.conn.request("POST", f"/api/v1{path}", body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except DROPPED:
                self.drops += 1
                self.conn.close()
                self.conn = self.server.connection(HTTP_TIMEOUT)
                time.sleep(RETRY_PAUSE)
                continue
            self.events.append((time.monotonic(), kind, response.status))
            if response.status == 503:
                self._check_503(response, raw)
                time.sleep(RETRY_PAUSE)
                continue
            data = json.loads(raw) if raw else None
            return response.status, data
        raise RuntimeError(f"{kind} {path}: no answer after {MAX_ATTEMPTS} attempts")

    def _check_503(self, response: http.client.HTTPResponse, raw: bytes) -> None:
        retry_after = response.getheader("Retry-After", "")
        try:
            code = json.loads(raw)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = None
        if code != "database_unavailable" or not retry_after.isdigit():
            self.problems.append(f"503 without the error body or Retry-After: {raw[:200]!r}")

    def run(self, start: threading.Barrier, seconds: float) -> None:
        """Loop next -> answer for ``seconds``; a cycle begun is always finished."""
        rng = random.Random(self.seed)
        try:
            start.wait(timeout=60)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                status, offer = self._call("next", f"/projects/{self.project_id}/next")
                if status == 204:
                    time.sleep(0.2)
                    continue
                if status != 200:
                    self.problems.append(f"next -> {status}: {offer!r}")
                    return
                label = agreeing_label(offer)
                assignment = offer["assignment_id"]
                status, answer = self._call("answer", f"/assignments/{assignment}/answer",
                                            {"label": label})
                if status != 200 or not isinstance(answer, dict) \
                        or answer.get("accepted") is not True:
                    self.problems.append(f"answer {assignment} -> {status}: {answer!r}")
                    return
                self.accepted[assignment] = label  # the item id offered is opaque
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.problems.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.conn.close()


def run_loopers(loopers: list[Looper], seconds: float) -> tuple[float, list[threading.Thread]]:
    """Start every looper in its own thread for ``seconds``: (start time, threads)."""
    start = threading.Barrier(len(loopers) + 1)
    threads = [threading.Thread(target=lp.run, args=(start, seconds), daemon=True,
                                name=f"looper-{lp.worker_id}") for lp in loopers]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    return time.monotonic(), threads


def join_all(threads: list[threading.Thread], timeout: float) -> list[str]:
    """Wait for the looper threads; the names of any still running."""
    end = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.1, end - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


# -- gunicorn workers ------------------------------------------------------------------


def worker_pids(server: GunicornServer) -> list[int]:
    """The pids of the live gunicorn workers: children of the master (from /proc)
    that its log says it booted as workers."""
    assert server.process is not None
    booted = {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)",
                                             server.log_text())}
    master, pids = server.process.pid, []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master and int(entry.name) in booted:
                pids.append(int(entry.name))
    return sorted(pids)


def kill_one_worker(server: GunicornServer, rng: random.Random, respawn_timeout: float) -> int:
    """SIGKILL one worker of ``server`` and wait until the master has replaced it."""
    before = worker_pids(server)
    victim = rng.choice(before)
    os.kill(victim, signal.SIGKILL)  # a child of the server this test started
    end = time.monotonic() + respawn_timeout
    while time.monotonic() < end:
        now = worker_pids(server)
        if victim not in now and len(now) == len(before):
            return victim
        time.sleep(0.1)
    raise AssertionError(f"worker {victim} was not replaced within {respawn_timeout}s")


# -- what the database holds afterwards ------------------------------------------------


def stored_exactly_once(url: str, project_id: int, loopers: list[Looper]) -> dict[str, int]:
    """Assert every 200 answer is stored once as sent and nothing else; return counts."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # Items by the opaque id the workers were offered.
            labels = conn.execute(
                select(Label.assignment_id, Item.public_id.label("item_id"), Label.worker_id,
                       Label.label).join(Item, Item.id == Label.item_id)
                .where(Label.project_id == project_id)).all()
            items = conn.execute(select(Item.public_id.label("id"), Item.n_labels, Item.needed)
                                 .where(Item.project_id == project_id)).all()
    finally:
        engine.dispose()
    accepted = {a: (lp.worker_id, label) for lp in loopers for a, label in lp.accepted.items()}
    per_assignment = Counter(row.assignment_id for row in labels)
    assert max(per_assignment.values(), default=1) == 1, "an assignment with two labels"
    stored = {row.assignment_id: (row.worker_id, row.label) for row in labels}
    assert stored == accepted, (
        f"{len(set(accepted) - set(stored))} answered but not stored, "
        f"{len(set(stored) - set(accepted))} stored but never answered 200, "
        f"{sum(stored[a] != accepted[a] for a in set(stored) & set(accepted))} differ")
    pairs = Counter((row.item_id, row.worker_id) for row in labels)
    assert max(pairs.values(), default=1) == 1, [p for p, n in pairs.items() if n > 1][:10]
    per_item = Counter(row.item_id for row in labels)
    over = [row.id for row in items if per_item[row.id] > row.needed]
    assert not over, f"items over their needed labels: {over[:10]}"
    assert all(row.n_labels == per_item[row.id] for row in items)
    return {"labels": len(labels), "items_touched": len(per_item)}
