"""Helpers of ``benchmarks/load.py``: the HTTP client, the clients' load
(threads looping one kind of request, single clients taking turns), the
server's JSON request log, percentiles, the scratch PostgreSQL database, accounts and projects made
through the API, rows written straight to the database (big projects, a long
worker history) and the invariants checked after the load.
"""
from __future__ import annotations

import http.client
import json
import math
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from crowd.domain.gold import SHUFFLE_KEYS
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.persistence import Assignment, Item, Label, User, WorkerStanding
from crowd.persistence.base import UTCDateTime
from tests.support import HUMAN_DURATION_MS, agreeing_label
from tests.system.server import GunicornServer

PASSWORD = "load-bench-Secret-7Qx2"
# A kept-alive connection the server closed (idle, or after an error) is opened
# again once: next and answer are idempotent, me and healthz read only.
RETRYABLE = (http.client.RemoteDisconnected, http.client.CannotSendRequest,
             ConnectionResetError, BrokenPipeError)
# Public ids of rows bulk-inserted with SQL: (x * MULTIPLIER) mod PUBLIC_ID_MAX is a
# bijection (the multiplier is coprime to the modulus), so distinct x never clash.
MULTIPLIER = 2654435761
ROUTES = {"next": "POST /api/v1/projects/<int:project_id>/next",
          "answer": "POST /api/v1/assignments/<int:assignment_id>/answer",
          "me": "GET /api/v1/me", "healthz": "GET /healthz"}
WARMUP = 10  # untimed rounds before single-client loops are timed


