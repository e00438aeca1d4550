"""``crowd demo`` and ``crowd serve``: the development server, the address it is
reached at, and the scheduled jobs it runs."""
from __future__ import annotations

import argparse
import os
from typing import Any

from flask import Flask

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5000


def _serve_arguments(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument("--host", default=DEFAULT_HOST, help=f"host of {what} "
                         f"(default {DEFAULT_HOST}; 0.0.0.0 for every interface)")
    command.add_argument("--port", type=int, default=DEFAULT_PORT,
                         help=f"port of {what} (default {DEFAULT_PORT})")
    command.add_argument("--scheduler", action=argparse.BooleanOptionalAction, default=None,
                         help="run the scheduled jobs (aggregation, drift, leases, statistics) "
                              "in the server; default: on, unless CROWD_SCHEDULER_ENABLED says "
                              "false")


def cmd_demo(args: argparse.Namespace) -> int:
    from crowd import cli, demo, migrate

    with cli._app() as app:
        migrate.upgrade(app.config["DATABASE_URL"])
        summary = demo.seed()
        start = None if args.serve else serve_command(args.host, args.port)
        print(demo.describe(summary, login_url(args.host, args.port), start), flush=True)
        if args.serve:
            _serve(app, args.host, args.port, args.scheduler)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from crowd import cli

    with cli._app() as app:
        _serve(app, args.host, args.port, args.scheduler)
    return 0


def login_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches ``crowd serve --host host --port port``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"  # every interface: this machine's own address is one of them
    elif host == "::":
        host = "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/login"


def serve_command(host: str, port: int) -> str:
    """The ``crowd serve`` command line that serves at ``host``:``port``."""
    return " ".join(["crowd serve", *(["--host", host] if host != DEFAULT_HOST else []),
                     *(["--port", str(port)] if port != DEFAULT_PORT else [])])


def scheduler_wanted(app: Flask, flag: bool | None) -> bool:
    """Whether ``crowd serve`` runs the schedule: ``--scheduler``/``--no-scheduler`` if
    given, else ``CROWD_SCHEDULER_ENABLED`` if set, else yes (it is a web process, and a
    newcomer's demo must aggregate)."""
    if flag is not None:
        return flag
    if os.environ.get("CROWD_SCHEDULER_ENABLED", "").strip():
        return bool(app.config["SCHEDULER_ENABLED"])
    return True


def _serve(app: Flask, host: str, port: int, scheduler_flag: bool | None) -> None:
    from crowd.jobs.schedule import start_background

    scheduler = start_background(app) if scheduler_wanted(app, scheduler_flag) else None
    print(f"crowd is serving on {login_url(host, port).removesuffix('login')} (development "
          "server; use gunicorn in production): log in at " + login_url(host, port), flush=True)
    print("scheduled jobs (aggregation, drift, leases, statistics) run in this process"
          if scheduler else "scheduled jobs are off here (run `crowd scheduler` for them)",
          flush=True)
    try:
        app.run(host=host, port=port, debug=False, threaded=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def add_commands(sub: Any) -> None:
    """Add ``crowd demo`` and ``crowd serve`` to ``crowd``'s parser."""
    demo = sub.add_parser("demo", help="migrate, then seed a demo project and demo users "
                                       "(with --serve, then serve it)")
    demo.add_argument("--serve", action="store_true",
                      help="serve the demo right away, as `crowd serve` with the same address")
    _serve_arguments(demo, "the address `crowd serve` will use (printed as the login address)")
    demo.set_defaults(handler=cmd_demo)

    serve = sub.add_parser("serve", help="run the development server (and the scheduled jobs)")
    _serve_arguments(serve, "the address to serve at")
    serve.set_defaults(handler=cmd_serve)
