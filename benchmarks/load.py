"""The worker loop on a real server: how fast next and answer are beside the
cheapest requests, how they hold up as a project and a worker's history grow,
and whether anything is lost or given twice.

    python benchmarks/load.py [--sqlite] [--postgres-url URL] [--clients 16,64,256]
                              [--seconds 20] [--repeats 3] [--items 100000]
                              [--phases loop,size,history,import] [--workers 5]
                              [--threads 4] [--judge-at 64] [--size-items 10000,1000000]
                              [--single-loops 300] [--history 10000]
                              [--import-items 1000000] [--batch 20000]

Starts gunicorn (``--workers`` x ``--threads``, production settings, no
scheduler, ``CROWD_LOG_FORMAT=json``) on a PostgreSQL database of its own
(``crowd_load_bench_<pid>``, made next to ``--postgres-url`` and dropped at the
end, also on Ctrl-C, SIGTERM or an error), or with ``--sqlite`` on a temporary
SQLite file (then N = 4, 8, 16 by default). An admin is written to the
database; everything else goes through the API: a manager, the projects (no
gold, no qualification), their items (JSONL uploads of ``--batch``), one
worker account and token per client. Traffic goes to 127.0.0.1 only and every
phase is bounded by time or count. The phases (``--phases``, all by default):

loop     A project of ``--items`` items, redundancy 3. For each N in
         ``--clients`` and each of ``--repeats`` repeats, three runs of
         ``--seconds`` each, in an order rotated per repeat so that noise
         hits all alike: N threads (one kept-alive connection and one
         worker each) loop ``GET /api/v1/me`` (``me``), then
         ``POST .../next`` -> ``POST .../answer`` (``loop``), then
         ``GET /healthz``. Answers carry a human ``duration_ms`` and the
         label the test suite's honest workers give (fixed by the item's
         data), so the crowd agrees and no quality rule sanctions anyone
         (random labels would, rightly). A ``next`` that says 204 is counted
         apart. Per N, medians over the repeats: loops/s, requests/s of the
         loop, of me and of healthz, loop/me requests/s, client-side
         p50/p95/p99 latency of each request and next's p99/p50, 5xx and
         failed requests (no answer at all), the CPU this process used (the
         clients share the machine), and from the server's JSON request lines
         (read after each run) the CPU ms
         (the request thread's) and SQL statements per request, per route
         (p50 and p95 over every request of that N), and the whole server's
         CPU (gunicorn's master and workers, from /proc) per request of the
         loop and of me. Then the invariants,
         in SQL: no item over its labels + live leases, n_labels matching
         the stored labels, no repeated (item, worker), and every answer
         that got a 200 stored exactly once.
size     One worker alternates next+answer loops (``--single-loops`` each,
         after 10 untimed) between two projects of ``--size-items`` items;
         those items are bulk-inserted with SQL (1,000,000 through the API
         would take minutes), shaped like imported ones, and no ANALYZE is
         run: whether the tables were ever analysed is printed beside the
         ratio of next's medians (large over small).
history  In a project of 2 x ``--history`` items a veteran with ``--history``
         answers (assignments and labels written with SQL as answer stores
         them; most of those items complete with two other workers' labels,
         500 still open with the veteran's alone) and a new worker alternate
         next+answer loops as above; ratio of next's medians.
import   ``--import-items`` items imported into a new project through the API
         in batches of ``--batch``: each batch's seconds, the median, and
         the slowest batch over the median.

Targets, judged at N = ``--judge-at`` (or the nearest N run): loop/me
requests/s >= 0.40 (PostgreSQL only), next p99/p50 <= 5, the whole server's CPU
per loop request and next's and answer's handler CPU ms under twice me's; everywhere: no 5xx or failed request, every
invariant; size and history ratios <= 1.3; no import batch over 2x the median.
Prints every run and a summary of every target; exit code 0 only when all
are met.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine  # noqa: E402

from benchmarks._load_support import (  # noqa: E402
    PASSWORD,
    Client,
    RequestLog,
    RouteCosts,
    Tally,
    bootstrap_admin,
    build_history,
    checked,
    fill_items,
    import_items,
    invariants,
    log_in,
    make_project,
    make_workers,
    median,
    one_loop,
    percentile,
    run_clients,
    scratch_postgres,
    single_loops,
    statistics_state,
)
from crowd import migrate  # noqa: E402
from tests.system.server import GunicornServer  # noqa: E402

LABELS = ["a", "b", "c"]
KINDS = ("me", "loop", "healthz")
NAMES = ("next", "answer", "me", "healthz")
PHASES = ("loop", "size", "history", "import")
STILL_OPEN = 500


@dataclass
class Target:
    """One line of the summary: a measured figure beside its goal."""

    name: str
    measured: str
    goal: str
    met: bool | None  # None: shown, not judged


def ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000


def n_report(n: int, runs: list[dict[str, Tally]], costs: RouteCosts) -> dict[str, float]:
    """Print one N's medians over its repeats; the figures its targets are judged on."""
    def med(figure: Any) -> float:
        return median([figure(run) for run in runs])

    def total(count: Any) -> int:
        return sum(count(tally) for run in runs for tally in run.values())

    fig = {"ratio": med(lambda r: r["loop"].rate("next", "answer") / r["me"].rate("me")),
           "tail": med(lambda r: ms(r["loop"].times["next"], .99)
                       / ms(r["loop"].times["next"], .5)),
           "cpu_next": costs.cpu("next") / costs.cpu("me"),
           "cpu_answer": costs.cpu("answer") / costs.cpu("me"),
           "server_loop": med(lambda r: 1000 * r["loop"].server_cpu
                              / len(r["loop"].times["next"] + r["loop"].times["answer"])),
           "server_me": med(lambda r: 1000 * r["me"].server_cpu / len(r["me"].times["me"]))}
    fig["server_ratio"] = fig["server_loop"] / fig["server_me"]
    print(f"N={n}, medians of {len(runs)} repeats: "
          f"{med(lambda r: r['loop'].loops / r['loop'].seconds):.1f} loops/s = "
          f"{med(lambda r: r['loop'].rate('next', 'answer')):.1f} requests/s; "
          f"me {med(lambda r: r['me'].rate('me')):.1f}/s; healthz "
          f"{med(lambda r: r['healthz'].rate('healthz')):.1f}/s; loop/me {fig['ratio']:.2f}")
    print(f"  {'latency ms':<12}{'p50':>8}{'p95':>8}{'p99':>8}   "
          f"{'server':<8}{'cpu_ms p50':>11}{'p95':>7}{'statements p50':>16}{'p95':>5}")
    for name in NAMES:
        kind = "loop" if name in ("next", "answer") else name
        quantiles = "".join(f"{med(lambda r: ms(r[kind].times[name], q)):8.1f}"
                            for q in (.5, .95, .99))
        print(f"  {name:<12}{quantiles}   {name:<8}{costs.cpu(name):11.2f}"
              f"{costs.cpu(name, .95):7.2f}{costs.sql(name):16.0f}{costs.sql(name, .95):5.0f}")
    print(f"  whole-server CPU per request (gunicorn's parsing and writing too): loop "
          f"{fig['server_loop']:.2f} ms, me {fig['server_me']:.2f} ms, ratio "
          f"{fig['server_ratio']:.2f}")
    print(f"  next p99/p50 {fig['tail']:.1f}; cpu_ms over me's: next {fig['cpu_next']:.2f}, "
          f"answer {fig['cpu_answer']:.2f}; 5xx {total(lambda t: t.server_errors)}; failed "
          f"{total(lambda t: t.failed)}; next said 204 (nothing left) "
          f"{total(lambda t: t.nothing_left)} times")
    return fig