class Client:
    """One kept-alive HTTP connection to the server, with an optional bearer token."""

    def __init__(self, host: str, port: int, token: str | None = None,
                 timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect(self) -> None:
        self.conn.connect()

    def call(self, method: str, path: str, body: Any = None,
             content_type: str = "application/json") -> tuple[int, Any, float]:
        """(status, decoded JSON body or None, seconds) of one request."""
        payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {**self.headers, "Content-Type": content_type} if payload else self.headers
        for attempt in (1, 2):
            began = time.perf_counter()
            try:
                self.conn.request(method, path, payload, headers)
                response = self.conn.getresponse()
                raw = response.read()
            except RETRYABLE:
                self.conn.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - began
            if response.will_close:
                self.conn.close()
            kind = response.getheader("Content-Type", "")
            return response.status, json.loads(raw) if raw and "json" in kind else None, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


# -- the clients' load --------------------------------------------------------------

@dataclass
class Tally:
    """What the clients of one run saw, merged over its threads."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    accepted: list[int] = field(default_factory=list)
    loops: int = 0
    nothing_left: int = 0
    failed: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0  # CPU seconds of the gunicorn master and workers over the run

    def merge(self, other: Tally) -> None:
        for name, values in other.times.items():
            self.times[name].extend(values)
        self.statuses.update(other.statuses)
        self.accepted.extend(other.accepted)
        self.loops += other.loops
        self.nothing_left += other.nothing_left
        self.failed += other.failed

    def rate(self, *names: str) -> float:
        return sum(len(self.times[n]) for n in names) / self.seconds

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def one_loop(client: Client, project_id: int, rng: random.Random, out: Tally) -> None:
    """One next, and an answer to what it offered."""
    status, offer, seconds = client.call("POST", f"/api/v1/projects/{project_id}/next")
    out.times["next"].append(seconds)
    out.statuses[status] += 1
    if status == 204:
        out.nothing_left += 1
        time.sleep(0.05)  # a worker with nothing left would not ask again at once
    if status != 200:
        return
    body = {"label": agreeing_label(offer), "duration_ms": rng.randint(*HUMAN_DURATION_MS)}
    status, _, seconds = client.call(
        "POST", f"/api/v1/assignments/{offer['assignment_id']}/answer", body)
    out.times["answer"].append(seconds)
    out.statuses[status] += 1
    if status == 200:
        out.accepted.append(int(offer["assignment_id"]))
        out.loops += 1


def one_client(kind: str, client: Client, project_id: int, seed: int,
               window: dict[str, float], start: threading.Barrier, out: Tally) -> None:
    """Loop ``kind`` until the window's deadline (a loop begun is finished)."""
    rng = random.Random(seed)
    try:
        client.connect()
    except OSError:
        pass  # the first request connects again, and counts as failed if it cannot
    start.wait()
    path = "/api/v1/me" if kind == "me" else "/healthz"
    while time.monotonic() < window["deadline"]:
        try:
            if kind == "loop":
                one_loop(client, project_id, rng, out)
            else:
                status, _, seconds = client.call("GET", path)
                out.times[kind].append(seconds)
                out.statuses[status] += 1
        except (OSError, ValueError, http.client.HTTPException):
            out.failed += 1
            client.close()
    client.close()


def run_clients(server: GunicornServer, kind: str, tokens: list[str], project_id: int,
                seconds: float, seed: int) -> Tally:
    """One thread per token looping ``kind`` for ``seconds``, all starting together."""
    window = {"start": 0.0, "deadline": math.inf}

    def open_window() -> None:
        window["start"] = time.monotonic()
        window["deadline"] = window["start"] + seconds

    start = threading.Barrier(len(tokens), action=open_window)
    tallies = [Tally() for _ in tokens]
    threads = [threading.Thread(target=one_client, daemon=True, args=(
        kind, Client(server.host, server.port, token), project_id, seed + n, window, start,
        tallies[n])) for n, token in enumerate(tokens)]
    cpu, served = time.process_time(), server.cpu_seconds()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally(seconds=time.monotonic() - window["start"])
    total.client_cpu = (time.process_time() - cpu) / total.seconds
    total.server_cpu = server.cpu_seconds() - served
    for tally in tallies:
        total.merge(tally)
    return total


def single_loops(pairs: list[tuple[Client, int]], loops: int, seed: int) -> list[Tally]:
    """``loops`` next+answer loops of each (client, project), taking turns (the order
    reversed every other round), after ``WARMUP`` untimed rounds."""
    rng = random.Random(seed)
    tallies = [Tally() for _ in pairs]
    for round_ in range(WARMUP + loops):
        order = range(len(pairs)) if round_ % 2 == 0 else reversed(range(len(pairs)))
        for n in order:
            client, project_id = pairs[n]
            one_loop(client, project_id, rng, tallies[n] if round_ >= WARMUP else Tally())
    return tallies


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float:
    """The median, NaN when empty (so a missing figure prints as nan, not a crash)."""
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


class RequestLog:
    """The ``crowd.request`` JSON lines the server appended since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.server_errors = 0  # 5xx lines over every read

    def skip(self) -> None:
        """Forget what is there now (setup traffic)."""
        self.read()

    def read(self) -> list[dict[str, Any]]:
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            data = log.read()
        end = data.rfind(b"\n") + 1  # a line being written stays for the next read
        self.offset += end
        lines = []
        for raw in data[:end].splitlines():
            if raw.startswith(b"{") and b'"crowd.request"' in raw:
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue
        self.server_errors += sum(1 for line in lines if int(line.get("status") or 0) >= 500)
        return lines


@dataclass
class RouteCosts:
    """Per route (``METHOD rule``): the CPU ms and SQL statements of each request."""

    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statements: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, lines: list[dict[str, Any]]) -> None:
        for line in lines:
            route = f"{line.get('method')} {line.get('route')}"
            if line.get("cpu_ms") is not None:
                self.cpu_ms[route].append(float(line["cpu_ms"]))
            if line.get("statements") is not None:
                self.statements[route].append(float(line["statements"]))

    def cpu(self, name: str, q: float = 0.5) -> float:
        return percentile(self.cpu_ms.get(ROUTES[name], []), q)

    def sql(self, name: str, q: float = 0.5) -> float:
        return percentile(self.statements.get(ROUTES[name], []), q)


# -- the scratch database ---------------------------------------------------------

@contextmanager
def scratch_postgres(admin_url: str, name: str) -> Iterator[str]:
    """A new PostgreSQL database ``name`` next to ``admin_url``'s; dropped on leaving."""
    if name in ("test", "postgres") or make_url(admin_url).database == name:
        raise ValueError(f"refusing to use the database {name!r}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# -- accounts and projects through the API ----------------------------------------

def bootstrap_admin(engine: Engine, username: str) -> None:
    """The one account that cannot be made through the API: an admin, in SQL."""
    with engine.begin() as conn:
        conn.execute(insert(User).values(
            username=username, password_hash=generate_password_hash(PASSWORD, method="scrypt"),
            role="admin", active=True, session_version=0, created_at=datetime.now(UTC)))


def log_in(client: Client, username: str) -> str:
    status, body, _ = client.call("POST", "/api/v1/tokens",
                                  {"username": username, "password": PASSWORD})
    if status != 201:
        raise RuntimeError(f"POST /api/v1/tokens for {username}: {status} {body}")
    return str(body["token"])


def checked(client: Client, method: str, path: str, body: Any = None,
            content_type: str = "application/json", want: int = 200) -> Any:
    """The body of a setup request that must answer ``want``."""
    status, answer, _ = client.call(method, path, body, content_type)
    if status != want:
        raise RuntimeError(f"{method} {path}: {status} {answer}")
    return answer


def make_workers(host: str, port: int, manager_token: str, names: list[str],
                 parallel: int = 4) -> list[tuple[int, str]]:
    """(id, token) of a new worker per name, made and logged in through the API
    (each costs the server two scrypt hashes, so a few are made at once)."""

    def one(name: str) -> tuple[int, str]:
        client = Client(host, port, manager_token)
        try:
            made = checked(client, "POST", "/api/v1/users",
                           {"username": name, "password": PASSWORD, "role": "worker"}, want=201)
            return int(made["id"]), log_in(client, name)
        finally:
            client.close()

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, names))


