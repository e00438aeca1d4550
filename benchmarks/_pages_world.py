"""The world of ``benchmarks/pages.py``: one project at issue 10's scale, on PostgreSQL.

Every row is written with set-based SQL (``INSERT ... SELECT`` over
``generate_series``) into the tables ``crowd db upgrade`` made: each statement
names the models' columns (an unknown name is a ``KeyError`` here, not a silent
column), and the models' scalar and callable defaults fill the columns it leaves
out. Foreign keys are not checked while loading (``session_replication_role =
replica``): the rows are consistent by construction and checking 10,000,000 of
them would take most of the build.

The project (enrollment ``invite``, 4 classes, redundancy 5) has one manager, one
expert and every worker as members. Items in id order were worked in that order
over ``DAYS`` days: the first 70 % settled (82 % complete, 10 % in review, 8 %
resolved by the expert), the next 6 % open with a first label or two, the rest
open and untouched; every ``GOLD_EVERY``-th item is hidden gold. The labels
(exactly ``labels`` of them, spread over items by weight: 12 per gold item, 5-7 per
complete one, 9 per disputed one) come from distinct workers per item, right with
the worker's own accuracy, each with its answered assignment; ids follow time.
A worker's state is fixed by their position ``p`` in ``STATES`` (``p % 50``):
qualification, suspended by the manager, suspended for speed, retraining after
drift, and a worker suspended and reinstated three times; everyone else active,
with the state events that led there. Thirty aggregation runs, the last over
every counted label; live and expired leases.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from benchmarks._load_support import MULTIPLIER, PASSWORD
from crowd.domain.gold import SHUFFLE_KEYS
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.persistence import (
    AggregationRun,
    Assignment,
    Base,
    Item,
    Label,
    Project,
    ProjectMember,
    StateEvent,
    User,
    WorkerStanding,
)
from crowd.services.projects import create_project

PROJECT = "pages benchmark"
CLASSES = ["cat", "dog", "bird", "fish"]
MANAGER, EXPERT = "bench-manager", "bench-expert"
WORKER_PREFIX = "bench-w"
DAYS = 60
GOLD_EVERY = 20
LEASE_SECONDS = 600
# position % 50 -> (state, reason code, reason); every other position is active.
STATES = {49: ("qualification", "new_worker", "answer qualification items to start working"),
          1: ("suspended", "manager_override", "bench: ignored the guidelines on birds"),
          2: ("suspended", "too_fast", "answers faster than anyone reads"),
          3: ("retraining", "drift", "gold accuracy dropped; back to training")}
TOGGLED = 4  # position % 50 of workers suspended and reinstated three times
LOGGED_IN_WORKER = 0  # the worker position the benchmark logs in as (active)
SHOWN_WORKER = TOGGLED  # the worker whose manager page is measured
STRIDES = (1, 3, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61)


@dataclass(frozen=True)
class Size:
    items: int
    labels: int
    workers: int


@dataclass(frozen=True)
class World:
    """What the benchmark needs to know of a built world."""

    project_id: int
    manager: str
    expert: str
    worker: str
    worker_id: int  # the worker whose manager page is measured
    item_id: int  # public id of the item first in review
    external_id: str  # an item's external id, for search boxes

    def params(self) -> dict[str, Any]:
        """URL rule arguments by name."""
        return {"project_id": self.project_id, "worker_id": self.worker_id,
                "user_id": self.worker_id, "item_id": self.item_id,
                "public_id": self.item_id}


def worker_name(position: int) -> str:
    return f"{WORKER_PREFIX}{position:05d}"


def fill(conn: Connection, table: Any, columns: dict[str, str], source: str,
         **params: Any) -> int:
    """``INSERT INTO table (columns) SELECT <expressions> FROM source``: rows written.

    ``columns`` maps each column (checked against the model) to its SQL
    expression; the model's defaults fill the columns left out."""
    table = getattr(table, "__table__", table)
    names = list(columns)
    rows = text("SELECT " + ", ".join(f"{expr} AS {name}" for name, expr in columns.items())
                + " FROM " + source).columns(*(table.c[name] for name in names)).subquery()
    return conn.execute(insert(table).from_select(names, select(*rows.c)), params).rowcount