def loop_phase(args: argparse.Namespace, server: GunicornServer, engine: Any,
               manager: Client, tokens: list[str], log: RequestLog,
               seen: list[Tally]) -> list[Target]:
    project_id = make_project(manager, "load", LABELS, 3)
    seconds = sum(import_items(manager, project_id, args.items, args.batch))
    print(f"\n== loop: project {project_id}, {args.items} items imported through the API in "
          f"{seconds:.1f} s; {args.seconds:g} s per run")
    log.skip()
    judged = min(args.clients, key=lambda n: abs(n - args.judge_at))
    targets: list[Target] = []
    accepted: list[int] = []
    for n in args.clients:
        runs: list[dict[str, Tally]] = []
        costs = RouteCosts()
        for repeat in range(args.repeats):
            order = KINDS[repeat % 3:] + KINDS[:repeat % 3]
            run: dict[str, Tally] = {}
            for kind in order:
                run[kind] = run_clients(server, kind, tokens[:n], project_id, args.seconds,
                                        seed=1000 * n + 10 * repeat)
                costs.add(log.read())
                seen.append(run[kind])
            accepted.extend(run["loop"].accepted)
            runs.append(run)
            print(f"N={n} repeat {repeat + 1}: " + "; ".join(
                f"{kind} {run[kind].rate(*(('next', 'answer') if kind == 'loop' else (kind,))):.1f}"
                f" req/s (client {run[kind].client_cpu:.2f} CPUs)" for kind in order))
        fig = n_report(n, runs, costs)
        if n == judged:
            postgres = engine.dialect.name == "postgresql"
            targets += [
                Target(f"loop/me requests/s, N={n}" + ("" if postgres else " (SQLite)"),
                       f"{fig['ratio']:.2f}", ">= 0.40",
                       fig["ratio"] >= 0.40 if postgres else None),
                Target(f"next p99/p50, N={n}", f"{fig['tail']:.2f}", "<= 5", fig["tail"] <= 5),
                Target(f"server CPU per loop request / me's, N={n}",
                       f"{fig['server_ratio']:.2f}", "< 2", fig["server_ratio"] < 2),
                Target(f"next cpu_ms / me cpu_ms (handler only), N={n}",
                       f"{fig['cpu_next']:.2f}", "< 2", fig["cpu_next"] < 2),
                Target(f"answer cpu_ms / me cpu_ms (handler only), N={n}",
                       f"{fig['cpu_answer']:.2f}", "< 2", fig["cpu_answer"] < 2)]
    print("invariants after the load:")
    for what, held, detail in invariants(engine, project_id, accepted):
        print(f"  {'PASS' if held else 'FAIL'}: {what} ({detail})")
        targets.append(Target(what, detail, "holds", held))
    return targets


