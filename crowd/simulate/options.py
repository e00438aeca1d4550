"""``crowd simulate``: its options, their defaults and why, checked into ``Settings``."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from crowd.simulate.options_help import DESCRIPTION

# The share options, in the order of ``kinds.ALL_KINDS``, with their report names.
SHARE_OPTIONS = ("reliable", "spammers", "adversaries", "drifters", "lazy", "colluders",
                 "sniffers_id", "sniffers_content", "sniffers_timing", "slow_drifters",
                 "speed_bots")
# Options a --mix sets; their parser default is None so that a mix can tell
# whether they were given.
DEFAULTS: dict[str, Any] = {
    "workers": 60, "reliable": 0.6, "spammers": 0.2, "adversaries": 0.1, "drifters": 0.1,
    "lazy": 0.0, "colluders": 0.0, "sniffers_id": 0.0, "sniffers_content": 0.0,
    "sniffers_timing": 0.0, "slow_drifters": 0.0, "speed_bots": 0.0, "items": 2000,
    "classes": 4, "class_shares": None, "reliable_accuracy": None, "redundancy": 3,
    "max_redundancy": 7, "gold_rate": 0.1, "gold_import": "mixed",
}
MIXES: dict[str, dict[str, Any]] = {
    "acceptance": {
        "workers": 60, "reliable": 0.45, "spammers": 0.05, "adversaries": 0.05,
        "drifters": 0.05, "lazy": 0.05, "colluders": 0.10, "sniffers_id": 0.05,
        "sniffers_content": 0.05, "sniffers_timing": 0.05, "slow_drifters": 0.05,
        "speed_bots": 0.05, "items": 1500, "classes": 4, "class_shares": "55,25,15,5",
        "reliable_accuracy": "0.8-0.95", "redundancy": 3, "max_redundancy": 7,
        "gold_rate": 0.1, "gold_import": "separate",
    },
}


@dataclass(frozen=True)
class Settings:
    """Everything one simulation needs, checked."""

    workers: int
    shares: tuple[float, ...]  # in the order of SHARE_OPTIONS (kinds.ALL_KINDS)
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
    mix: str | None = None
    class_shares: tuple[float, ...] | None = None
    reliable_accuracy: tuple[float, float] | None = None
    collusion_group: int = 3
    slow_drift_after: int = 40
    slow_drift_over: int = 80
    gold_import: str = "mixed"

    def project_settings(self) -> dict[str, float | int]:
        """The settings of the simulated project, as the API names them."""
        return {
            "redundancy": self.redundancy, "max_redundancy": self.max_redundancy,
            "confidence_threshold": self.confidence, "gold_rate": self.gold_rate,
            "qualification_size": self.qualification_size,
            "qualification_accuracy": self.qualification_accuracy,
            "min_accuracy": self.min_accuracy, "drift_window": self.drift_window,
        }


def _share(parser: argparse._ArgumentGroup, name: str, what: str) -> None:
    flag = "--" + name.replace("_", "-")
    parser.add_argument(flag, type=float, default=None, dest=name, metavar="SHARE",
                        help=f"share {what} (default {DEFAULTS[name]:g})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``crowd simulate``."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    crowd = parser.add_argument_group("the crowd")
    crowd.add_argument("--mix", choices=sorted(MIXES), default=None,
                       help="a preset crowd and project (see above); options given "
                            "beside it override it")
    crowd.add_argument("--workers", type=int, default=None, help="simulated workers (default 60)")
    for name, what in zip(SHARE_OPTIONS, (
            "reliable", "spammers", "adversaries", "drifters", "lazy majority clickers",
            "colluders", "gold sniffers by id", "gold sniffers by repeated content",
            "gold sniffers by timing", "slow drifters", "speed bots"), strict=True):
        _share(crowd, name, what)
    crowd.add_argument("--reliable-accuracy", default=None, metavar="LO-HI",
                       help="draw each reliable worker's mean accuracy in this range, "
                            "e.g. 0.8-0.95 (default: 0.85 +- 0.1 per class)")
    crowd.add_argument("--drift-onset", type=int, default=40, metavar="N",
                       help="work answers a drifter gives before degrading (default 40)")
    crowd.add_argument("--collusion-group", type=int, default=3, metavar="N",
                       help="workers per colluding group (default 3)")
    crowd.add_argument("--slow-drift-after", type=int, default=40, metavar="N",
                       help="work answers a slow drifter gives at about 0.9 (default 40)")
    crowd.add_argument("--slow-drift-over", type=int, default=80, metavar="M",
                       help="work answers over which it then decays to 0.4 (default 80)")
    project = parser.add_argument_group("the project")
    project.add_argument("--items", type=int, default=None, help="work items (default 2000)")
    project.add_argument("--classes", type=int, default=None, help="classes (default 4)")
    project.add_argument("--class-shares", default=None, metavar="S1,S2,...",
                         help="how common each class is, e.g. 55,25,15,5 (normalised; "
                              "default: uniform)")
    project.add_argument("--gold-items", type=int, default=None, metavar="N",
                         help="gold items (default 10%% of --items, at least "
                              "4 x --qualification-size)")
    project.add_argument("--gold-import", choices=("mixed", "separate"), default=None,
                         help="import gold among the work items at random (mixed, the "
                              "default) or as a batch of its own after them (separate)")
    project.add_argument("--redundancy", type=int, default=None, help="(default 3)")
    project.add_argument("--max-redundancy", type=int, default=None, help="(default 7)")
    project.add_argument("--confidence", type=float, default=0.95,
                         help="confidence_threshold (default 0.95)")
    project.add_argument("--gold-rate", type=float, default=None, help="(default 0.1)")
    project.add_argument("--qualification-size", type=int, default=20, help="(default 20)")
    project.add_argument("--qualification-accuracy", type=float, default=0.65,
                         help="(default 0.65)")
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


def _ratios(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise ValueError(f"{what} must be numbers separated by commas, like 55,25,15,5") from None
    if not values or any(v < 0 for v in values) or sum(values) <= 0:
        raise ValueError(f"{what} must be non-negative with a positive sum")
    return tuple(v / sum(values) for v in values)


def _range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split("-", 1))
    except ValueError:
        raise ValueError("--reliable-accuracy must be a range like 0.8-0.95") from None
    if not 0 < low <= high < 1:
        raise ValueError("--reliable-accuracy must lie between 0 and 1, low to high")
    return low, high


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    """The values of the options a mix can set: given, else the mix's, else the default."""
    mix = MIXES.get(args.mix or "", {})
    return {name: getattr(args, name) if getattr(args, name, None) is not None
            else mix.get(name, default) for name, default in DEFAULTS.items()}


