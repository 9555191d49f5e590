"""``make bench``: terminals' heartbeats ingested per second at the center, on PostgreSQL, and what
they do to resident authentication running at the same time, in three topologies side by side.

The stack of ``bench/center_auth.py`` (whose helpers this reuses: the lean HTTP/1.1 client, the
paced and closed-loop driver, CPU per party from ``/proc``): the JPKI authority and the center over
TLS on loopback, the center in topology ``multi`` with ``--workers`` processes on a private
PostgreSQL server tuned like SQLite's WAL (durable files, commits not waiting for their flush),
and beside it the center's group serving heartbeats only (``koufu center serve --role heartbeats
--nice K``: ``--heartbeat-workers`` processes at niceness ``--nice``). ``--terminals`` terminals
send heartbeats (``POST /v1/heartbeats``), each on its own keep-alive TLS connection, signing each
one as a kiosk does (from templates, :mod:`devtools.heartbeat_requests`); one heartbeat in
``--change-every`` changes the printer's state, so the center also writes history rows. Fifty
other terminals authenticate residents with known cards (a session and the card's proof: two
requests) at the center's workers, paced at ``--auth-rate`` per second, driven by this process at
its own priority.

The heartbeats' load generator stands for 55,000 kiosks elsewhere: it runs in a process of its
own (:class:`Generator`), niced like the heartbeat group, so that on these shared cores it takes
from the parties measured only what they leave. The topologies, with the same offered rates,
durations and authentications:

- ``shared, gen nice 0``: heartbeats to the center's workers, their generator at normal priority
  (the benchmark as it was before the separation);
- ``shared``: heartbeats to the center's workers, their generator niced;
- ``separated``: heartbeats to the heartbeat group (niced), their generator niced.

Measured in each of ``--rounds`` rounds (the topologies in turn, a different one first each
round), each for ``--duration`` seconds after a warm-up: ``auth alone`` (the paced
authentications, nothing else: the p99 to compare with); then per topology ``heartbeats alone``
(as fast as answered: the most it ingests, and each party's CPU per heartbeat) and, for each of
``--rates`` (the issue's goal, 2,000 a second, by default; 55,000 terminals every 30 s are
1,833/s), heartbeats offered at that rate on a fixed schedule beside the paced authentications,
each timed from its scheduled start (a stack that falls behind shows its backlog).

Figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import ssl
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as PipeEnd
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
    _wait_open,
    authentication,
    drive,
    issue_cards,
)
from center.enrolment import EnrolledTerminal
from center.store.engine import make_engine
from center.store.tables import terminal_history
from devtools import postgres as pgserver
from devtools.heartbeat_requests import PATH, HeartbeatRequests
from devtools.stack import ALWAYS_OPEN, HEARTBEAT_NICE, DevStack, start_stack

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
    from templates (:mod:`devtools.heartbeat_requests`), so the load generator takes less of the
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


class Generator:
    """The heartbeats' load generator: a process of its own at niceness ``nice`` (it stands for
    55,000 kiosks elsewhere, so it may yield the cores to the parties measured), driving the
    ``--terminals`` terminals whose credentials are in ``directories``; the authentications are
    driven by this process, at its own priority."""

    def __init__(self, nice: int, ca: str, directories: list[Path], change_every: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.nice = nice
        self._pipe, child = context.Pipe()
        self.process = context.Process(
            target=_generate, args=(child, nice, ca, directories, change_every), daemon=True
        )
        self.process.start()
        child.close()
        if self._pipe.recv() != "ready":
            raise RuntimeError("the heartbeats' load generator did not start")

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    async def drive(self, url: str, seconds: float, rate: float | None = None) -> Sample:
        """Heartbeats to ``url`` for ``seconds`` (at ``rate`` a second, or as fast as answered)."""
        self._pipe.send((url, seconds, rate))
        sample: Sample = await asyncio.to_thread(self._pipe.recv)
        return sample

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.send(None)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def _generate(pipe: PipeEnd, nice: int, ca: str, directories: list[Path], change_every: int) -> None:
    """The generator's process: its niceness lowered, then one drive per request on ``pipe``."""
    os.nice(nice)
    context = ssl.create_default_context(cafile=ca)
    enrolled = [EnrolledTerminal.load(directory) for directory in directories]
    beat = heartbeat(change_every)
    connected: dict[str, list[Terminal]] = {}
    nobody = Parties({})
    pipe.send("ready")
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        while (asked := pipe.recv()) is not None:
            url, seconds, rate = asked
            terminals = connected.get(url) or connected.setdefault(
                url, [Terminal(terminal, Connection(url, context)) for terminal in enrolled]
            )
            sample = runner.run(drive(terminals, beat, seconds, nobody, rate))
            sample.cpu = {}
            pipe.send(sample)
        for terminals in connected.values():
            for terminal in terminals:
                runner.run(terminal.http.close())