def advance_sequences(conn: Connection) -> None:
    """Move each id sequence past the ids written explicitly."""
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"))


def label_weights_sql() -> str:
    """bench_plan: one row per item g: gold?, status, k labels, truth class, and
    the base and stride that pick its k distinct labelling workers."""
    return """
    CREATE TEMP TABLE bench_plan AS
    WITH base AS (
      SELECT g, g % :gold_every = 0 AS gold, (g::bigint * 2654435761) % 1000 AS h,
             (g::bigint * 40503) % 100 AS c, g::float8 / :n AS f
      FROM generate_series(1, :n) AS g),
    shaped AS (
      SELECT *, CASE WHEN gold OR f > 0.70 THEN 'open' WHEN h < 100 THEN 'in_review'
                     WHEN h < 180 THEN 'resolved' ELSE 'complete' END AS status FROM base),
    weighted AS (
      SELECT *, CASE WHEN gold THEN 12 WHEN status = 'complete' THEN 5 + h % 3
                     WHEN status <> 'open' THEN 9 WHEN f <= 0.76 THEN 1 + h % 2
                     ELSE 0 END AS w FROM shaped),
    summed AS (SELECT *, (sum(w) OVER (ORDER BY g))::bigint AS upto,
                      (sum(w) OVER ())::bigint AS total FROM weighted)
    SELECT g, gold, status, h, f,
           CASE WHEN c < 40 THEN 1 WHEN c < 70 THEN 2 WHEN c < 90 THEN 3 ELSE 4 END AS truth,
           least(CAST(:labels AS bigint) * upto / total
                 - CAST(:labels AS bigint) * (upto - w) / total, :wn)::int AS k,
           (g::bigint * 7919) % :wn AS base,
           (CAST(:strides AS int[]))[1 + g % cardinality(CAST(:strides AS int[]))] AS stride
    FROM summed"""


def strides(working: int) -> list[int]:
    """Steps coprime to ``working``: item g's j-th worker is base + j x stride (mod
    working), distinct for j < working."""
    return [s for s in STRIDES if math.gcd(s, working) == 1 and s < working] or [1]


# A worker's accuracy, from their position pos.
ACCURACY = ("CASE WHEN pos % 50 IN (1, 2, 3) THEN 0.5 "
            "ELSE 0.70 + 0.28 * ((pos * 37) % 100) / 100.0 END")


def _confidence(status_column: str) -> str:
    return (f"CASE {status_column} WHEN 'complete' THEN 0.95 + (h % 50) / 1000.0 "
            "WHEN 'resolved' THEN 1.0 WHEN 'in_review' THEN 0.45 + (h % 40) / 100.0 "
            "ELSE 0.5 + (h % 30) / 100.0 END")