def compare(title: str, names: tuple[str, str], tallies: list[Tally]) -> float:
    """Print next's and answer's medians of two single-loop series; next's ratio."""
    for name, tally in zip(names, tallies, strict=True):
        print(f"  {name}: next median {ms(tally.times['next'], .5):.2f} ms (p95 "
              f"{ms(tally.times['next'], .95):.2f}), answer median "
              f"{ms(tally.times['answer'], .5):.2f} ms; {dict(sorted(tally.statuses.items()))}")
    ratio = ms(tallies[1].times["next"], .5) / ms(tallies[0].times["next"], .5)
    print(f"  {title}: next median ratio {ratio:.2f}, answer median ratio "
          f"{ms(tallies[1].times['answer'], .5) / ms(tallies[0].times['answer'], .5):.2f}")
    return ratio


def size_phase(args: argparse.Namespace, server: GunicornServer, engine: Any, manager: Client,
               token: str, seen: list[Tally]) -> list[Target]:
    print("\n== size: items bulk-inserted with SQL (not through the API), no ANALYZE run")
    projects = []
    for n in args.size_items:
        project_id = make_project(manager, f"size {n}", LABELS, 3)
        seconds = fill_items(engine, project_id, n, 3)
        print(f"  project {project_id}: {n} items inserted in {seconds:.1f} s")
        projects.append(project_id)
    client = Client(server.host, server.port, token)
    tallies = single_loops([(client, p) for p in projects], args.single_loops, seed=7)
    client.close()
    seen.extend(tallies)
    names = (f"{args.size_items[0]} items", f"{args.size_items[1]} items")
    ratio = compare(f"{names[1]} vs {names[0]}", names, tallies)
    print("  planner statistics:")
    print("\n".join(statistics_state(engine)))
    return [Target(f"next median, {names[1]} vs {names[0]}", f"{ratio:.2f}", "<= 1.3",
                   ratio <= 1.3)]


