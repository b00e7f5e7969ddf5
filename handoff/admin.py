"""Console accounts from the command line. The first supervisor is made here; there is no default
account and no default password.

  python -m handoff.admin create-user NAME [--role operator|supervisor] [--language en|th]
                                      [--reads th,vi,km]
  python -m handoff.admin list-users
  python -m handoff.admin disable-user NAME
  python -m handoff.admin enable-user NAME
  python -m handoff.admin reset-password NAME
  python -m handoff.admin referral-key [--new]

--language is the console's language; --reads the languages of the people the operator can read
(hand-offs in them reach the operator first). Supervisors change both on the console's accounts
page.

disable-user stops an account signing in and ends its open sessions at once; enable-user lets it
sign in again with its password; reset-password gives it a new one and ends its sessions.
Supervisors can do the same on the console's accounts page.

referral-key prints this hotline's public key for referrals, to give to partner hotlines (they
pin it on this hotline's record in their console); --new makes a private key for REFERRAL_KEY.

A new password is asked twice on the terminal, or read from standard input when that is not a
terminal (for scripts: `printf '%s\\n' "$PASSWORD" | python -m handoff.admin create-user ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from redis.exceptions import ConnectionError as RedisConnectionError

from bot import envelopes
from bot.local_secrets import local_env
from bot.redis_client import connect
from bot.settings import SettingsError, redis_login
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
    client = connect(redis_login(local_env(), "admin"))
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
        elif args.command == "disable-user":
            await accounts.disable(client, args.name)
            print(  # noqa: T201
                f"Disabled {args.name}: the account cannot sign in, and its open sessions have "
                f"ended. To undo: python -m handoff.admin enable-user {args.name}"
            )
        elif args.command == "enable-user":
            await accounts.enable(client, args.name)
            print(f"Enabled {args.name}: the account can sign in again with its password.")  # noqa: T201
        elif args.command == "reset-password":
            await accounts.set_password(client, args.name, read_password())
            print(  # noqa: T201
                f"New password set for {args.name}; the account's open sessions have ended."
            )
        else:
            for account in await accounts.roster(client):
                listed = ",".join(account.reads) or "-"
                state = "disabled" if account.disabled else "active"
                line = [account.name, account.role, account.language, listed, state]
                print("\t".join(line))  # noqa: T201
    finally:
        await client.aclose()


def referral_key(new: bool) -> None:
    """Prints a new REFERRAL_KEY, or the public half of the one set, to give to partners."""
    if new:
        made = envelopes.make_key()
        print(f"REFERRAL_KEY={made}")  # noqa: T201
        print(f"public key (give it to partner hotlines): {envelopes.public_key(made)}")  # noqa: T201
        return
    private = local_env().get("REFERRAL_KEY", "")
    if not private:
        raise SettingsError(
            "REFERRAL_KEY is not set: make one with python -m handoff.admin referral-key --new"
        )
    print(envelopes.public_key(private))  # noqa: T201


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
    commands.add_parser(
        "list-users", help="list the console accounts: name, role, console, reads, active or not"
    )
    for command, said in (
        ("disable-user", "stop an account signing in and end its sessions"),
        ("enable-user", "let a disabled account sign in again"),
        ("reset-password", "give an account a new password and end its sessions"),
    ):
        commands.add_parser(command, help=said).add_argument("name")
    keys = commands.add_parser(
        "referral-key", help="print this hotline's public key for referrals (--new: make a key)"
    )
    keys.add_argument("--new", action="store_true", help="make a private key for REFERRAL_KEY")
    args = parser.parse_args()
    try:
        if args.command == "referral-key":
            referral_key(args.new)
            return
        asyncio.run(run(args))
    except (AccountError, SettingsError) as error:
        sys.exit(f"handoff.admin: {error}")
    except RedisConnectionError:
        where = redis_login(local_env(), "admin")
        sys.exit(
            f"handoff.admin: Redis is not running at {where.host}:{where.port} "
            "(start it with `make run`)"
        )


if __name__ == "__main__":
    main()