def _items(conn: Connection, project_id: int, start: datetime, expert_id: int) -> int:
    span = f"(:start + f / 0.76 * interval '{DAYS} days')"
    settled = "(k > 0 AND NOT gold)"
    return fill(conn, Item, {
        "id": "g", "public_id": f"((g + :offset) * {MULTIPLIER}::bigint) % :modulus + 1",
        "project_id": ":pid", "external_id": "'i' || g",
        "data": "json_build_object('text', 'Item ' || g || ': is this a cat, a dog, a bird "
                "or a fish? Photo ' || (g % 977) || ' of the shelter set.', "
                "'source', 'batch-' || (g % 4))",
        "gold_label": "CASE WHEN gold THEN (CAST(:classes AS text[]))[truth] END",
        "is_gold": "gold", "status": "status",
        "needed": "CASE WHEN gold OR status = 'open' THEN 5 WHEN status = 'complete' "
                  "THEN greatest(k, 5) ELSE 10 END",
        "n_labels": "CASE WHEN gold THEN 0 ELSE k END", "started": settled,
        "shuffle_key": f"floor(random() * {SHUFFLE_KEYS})::int",
        "created_at": f"(:start + (g * 4 / (:n + 1)) * interval '{DAYS // 4} days')",
        "result_label": f"CASE WHEN {settled} THEN (CAST(:classes AS text[]))[truth] END",
        "confidence": f"CASE WHEN {settled} THEN {_confidence('status')} END",
        "result_source": f"CASE WHEN status = 'resolved' THEN 'expert' "
                         f"WHEN {settled} THEN 'crowd' END",
        "posterior": f"""CASE WHEN {settled} THEN (SELECT json_object_agg(u.name,
            CASE WHEN u.i = truth THEN {_confidence('status')}
                 ELSE (1 - {_confidence('status')}) / 3 END)
            FROM unnest(CAST(:classes AS text[])) WITH ORDINALITY AS u(name, i)) END""",
        "review_reason": "CASE WHEN status IN ('in_review', 'resolved') THEN CASE WHEN h % 10 = 0 "
                         "THEN 'random_qa' ELSE 'disagreement' END END",
        "review_note": "CASE WHEN status = 'resolved' AND h % 3 = 0 THEN 'clear on a second look' END",
        "resolved_by_id": "CASE WHEN status = 'resolved' THEN :expert END",
        "resolved_at": f"CASE WHEN status = 'resolved' THEN {span} + interval '1 day' END",
    }, "bench_plan", offset=project_id * 100_000_000, modulus=PUBLIC_ID_MAX,
        pid=project_id, classes=CLASSES, start=start, n=_count(conn), expert=expert_id)


def _count(conn: Connection) -> int:
    return int(conn.scalar(text("SELECT count(*) FROM bench_plan")) or 0)


def _labels(conn: Connection, project_id: int, start: datetime, w0: int, working: int) -> int:
    """Every label, ids in time order, then its answered assignment (same id)."""
    conn.execute(text("SET LOCAL work_mem = '512MB'"))
    picked = f"""(SELECT p.*, j, pos, {ACCURACY} AS acc, random() AS luck
        FROM bench_plan p CROSS JOIN LATERAL generate_series(0, p.k - 1) AS j
        CROSS JOIN LATERAL (SELECT ((p.base + j * p.stride) % :wn) / 49 * 50
                                   + ((p.base + j * p.stride) % :wn) % 49 AS pos) AS w
        ) AS x CROSS JOIN LATERAL (SELECT CASE WHEN luck < acc THEN truth
            ELSE 1 + (truth + floor(random() * 3)::int) % 4 END AS given,
            CASE WHEN gold THEN :start + random() * interval '{DAYS} days'
                 ELSE :start + least(f / 0.76, 1) * interval '{DAYS} days'
                      + j * interval '53 seconds' END AS at) AS y"""
    written = fill(conn, Label, {
        "id": "row_number() OVER (ORDER BY at)", "project_id": ":pid", "item_id": "g",
        "worker_id": ":w0 + pos", "assignment_id": "row_number() OVER (ORDER BY at)",
        "label": "(CAST(:classes AS text[]))[given]", "mode": "'work'", "is_gold": "gold",
        "correct": "CASE WHEN gold THEN given = truth END", "counted": "true",
        "created_at": "at", "duration_ms": "1500 + floor(random() * 25000)::int",
        "guidelines_version": "1",
    }, picked, pid=project_id, w0=w0, wn=working, classes=CLASSES, start=start)
    fill(conn, Assignment, {
        "id": "id", "project_id": "project_id", "item_id": "item_id", "worker_id": "worker_id",
        "mode": "mode", "is_gold": "is_gold",
        "created_at": "created_at - duration_ms * interval '1 millisecond'",
        "expires_at": f"created_at - duration_ms * interval '1 millisecond' "
                      f"+ interval '{LEASE_SECONDS} seconds'",
        "answered_at": "created_at",
    }, "labels WHERE project_id = :pid", pid=project_id)
    return written


