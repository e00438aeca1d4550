"""``crowd simulate``: a simulated crowd against the real HTTP API, for planning
project settings and checking what the server's quality rules achieve.

``workers`` holds the pure worker models and the data set, ``kinds`` and
``sniffers`` how each kind of worker acts on what a client sees, ``options``
(with ``options_help``) the command's options and mixes, ``client`` a small
stdlib HTTP client, ``server`` a server of the simulator's own, ``pool`` the
sharing of client threads among workers, ``acting`` one worker's turn at the
API, ``driver`` the run itself (``records`` what it keeps), and ``report``
(with ``report_kinds``) the measures taken from the server's exports.
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Callable
from typing import TextIO

from crowd.simulate.client import ApiError
from crowd.simulate.driver import Simulation, SimulationError
from crowd.simulate.options import Settings, add_arguments, settings_from
from crowd.simulate.report import build, render
from crowd.simulate.server import LocalServer, ServerError

__all__ = ["Settings", "SimulationError", "add_arguments", "main", "simulate"]


def simulate(settings: Settings, log: Callable[[str], None]) -> dict:
    """Run one simulation (starting a server unless ``settings.url``); the report dict."""
    if settings.url:
        assert settings.username and settings.password
        return _drive(settings, settings.url, settings.username, settings.password,
                      f"{settings.url} (given)", log)
    server = LocalServer(settings.database_url, workers=settings.server_workers,
                         threads=4, drift_interval=settings.drift_interval)
    try:
        with server:
            log(f"started {server.describe()}")
            report = _drive(settings, server.url, server.admin, server.password,
                            server.describe(), log)
            errors = server.errors_logged()
            if errors:
                report["run"]["problems"].append(
                    f"{len(errors)} traceback(s) in the server log, first: {errors[0]}")
            return report
    except ServerError as exc:
        raise SimulationError(str(exc)) from None


def _drive(settings: Settings, url: str, username: str, password: str, server: str,
           log: Callable[[str], None]) -> dict:
    sim = Simulation(settings, url, username, password, log)
    try:
        project = sim.setup()
        log(f"project {project.id}: {settings.items} items + {settings.gold_items} gold, "
            f"{settings.workers} workers enrolled")
        collected = sim.run()
        return build(sim, collected, server)
    except ApiError as exc:
        raise SimulationError(str(exc)) from None
    except OSError as exc:
        raise SimulationError(f"lost the server at {url}: {exc}") from None
    finally:
        sim.close()


def main(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """The ``crowd simulate`` command: run, then print the report (text or JSON) on
    ``out`` (standard output); progress goes to ``err`` (standard error)."""
    out, err = out or sys.stdout, err or sys.stderr
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    try:
        settings = settings_from(args, seed)
    except ValueError as exc:
        raise SimulationError(str(exc)) from None

    def log(message: str) -> None:
        print(f"simulate: {message}", file=err, flush=True)

    report = simulate(settings, log)
    if settings.as_json:
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        out.write(render(report) + "\n")
    return 0