def settings_from(args: argparse.Namespace, seed: int) -> Settings:
    """Check the parsed options; raises ``ValueError`` with a one-line message."""
    v = resolve(args)
    shares = tuple(float(v[name]) for name in SHARE_OPTIONS)
    if any(s < 0 for s in shares) or abs(sum(shares) - 1.0) > 1e-6:
        raise ValueError("the shares (--reliable, --spammers, --adversaries, --drifters, "
                         "--lazy, --colluders, --sniffers-*, --slow-drifters, --speed-bots) "
                         "must be non-negative and add up to 1")
    for name in ("threads", "aggregate_every", "server_workers", "drift_interval",
                 "collusion_group"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("workers", "items"):
        if v[name] < 1:
            raise ValueError(f"--{name} must be at least 1")
    if v["classes"] < 2:
        raise ValueError("--classes must be at least 2")
    class_shares = None
    if v["class_shares"] is not None:
        class_shares = _ratios(v["class_shares"], "--class-shares")
        if len(class_shares) != v["classes"]:
            raise ValueError(f"--class-shares needs {v['classes']} values, one per class")
    reliable_accuracy = None if v["reliable_accuracy"] is None else _range(v["reliable_accuracy"])
    for name in ("drift_onset", "slow_drift_after", "slow_drift_over"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} must not be negative")
    if args.url and not (args.username and args.password):
        raise ValueError("--url needs --username and --password of a manager or admin")
    if args.url and args.database_url:
        raise ValueError("--database-url is for the server the simulator starts, not with --url")
    gold = args.gold_items
    if gold is None:
        gold = max(v["items"] // 10, 4 * args.qualification_size)
    if gold < 0:
        raise ValueError("--gold-items must not be negative")
    return Settings(
        workers=v["workers"], shares=shares, items=v["items"], classes=v["classes"],
        redundancy=v["redundancy"], max_redundancy=v["max_redundancy"],
        confidence=args.confidence, gold_rate=v["gold_rate"], gold_items=gold,
        qualification_size=args.qualification_size,
        qualification_accuracy=args.qualification_accuracy, drift_window=args.drift_window,
        min_accuracy=args.min_accuracy, drift_onset=args.drift_onset, seed=seed,
        threads=args.threads, aggregate_every=args.aggregate_every, url=args.url,
        username=args.username, password=args.password, database_url=args.database_url,
        server_workers=args.server_workers, drift_interval=args.drift_interval,
        as_json=args.json, mix=args.mix, class_shares=class_shares,
        reliable_accuracy=reliable_accuracy, collusion_group=args.collusion_group,
        slow_drift_after=args.slow_drift_after, slow_drift_over=args.slow_drift_over,
        gold_import=v["gold_import"],
    )