def make_project(manager: Client, name: str, labels: list[str], redundancy: int) -> int:
    """A project whose quality rules stay out of the way: no gold, no qualification."""
    body = {"name": name, "labels": labels, "redundancy": redundancy,
            "max_redundancy": max(5, redundancy), "gold_rate": 0.0, "qualification_size": 0}
    return int(checked(manager, "POST", "/api/v1/projects", body, want=201)["id"])


def import_items(manager: Client, project_id: int, n: int, batch: int) -> list[float]:
    """Import ``n`` items as JSONL uploads of ``batch`` items; each upload's seconds."""
    times = []
    for first in range(0, n, batch):
        count = min(batch, n - first)
        lines = "".join(json.dumps({"external_id": f"i{k}", "data": {"text": f"item {k}"}})
                        + "\n" for k in range(first, first + count))
        status, body, seconds = manager.call("POST", f"/api/v1/projects/{project_id}/items",
                                             lines.encode(), "application/x-ndjson")
        if status != 201 or body["created"] != count:
            raise RuntimeError(f"import of {count} items: {status} {body}")
        times.append(seconds)
    return times


# -- rows written with SQL ---------------------------------------------------------

_FILL = """
    INSERT INTO items (project_id, external_id, data, gold_label, is_gold, status, priority,
                       needed, n_labels, started, shuffle_key, created_at, public_id)
    SELECT :pid, 'x' || g, {data}, NULL, {false}, 'open', 0, :needed, 0, {false}, {key}, :now,
           ((g + :offset) * :multiplier) % :modulus + 1
    FROM {series}
"""
_DIALECT = {
    "postgresql": {"data": "json_build_object('text', 'item ' || g)", "false": "false",
                   "key": "floor(random() * :keys)::int",
                   "series": "generate_series(1, :n) AS g", "prefix": ""},
    "sqlite": {"data": "json_object('text', 'item ' || g)", "false": "0",
               "key": "abs(random()) % :keys", "series": "s",
               "prefix": "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
                         "WHERE g < :n) "},
}


