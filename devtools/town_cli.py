"""``koufu-dev town --dir DIR --households N [--seed S] [--first-serial K] [--cards SHARE]``: fill a
municipal issuance server's record stores (made by ``koufu municipal init``) with a synthetic town,
for demonstrations, tests and load runs."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path
from typing import Any

from center.municipal import service
from center.municipal.issuer import load_settings
from devtools.synthetic import generate
from documents import JST


def register(commands: Any) -> None:
    town = commands.add_parser("town", help="fill a municipality's record stores with a synthetic town")
    town.add_argument("--dir", type=Path, required=True, help="the municipality's directory")
    town.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get(service.DB_ENV),
        help=f"database URL, e.g. postgresql+psycopg://… (${service.DB_ENV})",
    )
    town.add_argument("--households", type=int, required=True)
    town.add_argument("--seed", type=int, default=1)
    town.add_argument(
        "--first-serial", type=int, default=10**9, help="certificate serials of its cards from here"
    )
    town.add_argument("--cards", type=float, default=0.8, help="share of residents with a linked card")
    town.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    try:
        with server.engine.begin() as connection:
            chosen = load_settings(connection)
            people = generate(
                connection,
                municipality=chosen.municipality,
                name=chosen.name,
                prefecture=chosen.prefecture,
                households=args.households,
                seed=args.seed,
                today=dt.datetime.now(JST).date(),
                first_serial=args.first_serial,
                cards=args.cards,
            )
    finally:
        server.close()
    print(
        f"{people.households} households, {people.residents} residents, {people.registers} family registers"
    )
    print(
        "for example (resident id, certificate serial): "
        + ", ".join(f"{person.resident_id} {person.certificate_serial}" for person in people.ordinary[:5])
    )
    return 0
