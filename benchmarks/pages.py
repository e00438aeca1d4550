"""Every browser page at issue 10's scale: its median and p95 against 300 ms.

    python benchmarks/pages.py [--items 1000000] [--labels 5000000] [--workers 2000]
                               [--repeat 30] [--budget 60] [--jobs reaggregate,...]
                               [--keep] [--reuse] [--admin-url URL] [--database-name NAME]

Builds the world of ``benchmarks/_pages_world.py`` (one project of ``--items``
items, ``--labels`` labels and ``--workers`` workers; see there) on a PostgreSQL
database of its own (``--database-name``, made next to ``--admin-url``'s, never
``test``), after ``crowd db upgrade``; then does what a production database has
had done to it: VACUUM (autovacuum's part), ANALYZE of crowd's tables
(``crowd.persistence.statistics``) and one run of each scheduled job of
``crowd.jobs.schedule.JOBS`` (or of ``--jobs``), each timed: the drift job took
47 s at 200 workers and 100,000 labels, its population rules grow with the
pairs of workers, so at full size leave it out (``--jobs
reaggregate,leases,statistics,activity``); the activity job's first run over
5,000,000 labels took 11 minutes, later runs only read new labels. ``--keep`` keeps
the database; ``--reuse`` measures a kept one again (it upgrades the schema,
runs VACUUM, ANALYZE and the jobs again, and keeps it).

Serves the app with gunicorn on 127.0.0.1 (production settings,
``CROWD_LOG_FORMAT=json``, a worker timeout of 900 s so that a slow page is
measured, not killed), logs in through the login form (CSRF token, session
cookie) as the manager, the expert and a worker with an ordinary history, and
finds the pages in the app's URL map (``benchmarks/_pages_routes.py``): every
GET page, for every visitor it answers 200 (only the anonymous one when it
answers that one), and each page's keyed variants found in its HTML (a next
page, a sort, each filter). After one untimed round, ``--repeat`` rounds
request every target in turn, the order rotated each round; a target is left
out of later rounds once its timed requests passed ``--budget`` seconds (after
one). An answer other than 200 counts as an error and is not timed. The
server's JSON request lines (matched by X-Request-Id) give each request's
statements and server milliseconds.

Prints per target: requests timed, client median and p95 ms, the server's
median ms, statements per request, and PASS (median under 300 ms), FAIL or
ERROR; then the rules with an argument the world cannot fill, the downloads
left out and the pages no visitor could open. Exit code 0 only when every
target passes.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks import _pages_world as world_sql  # noqa: E402
from benchmarks._load_support import RequestLog, median, percentile  # noqa: E402
from benchmarks._pages_routes import (  # noqa: E402
    NOT_PAGES,
    Discovered,
    Target,
    Visitor,
    fill_rule,
    page_rules,
    variants,
)
from config import TestConfig  # noqa: E402
from crowd import create_app, migrate  # noqa: E402
from crowd.jobs.schedule import JOBS  # noqa: E402
from crowd.persistence import Base  # noqa: E402
from crowd.persistence.statistics import analyse  # noqa: E402
from tests.system.server import GunicornServer  # noqa: E402

GOAL_MS = 300.0
ANONYMOUS = "anonymous"


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The benchmark's own database: made afresh (or, with ``--reuse``, the kept
    one), dropped on leaving unless ``--keep`` or ``--reuse``."""
    name = args.database_name
    if name in ("test", "postgres") or make_url(args.admin_url).database == name:
        raise SystemExit(f"refusing to use the database {name!r}")
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            if args.reuse and not exists:
                raise SystemExit(f"--reuse: there is no database {name!r}; build it with --keep")
            if not args.reuse:
                conn.execute(drop)
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(args.admin_url).set(database=name).render_as_string(
                hide_password=False)
        finally:
            if not (args.keep or args.reuse):
                with admin.connect() as conn:
                    conn.execute(drop)
    finally:
        admin.dispose()


