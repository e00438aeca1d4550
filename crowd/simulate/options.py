"""``crowd simulate``: its options, their defaults and why, checked into ``Settings``."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

DESCRIPTION = """\
Simulate a crowd against the real HTTP API, over a project with known truth, and
report what the server made of it: accuracy, labels per item, gold and expert
effort, how fast drifting workers were caught, and whether good workers were hurt.

Simulated workers: reliable (class-dependent confusion, accuracy 0.85 +- 0.1 per
class), spammers (uniform random), adversaries (give the swapped partner of the
true class) and drifters (reliable, then 0.3 accurate from --drift-onset work
answers on). Without --url the simulator starts a server of its own (gunicorn on a
free port, production settings, the scheduled jobs on) on a temporary SQLite
database or on --database-url, and stops it at the end. With --url, whether the
server's drift job runs is that server's setting (CROWD_SCHEDULER_ENABLED, or a
`crowd scheduler` process); without it only hidden gold can catch a drifter.
Aggregation, and an oracle expert resolving every item in review with the truth,
run every --aggregate-every answers and at the end.

Defaults a team would pick for a crowd like this one (the server's own defaults
fit a smaller, cleaner crowd):
  --qualification-size 20 --qualification-accuracy 0.5: a worker must get 10 of
    20 gold right (chance is 1 in --classes). A 0.85 worker fails with
    probability 4e-5 (0.80: 6e-4); a spammer passes with 1.4% and an adversary
    practically never. The server's default, 8 of 10, fails a 0.85 worker with
    probability 0.18. The few spammers who pass are left to the drift checks.
  --drift-window 12: at --gold-rate 0.1 an active worker meets only about 20
    hidden gold items in this whole project, so the server default of 20 is
    seldom full. 12 is the smallest window on which the exact 1% binomial test
    against --min-accuracy 0.7 uses nearly all its risk: it fires at 4 or fewer
    right of 12 (P = 0.0095 at the floor), where a window of 10 fires only at
    2 or fewer (P = 0.0016) and lets a worker fallen to 0.3 pass 20 gold
    answers one time in four (at 12: 1 in 15; 1 in 30 by 24). A 0.85 worker
    trips it with probability 7e-5 per check. The window also sets the
    server's check on Dawid-Skene accuracy (the drift job; from 2 x window work
    labels on), which catches most drifters first.
  --gold-items: 10% of --items (at least 4 x --qualification-size), enough
    unseen gold for a qualification round, a retraining round and the hidden gold
    of the busiest worker.
  --drift-onset 40: drifters change after 40 work answers, about a quarter of
    the ~170 each active worker gives here, so the drop must be caught mid-run.
    A later onset leaves a drifter too few gold answers before the project ends
    (at 80, about 10) for any 1% test on gold to be sure of it.