def fill_items(engine: Engine, project_id: int, n: int, needed: int) -> float:
    """``n`` open work items shaped like imported ones, in one INSERT ... SELECT; seconds.

    Their public ids are distinct from each other and, but for a ~n/2**53 chance
    each, from imported (random) ones; no ANALYZE is run.
    """
    parts = _DIALECT[engine.dialect.name]
    statement = text(parts["prefix"] + _FILL.format(**parts)).bindparams(
        bindparam("now", type_=UTCDateTime()))
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(statement, {
            "pid": project_id, "needed": needed, "n": n, "keys": SHUFFLE_KEYS,
            "now": datetime.now(UTC), "offset": project_id * 100_000_000,
            "multiplier": MULTIPLIER, "modulus": PUBLIC_ID_MAX})
    return time.perf_counter() - began


def build_history(engine: Engine, project_id: int, labels: list[str], veteran: int,
                  fillers: tuple[int, int], answers: int, still_open: int) -> None:
    """``veteran`` answered ``answers`` items over the past hours, as ``answer`` stores
    them: an answered work assignment and a counted label each. All but the last
    ``still_open`` of those items also have the two ``fillers``' labels and are
    complete; those left are open and started with the veteran's label alone.
    Each worker's standing counts the labels and predates them.
    """
    now = datetime.now(UTC)
    start = now - timedelta(seconds=10 * answers + 60)
    with engine.begin() as conn:
        rows = conn.execute(
            select(Item.id, Item.data).where(Item.project_id == project_id,
                                             Item.status == "open", Item.n_labels == 0)
            .order_by(Item.id).limit(answers)).all()
        assignments, done = [], len(rows) - still_open
        for rank, (item_id, _data) in enumerate(rows):
            for worker in (veteran, *fillers) if rank < done else (veteran,):
                at = start + timedelta(seconds=10 * rank + (worker != veteran))
                assignments.append({
                    "project_id": project_id, "item_id": item_id, "worker_id": worker,
                    "mode": "work", "is_gold": False, "created_at": at,
                    "expires_at": at + timedelta(seconds=600), "answered_at": at,
                    "released_at": None})
        conn.execute(insert(Assignment), assignments)
        ids = {(a, w): i for i, a, w in conn.execute(
            select(Assignment.id, Assignment.item_id, Assignment.worker_id)
            .where(Assignment.project_id == project_id))}
        given = {item_id: agreeing_label({"labels": labels, "item": {"data": data}})
                 for item_id, data in rows}
        conn.execute(insert(Label), [{
            "project_id": project_id, "item_id": a["item_id"], "worker_id": a["worker_id"],
            "assignment_id": ids[a["item_id"], a["worker_id"]], "label": given[a["item_id"]],
            "mode": "work", "is_gold": False, "correct": None, "counted": True,
            "created_at": a["created_at"], "duration_ms": 5000 + a["item_id"] % 20_000,
            "guidelines_version": 1} for a in assignments])
        settled = []
        for rank, (item_id, _data) in enumerate(rows):
            top, sure = given[item_id], 0.97 if rank < done else 0.6
            settled.append({
                "b_id": item_id, "n_labels": 3 if rank < done else 1,
                "status": "complete" if rank < done else "open", "result_label": top,
                "confidence": sure, "posterior": {
                    name: sure if name == top else (1 - sure) / (len(labels) - 1)
                    for name in labels}})
        conn.execute(update(Item).where(Item.id == bindparam("b_id")).values(
            started=True, result_source="crowd"), settled)
        for worker, count in ((veteran, len(rows)), (fillers[0], done), (fillers[1], done)):
            conn.execute(update(WorkerStanding).where(
                WorkerStanding.project_id == project_id, WorkerStanding.worker_id == worker,
            ).values(work_labels=WorkerStanding.work_labels + count,
                     created_at=start - timedelta(seconds=1),
                     state_changed_at=start - timedelta(seconds=1)))