@dataclass(frozen=True)
class Topology:
    """Where the heartbeats go and who sends them: a row group of the report."""

    name: str
    url: str
    generator: Generator
    what: str  # in words, for the report


@dataclass
class Measured:
    round: int
    topology: str
    name: str
    heartbeats: Sample | None
    auth: Sample | None
    cpu: dict[str, float]  # CPU seconds per party over the workload
    seconds: float


def percentile(latencies: list[float], fraction: float) -> float:
    ms = sorted(t * 1000 for t in latencies)
    return ms[min(len(ms) - 1, round(fraction * (len(ms) - 1)))] if ms else float("nan")


async def measure(
    stack: DevStack, parties: Parties, topologies: list[Topology], args: argparse.Namespace
) -> list[Measured]:
    context = ssl.create_default_context(cafile=stack.center_tls)
    authenticating = [
        Terminal(stack.enroll(f"A-{number:04d}"), Connection(stack.center_url, context))
        for number in range(1, AUTH_TERMINALS + 1)
    ]
    known = issue_cards(stack, KNOWN_CARDS)
    auth = authentication(itertools.cycle(known).__next__)

    async def timed(
        work: Awaitable[tuple[Sample | None, Sample | None]],
    ) -> tuple[Sample | None, Sample | None, dict[str, float], float]:
        before, started = parties.snapshot(), time.perf_counter()
        beats, auths = await work
        seconds, after = time.perf_counter() - started, parties.snapshot()
        return beats, auths, {name: after[name] - before[name] for name in after}, seconds

    async def auth_only(seconds: float, rate: float | None) -> tuple[Sample | None, Sample | None]:
        return None, await drive(authenticating, auth, seconds, parties, rate)

    async def beats_only(topology: Topology, seconds: float) -> tuple[Sample | None, Sample | None]:
        return await topology.generator.drive(topology.url, seconds), None

    async def both(topology: Topology, rate: float) -> tuple[Sample | None, Sample | None]:
        beats, auths = await asyncio.gather(
            topology.generator.drive(topology.url, args.duration, rate),
            drive(authenticating, auth, args.duration, parties, args.auth_rate),
        )
        return beats, auths

    results: list[Measured] = []
    try:
        await _wait_open(authenticating[0])
        await drive(authenticating, auth, args.warmup, parties)
        for topology in topologies:  # every generator's connections opened, the group warmed
            await topology.generator.drive(topology.url, args.warmup)
        for round_ in range(1, args.rounds + 1):
            await auth_only(WARM, None)
            measured = await timed(auth_only(args.duration, args.auth_rate))
            results.append(Measured(round_, "-", "auth alone", *measured))
            shift = (round_ - 1) % len(topologies)  # in turn: each topology first in some round
            for topology in topologies[shift:] + topologies[:shift]:
                await beats_only(topology, WARM)
                measured = await timed(beats_only(topology, args.duration))
                results.append(Measured(round_, topology.name, "heartbeats alone", *measured))
                for rate in args.rates:
                    await asyncio.gather(beats_only(topology, WARM), auth_only(WARM, None))
                    measured = await timed(both(topology, rate))
                    results.append(Measured(round_, topology.name, f"{rate:g}/s + auth", *measured))
    finally:
        for terminal in authenticating:
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


