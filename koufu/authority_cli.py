"""``koufu authority …``: run the JPKI authority simulator (J-LIS) and act as its operator.

    koufu authority init [--dir DIR] [--db URL] [--generations 2015,2019,2023]
    koufu authority serve [--dir DIR] [--db URL] [--host H] [--port N] [--tls-cert F --tls-key F]
    koufu authority add-verifier NAME          prints the bearer token, once
    koufu authority remove-verifier NAME
    koufu authority status SERIAL              the JSON a verifier gets
    koufu authority revoke SERIAL --reason lost_card|moved_out|deceased|<CRLReason>
    koufu authority release-hold SERIAL
    koufu authority renew SERIAL (--card CARD | --birth-date YYYY-MM-DD) [--municipality CODE]

``--db`` defaults to ``$KOUFU_AUTHORITY_DB``, else the SQLite file in ``--dir``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from center.authority.ca import generate_key
from center.authority.migrate import DB_ENV
from center.authority.reasons import RevocationReason
from center.authority.service import AuthorityService

DEFAULT_DIR = Path("var/authority")  # the same default as `koufu card issue --authority`


def register(commands: Any) -> None:
    authority = commands.add_parser("authority", help="JPKI authority simulator (J-LIS)")
    sub = authority.add_subparsers(dest="authority_command", required=True, metavar="ACTION")

    def command(name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument(
            "--dir",
            type=Path,
            default=DEFAULT_DIR,
            help=f"authority directory: CA keys, SQLite database ({DEFAULT_DIR})",
        )
        parser.add_argument(
            "--db",
            metavar="URL",
            default=os.environ.get(DB_ENV),
            help=f"database URL, e.g. postgresql+psycopg://… (${DB_ENV})",
        )
        parser.set_defaults(run=run)
        return parser

    init = command("init", "create the CA generations and the database", _init)
    init.add_argument(
        "--generations",
        type=_years,
        default=None,
        help="comma-separated generation years (default: the three newest of 2015, 2019, 2023, …)",
    )

    serve = command("serve", "answer OCSP, CRL and certificate queries over HTTP(S)", _serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8470, help="0 picks a free port")
    serve.add_argument("--tls-cert", type=Path, help="PEM server certificate (chain)")
    serve.add_argument("--tls-key", type=Path, help="PEM key of the server certificate")

    add = command("add-verifier", "register a verifier and print its token (once)", _add_verifier)
    add.add_argument("name")
    remove = command("remove-verifier", "withdraw a verifier's token", _remove_verifier)
    remove.add_argument("name")

    status = command("status", "print what a verifier learns about a serial", _status)
    status.add_argument("serial", type=int)

    revoke = command("revoke", "revoke a certificate (失効)", _revoke)
    revoke.add_argument("serial", type=int)
    revoke.add_argument(
        "--reason",
        required=True,
        help=", ".join(reason.value for reason in RevocationReason)
        + " (or RFC 5280 names such as keyCompromise)",
    )

    release = command("release-hold", "lift a certificate_hold (一時停止解除)", _release)
    release.add_argument("serial", type=int)

    renew = command("renew", "renew a certificate: new key, new serial (更新)", _renew)
    renew.add_argument("serial", type=int)
    source = renew.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--card", type=Path, help="emulated card holding the certificate: it gets the new key"
    )
    source.add_argument(
        "--birth-date",
        type=dt.date.fromisoformat,
        help="holder's birth date (user-authentication certificates without a card; the new key is not kept)",
    )
    renew.add_argument("--municipality", metavar="CODE", help="new 地方公共団体コード, if moved")


def _years(text: str) -> list[int]:
    try:
        years = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected years like 2015,2019,2023: {text}") from exc
    if not years or any(not 1990 <= year <= 2100 for year in years):
        raise argparse.ArgumentTypeError(f"expected years like 2015,2019,2023: {text}")
    return years


def _open(args: argparse.Namespace, *, create: bool = False) -> AuthorityService:
    generations = getattr(args, "generations", None)
    return AuthorityService.open(args.dir, db_url=args.db, create=create, generations=generations)


def _init(args: argparse.Namespace) -> int:
    with _open(args, create=True) as service:
        for ca in service.authority.cas:
            valid = ca.certificate
            print(
                f"{ca.label}: key id {ca.key_id.hex()}, valid "
                f"{valid.not_valid_before_utc:%Y-%m-%d} to {valid.not_valid_after_utc:%Y-%m-%d}"
            )
        url = service.store.engine.url.render_as_string(hide_password=True)
        print(f"authority ready in {args.dir} (database {url})")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from center.authority.http import serve

    logging.getLogger("center.authority").setLevel(logging.INFO)
    with _open(args) as service:
        serve(
            service,
            host=args.host,
            port=args.port,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            ready=lambda url: print(f"authority listening on {url}", flush=True),
        )
    return 0


def _add_verifier(args: argparse.Namespace) -> int:
    with _open(args) as service:
        token = service.add_verifier(args.name)
    print(f"verifier {args.name!r} registered; its token (shown only now):")
    print(token)
    return 0


def _remove_verifier(args: argparse.Namespace) -> int:
    with _open(args) as service:
        service.remove_verifier(args.name)
    print(f"verifier {args.name!r} removed")
    return 0


def _status(args: argparse.Namespace) -> int:
    with _open(args) as service:
        print(json.dumps(service.status(args.serial).to_json()))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    with _open(args) as service:
        record = service.revoke(args.serial, args.reason)
    assert record.revocation_reason is not None and record.revoked_at is not None
    print(
        f"revoked {record.serial} ({record.revocation_reason.value}) at "
        f"{record.revoked_at:%Y-%m-%d %H:%M:%S}Z"
    )
    return 0


def _release(args: argparse.Namespace) -> int:
    with _open(args) as service:
        service.release_hold(args.serial)
    print(f"certificate {args.serial} is good again")
    return 0


def _renew(args: argparse.Namespace) -> int:
    with _open(args) as service:
        if args.card is not None:
            from hardware.cardsim.personalize import renew_card
            from koufu.cards import AuthorityIssuer

            renewed = renew_card(
                args.card, AuthorityIssuer(service), args.serial, municipality=args.municipality
            )
        else:
            renewed = service.renew(
                args.serial,
                generate_key().public_key(),
                birth_date=args.birth_date,
                municipality=args.municipality,
            )
    print(f"renewed {args.serial}: new serial {renewed.serial_number}")
    return 0
