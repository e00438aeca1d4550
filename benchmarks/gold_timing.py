"""`next` for hidden gold against `next` for work: does the time tell them apart?

    python benchmarks/gold_timing.py [--database-url URL] [--work N] [--gold N]
                                     [--workers N] [--rounds N] [--repeats N]

One project holds both pools and ``gold_rate`` is 0.5, so the random plan of
`next` itself interleaves gold and work offers for the same workers on the same
tables. Each `next` is timed through the app's test client (the worker's whole
request: token, standing lock, pick, lease, commit) and, apart from it, the
service call alone; each answer is sent untimed so the next `next` reserves
afresh. Every repeat starts from a fresh database and prints the gold and work
medians and their ratio; the last lines give the medians over the repeats. No
target is judged: a ratio near 1.0 is what we want to see. The default
database is a temporary SQLite file; pass a PostgreSQL URL to time that.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from config import TestConfig  # noqa: E402
from crowd import create_app, migrate, runtime  # noqa: E402
from crowd.extensions import db  # noqa: E402
from crowd.persistence import Assignment, User  # noqa: E402
from crowd.services import accounts, assignment, importing, projects  # noqa: E402


def _setup(url: str, n_work: int, n_gold: int, n_workers: int) -> tuple[Any, int, list[Any]]:
    migrate.upgrade(url)
    app = create_app(TestConfig(url, WTF_CSRF_ENABLED=False))
    with app.app_context():
        project = projects.create_project(db.session, {
            "name": "timing", "labels": ["a", "b"], "qualification_size": 0,
            "gold_rate": 0.5, "redundancy": 3}, None)
        rows = [{"external_id": f"w{i}", "data": {"text": f"item {i}"}} for i in range(n_work)]
        rows += [{"external_id": f"g{i}", "data": {"text": f"item {n_work + i}"},
                  "gold_label": "a"} for i in range(n_gold)]
        importing.import_items(db.session, project.id, rows, runtime.rng())
        users = [User(username=f"bench{i}", password_hash="!", role="worker")
                 for i in range(n_workers)]
        db.session.add_all(users)
        db.session.commit()
        workers = [(u.id, accounts.issue_token(db.session, u)) for u in users]
        return app, project.id, workers


def _one_repeat(url: str, args: argparse.Namespace) -> dict[str, dict[bool, list[float]]]:
    app, pid, workers = _setup(url, args.work, args.gold, args.workers)
    client = app.test_client()
    times: dict[str, dict[bool, list[float]]] = {"request": {True: [], False: []},
                                                 "service": {True: [], False: []}}
    for round_ in range(args.rounds):
        for worker_id, token in workers:
            headers = {"Authorization": f"Bearer {token}"}
            if round_ % 2:  # service call alone, in its own app context
                with app.app_context():
                    start = time.perf_counter()
                    offer = assignment.next_assignment(db.session, pid, worker_id,
                                                       runtime.rng(), runtime.now())
                    took = time.perf_counter() - start
                    assert offer is not None
                    assignment_id = offer.assignment.id
                kind = "service"
            else:
                start = time.perf_counter()
                response = client.post(f"/api/v1/projects/{pid}/next", headers=headers)
                took = time.perf_counter() - start
                assert response.status_code == 200, response.get_json()
                assignment_id = response.get_json()["assignment_id"]
                kind = "request"
            with app.app_context():
                is_gold = db.session.get(Assignment, assignment_id).is_gold
            times[kind][is_gold].append(took * 1000)
            answered = client.post(f"/api/v1/assignments/{assignment_id}/answer",
                                   json={"label": "a"}, headers=headers)
            assert answered.status_code == 200, answered.get_json()
    app.extensions["crowd_db"].engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file per repeat")
    parser.add_argument("--work", type=int, default=5000)
    parser.add_argument("--gold", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20, help="next calls per worker")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ratios: dict[str, list[float]] = {"request": [], "service": []}
    medians: dict[str, dict[bool, list[float]]] = {k: {True: [], False: []} for k in ratios}
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'timing.sqlite'}"
            if args.database_url:
                _reset(url)
            times = _one_repeat(url, args)
        for kind, by_gold in times.items():
            gold, work = statistics.median(by_gold[True]), statistics.median(by_gold[False])
            medians[kind][True].append(gold)
            medians[kind][False].append(work)
            ratios[kind].append(gold / work)
            print(f"repeat {repeat + 1} {kind:8}: gold median {gold:.3f} ms "
                  f"(n={len(by_gold[True])}), work median {work:.3f} ms "
                  f"(n={len(by_gold[False])}), gold/work {gold / work:.3f}", flush=True)
    for kind in ratios:
        gold, work = (statistics.median(medians[kind][g]) for g in (True, False))
        print(f"over {args.repeats} repeats, {kind:8}: gold {gold:.3f} ms, work {work:.3f} ms, "
              f"median ratio gold/work {statistics.median(ratios[kind]):.3f} "
              f"(range {min(ratios[kind]):.3f}-{max(ratios[kind]):.3f})")


def _reset(url: str) -> None:
    """Empty a PostgreSQL database for a fresh repeat (it must be a scratch database)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