def history_phase(args: argparse.Namespace, server: GunicornServer, engine: Any,
                  manager: Client, workers: list[tuple[int, str]],
                  seen: list[Tally]) -> list[Target]:
    (veteran, _), (filler_a, _), (filler_b, _), _ = workers
    project_id = make_project(manager, "history", LABELS, 3)
    import_items(manager, project_id, 2 * args.history, args.batch)
    clients = [Client(server.host, server.port, token) for _, token in workers]
    for client in clients[:3]:  # their standings, as a first visit makes them
        one_loop(client, project_id, random.Random(1), Tally())
    began = time.monotonic()
    build_history(engine, project_id, LABELS, veteran, (filler_a, filler_b), args.history,
                  STILL_OPEN)
    print(f"\n== history: project {project_id} of {2 * args.history} items; the veteran's "
          f"{args.history} answers written with SQL in {time.monotonic() - began:.1f} s "
          f"({args.history - STILL_OPEN} of those items complete, {STILL_OPEN} open)")
    tallies = single_loops([(clients[0], project_id), (clients[3], project_id)],
                           args.single_loops, seed=11)
    for client in clients:
        client.close()
    seen.extend(tallies)
    ratio = compare("veteran vs new worker", ("new worker", f"veteran ({args.history} answers)"),
                    tallies[::-1])
    return [Target(f"next median, {args.history}-answer veteran vs new worker",
                   f"{ratio:.2f}", "<= 1.3", ratio <= 1.3)]


def import_phase(args: argparse.Namespace, manager: Client) -> list[Target]:
    project_id = make_project(manager, "import", LABELS, 3)
    print(f"\n== import: {args.import_items} items into project {project_id} through the API, "
          f"batches of {args.batch} (seconds each):")
    times = import_items(manager, project_id, args.import_items, args.batch)
    for row in range(0, len(times), 10):
        print("  " + " ".join(f"{t:.2f}" for t in times[row:row + 10]))
    middle = median(times)
    print(f"  median {middle:.2f} s, max {max(times):.2f} s: max/median {max(times) / middle:.2f}")
    return [Target("slowest import batch / median", f"{max(times) / middle:.2f}", "<= 2",
                   max(times) / middle <= 2)]