"""


@dataclass(frozen=True)
class Settings:
    """Everything one simulation needs, checked."""

    workers: int
    shares: tuple[float, float, float, float]  # reliable, spammers, adversaries, drifters
    items: int
    classes: int
    redundancy: int
    max_redundancy: int
    confidence: float
    gold_rate: float
    gold_items: int
    qualification_size: int
    qualification_accuracy: float
    drift_window: int
    min_accuracy: float
    drift_onset: int
    seed: int
    threads: int
    aggregate_every: int
    url: str | None = None
    username: str | None = None
    password: str | None = None
    database_url: str | None = None
    server_workers: int = 4
    drift_interval: int = 5
    as_json: bool = False

    def project_settings(self) -> dict[str, float | int]:
        """The settings of the simulated project, as the API names them."""
        return {
            "redundancy": self.redundancy, "max_redundancy": self.max_redundancy,
            "confidence_threshold": self.confidence, "gold_rate": self.gold_rate,
            "qualification_size": self.qualification_size,
            "qualification_accuracy": self.qualification_accuracy,
            "min_accuracy": self.min_accuracy, "drift_window": self.drift_window,
        }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``crowd simulate``."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    crowd = parser.add_argument_group("the crowd")
    crowd.add_argument("--workers", type=int, default=60, help="simulated workers (default 60)")
    crowd.add_argument("--reliable", type=float, default=0.6, help="share reliable (default 0.6)")
    crowd.add_argument("--spammers", type=float, default=0.2, help="share spammers (default 0.2)")
    crowd.add_argument("--adversaries", type=float, default=0.1,
                       help="share adversaries (default 0.1)")
    crowd.add_argument("--drifters", type=float, default=0.1, help="share drifters (default 0.1)")
    crowd.add_argument("--drift-onset", type=int, default=40, metavar="N",
                       help="work answers a drifter gives before degrading (default 40)")
    project = parser.add_argument_group("the project")
    project.add_argument("--items", type=int, default=2000, help="work items (default 2000)")
    project.add_argument("--classes", type=int, default=4, help="classes (default 4)")
    project.add_argument("--gold-items", type=int, default=None, metavar="N",
                         help="gold items (default 10%% of --items, at least "
                              "4 x --qualification-size)")
    project.add_argument("--redundancy", type=int, default=3, help="(default 3)")
    project.add_argument("--max-redundancy", type=int, default=7, help="(default 7)")
    project.add_argument("--confidence", type=float, default=0.95,
                         help="confidence_threshold (default 0.95)")
    project.add_argument("--gold-rate", type=float, default=0.1, help="(default 0.1)")
    project.add_argument("--qualification-size", type=int, default=20, help="(default 20)")
    project.add_argument("--qualification-accuracy", type=float, default=0.5,
                         help="(default 0.5)")
    project.add_argument("--drift-window", type=int, default=12, help="(default 12)")
    project.add_argument("--min-accuracy", type=float, default=0.7, help="(default 0.7)")
    run = parser.add_argument_group("the run")
    run.add_argument("--seed", type=int, default=None,
                     help="seed of the crowd and the items (default: random, printed)")
    run.add_argument("--threads", type=int, default=16,
                     help="client threads; each simulated worker has its own connection "
                          "(default 16)")
    run.add_argument("--aggregate-every", type=int, default=250, metavar="ANSWERS",
                     help="run aggregation (and the oracle expert) every this many "
                          "answers, and once at the end (default 250)")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    server = parser.add_argument_group("the server")
    server.add_argument("--url", help="drive this running server instead of starting one")
    server.add_argument("--username", help="with --url: a manager or admin account")
    server.add_argument("--password", help="with --url: its password")
    server.add_argument("--database-url",
                        help="without --url: the database of the server started "
                             "(default: a temporary SQLite file); it is migrated first")
    server.add_argument("--server-workers", type=int, default=4,
                        help="without --url: gunicorn worker processes (default 4)")
    server.add_argument("--drift-interval", type=int, default=5, metavar="SECONDS",
                        help="without --url: the server's drift job interval; the "
                             "simulation runs far faster than a real crowd (default 5)")


def settings_from(args: argparse.Namespace, seed: int) -> Settings:
    """Check the parsed options; raises ``ValueError`` with a one-line message."""
    shares = (args.reliable, args.spammers, args.adversaries, args.drifters)
    if any(s < 0 for s in shares) or abs(sum(shares) - 1.0) > 1e-6:
        raise ValueError("--reliable, --spammers, --adversaries and --drifters must be "
                         "non-negative and add up to 1")
    for name in ("workers", "items", "threads", "aggregate_every", "server_workers",
                 "drift_interval"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    if args.classes < 2:
        raise ValueError("--classes must be at least 2")
    if args.drift_onset < 0:
        raise ValueError("--drift-onset must not be negative")
    if args.url and not (args.username and args.password):
        raise ValueError("--url needs --username and --password of a manager or admin")
    if args.url and args.database_url:
        raise ValueError("--database-url is for the server the simulator starts, not with --url")
    gold = args.gold_items
    if gold is None:
        gold = max(args.items // 10, 4 * args.qualification_size)
    if gold < 0:
        raise ValueError("--gold-items must not be negative")
    return Settings(
        workers=args.workers, shares=shares, items=args.items, classes=args.classes,
        redundancy=args.redundancy, max_redundancy=args.max_redundancy,
        confidence=args.confidence, gold_rate=args.gold_rate, gold_items=gold,
        qualification_size=args.qualification_size,
        qualification_accuracy=args.qualification_accuracy, drift_window=args.drift_window,
        min_accuracy=args.min_accuracy, drift_onset=args.drift_onset, seed=seed,
        threads=args.threads, aggregate_every=args.aggregate_every, url=args.url,
        username=args.username, password=args.password, database_url=args.database_url,
        server_workers=args.server_workers, drift_interval=args.drift_interval,
        as_json=args.json,
    )
