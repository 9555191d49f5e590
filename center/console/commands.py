"""``koufu center console``, ``add-operator``, ``enrolment-link``, ``passkeys`` and
``revoke-passkey``: the console served on its own TLS listener, and its accounts made and their
passkeys listed and revoked from the command line (the first operator's too)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from center.audit import AuditWriter
from center.config import CenterConfig
from center.console.accounts import Accounts, EnrolmentLink
from center.console.errors import AccountRefused
from center.console.roles import Role
from center.console.settings import DEFAULT_PORT, ConsoleSettings
from center.store.driver import Database
from center.web import serve_app

T = TypeVar("T")


def register(sub: Any) -> None:
    console = sub.add_parser("console", help="serve the operators' console on its own TLS port")
    console.add_argument("--dir", type=Path, required=True)
    console.add_argument("--host", default="127.0.0.1")
    console.add_argument("--port", type=int, default=DEFAULT_PORT, help="never the terminal API's port")
    console.set_defaults(run=_serve)

    add = sub.add_parser("add-operator", help="a console account; prints its one-time enrolment link")
    add.add_argument("name", help="the account's name (a login name, shown in the audit log)")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--municipality", help="municipal staff: their 地方公共団体コード")
    add.add_argument("--dir", type=Path, required=True)
    add.set_defaults(run=_add_operator)

    link = sub.add_parser("enrolment-link", help="a new one-time enrolment link for a console account")
    link.add_argument("name")
    link.add_argument("--dir", type=Path, required=True)
    link.set_defaults(run=_enrolment_link)

    keys = sub.add_parser(
        "passkeys", help="a console account's passkeys: label, registered, last used, state"
    )
    keys.add_argument("name")
    keys.add_argument("--dir", type=Path, required=True)
    keys.set_defaults(run=_passkeys)

    revoke = sub.add_parser(
        "revoke-passkey", help="revoke one passkey of a console account (its sessions end)"
    )
    revoke.add_argument("name")
    revoke.add_argument("label", help="the passkey's label, as `koufu center passkeys NAME` lists it")
    revoke.add_argument("--dir", type=Path, required=True)
    revoke.set_defaults(run=_revoke_passkey)


def _serve(args: argparse.Namespace) -> int:
    from center.console.app import create_console
    from center.orders import FeeShares

    config = CenterConfig.load(args.dir)
    settings = ConsoleSettings.load(args.dir, port=args.port)
    config.migrated_engine().dispose()
    shares = FeeShares(config.shares["center"], config.shares["store"])
    app = create_console(
        settings,
        config.database_url,
        config.audit_chain_key,
        municipalities=config.municipalities,
        shares=shares,
        center_directory=config.directory,
        housekeeping_interval=config.housekeeping_seconds,
    )
    serve_app(
        app,
        host=args.host,
        port=args.port,
        tls_cert=config.path("tls.crt"),
        tls_key=config.path("tls.key"),
        ready=lambda url: print(f"console listening on {url} (browsers use {settings.origin})", flush=True),
        log_level="warning",  # uvicorn's access log is INFO: no address (an enrolment token) is logged
    )
    return 0


def _add_operator(args: argparse.Namespace) -> int:
    link = _with_accounts(
        args.dir, lambda accounts: accounts.add(args.name, args.role, args.municipality, actor=cli_actor())
    )
    _print(link)
    return 0


def _enrolment_link(args: argparse.Namespace) -> int:
    _print(_with_accounts(args.dir, lambda accounts: accounts.new_link(args.name, actor=cli_actor())))
    return 0


def _passkeys(args: argparse.Namespace) -> int:
    accounts = _with_accounts(args.dir, lambda accounts: accounts.listing())
    found = [account for account in accounts if account.name == args.name]
    if not found:
        raise AccountRefused("unknown_operator", f"no account {args.name!r}")
    for key in found[0].keys:
        used = "-" if key.last_used_at is None else _moment(key.last_used_at)
        state = "active" if key.revoked_at is None else f"revoked {_moment(key.revoked_at)}"
        print(f"{key.label}  registered {_moment(key.created_at)}  last used {used}  {state}")
    return 0


def _moment(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _revoke_passkey(args: argparse.Namespace) -> int:
    revoked = _with_accounts(
        args.dir, lambda accounts: accounts.revoke_passkey(args.name, args.label, actor=cli_actor())
    )
    print(f"passkey {revoked.label} of {revoked.name} revoked; {revoked.sessions_ended} session(s) ended")
    if revoked.last:
        print(
            f"It was the account's last passkey: {revoked.name} signs in again only after registering "
            f"a passkey through a new link (koufu center enrolment-link {revoked.name} --dir …)."
        )
    return 0


def _with_accounts(directory: Path, work: Callable[[Accounts], Coroutine[Any, Any, T]]) -> T:
    config = CenterConfig.load(directory)
    settings = ConsoleSettings.load(directory)
    config.migrated_engine().dispose()

    async def run() -> T:
        database = Database(config.database_url)
        writer = AuditWriter(database, config.audit_chain_key)
        try:
            return await work(Accounts(database, writer, settings, lambda: dt.datetime.now(dt.UTC)))
        finally:
            await writer.close()
            await database.close()

    return asyncio.run(run())


def cli_actor() -> str:
    """Who made a change from the command line, in the audit log: ``cli:`` and the system user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:64]


def _print(link: EnrolmentLink) -> None:
    print(f"enrolment link for {link.name} (valid until {link.expires_at.isoformat(timespec='seconds')}):")
    print(link.url)
    print("Give it to that person only; it registers one passkey, once.")
