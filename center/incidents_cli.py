"""``koufu center stop | stops | resume``: an operator stops issuance now (交付停止), lists the
stops, and lifts one (再開). Each change is one transaction with its audit line, naming who did it
(``--by``); every center process applies it from its next request (:mod:`center.incidents`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from center.config import CenterConfig
from center.incidents import IssuanceStop, Scope, StopReason, connected_municipality, stop_target
from center.incidents_store import lift_stop, set_stop, stops
from center.store.driver import Database
from documents import JST, CertificateType

T = TypeVar("T")


def register(sub: Any) -> None:
    """The three commands, under ``koufu center``."""
    stop = sub.add_parser("stop", help="stop issuance now (everything, a municipality, a type, a terminal)")
    what = stop.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true", help="every certificate at every terminal")
    what.add_argument("--municipality", metavar="CODE", help="a municipality (全国地方公共団体コード)")
    what.add_argument("--certificate-type", metavar="TYPE", choices=[kind.value for kind in CertificateType])
    what.add_argument("--terminal", metavar="ID", help="one terminal")
    stop.add_argument("--reason-ja", required=True, help="the reason residents are shown, in Japanese")
    stop.add_argument("--reason-en", required=True, help="the reason residents are shown, in English")
    stop.add_argument("--by", required=True, help="the operator's name")
    stop.add_argument("--dir", type=Path, required=True)
    stop.set_defaults(run=_stop)

    listing = sub.add_parser("stops", help="the stops of issuance in force (--all: the history)")
    listing.add_argument("--all", action="store_true", help="lifted stops too")
    listing.add_argument("--dir", type=Path, required=True)
    listing.set_defaults(run=_stops)

    resume = sub.add_parser("resume", help="lift a stop of issuance")
    resume.add_argument("stop_id", type=int, metavar="STOP_ID")
    resume.add_argument("--by", required=True, help="the operator's name")
    resume.add_argument("--dir", type=Path, required=True)
    resume.set_defaults(run=_resume)


def on_database(config: CenterConfig, work: Callable[[Database], Awaitable[T]]) -> T:
    config.migrated_engine().dispose()  # the schema is the code's

    async def run() -> T:
        database = Database(config.database_url, pool_size=1)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


def _stop(args: argparse.Namespace) -> int:
    config = CenterConfig.load(args.dir)
    scope, named = _scope(args)
    target = stop_target(scope, named)
    if scope is Scope.MUNICIPALITY and target is not None:
        connected_municipality(target, config.municipalities)
    reason = StopReason.of(args.reason_ja, args.reason_en)
    now = dt.datetime.now(dt.UTC)
    stop = on_database(
        config,
        lambda database: set_stop(database, config.audit_chain_key, scope, target, reason, args.by, now),
    )
    print(
        f"stop {stop.stop_id} in force: {stop.describe()}, by {stop.stopped_by} at {_when(stop.stopped_at)}; "
        "every center process refuses from its next request"
    )
    return 0


def _scope(args: argparse.Namespace) -> tuple[Scope, str | None]:
    if args.all:
        return Scope.ALL, None
    if args.municipality is not None:
        return Scope.MUNICIPALITY, args.municipality
    if args.certificate_type is not None:
        return Scope.CERTIFICATE_TYPE, args.certificate_type
    return Scope.TERMINAL, args.terminal


async def _listed(database: Database, lifted_too: bool) -> list[IssuanceStop]:
    async with database.connection() as connection:
        return await stops(connection, lifted_too=lifted_too)


def _stops(args: argparse.Namespace) -> int:
    listed = on_database(CenterConfig.load(args.dir), lambda database: _listed(database, args.all))
    if not listed:
        print("no stop was ever set" if args.all else "no stop in force")
    for stop in listed:
        state = (
            "in force" if stop.lifted_at is None else f"lifted by {stop.lifted_by} at {_when(stop.lifted_at)}"
        )
        print(f"{stop.stop_id}\t{stop.describe()}\tby {stop.stopped_by} at {_when(stop.stopped_at)}\t{state}")
        print(f"\tja: {stop.reason.ja}\n\ten: {stop.reason.en}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    config = CenterConfig.load(args.dir)
    now = dt.datetime.now(dt.UTC)
    stop = on_database(
        config, lambda database: lift_stop(database, config.audit_chain_key, args.stop_id, args.by, now)
    )
    print(f"stop {stop.stop_id} lifted ({stop.describe()}), by {stop.lifted_by}")
    return 0


def _when(instant: dt.datetime) -> str:
    return instant.astimezone(JST).isoformat(timespec="seconds")