def _leases(conn: Connection, project_id: int, w0: int, workers: int, now: datetime) -> None:
    """A live lease for every 10th active worker, an expired one for others, on
    untouched open items of their own."""
    for step, expires in ((5, "now() + interval '5 minutes'"),
                          (7, "now() - interval '3 minutes'")):
        fill(conn, Assignment, {
            "project_id": ":pid", "item_id": "p.g", "worker_id": ":w0 + pos", "mode": "'work'",
            "is_gold": "false", "created_at": f"{expires} - interval '{LEASE_SECONDS} seconds'",
            "expires_at": expires,
        }, "generate_series(0, :w - 1) AS pos JOIN bench_plan p "
           "ON p.g = (SELECT max(g) FROM bench_plan) - pos - :shift "
           "WHERE pos % 10 = :step AND pos % 50 NOT IN (1, 2, 3, 49) AND p.k = 0 AND NOT p.gold",
           pid=project_id, w0=w0, w=workers, step=step, shift=0 if step == 5 else workers)


def _standings(conn: Connection, project_id: int, start: datetime, now: datetime,
               w0: int, workers: int) -> None:
    state = "CASE pos % 50 " + " ".join(
        f"WHEN {k} THEN '{v[0]}'" for k, v in STATES.items()) + " ELSE 'active' END"
    code = "CASE pos % 50 " + " ".join(
        f"WHEN {k} THEN '{v[1]}'" for k, v in STATES.items()) + \
        " ELSE 'qualification_passed' END"
    reason = "CASE pos % 50 " + " ".join(
        f"WHEN {k} THEN '{v[2]}'" for k, v in STATES.items()) + \
        " ELSE 'passed qualification: 9/10 correct (90%)' END"
    changed = ("CASE WHEN pos % 50 = 49 THEN :start + pos * interval '1 minute' "
               "WHEN pos % 50 IN (1, 2, 3) THEN :now - (pos % 7 + 1) * interval '1 day' "
               "ELSE :start + pos * interval '1 minute' + interval '2 hours' END")
    fill(conn, WorkerStanding, {
        "project_id": ":pid", "worker_id": ":w0 + pos", "state": state,
        "state_reason_code": code, "state_reason": reason, "state_changed_at": changed,
        "round_seen": "CASE WHEN pos % 50 = 49 THEN pos % 5 ELSE 10 END",
        "round_correct": "CASE WHEN pos % 50 = 49 THEN pos % 5 ELSE 9 END",
        "gold_seen": "coalesce(l.seen, 0) + 10", "gold_correct": "coalesce(l.right_, 0) + 9",
        "hidden_gold_seen": "coalesce(l.seen, 0)", "hidden_gold_correct": "coalesce(l.right_, 0)",
        "work_labels": "coalesce(l.work, 0)",
        "estimated_accuracy": f"CASE WHEN pos % 50 <> 49 THEN round(({ACCURACY})::numeric, 4) END",
        "confusion": f"""CASE WHEN pos % 50 <> 49 THEN (SELECT json_object_agg(t, (
            SELECT json_object_agg(g2, CASE WHEN g2 = t THEN {ACCURACY}
                                       ELSE (1 - {ACCURACY}) / 3 END)
            FROM unnest(CAST(:classes AS text[])) AS g2))
            FROM unnest(CAST(:classes AS text[])) AS t) END""",
        "gold_cusum": "CASE WHEN pos % 50 = 3 THEN 3.2 ELSE (pos % 9) / 10.0 END",
        "drift_since": f"CASE WHEN pos % 50 IN (2, 3) THEN {changed} END",
        "created_at": ":start + pos * interval '1 minute'",
    }, """generate_series(0, :w - 1) AS pos LEFT JOIN (
          SELECT worker_id, count(*) FILTER (WHERE NOT is_gold) AS work,
                 count(*) FILTER (WHERE is_gold) AS seen,
                 count(*) FILTER (WHERE correct) AS right_
          FROM labels WHERE project_id = :pid GROUP BY worker_id) AS l
        ON l.worker_id = :w0 + pos""",
       pid=project_id, w0=w0, w=workers, start=start, now=now, classes=CLASSES)


