"""Console accounts from the command line. The first supervisor is made here; there is no default
account and no default password.

  python -m handoff.admin create-user NAME [--role operator|supervisor] [--language en|th]
                                      [--reads th,vi,km]
  python -m handoff.admin list-users

--language is the console's language; --reads the languages of the people the operator can read
(hand-offs in them reach the operator first). Supervisors change both on the console's accounts
page.

The password is asked twice on the terminal, or read from standard input when that is not a terminal
(for scripts: `printf '%s\\n' "$PASSWORD" | python -m handoff.admin create-user ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.settings import SettingsError, redis_address
from handoff import accounts
from handoff.accounts import AccountError, Role


def read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise AccountError("the two passwords differ")
    return first


async def run(args: argparse.Namespace) -> None:
    """Carries out the command."""
    host, port = redis_address(dict(os.environ))
    client = aioredis.Redis(host=host, port=port, decode_responses=True)
    try:
        if args.command == "create-user":
            reads = accounts.parse_reads(args.reads)
            account = await accounts.create(
                client, args.name, read_password(), Role(args.role), args.language, reads
            )
            said = ", ".join(account.reads) or "no language of the people yet"
            print(  # noqa: T201
                f"Made {account.role} {account.name} (console in {account.language}; reads {said})."
            )
        else:
            for account in await accounts.everyone(client):
                listed = ",".join(account.reads) or "-"
                print(f"{account.name}\t{account.role}\t{account.language}\t{listed}")  # noqa: T201
    finally:
        await client.aclose()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m handoff.admin", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="make a console account")
    create.add_argument("name")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.OPERATOR.value)
    create.add_argument("--language", choices=accounts.CONSOLE_LANGUAGES, default="en")
    create.add_argument(
        "--reads", default="", help="languages of the people this operator reads, e.g. th,km"
    )
    commands.add_parser("list-users", help="list the console accounts")
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except (AccountError, SettingsError) as error:
        sys.exit(f"handoff.admin: {error}")
    except RedisConnectionError:
        host, port = redis_address(dict(os.environ))
        sys.exit(f"handoff.admin: Redis is not running at {host}:{port} (start it with `make run`)")


if __name__ == "__main__":
    main()