def prepare(engine: Engine, jobs: list[str]) -> None:
    """VACUUM and ANALYZE crowd's tables, then run each scheduled job once."""
    tables = Base.metadata.sorted_tables
    began = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f'VACUUM "{table.name}"'))
    with Session(engine) as session:
        analyse(session, tables)
        session.commit()
    print(f"  VACUUM and ANALYZE of {len(tables)} tables: {time.perf_counter() - began:.1f} s")
    for name in jobs:
        began = time.perf_counter()
        with Session(engine) as session:
            detail = JOBS[name][1](session)
            session.commit()
        print(f"  job {name}: {time.perf_counter() - began:.1f} s ({detail})")


def discover(app: Any, visitors: dict[str, Visitor], params: dict[str, Any],
             search: str) -> Discovered:
    """The targets: each page (and its variants) for each visitor that gets a 200."""
    found = Discovered()
    for rule in page_rules(app):
        if any(word in rule.endpoint for word in NOT_PAGES):
            found.skipped.append(rule.rule)
            continue
        path = fill_rule(app, rule, params)
        if path is None:
            found.unfilled.append(rule.rule)
            continue
        statuses: dict[str, int] = {}
        pages: dict[str, str] = {}
        for name, visitor in visitors.items():
            answer = visitor.get(path, f"discover-{name}-{rule.endpoint}")
            statuses[name] = answer.status_code
            if answer.status_code == 200:
                pages[name] = answer.text
        if ANONYMOUS in pages:
            pages = {ANONYMOUS: pages[ANONYMOUS]}
        if not pages:
            found.refused[rule.rule] = statuses
        for name, html in pages.items():
            found.targets.append(Target(rule.rule, path, name))
            for url in variants(path, html, search):
                query = url.split("?", 1)[1]
                found.targets.append(Target(f"{rule.rule}?{query}", url, name))
    return found


def measure(targets: list[Target], visitors: dict[str, Visitor], repeat: int,
            budget: float) -> tuple[dict[Target, list[float]], dict[Target, Counter[int]],
                                    dict[str, Target]]:
    """Client seconds of each target's 200s, its other statuses, and request ids."""
    times: dict[Target, list[float]] = defaultdict(list)
    errors: dict[Target, Counter[int]] = defaultdict(Counter)
    ids: dict[str, Target] = {}
    for round_ in range(-1, repeat):  # round -1 warms up, untimed
        shift = max(round_, 0) % len(targets)
        for n, target in enumerate(targets[shift:] + targets[:shift]):
            if round_ >= 0 and times[target] and sum(times[target]) > budget:
                continue
            request_id = f"bench-{round_}-{n}"
            began = time.perf_counter()
            answer = visitors[target.visitor].get(target.url, request_id)
            seconds = time.perf_counter() - began
            if round_ < 0:
                continue
            ids[request_id] = target
            if answer.status_code == 200:
                times[target].append(seconds)
            else:
                errors[target][answer.status_code] += 1
    return times, errors, ids


def report(targets: list[Target], times: dict[Target, list[float]],
           errors: dict[Target, Counter[int]], server: dict[Target, dict[str, list[float]]]
           ) -> bool:
    """Print the table; whether every target passed."""
    width = max(len(t.rule) for t in targets) + 2
    print(f"\n{'page':<{width}}{'visitor':<11}{'n':>4}{'median ms':>11}{'p95 ms':>9}"
          f"{'server ms':>11}{'statements':>12}  result")
    passed = True
    for target in sorted(targets, key=lambda t: (t.rule, t.visitor)):
        values = [1000 * s for s in times.get(target, [])]
        middle = median(values)
        if errors.get(target):
            verdict = "ERROR " + ", ".join(f"{n}x {status}"
                                           for status, n in sorted(errors[target].items()))
        else:
            verdict = "PASS" if middle < GOAL_MS else "FAIL"
        passed = passed and verdict == "PASS"
        lines = server.get(target, {})
        print(f"{target.rule:<{width}}{target.visitor:<11}{len(values):>4}{middle:>11.1f}"
              f"{percentile(values, 0.95):>9.1f}{median(lines.get('duration_ms', [])):>11.1f}"
              f"{median(lines.get('statements', [])):>12.0f}  {verdict}")
    return passed