def _events(conn: Connection, project_id: int, w0: int, workers: int, manager_id: int) -> None:
    """Each worker's way to their state, as state_events, from their standing."""
    common = {"project_id": "project_id", "worker_id": "worker_id", "evidence": "'{}'::json"}
    source = "worker_standings{join} WHERE project_id = :pid AND worker_id - :w0 {cond}"
    keys = {"pid": project_id, "w0": w0}
    fill(conn, StateEvent, {**common, "from_state": "NULL", "to_state": "'qualification'",
                            "reason_code": "'new_worker'",
                            "reason": "'answer qualification items to start working'",
                            "created_at": "created_at"}, source.format(join="", cond=">= 0"), **keys)
    fill(conn, StateEvent, {**common, "from_state": "'qualification'", "to_state": "'active'",
                            "reason_code": "'qualification_passed'",
                            "reason": "'passed qualification: 9/10 correct (90%)'",
                            "evidence": """'{"seen": 10, "correct": 9}'::json""",
                            "created_at": "created_at + interval '2 hours'"},
         source.format(join="", cond="NOT IN (SELECT p FROM generate_series(49, :w, 50) AS p)"),
         w=workers, **keys)
    fill(conn, StateEvent, {**common, "from_state": "'active'", "to_state": "state",
                            "reason_code": "state_reason_code", "reason": "state_reason",
                            "actor_id": "CASE WHEN state_reason_code = 'manager_override' "
                                        "THEN :manager END",
                            "created_at": "state_changed_at"},
         source.format(join="", cond="IN (SELECT p + q FROM generate_series(0, :w, 50) AS p, "
                            "(VALUES (1), (2), (3)) AS v(q))"),
         w=workers, manager=manager_id, **keys)
    fill(conn, StateEvent, {**common, "from_state": "CASE WHEN n % 2 = 1 THEN 'active' "
                                                    "ELSE 'suspended' END",
                            "to_state": "CASE WHEN n % 2 = 1 THEN 'suspended' ELSE 'active' END",
                            "reason_code": "'manager_override'",
                            "reason": "CASE WHEN n % 2 = 1 THEN 'bench: checking a complaint' "
                                      "ELSE 'bench: complaint unfounded' END",
                            "actor_id": ":manager",
                            "created_at": "created_at + n * interval '7 days'"},
         source.format(join=" CROSS JOIN generate_series(1, 6) AS n",
                       cond="IN (SELECT generate_series(:toggled, :w, 50))"),
         w=workers, toggled=TOGGLED, manager=manager_id, **keys)


def _runs(conn: Connection, project_id: int, start: datetime) -> None:
    """Thirty Dawid-Skene runs, one every two days; the last over every counted label,
    so the re-aggregation job sees nothing new."""
    fill(conn, AggregationRun, {
        "project_id": ":pid", "method": "'ds'",
        "settings": """'{"tol": 1e-06, "max_iter": 100, "smoothing": "default"}'::json""",
        "items": "(SELECT count(DISTINCT item_id) FROM labels WHERE project_id = :pid) * r / 30",
        "workers": "(SELECT count(*) FROM worker_standings WHERE project_id = :pid "
                   "AND work_labels > 0)",
        "labels": "(SELECT count(*) FROM labels WHERE project_id = :pid AND counted) * r / 30",
        "iterations": "12 + r % 9", "converged": "true", "log_likelihood": "-1234567.5 * r / 30",
        "duration_ms": "900 * r", "priors": """'{"cat": 0.4, "dog": 0.3, "bird": 0.2,
                                                "fish": 0.1}'::json""",
        "changes": """json_build_object('completed', 900 * r, 'widened', 40 * r,
                                        'to_review', 11 * r, 'reopened', r)""",
        "trigger": "CASE WHEN r % 5 = 0 THEN 'ui' ELSE 'schedule' END",
        "created_at": ":start + r * interval '2 days'",
    }, "generate_series(1, 30) AS r", pid=project_id, start=start)


def _users(conn: Connection, workers: int, now: datetime) -> tuple[int, int, int]:
    """The manager, the expert and ``workers`` workers (one password); their ids
    (the workers': the first, the rest follow by position)."""
    hashed = generate_password_hash(PASSWORD, method="scrypt")
    ids = [conn.scalar(insert(User).values(username=name, password_hash=hashed, role=role,
                                           created_at=now).returning(User.id))
           for name, role in ((MANAGER, "manager"), (EXPERT, "expert"))]
    w0 = int(conn.scalar(select(func.max(User.id))) or 0) + 1
    fill(conn, User, {"id": ":w0 + pos", "username": f"'{WORKER_PREFIX}' || lpad(pos::text, 5, '0')",
                      "password_hash": ":hashed", "role": "'worker'"},
         "generate_series(0, :w - 1) AS pos", w0=w0, w=workers, hashed=hashed)
    advance_sequences(conn)
    return int(ids[0]), int(ids[1]), w0


