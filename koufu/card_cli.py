"""``koufu card …``: emulated My Number Cards, issued by the JPKI test authority.

``issue`` is wired here, between the card emulator (``hardware.cardsim``) and the authority
simulator (``koufu.cards``); ``attach`` and ``status`` are the emulator's own
(``hardware.cardsim.cli``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from center.authority.migrate import DB_ENV
from hardware.cardsim import cli as cardsim_cli
from hardware.cardsim.personalize import PROFILES, Holder
from koufu.authority_cli import DEFAULT_DIR
from koufu.cards import issue_card


def register(commands: Any) -> None:
    card = commands.add_parser("card", help="My Number Card emulator")
    actions = card.add_subparsers(dest="card_command", required=True, metavar="ACTION")

    issue = actions.add_parser("issue", help="personalise a new emulated card (カード発行)")
    issue.add_argument("--out", required=True, type=Path, help="card state file to create")
    issue.add_argument("--pin", default="1234", help="4-digit user-authentication PIN")
    issue.add_argument("--sign-password", default="ABC123", help="6-16 of A-Z0-9")
    issue.add_argument("--no-signing", action="store_true", help="no signing certificate (<15)")
    issue.add_argument("--profile", choices=sorted(PROFILES), default="card")
    issue.add_argument(
        "--authority",
        type=Path,
        default=DEFAULT_DIR,
        help="JPKI test authority directory (created if missing)",
    )
    issue.add_argument(
        "--authority-db",
        metavar="URL",
        default=os.environ.get(DB_ENV),
        help=f"the authority's database (default: ${DB_ENV}, else SQLite in the authority directory)",
    )
    issue.add_argument(
        "--municipality",
        metavar="CODE",
        default=Holder.municipality,
        help="地方公共団体コード the authority maps the certificates to "
        f"(default {Holder.municipality}, 千代田区)",
    )
    issue.add_argument("--name", default=Holder.name)
    issue.add_argument("--address", default=Holder.address)
    issue.add_argument("--birth-date", type=dt.date.fromisoformat, default=Holder.birth_date)
    issue.add_argument("--sex", choices=("1", "2", "9"), default=Holder.sex)
    issue.add_argument("--my-number", default="", help="12 digits (random when omitted)")
    issue.set_defaults(run=_issue)

    cardsim_cli.register(actions)


def _issue(args: argparse.Namespace) -> int:
    holder = Holder(
        name=args.name,
        address=args.address,
        birth_date=args.birth_date,
        sex=args.sex,
        my_number=args.my_number,
        municipality=args.municipality,
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
