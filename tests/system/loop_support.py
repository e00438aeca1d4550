"""The worker loop over several servers, round robin, and the checks after it.

Builds on ``tests/system/test_concurrency.py`` (its users, JSON client and
per-worker record): each worker thread here holds one kept-alive connection to
every target and sends its requests to them in turn. A loop is ``next``,
``answer``, ``me`` (the worker's own state): three requests, so with two
targets every answer goes to the server that did *not* hand out its lease, and
each worker's ``next`` alternates between the servers.
"""
from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import create_engine, select

from crowd.persistence import Assignment, Item, Label
from tests.system.test_concurrency import Client, WorkerRun
from tests.support import HUMAN_DURATION_MS, agreeing_label

# A request line in gunicorn's access log: ... "POST /api/v1/projects/1/next HTTP/1.1" 200 ...
ACCESS_API = re.compile(r'"(?:GET|POST) /api/v1/\S* HTTP/1\.[01]" (\d{3}) ')


class Target(Protocol):
    """Anything the test client can open a connection to: a server or a proxy."""

    host: str
    port: int

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection: ...


class RoundRobin:
    """One worker's clients, one per target, taking the requests in turn."""

    def __init__(self, targets: Sequence[Target], token: str, first: int = 0) -> None:
        self.clients = [Client(target, token) for target in targets]  # type: ignore[arg-type]
        self.turn = first
        self.sent: Counter[int] = Counter()  # requests by target index

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        index = self.turn % len(self.clients)
        self.turn += 1
        self.sent[index] += 1
        return self.clients[index].call(method, path, body)

    def statuses(self) -> Counter[int]:
        total: Counter[int] = Counter()
        for client in self.clients:
            total.update(client.statuses)
        return total

    def close(self) -> None:
        for client in self.clients:
            client.close()


@dataclass
class RoundRobinRun(WorkerRun):
    """What one worker thread saw, with its requests per target."""

    per_target: Counter[int] = field(default_factory=Counter)


def work_round_robin(targets: Sequence[Target], project_id: int, token: str, first: int,
                     seed: int, start: threading.Barrier, deadline: float, max_loops: int,
                     run: RoundRobinRun) -> None:
    """Loop next -> answer -> me over ``targets`` until next says 204 (at most
    ``max_loops`` times, and not past ``deadline``); record it all in ``run``."""
    rng = random.Random(seed)
    client = RoundRobin(targets, token, first)
    seen_items: set[int] = set()
    try:
        start.wait(timeout=30)
        for _ in range(max_loops):
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
                run.problems.append(f"item {item_id} offered twice to worker {run.worker_id}")
                return
            seen_items.add(item_id)
            label, duration = agreeing_label(offer), rng.randint(*HUMAN_DURATION_MS)
            status, answer = client.call("POST", f"/assignments/{offer['assignment_id']}/answer",
                                         {"label": label, "duration_ms": duration})
            if status != 200 or not isinstance(answer, dict) or answer.get("accepted") is not True:
                run.problems.append(f"answer -> {status}: {answer!r}")
                return
            run.accepted.append({"assignment_id": offer["assignment_id"], "item_id": item_id,
                                 "label": label, "duration_ms": duration})
            status, me = client.call("GET", f"/projects/{project_id}/me")
            if status != 200:
                run.problems.append(f"me -> {status}: {me!r}")
                return
        run.problems.append(f"no 204 after {max_loops} loops")
    except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
        run.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        run.statuses = client.statuses()
        run.retries = sum(c.retries for c in client.clients)
        run.per_target = client.sent
        client.close()


def run_workers(targets: Sequence[Target], project_id: int, workers: list[tuple[int, str]],
                deadline_seconds: float, max_loops: int,
                join_slack: float = 40.0) -> tuple[list[RoundRobinRun], float]:
    """Every worker's loop in a thread of its own, started together; the runs and
    the seconds they took. Worker n starts on target n mod len(targets)."""
    runs = [RoundRobinRun(worker_id) for worker_id, _ in workers]
    start = threading.Barrier(len(workers))
    began = time.monotonic()
    deadline = began + deadline_seconds
    threads = [
        threading.Thread(target=work_round_robin, name=f"worker-{worker_id}", daemon=True,
                         args=(targets, project_id, token, n % len(targets), 1000 + n, start,
                               deadline, max_loops, run))
        for n, ((worker_id, token), run) in enumerate(zip(workers, runs, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline + join_slack - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running: {stuck}"
    return runs, time.monotonic() - began


@dataclass
class Outcome:
    """The database after the loop, and what the checks counted."""

    labels: int
    per_item: Counter[int]
    statuses: Counter[int]


def check_database(url: str, project_id: int, runs: list[RoundRobinRun], n_items: int,
                   redundancy: int) -> Outcome:
    """Every item has exactly ``redundancy`` labels from distinct workers, every
    accepted answer is stored once and as given, nothing else is, no lease is open,
    no worker reported a problem, and no request had a 5xx."""
    problems = [f"worker {run.worker_id}: {p}" for run in runs for p in run.problems]
    assert not problems, "\n".join(problems[:20])
    assert all(run.finished for run in runs)
    statuses: Counter[int] = Counter()
    for run in runs:
        statuses.update(run.statuses)
    assert not [s for s in statuses if s >= 500], statuses

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # Items by the opaque id the workers were offered.
            labels = conn.execute(select(
                Label.assignment_id, Item.public_id.label("item_id"), Label.worker_id,
                Label.label, Label.duration_ms, Label.project_id, Label.is_gold,
            ).join(Item, Item.id == Label.item_id).where(Label.project_id == project_id)).all()
            items = conn.execute(select(Item.public_id.label("id"), Item.n_labels)
                                 .where(Item.project_id == project_id)).all()
            open_leases = conn.execute(select(Assignment.id)
                                       .where(Assignment.answered_at.is_(None))).all()
    finally:
        engine.dispose()

    per_item = Counter(row.item_id for row in labels)
    pairs = Counter((row.item_id, row.worker_id) for row in labels)
    assert len(items) == n_items
    assert {row.id for row in items} == set(per_item)
    assert set(per_item.values()) == {redundancy}, Counter(per_item.values())  # never over
    assert all(row.n_labels == redundancy for row in items)
    assert max(pairs.values()) == 1, [p for p, n in pairs.items() if n > 1][:10]
    by_assignment = Counter(row.assignment_id for row in labels)
    assert max(by_assignment.values()) == 1  # stored exactly once
    accepted = {a["assignment_id"]: (run.worker_id, a) for run in runs for a in run.accepted}
    assert sum(len(run.accepted) for run in runs) == len(accepted)
    stored = {row.assignment_id: row for row in labels}
    assert set(stored) == set(accepted)
    for assignment_id, (worker_id, answer) in accepted.items():
        row = stored[assignment_id]
        got = (row.worker_id, row.item_id, row.label, row.duration_ms, row.project_id,
               row.is_gold)
        sent = (worker_id, answer["item_id"], answer["label"], answer["duration_ms"],
                project_id, False)
        assert got == sent, (assignment_id, got, sent)
    assert len(labels) == n_items * redundancy
    assert open_leases == []
    return Outcome(len(labels), per_item, statuses)


def access_log_counts(log_text: str) -> Counter[str]:
    """API requests in a gunicorn access log, by status class (2xx, 4xx, 5xx)."""
    counts: Counter[str] = Counter()
    for match in ACCESS_API.finditer(log_text):
        counts[f"{match.group(1)[0]}xx"] += 1
    return counts
