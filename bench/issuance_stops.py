"""``python -m bench.issuance_stops``: what reading the issuance stops in force (交付停止) costs a
center request, on SQLite and PostgreSQL, beside what a cache of the stops would still cost.

A request that a stop may refuse (a new session, the card's proof, the offer, a new order) reads
the stops in force on every call, never from a process's memory, so a stop holds from the next
request in every center process (``center/incidents_store.py``). The alternative, a cache in each
process, would still have to read something per request to know it is fresh: a version counter
row. Timed here, side by side and interleaved (so drift hits all alike), on the center's own
database drivers and event loop, each read taking a connection from the pool as a request does:

- ``stops in force``: the request path's read (``incidents_store.in_force``), with no stop at all,
  then with 3 in force and a history of ``--history`` lifted stops;
- ``version row``: one integer read by primary key (the cheapest check a cache could make);
- ``SELECT 1``: a round trip that reads nothing (the floor of any read).

Per read: the CPU time of this process (what the center pays) and the wall time (p50, p95), in
microseconds. PostgreSQL is a private server on this machine (``devtools.postgres``), over TCP.
Figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa

from bench.timing import median_p95
from center.incidents_store import in_force
from center.store.driver import Connection, Database, Sql
from center.store.engine import make_engine, migrate
from center.store.tables import issuance_stops
from devtools import postgres as pgserver

VERSION = Sql("SELECT version FROM bench_stops_version WHERE id = 1")
ROUND_TRIP = Sql("SELECT 1 AS one")
NOW = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)

Read = Callable[[Connection], Awaitable[object]]


async def _version(connection: Connection) -> object:
    return await connection.one(VERSION)


async def _round_trip(connection: Connection) -> object:
    return await connection.one(ROUND_TRIP)


READS: dict[str, Read] = {"stops in force": in_force, "version row": _version, "SELECT 1": _round_trip}


def prepare(url: str, *, in_force_now: int, history: int) -> None:
    """The center's schema, ``history`` lifted stops and ``in_force_now`` stops in force, and the
    version row a cache would read."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(issuance_stops.delete())
            row = {"reason_ja": "障害のため停止", "reason_en": "Stopped for a fault", "stopped_by": "bench"}
            lifted = {**row, "stopped_at": NOW, "lifted_by": "bench", "lifted_at": NOW}
            if history:
                connection.execute(
                    issuance_stops.insert(),
                    [{**lifted, "scope": "terminal", "target": f"T-{n % 9999:04d}"} for n in range(history)],
                )
            kinds = [("all", None), ("municipality", "131016"), ("certificate_type", "tax")]
            for scope, target in kinds[:in_force_now]:
                connection.execute(
                    issuance_stops.insert().values(**row, scope=scope, target=target, stopped_at=NOW)
                )
            connection.execute(
                sa.text(
                    "CREATE TABLE IF NOT EXISTS bench_stops_version "
                    "(id INTEGER PRIMARY KEY, version BIGINT NOT NULL)"
                )
            )
            connection.execute(sa.text("DELETE FROM bench_stops_version"))
            connection.execute(sa.text("INSERT INTO bench_stops_version (id, version) VALUES (1, 1)"))
    finally:
        engine.dispose()


async def measure(url: str, runs: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per read kind: CPU µs per read, wall p50 and p95 µs."""
    database = Database(url)
    cpu = dict.fromkeys(READS, 0.0)
    walls: dict[str, list[float]] = {name: [] for name in READS}
    try:
        for read in READS.values():  # warm: the pool open, the statements prepared
            for _ in range(50):
                async with database.connection() as connection:
                    await read(connection)
        for _ in range(rounds):
            for name, read in READS.items():
                started_cpu = time.process_time()
                for _ in range(runs):
                    started = time.perf_counter()
                    async with database.connection() as connection:
                        await read(connection)
                    walls[name].append((time.perf_counter() - started) * 1e6)
                cpu[name] += time.process_time() - started_cpu
    finally:
        await database.close()
    total = runs * rounds
    return {name: (cpu[name] / total * 1e6, *median_p95(walls[name])) for name in READS}


def report(backend: str, case: str, figures: dict[str, tuple[float, float, float]]) -> None:
    for name, (cpu, p50, p95) in figures.items():
        print(f"{backend:<11} {case:<28} {name:<15} {cpu:8.1f} {p50:8.1f} {p95:8.1f}", flush=True)


def run(backend: str, url: str, args: argparse.Namespace) -> None:
    cases = [("no stop, no history", 0, 0), (f"3 in force, {args.history:,} lifted", 3, args.history)]
    for case, in_force_now, history in cases:
        prepare(url, in_force_now=in_force_now, history=history)
        report(backend, case, asyncio.run(measure(url, args.runs, args.rounds)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=2000, help="reads of each kind per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--history", type=int, default=10_000, help="lifted stops in the second case")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    print(f"{'backend':<11} {'stops':<28} {'read':<15} {'CPU µs':>8} {'p50 µs':>8} {'p95 µs':>8}")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as directory:
            run("SQLite", f"sqlite:///{Path(directory) / 'center.db'}", args)
    if "postgresql" in backends:
        with pgserver.running_server() as server:
            run("PostgreSQL", server.url(server.create_database("stops")), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