def build(engine: Engine, size: Size, say: Any = print) -> World:
    """Write the world into ``engine``'s empty, upgraded database."""
    if engine.dialect.name != "postgresql":
        raise ValueError("the page benchmark's world is built on PostgreSQL only")
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS, hours=1)
    working = size.workers - size.workers // 50  # all but those still in qualification
    steps: list[tuple[str, Any]] = []
    with Session(engine) as session:
        manager_id, expert_id, w0 = _users(session.connection(), size.workers, now)
        session.commit()
        manager = session.get(User, manager_id)
        project = create_project(session, {
            "name": PROJECT, "labels": CLASSES, "redundancy": 5, "max_redundancy": 10,
            "gold_rate": 0.05, "qualification_size": 10, "review_rate": 0.01,
            "enrollment": "invite",
            "guidelines": "# Animals\n\nPick the animal the photo shows.\n\n"
                          "* **bird**: any bird, also a drawing of one\n"}, manager)
        project_id = project.id
    members = ("SELECT :pid AS project_id, :expert AS user_id, 'expert' AS role "
               "UNION ALL SELECT :pid, :w0 + pos, 'worker' FROM generate_series(0, :w - 1) pos")
    steps = [
        ("members", lambda c: fill(c, ProjectMember, {
            "project_id": "project_id", "user_id": "user_id", "role": "role",
            "added_at": ":start", "added_by_id": ":manager"}, f"({members}) AS m",
            pid=project_id, expert=expert_id, w0=w0, w=size.workers, start=start,
            manager=manager_id)),
        ("plan", lambda c: c.execute(text(label_weights_sql()), {
            "gold_every": GOLD_EVERY, "n": size.items, "labels": size.labels, "wn": working,
            "strides": strides(working)})),
        ("items", lambda c: _items(c, project_id, start, expert_id)),
        ("labels and assignments", lambda c: _labels(c, project_id, start, w0, working)),
        ("sequences", advance_sequences),
        ("leases", lambda c: _leases(c, project_id, w0, size.workers, now)),
        ("standings", lambda c: _standings(c, project_id, start, now, w0, size.workers)),
        ("state events", lambda c: _events(c, project_id, w0, size.workers, manager_id)),
        ("aggregation runs", lambda c: _runs(c, project_id, start)),
    ]
    with engine.connect() as conn:
        for name, step in steps:
            began = time.perf_counter()
            conn.execute(text("SET session_replication_role = replica"))
            conn.execute(text("SET synchronous_commit = off"))
            step(conn)
            conn.commit()
            say(f"  {name}: {time.perf_counter() - began:.1f} s")
        conn.execute(text("SET session_replication_role = DEFAULT"))
        advance_sequences(conn)
        conn.commit()
    return find(engine)


def find(engine: Engine) -> World:
    """The world in ``engine``'s database (built earlier, perhaps kept)."""
    with Session(engine) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == PROJECT))
        if project_id is None:
            raise LookupError(f"no project {PROJECT!r} in this database: build it first")
        shown = session.scalar(select(User.id).where(User.username == worker_name(SHOWN_WORKER)))
        first = session.execute(
            select(Item.public_id, Item.external_id)
            .where(Item.project_id == project_id, Item.status == "in_review")
            .order_by(Item.confidence.asc().nulls_first(), Item.id).limit(1)).one()
    return World(project_id=project_id, manager=MANAGER, expert=EXPERT,
                 worker=worker_name(LOGGED_IN_WORKER), worker_id=int(shown or 0),
                 item_id=int(first[0]), external_id=str(first[1]))


def table_rows(engine: Engine) -> dict[str, int]:
    """Rows of each of crowd's tables."""
    with engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables}
