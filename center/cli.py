"""``koufu center …``: set up, run and operate the issuance center."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from center import incidents_cli
from center.config import CenterConfig, ConfigError, initialise
from center.console import commands as console_commands
from center.roles import ROLE_VARIABLE, ROLES
from center.terminal_status import Action, change_status
from center.web import GRACEFUL_SHUTDOWN


def register(commands: Any) -> None:
    center = commands.add_parser("center", help="the certificate issuance center")
    sub = center.add_subparsers(dest="center_command", required=True, metavar="ACTION")

    init = sub.add_parser("init", help="create a center directory (config, CAs, database)")
    init.add_argument("--dir", type=Path, required=True)
    init.add_argument("--db", help="SQLAlchemy URL (default: SQLite in the directory)")
    init.add_argument("--topology", choices=("single", "multi"), default="single")
    init.set_defaults(run=_init)

    auth = sub.add_parser("set-authority", help="how to reach and trust the JPKI authority")
    auth.add_argument("--dir", type=Path, required=True)
    auth.add_argument("--url", required=True)
    auth.add_argument("--token-file", type=Path, required=True, help="file holding the verifier token")
    auth.add_argument("--ca-bundle", type=Path, help="TLS certificate(s) of the authority's server")
    auth.add_argument(
        "--anchor",
        type=Path,
        action="append",
        required=True,
        help="a user-authentication CA certificate (PEM); repeat for every generation",
    )
    auth.set_defaults(run=_set_authority)

    enrol = sub.add_parser(
        "enroll-terminal",
        help="issue a terminal's certificate (for its own key: --csr; else a key made here)",
    )
    enrol.add_argument("terminal_id")
    enrol.add_argument("--dir", type=Path, required=True)
    enrol.add_argument("--store", required=True, help="store name, e.g. 'FamilyMart 千代田一番町店'")
    enrol.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the terminal's credentials directory; with --csr, the enrolment bundle's file (public only)",
    )
    enrol.add_argument(
        "--csr", type=Path, metavar="FILE", help="the terminal's request (koufu kiosk enrolment-request)"
    )
    enrol.add_argument("--municipality", metavar="CODE", help="the store's municipality (地方公共団体コード)")
    enrol.add_argument("--chain", help="the store's chain, e.g. familymart (a-z, 0-9, '-')")
    enrol.set_defaults(run=_enroll)

    status = sub.add_parser("terminal", help="suspend, reactivate, revoke or place a terminal")
    status.add_argument("action", choices=("suspend", "activate", "revoke", "place"))
    status.add_argument("terminal_id")
    status.add_argument("--dir", type=Path, required=True)
    status.add_argument("--store", help="place: the store's name")
    status.add_argument(
        "--municipality", metavar="CODE", help="place: the store's municipality ('' for none)"
    )
    status.add_argument("--chain", help="place: the store's chain ('' for none)")
    status.set_defaults(run=_terminal_status)

    incidents_cli.register(sub)  # stop, stops, resume: 交付停止

    serve = sub.add_parser("serve", help="run the terminal API over TLS")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all: every route; heartbeats: POST /v1/heartbeats and GET /v1/health only (a group of "
        "its own beside the center, same directory and database; topology multi)",
    )
    serve.add_argument(
        "--nice",
        type=_niceness,
        default=0,
        metavar="K",
        help="lower this group's CPU priority by K (0..19, os.nice; no root needed), e.g. 10 for heartbeats",
    )
    serve.set_defaults(run=_serve)

    calendar = sub.add_parser("calendar", help="show or replace the service calendar (data, not code)")
    calendar.add_argument("action", choices=("show", "load"))
    calendar.add_argument("file", nargs="?", type=Path, help="with load: a calendar JSON document")
    calendar.add_argument("--dir", type=Path, required=True)
    calendar.set_defaults(run=_calendar)

    settle = sub.add_parser("settlement", help="the daily settlement: owed per municipality and store")
    settle.add_argument("--dir", type=Path, required=True)
    settle.add_argument("--day", type=dt.date.fromisoformat, help="YYYY-MM-DD in Japan (default: today)")
    settle.set_defaults(run=_settlement)

    bridge = sub.add_parser("bridge-key", help="print the public key municipalities must trust")
    bridge.add_argument("--dir", type=Path, required=True)
    bridge.set_defaults(run=_bridge_key)

    municipality = sub.add_parser("add-municipality", help="connect a municipal issuance server")
    municipality.add_argument("code", help="全国地方公共団体コード")
    municipality.add_argument("url", help="https://… of its issuance server")
    municipality.add_argument("--ca-bundle", type=Path, help="the CA (or self-signed certificate) of its TLS")
    municipality.add_argument("--dir", type=Path, required=True)
    municipality.set_defaults(run=_add_municipality)

    verify = sub.add_parser("audit-verify", help="check the audit log's chain under its key")
    verify.add_argument("--dir", type=Path, required=True)
    verify.set_defaults(run=_audit_verify)

    console_commands.register(sub)  # the operators' console: its server and its accounts


def _init(args: argparse.Namespace) -> int:
    config = initialise(args.dir, args.db, args.topology)
    config.migrated_engine().dispose()
    print(f"center initialised in {args.dir}")
    return 0


def _set_authority(args: argparse.Namespace) -> int:
    config = CenterConfig.load(args.dir)
    config.use_authority(
        args.url, args.token_file.read_text().strip(), ca_bundle=args.ca_bundle, anchors=args.anchor
    )
    print(f"authority {args.url} with {len(args.anchor)} trust anchor(s)")
    return 0


def _enroll(args: argparse.Namespace) -> int:
    if args.csr is not None:
        return _enroll_requested(args)
    CenterConfig.load(args.dir).enroll_terminal(
        args.terminal_id,
        args.store,
        args.out,
        now=dt.datetime.now(dt.UTC),
        municipality=args.municipality,
        chain=args.chain,
    )
    print(f"terminal {args.terminal_id} enrolled; credentials in {args.out}")
    return 0


def _enroll_requested(args: argparse.Namespace) -> int:
    """The terminal made its key: certify it (audited) and write the bundle its kiosk installs."""
    from center.enrolment import EnrolmentBundle
    from center.terminal_enrolment import Placement, enrol_requested
    from center.terminals import TerminalCA

    config = CenterConfig.load(args.dir)
    ca = TerminalCA.load(config.directory)
    request = args.csr.read_bytes()
    placement = Placement(args.store, args.municipality, args.chain)
    certificate = incidents_cli.on_database(
        config,
        lambda database: enrol_requested(
            database,
            config.audit_chain_key,
            ca,
            args.terminal_id,
            placement,
            request,
            console_commands.cli_actor(),
            dt.datetime.now(dt.UTC),
        ),
    )
    bundle = EnrolmentBundle(args.terminal_id, certificate, config.path("tls.crt").read_bytes())
    args.out.write_text(bundle.to_json() + "\n", encoding="utf-8")
    print(f"terminal {args.terminal_id} enrolled; certificate SHA-256 {bundle.fingerprint}")
    print(f"enrolment bundle (public material only) in {args.out}: koufu kiosk install-enrolment")
    return 0


def _terminal_status(args: argparse.Namespace) -> int:
    config = CenterConfig.load(args.dir)
    if args.action == "place":
        return _place(args, config)
    if args.store is not None or args.municipality is not None or args.chain is not None:
        raise ValueError("--store, --municipality and --chain go with place only")
    status = incidents_cli.on_database(
        config,
        lambda database: change_status(
            database,
            config.audit_chain_key,
            args.terminal_id,
            Action(args.action),
            console_commands.cli_actor(),
            dt.datetime.now(dt.UTC),
        ),
    )
    print(f"terminal {args.terminal_id} {status}")
    return 0


def _place(args: argparse.Namespace, config: CenterConfig) -> int:
    from center.terminal_enrolment import KEEP, place

    placement = incidents_cli.on_database(
        config,
        lambda database: place(
            database,
            config.audit_chain_key,
            args.terminal_id,
            console_commands.cli_actor(),
            dt.datetime.now(dt.UTC),
            store=KEEP if args.store is None else args.store,
            municipality=KEEP if args.municipality is None else args.municipality or None,
            chain=KEEP if args.chain is None else args.chain or None,
        ),
    )
    print(
        f"terminal {args.terminal_id} placed: {placement.store} "
        f"(municipality {placement.municipality or '-'}, chain {placement.chain or '-'})"
    )
    return 0


def _niceness(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 19:  # raising one's priority (a negative step) needs root
        raise argparse.ArgumentTypeError("a niceness step is 0..19")
    return value


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    config = CenterConfig.load(args.dir)
    config.check(workers=args.workers)
    if args.role != "all" and config.topology != "multi":
        raise ConfigError(f"a center group of role {args.role!r} beside the center needs topology 'multi'")
    config.migrated_engine().dispose()
    config.build_service()  # refuse to start on a bad authority configuration
    os.environ["KOUFU_CENTER_DIR"] = str(args.dir.resolve())
    os.environ[ROLE_VARIABLE] = args.role
    if args.nice:
        # this process and the workers it starts (a process's niceness is inherited): where they
        # and processes of ordinary priority want the same core, the scheduler gives them the
        # smaller share (at +10 about a tenth) and lets a waking ordinary process run first
        os.nice(args.nice)
    uvicorn.run(
        "center.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ssl_certfile=str(config.path("tls.crt")),
        ssl_keyfile=str(config.path("tls.key")),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )
    return 0


def _calendar(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from center.audit import AuditWriter
    from center.calendar import ServiceCalendar
    from center.calendar_store import load_calendar, read_stored, replace_calendar
    from center.store.driver import Database

    config = CenterConfig.load(args.dir)
    engine = config.migrated_engine()
    if args.action == "load":
        if args.file is None:
            raise ValueError("calendar load needs a JSON file")
        calendar = ServiceCalendar.from_dict(json.loads(args.file.read_text(encoding="utf-8")))
        with engine.connect() as connection:
            read = read_stored(connection)

        async def replace() -> None:  # one transaction with its audit line, as the console's
            database = Database(config.database_url)
            writer = AuditWriter(database, config.audit_chain_key)
            try:
                await replace_calendar(
                    writer,
                    read,
                    calendar,
                    actor=console_commands.cli_actor(),
                    reason="calendar",
                    detail="the whole calendar loaded from a file",
                    now=dt.datetime.now(dt.UTC),
                )
            finally:
                await writer.close()
                await database.close()

        asyncio.run(replace())
        print("calendar stored; every center process applies it within seconds")
        return 0
    with engine.connect() as connection:
        print(json.dumps(load_calendar(connection).to_dict(), ensure_ascii=False, indent=1))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from center.audit import verify_chain

    config = CenterConfig.load(args.dir)
    key = config.audit_chain_key
    engine = config.migrated_engine()
    try:
        with engine.connect() as connection:
            report = verify_chain(connection, key)
    finally:
        engine.dispose()
    if report.broken is None:
        # the head, to be noted outside the database: a chain cut short after it still verifies
        print(f"audit log intact: {report.rows} entries, head {report.head}")
        return 0
    broken = report.broken
    when = broken.at.isoformat() if broken.at else "-"
    print(
        f"audit log BROKEN at entry {broken.seq} ({broken.event}, {when}): {broken.why}; "
        f"{report.rows - 1} entries before it verify"
    )
    return 2


__all__ = ["ConfigError", "register"]


def _settlement(args: argparse.Namespace) -> int:
    import json

    from center.settlement import daily
    from documents import JST

    config = CenterConfig.load(args.dir)
    engine = config.migrated_engine()
    try:
        with engine.connect() as connection:
            settlement = daily(connection, args.day or dt.datetime.now(JST).date())
    finally:
        engine.dispose()
    print(json.dumps(settlement.to_json(), ensure_ascii=False, indent=1))
    return 0


def _bridge_key(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization

    from documents import b64url_encode

    key = CenterConfig.load(args.dir).bridge_key().public_key()
    print(b64url_encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)))
    return 0


def _add_municipality(args: argparse.Namespace) -> int:
    from center.calendar_rules import validate_municipality_code

    config = CenterConfig.load(args.dir)
    entry = {"url": args.url}
    if args.ca_bundle is not None:
        entry["ca_bundle"] = str(args.ca_bundle.resolve())
    config.municipalities[validate_municipality_code(args.code)] = entry
    config.check()
    config.save()
    print(f"municipality {args.code} at {args.url}")
    return 0