def run(args: argparse.Namespace, url: str, engine: Any, folder: Path) -> list[Target]:
    """Every phase asked for, against one server; their targets."""
    bootstrap_admin(engine, "load-admin")
    with GunicornServer(url, log_dir=folder, workers=args.workers, threads=args.threads,
                        env={"CROWD_LOG_FORMAT": "json"}) as server:
        log = RequestLog(server.log_path)
        admin = Client(server.host, server.port)
        admin = Client(server.host, server.port, log_in(admin, "load-admin"))
        checked(admin, "POST", "/api/v1/users", {"username": "load-manager", "password":
                PASSWORD, "role": "manager"}, want=201)
        manager_token = log_in(admin, "load-manager")
        manager = Client(server.host, server.port, manager_token, timeout=600)
        clients = max(args.clients) if "loop" in args.phases else 0
        extra = ("size" in args.phases) + 4 * ("history" in args.phases)
        began = time.monotonic()
        workers = make_workers(server.host, server.port, manager_token,
                               [f"load-w{n:03d}" for n in range(clients + extra)])
        print(f"{server.base_url}: {args.workers} gunicorn workers x {args.threads} threads on "
              f"{engine.dialect.name}; {len(workers)} workers made and logged in through the "
              f"API in {time.monotonic() - began:.1f} s")
        targets: list[Target] = []
        seen: list[Tally] = []
        if "loop" in args.phases:
            targets += loop_phase(args, server, engine, manager,
                                  [token for _, token in workers[:clients]], log, seen)
        rest = workers[clients:]
        if "size" in args.phases:
            targets += size_phase(args, server, engine, manager, rest.pop(0)[1], seen)
        if "history" in args.phases:
            targets += history_phase(args, server, engine, manager, rest[:4], seen)
        if "import" in args.phases:
            targets += import_phase(args, manager)
        log.read()
        errors = sum(t.server_errors for t in seen)
        failed = sum(t.failed for t in seen)
        targets.append(Target("5xx seen by clients / in the server log / failed requests",
                              f"{errors} / {log.server_errors} / {failed}", "0 / 0 / 0",
                              errors == failed == log.server_errors == 0))
        return targets


@contextmanager
def database(args: argparse.Namespace, folder: Path) -> Iterator[str]:
    """The URL of a fresh database: a SQLite file in ``folder``, or PostgreSQL's own."""
    if args.sqlite:
        yield f"sqlite:///{folder / 'crowd.sqlite'}"
    else:
        with scratch_postgres(args.postgres_url, args.database_name) as url:
            yield url


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="where to create (and drop) the benchmark's own database")
    parser.add_argument("--database-name", default=f"crowd_load_bench_{os.getpid()}")
    parser.add_argument("--clients", type=numbers, help="N values (default 16,64,256; "
                        "SQLite 4,8,16)")
    parser.add_argument("--judge-at", type=int, help="N the targets are judged at "
                        "(default 64; SQLite 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000, help="items of the loop project")
    parser.add_argument("--batch", type=int, default=20_000, help="items per import request")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--phases", type=lambda s: s.split(","), default=list(PHASES),
                        help=f"some of {','.join(PHASES)} (default: all)")
    parser.add_argument("--size-items", type=numbers, default=[10_000, 1_000_000])
    parser.add_argument("--single-loops", type=int, default=300,
                        help="timed loops per series in the size and history phases")
    parser.add_argument("--history", type=int, default=10_000, help="the veteran's answers")
    parser.add_argument("--import-items", type=int, default=1_000_000)
    args = parser.parse_args()
    args.clients = args.clients or ([4, 8, 16] if args.sqlite else [16, 64, 256])
    args.judge_at = args.judge_at or (16 if args.sqlite else 64)
    unknown = set(args.phases) - set(PHASES)
    if unknown or len(args.size_items) != 2 or args.history <= STILL_OPEN:
        parser.error(f"--phases takes {','.join(PHASES)}; --size-items two sizes; "
                     f"--history more than {STILL_OPEN}")
    return args


def _interrupted(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # so a kill, like Ctrl-C, stops the server and drops the database


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    folder = Path(tempfile.mkdtemp(prefix="crowd-load-"))
    try:
        with database(args, folder) as url:
            migrate.upgrade(url)
            engine = create_engine(url)
            try:
                targets = run(args, url, engine, folder)
            finally:
                engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    width = max(len(t.name) for t in targets)
    print(f"\n{'target':<{width}}  {'measured':>28}  {'goal':>9}  result")
    for t in targets:
        verdict = "not judged" if t.met is None else "met" if t.met else "NOT MET"
        print(f"{t.name:<{width}}  {t.measured:>28}  {t.goal:>9}  {verdict}")
    return 0 if all(t.met is not False for t in targets) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server was stopped and the database dropped", file=sys.stderr)
        sys.exit(130)