# -- after the load ----------------------------------------------------------------

def invariants(engine: Engine, project_id: int, accepted: list[int]) -> list[tuple[str, bool, str]]:
    """(what, held, detail) of each rule the load must not have broken."""
    now = datetime.now(UTC)
    live = (select(Assignment.item_id, func.count().label("n")).where(
        Assignment.project_id == project_id, Assignment.answered_at.is_(None),
        Assignment.released_at.is_(None), Assignment.expires_at > now,
    ).group_by(Assignment.item_id).subquery())
    counted = (select(Label.item_id, func.count().label("n")).where(
        Label.project_id == project_id, Label.counted.is_(True), Label.is_gold.is_(False),
    ).group_by(Label.item_id).subquery())
    with engine.connect() as conn:
        over = conn.scalar(select(func.count()).select_from(Item).outerjoin(
            live, live.c.item_id == Item.id).where(
            Item.project_id == project_id,
            Item.n_labels + func.coalesce(live.c.n, 0) > Item.needed))
        stored = func.coalesce(counted.c.n, 0)
        drift = conn.scalar(select(func.count()).select_from(Item).outerjoin(
            counted, counted.c.item_id == Item.id).where(
            Item.project_id == project_id, Item.n_labels != stored))
        pairs = select(Label.item_id, Label.worker_id).where(
            Label.project_id == project_id).group_by(Label.item_id, Label.worker_id).having(
            func.count() > 1).subquery()
        repeated = conn.scalar(select(func.count()).select_from(pairs))
        stored_ids = list(conn.scalars(select(Label.assignment_id).where(
            Label.project_id == project_id)))
    seen = set(accepted)
    times: dict[int, int] = defaultdict(int)
    for assignment_id in stored_ids:
        if assignment_id in seen:
            times[assignment_id] += 1
    missing = sum(1 for a in seen if times[a] == 0)
    doubled = sum(1 for a in seen if times[a] > 1)
    return [
        ("no item holds more labels + live leases than it needs", over == 0,
         f"{over} items over"),
        ("items.n_labels equals the item's counted labels", drift == 0, f"{drift} items differ"),
        ("no (item, worker) pair repeats in labels", repeated == 0, f"{repeated} pairs repeat"),
        ("every answer that got 200 is stored exactly once", missing == 0 and doubled == 0,
         f"{len(seen)} got 200, {missing} missing, {doubled} twice"),
    ]


def statistics_state(engine: Engine) -> list[str]:
    """Whether the planner has statistics on the tables the worker loop reads."""
    tables = ("items", "assignments", "labels", "worker_standings")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            present = conn.scalar(text(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
            rows = dict(conn.execute(text("SELECT tbl, count(*) FROM sqlite_stat1 GROUP BY tbl"))
                        .all()) if present else {}
            return [f"  {t}: " + (f"{rows[t]} rows in sqlite_stat1" if t in rows
                                  else "never analysed (no rows in sqlite_stat1)")
                    for t in tables]
        autovacuum = conn.scalar(text("SHOW autovacuum"))
        out = [f"  autovacuum = {autovacuum}"]
        for name, analysed, auto, rows, changed in conn.execute(text(
                "SELECT relname, last_analyze, last_autoanalyze, n_live_tup, n_mod_since_analyze "
                "FROM pg_stat_user_tables WHERE relname = ANY(:t) ORDER BY relname"),
                {"t": list(tables)}):
            out.append(f"  {name}: last_analyze {analysed or 'never'}, last_autoanalyze "
                       f"{auto or 'never'}, {rows} live rows, {changed} changed since analysed")
        return out
