"""``koufu-dev town --dir DIR --households N [--seed S] [--first-serial K] [--cards SHARE]
[--far-domicile MUNICIPALITY_DIR]``: fill a municipal issuance server's record stores (made by
``koufu municipal init``) with a synthetic town, for demonstrations, tests and load runs; with
``--far-domicile``, every 本籍 elsewhere is in that municipality.

``koufu-dev domicile-town --dir DIR --town DIR [--town-db URL] [--seed S]``: fill the record stores
of the municipality in ``--dir`` with the family registers of the residents of the town in
``--town`` whose 本籍 is there (本籍地: :func:`devtools.synthetic.generate_domicile`)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from center.municipal import service
from center.municipal.cli import add_location
from center.municipal.issuer import load_settings
from devtools.synthetic import generate, generate_domicile
from documents import JST


def register(commands: Any) -> None:
    town = commands.add_parser("town", help="fill a municipality's record stores with a synthetic town")
    add_location(town)
    town.add_argument("--households", type=int, required=True)
    town.add_argument("--seed", type=int, default=1)
    town.add_argument(
        "--first-serial", type=int, default=10**9, help="certificate serials of its cards from here"
    )
    town.add_argument("--cards", type=float, default=0.8, help="share of residents with a linked card")
    town.add_argument(
        "--far-domicile", type=Path, metavar="DIR", help="the municipality where every 本籍 elsewhere is"
    )
    town.set_defaults(run=run)

    domicile = commands.add_parser(
        "domicile-town", help="the family registers of a town's residents whose 本籍 is in this municipality"
    )
    add_location(domicile)
    domicile.add_argument("--town", type=Path, required=True, help="the town's municipal directory")
    domicile.add_argument("--town-db", metavar="URL", help="the town's database URL (default: its SQLite)")
    domicile.add_argument("--seed", type=int, default=1)
    domicile.set_defaults(run=run_domicile)


def _settings_of(directory: Path, db_url: str | None) -> tuple[str, str]:
    server = service.MunicipalServer.open(directory, db_url=db_url)
    try:
        with server.engine.connect() as connection:
            chosen = load_settings(connection)
    finally:
        server.close()
    return chosen.prefecture, chosen.name


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
                far_domicile=_settings_of(args.far_domicile, None) if args.far_domicile else None,
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


def run_domicile(args: argparse.Namespace) -> int:
    server = service.MunicipalServer.open(args.dir, db_url=args.db)
    town = service.MunicipalServer.open(args.town, db_url=args.town_db)
    try:
        with town.engine.connect() as source, server.engine.begin() as connection:
            chosen = load_settings(connection)
            registers = generate_domicile(
                connection,
                town=source,
                prefecture=chosen.prefecture,
                name=chosen.name,
                seed=args.seed,
                today=dt.datetime.now(JST).date(),
            )
    finally:
        town.close()
        server.close()
    print(f"{registers.registers} family registers, {len(registers.entries)} of the town's residents")
    print(
        "for example (resident id, certificate serial, register, position): "
        + ", ".join(
            f"{entry.resident_id} {entry.certificate_serial} {entry.register_id} {entry.position}"
            for entry in registers.entries[:5]
        )
    )
    return 0