PARTIES = (  # the report's columns: party, its heading
    ("center", "center"),
    ("heartbeat group", "hbgroup"),
    ("postgresql", "pg"),
    ("heartbeat generator", "hbgen"),
    ("load generator", "authgen"),
)


def report(
    results: list[Measured], topologies: list[Topology], args: argparse.Namespace, detail: str, rows: int
) -> None:
    cores = os.cpu_count() or 1
    print()
    print(
        f"heartbeats: {args.terminals} terminals, one keep-alive TLS connection each, one heartbeat in "
        f"{args.change_every} a change of state; beside {AUTH_TERMINALS} terminals authenticating "
        f"known cards paced at {args.auth_rate:g}/s to the center's workers; {args.duration:g} s per "
        f"workload; {detail}; {cores} cores shared by every party (the load generators too)"
    )
    print("topologies (the same offered rates, durations and authentications in each):")
    for topology in topologies:
        print(f"  {topology.name:<20} {topology.what}")
    header = (
        f"{'#':>2} {'topology':<20} {'workload':<17} {'hb/s':>6} {'hb p50':>7} {'hb p99':>7} {'auth/s':>6} "
        f"{'auth p50':>8} {'auth p99':>8} "
        + " ".join(f"{heading:>7}" for _party, heading in PARTIES)
        + f" {'busy':>5}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        beats, auths = result.heartbeats, result.auth
        cells = [f"{result.round:>2} {result.topology:<20} {result.name:<17}"]
        if beats is not None:
            latencies = beats.operations if auths is not None else beats.requests
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
        cells += [f"{result.cpu.get(party, 0.0) / result.seconds:7.2f}" for party, _heading in PARTIES]
        cells.append(f"{sum(result.cpu.values()) / (result.seconds * cores):5.0%}")
        print(" ".join(cells))
        for sample in (beats, auths):
            if sample is not None and sample.errors:
                print(f"ERRORS {result.topology} {result.name}: {sample.errors}")
    print(
        "hb: heartbeats (alone: as fast as answered, latency per request; beside auth: paced, latency "
        "from each scheduled start); auth: whole authentications (two requests), latency from each "
        "scheduled start; center, hbgroup, pg, hbgen (the heartbeats' generator), authgen (the "
        "authentications' driver): cores each party used (CPU seconds per second; authority not "
        "shown); busy: share of all cores used by these parties and the authority (other work on the "
        "machine not counted: niced parties yield to it too)"
    )
    print("CPU ms per heartbeat, from each topology's heartbeats-alone workload:")
    for result in results:
        if result.heartbeats is not None and result.auth is None:
            count = max(1, len(result.heartbeats.requests))
            parts = ", ".join(
                f"{heading} {result.cpu.get(party, 0.0) / count * 1000:.2f}"
                for party, heading in PARTIES
                if result.cpu.get(party, 0.0) > 0.005 * result.seconds
            )
            print(f"  {result.round:>2} {result.topology:<20} {parts}")
    print(f"history rows written: {rows}")
    alone = {r.round: percentile(r.auth.operations, 0.99) for r in results if r.auth and not r.heartbeats}
    ranges: dict[str, list[tuple[float, float, float]]] = {}
    for result in results:
        if result.heartbeats is None or result.auth is None:
            continue
        offered = float(result.name.split("/")[0])
        before = alone[result.round]
        rate = len(result.heartbeats.requests) / result.heartbeats.seconds
        after = percentile(result.auth.operations, 0.99)
        kept = rate >= 0.98 * offered and after <= max(1.2 * before, before + 10)
        verdict = (
            ("MET" if kept else "NOT MET") if offered >= GOAL else ("kept up" if kept else "not kept up")
        )
        print(
            f"{result.round:>2} {result.topology}: {offered:g} heartbeats/s offered with authentication "
            f"p99 unchanged: {rate:.0f}/s, auth p99 {before:.1f} ms alone, {after:.1f} ms beside them "
            f"-> {verdict}" + (f" (the goal: {GOAL:g}/s)" if offered >= GOAL else "")
        )
        hb_p99 = percentile(result.heartbeats.operations, 0.99)
        ranges.setdefault(f"{result.topology}, {result.name}", []).append((rate, hb_p99, after))
    if args.rounds > 1:
        print(f"over {args.rounds} rounds (min..max; auth p99 alone {_span(list(alone.values()))} ms):")
        for name, seen in ranges.items():
            rates, hb_p99s, auth_p99s = zip(*seen, strict=True)
            print(
                f"  {name:<34} hb/s {_span(rates, '.0f')}, hb p99 {_span(hb_p99s)} ms, "
                f"auth p99 {_span(auth_p99s)} ms"
            )


def _span(values: Sequence[float], form: str = ".1f") -> str:
    return f"{min(values):{form}}..{max(values):{form}}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per workload")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--terminals", type=int, default=100, help="terminals sending heartbeats")
    parser.add_argument(
        "--rates",
        default=f"{GOAL:g}",
        help="heartbeats per second offered beside the authentications, one workload each per topology",
    )
    parser.add_argument("--auth-rate", type=float, default=100.0, help="authentications per second")
    parser.add_argument("--change-every", type=int, default=50, help="one heartbeat in N changes the state")
    parser.add_argument("--workers", type=int, default=2, help="the center's worker processes")
    parser.add_argument(
        "--rounds", type=int, default=1, help="times every workload is measured, the topologies in turn"
    )
    parser.add_argument(
        "--heartbeat-workers", type=int, default=2, help="worker processes of the heartbeat group"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=HEARTBEAT_NICE,
        help="niceness step of the heartbeat group and of the niced heartbeats' generator",
    )
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
            heartbeat_workers=args.heartbeat_workers,
            heartbeat_nice=args.nice,
        )
        cleanup.callback(stack.stop)
        stack.load_calendar(ALWAYS_OPEN)
        directories = []
        for number in range(1, args.terminals + 1):
            stack.enroll(f"H-{number:04d}")
            directories.append(stack.root / "terminals" / f"H-{number:04d}")
        plain, niced = (
            Generator(nice, stack.center_tls, directories, args.change_every) for nice in (0, args.nice)
        )
        cleanup.callback(plain.close)
        cleanup.callback(niced.close)
        topologies = [
            Topology(
                "shared, gen nice 0",
                stack.center_url,
                plain,
                "heartbeats to the center's workers, the heartbeats' generator at normal priority "
                "(as measured before the separation)",
            ),
            Topology(
                "shared",
                stack.center_url,
                niced,
                f"heartbeats to the center's workers, the heartbeats' generator at nice +{args.nice} "
                "(it sends late when the cores are busy, holding back the heartbeats itself, which "
                "kiosks elsewhere would not: flatters the authentications' p99)",
            ),
            Topology(
                "separated",
                stack.heartbeat_url,
                niced,
                f"heartbeats to their own group ({args.heartbeat_workers} processes at nice +{args.nice}), "
                f"the heartbeats' generator at nice +{args.nice}",
            ),
        ]
        assert stack.center_process is not None and stack.heartbeat_process is not None
        parties = Parties(
            {
                "center": [stack.center_process.pid],
                "heartbeat group": [stack.heartbeat_process.pid],
                "authority": [stack.processes[0].pid],
                "postgresql": [database.process.pid],
                "heartbeat generator": [plain.pid, niced.pid],
            }
        )
        detail = (
            f"PostgreSQL {database.version}, topology multi, the center's {args.workers} worker "
            f"process(es) at this process's priority"
        )
        print(f"heartbeats: {detail}; load average before: {os.getloadavg()[0]:.2f}", flush=True)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            results = runner.run(measure(stack, parties, topologies, args))
        report(results, topologies, args, detail, history_rows(stack))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
