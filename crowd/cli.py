"""The ``crowd`` command line."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from flask import Flask
from sqlalchemy.exc import DBAPIError

from crowd.domain.errors import CrowdError

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A message for the operator and a non-zero exit."""


@contextmanager
def _app() -> Iterator[Flask]:
    """The app for the environment's settings, in an app context; its engine is
    closed when the command ends."""
    from config import config_from_env
    from crowd import create_app

    try:
        app = create_app(config_from_env())
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["crowd_db"].engine.dispose()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from crowd import migrate

    with _app() as app:
        migrate.upgrade(app.config["DATABASE_URL"], args.revision)
        print(f"database at revision {args.revision}: {_safe_url(app.config['DATABASE_URL'])}")
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    from crowd.extensions import db
    from crowd.services.accounts import create_user, generate_password

    password = args.password or generate_password()
    with _app():
        account = create_user(db.session, args.username, password, args.role)
    print(f"created {account.role} {account.username!r} (id {account.id})")
    if not args.password:
        print(f"password: {password}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from crowd import runtime
    from crowd.extensions import db
    from crowd.services import importing, projects

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    fmt = args.format or path.suffix.lstrip(".").lower()
    if fmt not in importing.FORMATS:
        raise CliError(f"cannot tell the format of {path.name}: use --format json|jsonl|csv")
    with _app():
        projects.get_project(db.session, args.project_id)
        rows = importing.parse_rows(path.read_bytes(), fmt)
        bar = ProgressBar(len(rows), sys.stderr)
        report = importing.import_items(
            db.session, args.project_id, rows, runtime.rng(),
            skip_invalid=args.skip_invalid, progress=bar.advance,
        )
        bar.finish()
    print(f"created {report.created}, skipped {report.skipped_duplicates} duplicate(s), "
          f"{report.error_count} invalid row(s)")
    for error in report.errors:
        print(f"  row {error['row']}: {error['message']}", file=sys.stderr)
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from crowd.jobs.schedule import JOBS, run_blocking

    with _app() as app:
        for name, (setting, _) in JOBS.items():
            print(f"job {name}: every {app.config[setting]} s ({'CROWD_' + setting})")
        print("running scheduled jobs until interrupted (Ctrl-C)", flush=True)
        run_blocking(app)
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    from crowd.offline import aggregate_command

    return aggregate_command(args.answers, args.method, args.truth, args.output)


def cmd_simulate(args: argparse.Namespace) -> int:
    from crowd import simulate

    try:
        return simulate.main(args)
    except simulate.SimulationError as exc:
        raise CliError(str(exc)) from None


class ProgressBar:
    """A plain text progress bar on a stream."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.done, self.stream, self.width = total, 0, stream, width

    def advance(self, n: int) -> None:
        self.done += n
        filled = self.width * self.done // max(self.total, 1)
        pct = 100 * self.done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{pct:3d}% {self.done}/{self.total}")
        self.stream.flush()

    def finish(self) -> None:
        """Every row was handled (rows skipped as invalid or duplicate too): 100%."""
        if self.done < self.total:
            self.advance(self.total - self.done)
        if self.done:
            self.stream.write("\n")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``crowd`` command."""
    parser = argparse.ArgumentParser(
        prog="crowd", description="crowd: crowdsourcing task routing and workforce management."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    db_cmd = sub.add_parser("db", help="database schema commands")
    db_sub = db_cmd.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the migrations (alembic) to the database")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    users = sub.add_parser("users", help="user accounts")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    create = users_sub.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=["worker", "expert", "manager", "admin"])
    create.add_argument("--password", help="the password (generated and printed when omitted)")
    create.set_defaults(handler=cmd_users_create)
    from crowd.cli_accounts import add_commands

    add_commands(users_sub, sub)
    from crowd.cli_projects import add_commands as add_project_commands

    add_project_commands(sub)

    imp = sub.add_parser("import", help="import items into a project from CSV or JSONL (or JSON)")
    imp.add_argument("project_id", type=int, metavar="PROJECT_ID")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--format", choices=["csv", "jsonl", "json"],
                     help="the file's format (default: from its extension)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid rows and report the invalid ones "
                          "(default: refuse the whole file)")
    imp.set_defaults(handler=cmd_import)

    from crowd.cli_serve import add_commands as add_serve_commands

    add_serve_commands(sub)

    sched = sub.add_parser("scheduler", help="run the scheduled jobs as a process of its own")
    sched.set_defaults(handler=cmd_scheduler)

    agg = sub.add_parser("aggregate", help="aggregate an item,worker,label CSV offline")
    agg.add_argument("answers", metavar="ANSWERS.csv")
    agg.add_argument("--method", default="ds", choices=["ds", "mv", "one-coin"])
    agg.add_argument("--truth", metavar="TRUTH.csv", help="item,label truth: prints accuracy")
    agg.add_argument("--output", metavar="OUT.csv", help="write here instead of standard output")
    agg.set_defaults(handler=cmd_aggregate)

    from crowd.simulate.options import add_arguments as simulate_arguments

    sim = sub.add_parser("simulate", help="drive the API with a simulated crowd and report "
                                          "accuracy, cost and worker sanctions")
    simulate_arguments(sim)
    sim.set_defaults(handler=cmd_simulate)
    return parser


# What a shell reports for a command killed by SIGPIPE (128 + 13): `crowd aggregate ... | head`
# ends as `yes | head` does, without a traceback.
EXIT_BROKEN_PIPE = 141


def _quiet_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush at exit
    finds no closed pipe to complain about."""
    try:
        target = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (captured in tests): nothing is flushed to a pipe at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, target)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``crowd`` command; errors are one-line messages with exit code 2."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        code = handler(args)
        sys.stdout.flush()  # here, so a reader that went away is seen as such below
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except (CliError, CrowdError) as exc:
        print(f"crowd: error: {exc}", file=sys.stderr)
        details = getattr(exc, "details", None)
        if isinstance(details, dict):
            for error in details.get("errors", []):
                print(f"  row {error['row']}: {error['message']}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        print(f"crowd: error: the database cannot be used: {reason} "
              "(is CROWD_DATABASE_URL right, and has `crowd db upgrade` run?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
