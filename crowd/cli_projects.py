"""``crowd projects create`` and ``crowd projects list``: projects from the command line,
through the same service and validation as ``POST /api/v1/projects``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crowd.domain.settings_help import SETTING_HELP
from crowd.domain.settings import SETTINGS, SWITCHES, Setting



def setting_range(setting: Setting) -> str:
    """``default D; LOW to HIGH`` as the help shows it (whole numbers in full)."""
    def shown(value: float) -> str:
        return str(int(value)) if setting.kind is int else f"{value:g}"

    return f"default {shown(setting.default)}; {shown(setting.low)} to {shown(setting.high)}"


def _flag(setting: Any) -> str:
    return "--" + setting.name.replace("_", "-")


def _number(setting: Setting, raw: str) -> int | float:
    """``raw`` as a number for the service to check (range, whole number) like the API's."""
    from crowd.cli import CliError

    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    raise CliError(f"{_flag(setting)} must be a number, got {raw!r}")


def _guidelines(path: str) -> str:
    from crowd.cli import CliError

    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"--guidelines-file: no such file: {path}") from None
    except IsADirectoryError:
        raise CliError(f"--guidelines-file: {path} is a directory") from None
    except UnicodeDecodeError:
        raise CliError(f"--guidelines-file: {path} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"--guidelines-file: cannot read {path}: {exc.strerror or exc}") from None


def project_body(args: argparse.Namespace) -> dict[str, Any]:
    """The API body the arguments stand for (only the settings given; defaults fill the rest)."""
    body: dict[str, Any] = {"name": args.name,
                            "labels": [label.strip() for label in args.labels.split(",")]}
    for setting in SETTINGS:
        raw = getattr(args, setting.name)
        if raw is not None:
            body[setting.name] = _number(setting, raw)
    for switch in SWITCHES:
        if getattr(args, switch.name) is not None:
            body[switch.name] = getattr(args, switch.name)
    if args.guidelines_file is not None:
        body["guidelines"] = _guidelines(args.guidelines_file)
    if args.enrollment is not None:
        body["enrollment"] = args.enrollment
    return body


def cmd_projects_create(args: argparse.Namespace) -> int:
    from crowd import cli
    from crowd.cli_accounts import user_named
    from crowd.extensions import db
    from crowd.services.projects import create_project

    body = project_body(args)
    with cli._app():
        manager = None
        if args.manager is not None:
            manager = user_named(db.session, args.manager)
            if manager.role not in ("manager", "admin"):
                raise cli.CliError(f"--manager: {manager.username!r} is a {manager.role}, "
                                   "not a manager")
        project = create_project(db.session, body, manager)
        print(f"created project {project.id} {project.name!r}: labels "
              f"{', '.join(project.labels)}; enrollment {project.enrollment}"
              + (f"; managed by {manager.username!r}" if manager is not None else ""))
        print(f"next: crowd import {project.id} ITEMS.csv, then crowd members add {project.id} "
              "USERNAME...")
    return 0


def cmd_projects_list(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from crowd import cli
    from crowd.extensions import db
    from crowd.persistence import Item, Project

    with cli._app():
        counts = dict(db.session.execute(
            select(Item.project_id, func.count()).group_by(Item.project_id)).all())
        projects = db.session.scalars(select(Project).order_by(Project.id)).all()
        if not projects:
            print("no projects yet: crowd projects create NAME --labels a,b")
        for project in projects:
            print(f"{project.id:>6}  {project.enrollment:6}  {counts.get(project.id, 0):>9} items"
                  f"  {project.name}  [{', '.join(project.labels)}]")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``crowd projects`` to ``crowd``'s parser."""
    projects = sub.add_parser("projects", help="labeling projects")
    projects_sub = projects.add_subparsers(dest="projects_command", metavar="ACTION",
                                           required=True)
    listing = projects_sub.add_parser("list", help="list every project with its item count")
    listing.set_defaults(handler=cmd_projects_list)

    create = projects_sub.add_parser(
        "create", help="create a project (the same checks as POST /api/v1/projects)",
        description="Create a project. Settings left out take their defaults (shown below).")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--labels", required=True, metavar="A,B,C",
                        help="the classes, comma-separated (2 to 100, distinct)")
    create.add_argument("--guidelines-file", metavar="FILE",
                        help="the guidelines for workers, a UTF-8 text (Markdown) file")
    create.add_argument("--enrollment", choices=["open", "invite"],
                        help="open: any worker may start; invite: members only (default: open)")
    create.add_argument("--manager", metavar="USERNAME",
                        help="a manager who becomes the project's first member")
    settings = create.add_argument_group("settings")
    for setting in SETTINGS:
        settings.add_argument(
            _flag(setting), dest=setting.name, metavar="N" if setting.kind is int else "X",
            help=f"{SETTING_HELP.get(setting.name, setting.name)} ({setting_range(setting)})")
    for switch in SWITCHES:
        settings.add_argument(_flag(switch), dest=switch.name,
                              action=argparse.BooleanOptionalAction, default=None,
                              help=f"{switch.help} (default {'on' if switch.default else 'off'})")
    create.set_defaults(handler=cmd_projects_create)