def server_figures(log: RequestLog, ids: dict[str, Target]) -> dict[Target, dict[str, list[float]]]:
    """Per target, the server's duration_ms and statements of each timed request."""
    out: dict[Target, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in log.read():
        target = ids.get(str(line.get("request_id")))
        if target is None:
            continue
        for key in ("duration_ms", "statements"):
            if line.get(key) is not None:
                out[target][key].append(float(line[key]))
    return out


def run(args: argparse.Namespace, url: str, folder: Path) -> bool:
    engine = create_engine(url)
    try:
        migrate.upgrade(url)
        if not args.reuse:
            print(f"building the world ({args.items} items, {args.labels} labels, "
                  f"{args.workers} workers) in {args.database_name}:")
            began = time.perf_counter()
            world_sql.build(engine, world_sql.Size(args.items, args.labels, args.workers))
            print(f"  built in {time.perf_counter() - began:.1f} s")
        prepare(engine, args.jobs)
        world = world_sql.find(engine)
        print("rows: " + ", ".join(f"{name} {rows}" for name, rows
                                    in world_sql.table_rows(engine).items()))
    finally:
        engine.dispose()
    app = create_app(TestConfig(url))
    env = {"CROWD_LOG_FORMAT": "json", "CROWD_TIMEOUT": "900"}
    with GunicornServer(url, log_dir=folder, workers=2, threads=2, env=env) as server:
        visitors = {ANONYMOUS: Visitor(server.base_url, ANONYMOUS)}
        for role, username in (("manager", world.manager), ("expert", world.expert),
                               ("worker", world.worker)):
            visitors[role] = Visitor(server.base_url, role)
            visitors[role].log_in(username)
        found = discover(app, visitors, world.params(), world.external_id)
        print(f"{len(found.targets)} targets; {args.repeat} rounds after one untimed")
        times, errors, ids = measure(found.targets, visitors, args.repeat, args.budget)
        passed = report(found.targets, times, errors,
                        server_figures(RequestLog(server.log_path), ids))
    for title, rules in (("rules with an argument the world cannot fill", found.unfilled),
                         ("downloads, not measured", found.skipped)):
        if rules:
            print(f"{title}: {', '.join(rules)}")
    for rule, statuses in found.refused.items():
        print(f"no visitor got 200 from {rule}: "
              + ", ".join(f"{name} {status}" for name, status in statuses.items()))
    return passed and not found.refused


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed rounds")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="timed seconds after which a target sits out later rounds")
    parser.add_argument("--jobs", type=lambda s: [j for j in s.split(",") if j],
                        default=list(JOBS), help=f"scheduled jobs to run ({','.join(JOBS)})")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the kept database again (and keep it)")
    parser.add_argument("--admin-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a database on the server where the benchmark's is made")
    parser.add_argument("--database-name", default="crowd_bench_pages")
    args = parser.parse_args()
    unknown = set(args.jobs) - set(JOBS)
    if unknown or args.workers < 50 or args.items < 10 * args.workers or args.repeat < 1:
        parser.error(f"--jobs takes {','.join(JOBS)}; --workers at least 50; "
                     "--items at least 10 x --workers; --repeat at least 1")
    return args


def _interrupted(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # so a kill, like Ctrl-C, stops the server and drops the database


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    folder = Path(tempfile.mkdtemp(prefix="crowd-pages-"))
    try:
        with database(args) as url:
            return 0 if run(args, url, folder) else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server was stopped", file=sys.stderr)
        sys.exit(130)
