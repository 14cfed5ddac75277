"""`citywatch users add | list`: the people who may use the API and the dashboard."""

import argparse
import getpass
import sys

from citywatch.cli.common import config_of, database_options
from citywatch.cli.database import open_store
from citywatch.storage.users import Role, UserDirectory, UserError


def cmd_users_add(args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    store = open_store(config_of(args))
    try:
        user = UserDirectory(store).add_user(args.name, Role(args.role), password)
    except UserError as exc:
        print(f"citywatch: {exc}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    print(f"added user {user.name} ({user.role.value})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    store = open_store(config_of(args))
    for user in UserDirectory(store).users():
        print(f"{user.name:<24} {user.role.value:<10} {'disabled' if user.disabled else 'active'}")
    store.dispose()
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="people who may use the API")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--password", help="the password (visible to other local users: prefer stdin)")
    database_options(add)
    add.set_defaults(func=cmd_users_add)
    listing = users_sub.add_parser("list", help="users and their roles")
    database_options(listing)
    listing.set_defaults(func=cmd_users_list)
