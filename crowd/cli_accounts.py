"""``crowd users`` (beyond create) and ``crowd members``: the operator's account and
project-team commands. The operator acts as an admin would."""
from __future__ import annotations

import argparse
from typing import Any

from crowd.domain.errors import NotFound


def user_named(session: Any, username: str) -> Any:
    """The account called ``username``, or ``NotFound``."""
    from sqlalchemy import select

    from crowd.persistence import User

    account = session.scalar(select(User).where(User.username == username))
    if account is None:
        raise NotFound(f"no user {username!r}")
    return account


def cmd_users_deactivate(args: argparse.Namespace) -> int:
    from crowd import cli
    from crowd.extensions import db
    from crowd.persistence import utcnow
    from crowd.services.accounts import change_user

    with cli._app():
        account = change_user(db.session, user_named(db.session, args.username),
                              {"active": False}, None, utcnow())
    print(f"deactivated {account.username!r}: every session and token of it has ended")
    return 0


def cmd_users_reset_password(args: argparse.Namespace) -> int:
    from crowd import cli
    from crowd.extensions import db
    from crowd.persistence import utcnow
    from crowd.services.accounts import change_user, generate_password

    password = args.password or generate_password()
    with cli._app():
        account = change_user(db.session, user_named(db.session, args.username),
                              {"password": password}, None, utcnow())
    print(f"new password for {account.username!r}; its sessions and tokens have ended")
    if not args.password:
        print(f"password: {password}")
    return 0


def cmd_users_unlock(args: argparse.Namespace) -> int:
    from crowd import cli
    from crowd.extensions import db
    from crowd.services.throttle import unlock

    with cli._app():
        account = user_named(db.session, args.username)
        cleared = unlock(db.session, account.username)
    print(f"{account.username!r}: " + ("failed logins cleared" if cleared
                                       else "had no failed logins to clear"))
    return 0


def cmd_members(args: argparse.Namespace) -> int:
    from crowd import cli
    from crowd.extensions import db
    from crowd.persistence import utcnow
    from crowd.services import members
    from crowd.services.projects import get_project

    with cli._app():
        get_project(db.session, args.project_id)
        if args.members_command == "add":
            added = members.add_members(db.session, args.project_id,
                                        {"usernames": args.usernames}, _Operator(), utcnow())
            print(f"project {args.project_id}: added {len(added)} member(s)")
        elif args.members_command == "remove":
            account = user_named(db.session, args.username)
            members.remove_member(db.session, args.project_id, account.id, utcnow())
            print(f"project {args.project_id}: removed {account.username!r} "
                  "(their leases are released, their labels kept)")
        else:
            for row in members.list_members(db.session, args.project_id):
                gone = f"  removed {row['removed_at']}" if row["removed_at"] else ""
                print(f"{row['user_id']:>6}  {row['role']:8} {row['username']}{gone}")
    return 0


class _Operator:
    """The command line's actor: no user id is recorded as having added a member."""

    id = None
    role = "admin"


def add_commands(users_sub: Any, sub: Any) -> None:
    """Add the account and member commands to ``crowd``'s parser."""
    for name, handler, text in (
        ("deactivate", cmd_users_deactivate, "deactivate a user: ends every session and token"),
        ("unlock", cmd_users_unlock, "clear a user's failed logins (ends a login back-off)"),
    ):
        command = users_sub.add_parser(name, help=text)
        command.add_argument("username")
        command.set_defaults(handler=handler)
    reset = users_sub.add_parser("reset-password", help="set a new password: ends every "
                                                         "session and token of the user")
    reset.add_argument("username")
    reset.add_argument("--password", help="the new password (generated and printed when omitted)")
    reset.set_defaults(handler=cmd_users_reset_password)

    team = sub.add_parser("members", help="a project's members (its team)")
    team_sub = team.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    listing = team_sub.add_parser("list", help="list a project's members")
    listing.add_argument("project_id", type=int, metavar="PROJECT_ID")
    add = team_sub.add_parser("add", help="add users to a project (each with their own role)")
    add.add_argument("project_id", type=int, metavar="PROJECT_ID")
    add.add_argument("usernames", nargs="+", metavar="USERNAME")
    remove = team_sub.add_parser("remove", help="remove a member from a project")
    remove.add_argument("project_id", type=int, metavar="PROJECT_ID")
    remove.add_argument("username")
    for command in (listing, add, remove):
        command.set_defaults(handler=cmd_members)
