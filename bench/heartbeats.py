"""``make bench``: terminals' heartbeats ingested per second at the center, on PostgreSQL, and what
they do to resident authentication running at the same time.

The stack of ``bench/center_auth.py`` (whose helpers this reuses: the lean HTTP/1.1 client, the
paced and closed-loop driver, CPU per party from ``/proc``): the JPKI authority and the center over
TLS on loopback, the center in topology ``multi`` with ``--workers`` processes on a private
PostgreSQL server tuned like SQLite's WAL (durable files, commits not waiting for their flush).
``--terminals`` terminals send heartbeats (``POST /v1/heartbeats``), each on its own keep-alive
TLS connection, signing each one as a kiosk does (from templates, :mod:`bench.heartbeat_requests`,
so the generator takes less of the shared cores); one heartbeat in ``--change-every`` changes the
printer's state, so the center also writes history rows (a fleet changes far less often). Fifty
other terminals authenticate residents with known cards (a session and the card's proof: two
requests), paced at ``--auth-rate`` per second.

Measured in turn, each for ``--duration`` seconds after a warm-up:

1. ``auth alone``: the paced authentications, nothing else: the p99 to compare with;
2. ``heartbeats alone``: heartbeats as fast as answered (closed loop): the most the stack ingests,
   and each party's CPU time per heartbeat;
3. for each of ``--rates`` (500, 1,000 and the issue's goal, 2,000 a second; 55,000 terminals
   every 30 s are 1,833/s): heartbeats offered at that rate on a fixed schedule beside the paced
   authentications, each timed from its scheduled start (a stack that falls behind shows its
   backlog).

The load generator shares the two cores with the center and PostgreSQL: its CPU per request is
printed with the others'. Figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench.center_auth import (
    KNOWN_CARDS,
    PG_SETTINGS,
    Connection,
    Operation,
    Parties,
    Sample,
    Terminal,
    _code,
    _loop_factory,
    _parties,
    _wait_open,
    authentication,
    drive,
    issue_cards,
)
from bench.heartbeat_requests import PATH, HeartbeatRequests
from center.store.engine import make_engine
from center.store.tables import terminal_history
from devtools import postgres as pgserver
from devtools.stack import ALWAYS_OPEN, DevStack, start_stack

GOAL = 2000.0  # heartbeats per second (issue 20)
AUTH_TERMINALS = 50
WARM = 0.5  # seconds of each group's work before a measured workload


def _bodies() -> tuple[bytes, bytes]:
    """The two heartbeat bodies: all ready, and the printer's paper low (one in ``--change-every``,
    so the state changes twice: a history row each)."""
    state = {
        "build": "0.1.0",
        "config_hash": "5e" * 32,
        "printer": "ready",
        "card_reader": True,
        "controller": "up",
        "alarm": None,
        "change_owed": 0,
        "last_session_at": None,
    }
    return json.dumps(state).encode(), json.dumps({**state, "printer": "paper_low"}).encode()


_BODIES = _bodies()


def heartbeat(change_every: int) -> Operation:
    """One terminal's heartbeats, each timed from its scheduled start (paced) or its sending; signed
    from templates (:mod:`bench.heartbeat_requests`), so the load generator takes less of the
    cores it shares with the center."""
    cycle = [1, *[0] * (change_every - 1)]  # _BODIES[1], the paper low, one in change_every
    own: dict[int, tuple[HeartbeatRequests, Iterator[int]]] = {}

    async def beat(terminal: Terminal, sample: Sample, scheduled: float) -> None:
        requests, which = own.get(id(terminal)) or own.setdefault(
            id(terminal), (HeartbeatRequests(terminal.enrolled, _BODIES), itertools.cycle(cycle))
        )
        chosen = next(which)
        started = time.perf_counter()
        status, answer = await terminal.http.request(
            "POST", PATH, requests.headers(chosen), requests.bodies[chosen]
        )
        finished = time.perf_counter()
        if status != 200:
            sample.error(_code(status, answer))
            return
        sample.requests.append(finished - started)
        sample.operations.append(finished - scheduled)

    return beat


@dataclass
class Measured:
    name: str
    heartbeats: Sample | None
    auth: Sample | None


def percentile(latencies: list[float], fraction: float) -> float:
    ms = sorted(t * 1000 for t in latencies)
    return ms[min(len(ms) - 1, round(fraction * (len(ms) - 1)))] if ms else float("nan")


async def measure(stack: DevStack, parties: Parties, args: argparse.Namespace) -> list[Measured]:
    context = ssl.create_default_context(cafile=stack.center_tls)

    def terminals(prefix: str, count: int) -> list[Terminal]:
        return [
            Terminal(stack.enroll(f"{prefix}{number:04d}"), Connection(stack.center_url, context))
            for number in range(1, count + 1)
        ]

    beating, authenticating = terminals("H-", args.terminals), terminals("A-", AUTH_TERMINALS)
    known = issue_cards(stack, KNOWN_CARDS)
    auth = authentication(itertools.cycle(known).__next__)
    beat = heartbeat(args.change_every)

    async def warm(*groups: tuple[list[Terminal], Operation]) -> None:
        """A moment of each group's work, so its connections are open (the server closes idle
        ones after a few seconds) and the measured seconds start warm."""
        await asyncio.gather(*(drive(group, operation, WARM, parties) for group, operation in groups))

    async def together(rate: float) -> tuple[Sample, Sample]:
        await warm((beating, beat), (authenticating, auth))
        beats, auths = await asyncio.gather(
            drive(beating, beat, args.duration, parties, rate),
            drive(authenticating, auth, args.duration, parties, args.auth_rate),
        )
        return beats, auths

    try:
        await _wait_open(authenticating[0])
        await drive(beating, beat, args.warmup, parties)
        await drive(authenticating, auth, args.warmup, parties)
        await warm((authenticating, auth))
        alone = await drive(authenticating, auth, args.duration, parties, args.auth_rate)
        results = [Measured("auth alone", None, alone)]
        await warm((beating, beat))
        results.append(Measured("heartbeats alone", await drive(beating, beat, args.duration, parties), None))
        for rate in args.rates:
            results.append(Measured(f"heartbeats {rate:g}/s + auth", *await together(rate)))
    finally:
        for terminal in beating + authenticating:
            await terminal.http.close()
    return results


def history_rows(stack: DevStack) -> int:
    from center.config import CenterConfig

    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(terminal_history)).scalar_one()
            )
    finally:
        engine.dispose()


def report(results: list[Measured], args: argparse.Namespace, detail: str, rows: int) -> None:
    cores = os.cpu_count() or 1
    print()
    print(
        f"heartbeats: {args.terminals} terminals, one keep-alive TLS connection each, one heartbeat in "
        f"{args.change_every} a change of state; beside {AUTH_TERMINALS} terminals authenticating "
        f"known cards paced at {args.auth_rate:g}/s; {args.duration:g} s per workload; {detail}; "
        f"{cores} cores shared by every party (the load generator too)"
    )
    header = (
        f"{'workload':<24} {'hb/s':>6} {'hb p50':>7} {'hb p99':>7} {'auth/s':>6} {'auth p50':>8} "
        f"{'auth p99':>8} {'center':>7} {'pg':>6} {'loadgen':>7} {'busy':>5}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        beats, auths = result.heartbeats, result.auth
        cells = [f"{result.name:<24}"]
        if beats is not None:
            scheduled = result.auth is not None
            latencies = beats.operations if scheduled else beats.requests
            cells += [
                f"{len(beats.requests) / beats.seconds:6.0f}",
                f"{percentile(latencies, 0.5):7.1f}",
                f"{percentile(latencies, 0.99):7.1f}",
            ]
        else:
            cells += [f"{'-':>6}", f"{'-':>7}", f"{'-':>7}"]
        if auths is not None:
            cells += [
                f"{len(auths.operations) / auths.seconds:6.0f}",
                f"{percentile(auths.operations, 0.5):8.1f}",
                f"{percentile(auths.operations, 0.99):8.1f}",
            ]
        else:
            cells += [f"{'-':>6}", f"{'-':>8}", f"{'-':>8}"]
        main = beats if beats is not None else auths
        assert main is not None
        requests = max(1, len(main.requests) + (len(auths.requests) if auths is not None and beats else 0))
        cells += [
            f"{main.cpu.get(party, 0.0) / requests * 1000:{width}.2f}"
            for party, width in (("center", 7), ("postgresql", 6), ("load generator", 7))
        ]
        cells.append(f"{sum(main.cpu.values()) / (main.seconds * cores):5.0%}")
        print(" ".join(cells))
        for sample in (beats, auths):
            if sample is not None and sample.errors:
                print(f"ERRORS {result.name}: {sample.errors}")
    print(
        "hb: heartbeats (paced: latency from each scheduled start); auth: whole authentications (two "
        "requests), latency from each scheduled start; center, pg, loadgen: CPU ms per request of "
        "every kind in that workload; busy: share of all cores in use"
    )
    print(f"history rows written: {rows}")
    alone = next(r.auth for r in results if r.name == "auth alone")
    assert alone is not None
    before = percentile(alone.operations, 0.99)
    for result in results:
        if result.heartbeats is None or result.auth is None:
            continue
        offered = float(result.name.split()[1].removesuffix("/s"))
        rate = len(result.heartbeats.requests) / result.heartbeats.seconds
        after = percentile(result.auth.operations, 0.99)
        kept = rate >= 0.98 * offered and after <= max(1.2 * before, before + 10)
        verdict = (
            ("MET" if kept else "NOT MET") if offered >= GOAL else ("kept up" if kept else "not kept up")
        )
        print(
            f"{offered:g} heartbeats/s offered with authentication p99 unchanged: {rate:.0f}/s, auth p99 "
            f"{before:.1f} ms alone, {after:.1f} ms beside them -> {verdict}"
            + (f" (the goal: {GOAL:g}/s)" if offered >= GOAL else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per workload")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--terminals", type=int, default=100, help="terminals sending heartbeats")
    parser.add_argument(
        "--rates",
        default=f"500,1000,{GOAL:g}",
        help="heartbeats per second offered beside the authentications, one workload each",
    )
    parser.add_argument("--auth-rate", type=float, default=100.0, help="authentications per second")
    parser.add_argument("--change-every", type=int, default=50, help="one heartbeat in N changes the state")
    parser.add_argument("--workers", type=int, default=2, help="center worker processes")
    args = parser.parse_args(argv)
    args.rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    with (
        tempfile.TemporaryDirectory(prefix="koufu-bench-heartbeats-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        database = cleanup.enter_context(pgserver.running_server(settings=PG_SETTINGS))
        stack = start_stack(
            Path(tmp),
            center_db=database.url(database.create_database("center")),
            authority_db=database.url(database.create_database("authority")),
            topology="multi",
            workers=args.workers,
        )
        cleanup.callback(stack.stop)
        stack.load_calendar(ALWAYS_OPEN)
        detail = f"PostgreSQL {database.version}, topology multi, {args.workers} center worker process(es)"
        print(f"heartbeats: {detail}; load average before: {os.getloadavg()[0]:.2f}", flush=True)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(measure(stack, _parties(stack, database), args))
        report(results, args, detail, history_rows(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main())
