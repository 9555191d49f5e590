"""``koufu card …``: make emulated cards and put them into readers."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import threading
from pathlib import Path
from typing import Any

from center.authority.migrate import DB_ENV
from hardware.cardsim.card import VirtualCard
from hardware.cardsim.personalize import PROFILES, Holder, issue_card
from hardware.cardsim.state import CardStore

DEFAULT_AUTHORITY = Path("var/authority")


def register(commands: Any) -> None:
    card = commands.add_parser("card", help="My Number Card emulator")
    sub = card.add_subparsers(dest="card_command", required=True, metavar="ACTION")

    issue = sub.add_parser("issue", help="personalise a new emulated card (カード発行)")
    issue.add_argument("--out", required=True, type=Path, help="card state file to create")
    issue.add_argument("--pin", default="1234", help="4-digit user-authentication PIN")
    issue.add_argument("--sign-password", default="ABC123", help="6-16 of A-Z0-9")
    issue.add_argument("--no-signing", action="store_true", help="no signing certificate (<15)")
    issue.add_argument("--profile", choices=sorted(PROFILES), default="card")
    issue.add_argument("--authority", type=Path, default=DEFAULT_AUTHORITY,
                       help="JPKI test authority directory (created if missing)")
    issue.add_argument("--authority-db", metavar="URL", default=os.environ.get(DB_ENV),
                       help=f"the authority's database (default: ${DB_ENV}, else SQLite in "
                            "the authority directory)")
    issue.add_argument("--municipality", metavar="CODE", default=Holder.municipality,
                       help="地方公共団体コード the authority maps the certificates to "
                            f"(default {Holder.municipality}, 千代田区)")
    issue.add_argument("--name", default=Holder.name)
    issue.add_argument("--address", default=Holder.address)
    issue.add_argument("--birth-date", type=dt.date.fromisoformat, default=Holder.birth_date)
    issue.add_argument("--sex", choices=("1", "2", "9"), default=Holder.sex)
    issue.add_argument("--my-number", default="", help="12 digits (random when omitted)")
    issue.set_defaults(run=_issue)

    attach = sub.add_parser("attach", help="insert the card into a reader until interrupted")
    attach.add_argument("card", type=Path)
    where = attach.add_mutually_exclusive_group(required=True)
    where.add_argument("--vpcd", metavar="HOST:PORT", help="pcscd's vpcd driver")
    where.add_argument("--nfc", metavar="udp:HOST:PORT", help="nfcpy UDP driver, as Type B card")
    attach.add_argument("--sign-delay", type=float, default=0.0,
                        help="simulated on-chip RSA time in seconds")
    attach.set_defaults(run=_attach)

    status = sub.add_parser("status", help="label, certificate serial and PIN tries of a card")
    status.add_argument("card", type=Path)
    status.set_defaults(run=_status)


def _issue(args: argparse.Namespace) -> int:
    holder = Holder(
        name=args.name, address=args.address, birth_date=args.birth_date, sex=args.sex,
        my_number=args.my_number, municipality=args.municipality,
    )
    issue_card(
        args.out,
        authority_dir=args.authority,
        pin=args.pin,
        sign_password=None if args.no_signing else args.sign_password,
        holder=holder,
        profile=args.profile,
        authority_db=args.authority_db,
    )
    print(f"issued {args.out}")
    return 0


def _attach(args: argparse.Namespace) -> int:
    card = VirtualCard.open(args.card, sign_delay=args.sign_delay)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if args.vpcd:
            from hardware.cardsim.vpcd_link import run_vpcd

            host, port = host_port(args.vpcd)
            print(f"card attached to vpcd at {host}:{port} (Ctrl-C removes it)", flush=True)
            run_vpcd(card, host, port, stop)
        else:
            from hardware.cardsim.nfc_link import run_nfc

            print(f"card listening as ISO 14443 Type B on {args.nfc} (Ctrl-C removes it)",
                  flush=True)
            run_nfc(card, args.nfc, stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def _status(args: argparse.Namespace) -> int:
    from cryptography import x509

    from hardware.cardsim.filesystem import POLICIES

    state = CardStore(args.card).load(POLICIES)
    cert = x509.load_der_x509_certificate(state.auth_cert)
    print(f"label: {state.label}")
    print(f"user-authentication certificate serial: {cert.serial_number}")
    print(f"valid until: {cert.not_valid_after_utc:%Y-%m-%d}")
    for key, ref in state.pins.items():
        flag = " (blocked)" if ref.blocked else ""
        print(f"{ref.policy.name} [{key}]: {ref.tries_left}/{ref.policy.max_tries} tries{flag}")
    return 0


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)
