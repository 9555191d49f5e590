"""``make bench``: resident authentications per second at the center, on SQLite and PostgreSQL.

For each backend a whole stack runs as real processes on loopback, as in production: the JPKI
authority (simulator) and the center over TLS; SQLite with one center process (topology
``single``), PostgreSQL with several worker processes (topology ``multi``, ``--pg-workers``) on a
private PostgreSQL server (``devtools.postgres``). Fifty terminals are enrolled; each is one
asyncio task with its own HTTP/1.1 keep-alive TLS connection, signing every request with its own
key as a kiosk does.

Workloads, measured side by side in the same run and interleaved (so drift hits all alike):

- ``health``: ``GET /v1/health``, the same server answering a trivial endpoint (TLS, HTTP,
  routing, JSON; no database, no signature): the framework's own per-request cost.
- ``auth-new-card``: complete authentications, each by a card the center has not seen: open a
  session (``POST /v1/sessions``) + the card's proof (``POST /v1/sessions/{id}/resident``). The
  center asks the authority for the revocation status (OCSP) and the municipality: what a
  kiosk's customer causes (a card is usually seen once).
- ``auth-known-card``: the same by a few cards again and again, so the center's bounded cache of
  the authority's answers serves them: the center's own cost.
- ``paced-new-card``, ``paced-known-card``: the same at a fixed offered rate (``--rate``, the
  target's 300/s) from the same terminals, each authentication timed from its scheduled start.

And apart, side by side: known-card authentications at ``--flood-rate`` per second, without and
with a concurrent flood of junk (``--flood-connections`` connections sending, as fast as answered,
requests no enrolled terminal can be held to: unsigned, and signed by a terminal not enrolled),
``--flood-duration`` seconds each. Junk is counted, not audited one by one, so it should not
queue the terminals' decisions behind the audit chain's lock; what it still costs is CPU.

The ``auth-*`` workloads are closed loops (a terminal goes again as soon as it is answered): they
show the most the stack does, and their latency is the queue, by Little's law terminals /
throughput (50 terminals at 300/s: 167 ms). Latency at the target rate is what the paced
workloads measure.

One authentication is two requests. Latency is measured by the load generator from sending a
request to reading its whole answer, per request and per authentication. The card's signature
over the session binding is made with the card's private key directly (cryptography, RSA-2048
PKCS#1 v1.5): the card emulator is benchmarked in ``bench/card_step.py``. New cards share a few
key pairs, each with its own certificate and serial: to the center each is a different card.

The load generator shares the machine's cores with the servers; the CPU time of every party
(center, authority, PostgreSQL, the load generator itself) is read from ``/proc`` for each
workload and printed per request. Its HTTP client is a lean one over asyncio streams (httpx,
``--client httpx``, costs several times more per request). These are figures to read, not
assertions; on a shared virtual machine they vary by some 15 % from run to run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import signal
import ssl
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from center.authority.keys import generate_key
from center.enrolment import EnrolledTerminal
from center.messages import SessionResponse
from center.protocol import resident_binding, sign_request
from devtools import postgres as pgserver
from devtools.stack import ALWAYS_OPEN, DevStack, start_stack
from documents import b64url_decode, b64url_encode

MUNICIPALITIES = ("131016", "131041", "131130", "011002")
CARD_KEYS = 4
KNOWN_CARDS = 8
TARGET_AUTHS = 300.0
TARGET_P99_MS = 100.0
TARGET_RATIO = 2.0  # authentication logic no more than the framework's own per-request cost
# Like SQLite's WAL with synchronous=NORMAL (what the center uses): durable files, commits that
# do not wait for their log flush. The tests' PostgreSQL turns fsync off altogether.
PG_SETTINGS = {
    **pgserver.SERVER_SETTINGS,
    "fsync": "on",
    "full_page_writes": "on",
    "synchronous_commit": "off",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- cards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    certificate_b64: str
    key: rsa.RSAPrivateKey

    def sign(self, message: bytes) -> str:
        return b64url_encode(self.key.sign(message, padding.PKCS1v15(), hashes.SHA256()))


def issue_cards(stack: DevStack, count: int) -> list[Card]:
    """``count`` user-authentication certificates from the stack's authority, over a few keys."""
    keys = [generate_key() for _ in range(CARD_KEYS)]
    cards = []
    with stack.authority() as authority:
        for index in range(count):
            key = keys[index % CARD_KEYS]
            certificate = authority.issue_user_auth(
                key.public_key(),
                birth_date=dt.date(1980, 4, 1),
                municipality=MUNICIPALITIES[index % len(MUNICIPALITIES)],
            )
            der = certificate.public_bytes(serialization.Encoding.DER)
            cards.append(Card(b64url_encode(der), key))
    return cards


# -- CPU accounting from /proc -----------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far, user + system, with its exited children's)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / CLK_TCK)
    return table


def tree_cpu(roots: list[int], table: dict[int, tuple[int, float]]) -> float:
    """CPU seconds of ``roots`` and all their descendants."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in table.items():
        children.setdefault(parent, []).append(pid)
    total, todo, seen = 0.0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        total += table[pid][1]
        todo.extend(children.get(pid, []))
    return total


@dataclass
class Parties:
    """Who uses the CPU: process trees by name (the load generator is this process)."""

    roots: dict[str, list[int]]

    def snapshot(self) -> dict[str, float]:
        table = _process_table()
        cpu = {name: tree_cpu(pids, table) for name, pids in self.roots.items()}
        own = os.times()
        cpu["load generator"] = own.user + own.system
        return cpu


# -- the load generator ------------------------------------------------------------------------


class Connection:
    """A lean HTTP/1.1 keep-alive client over one TLS connection (asyncio streams).

    The load generator shares the cores with the servers, so it should cost little: httpx costs
    several times more per request (``--client httpx`` measures it). Answers must carry a
    Content-Length (uvicorn's do); anything else is an error here.
    """

    def __init__(self, url: str, context: ssl.SSLContext) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 443
        self.context = context
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.context, server_hostname=self.host
            )
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                raise ConnectionError("an answer without Content-Length")
            return status, await self._reader.readexactly(length)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


class HttpxConnection:
    """The same over ``httpx.AsyncClient`` (one keep-alive connection)."""

    def __init__(self, url: str, context: ssl.SSLContext) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=url, verify=context, limits=limits, timeout=30.0)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        response = await self.client.request(method, path, headers=headers, content=body)
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class Terminal:
    enrolled: EnrolledTerminal
    http: Connection | HttpxConnection

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        signed = sign_request(self.enrolled.key, self.enrolled.terminal_id, "POST", path, body)
        headers = {"Content-Type": "application/json", **signed.as_dict()}
        return await self.http.request("POST", path, headers, body)


@dataclass
class Sample:
    """What one workload measured: latencies in seconds, errors by code, CPU by party."""

    requests: list[float] = field(default_factory=list)
    operations: list[float] = field(default_factory=list)  # whole authentications (or health)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def add(self, other: Sample) -> None:
        self.requests += other.requests
        self.operations += other.operations
        for code, count in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + count
        self.seconds += other.seconds
        for name, cpu in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + cpu


def _code(status: int, body: bytes) -> str:
    try:
        return f"{status} {json.loads(body)['error']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


Operation = Callable[[Terminal, Sample, float], Awaitable[None]]


async def health(terminal: Terminal, sample: Sample, scheduled: float) -> None:
    started = time.perf_counter()
    status, body = await terminal.http.request("GET", "/v1/health", {})
    finished = time.perf_counter()
    if status != 200:
        sample.error(_code(status, body))
        return
    sample.requests.append(finished - started)
    sample.operations.append(finished - scheduled)


def authentication(next_card: Callable[[], Card]) -> Operation:
    async def authenticate(terminal: Terminal, sample: Sample, scheduled: float) -> None:
        started = time.perf_counter()
        status, answer = await terminal.post("/v1/sessions", b"")
        answered = time.perf_counter()
        if status != 201:
            sample.error(_code(status, answer))
            return
        session = SessionResponse.model_validate_json(answer)
        challenge = b64url_decode(session.challenge)
        card = next_card()
        binding = resident_binding(session.session_id, terminal.enrolled.terminal_id, challenge)
        body = json.dumps({"certificate": card.certificate_b64, "signature": card.sign(binding)}).encode()
        sent = time.perf_counter()
        status, answer = await terminal.post(f"/v1/sessions/{session.session_id}/resident", body)
        finished = time.perf_counter()
        if status != 200:
            sample.error(_code(status, answer))
            return
        sample.requests += [answered - started, finished - sent]
        sample.operations.append(finished - scheduled)

    return authenticate


async def drive(
    terminals: list[Terminal],
    operation: Operation,
    seconds: float,
    parties: Parties,
    rate: float | None = None,
) -> Sample:
    """Every terminal repeats ``operation`` for ``seconds``; one sample with the CPU used.

    Without ``rate`` each terminal starts again as soon as it is answered (closed loop: the
    most the stack can do). With ``rate`` (operations per second, all terminals together) each
    terminal starts on a fixed schedule, and an operation's time counts from its scheduled start,
    so a stack that falls behind shows its backlog in the latencies (no coordinated omission).
    """
    sample = Sample()
    started = time.perf_counter()
    deadline = started + seconds
    interval = len(terminals) / rate if rate else 0.0

    async def loop(index: int, terminal: Terminal) -> None:
        scheduled = started + index * interval / len(terminals)
        while scheduled < deadline:
            now = time.perf_counter()
            if interval and scheduled > now:
                await asyncio.sleep(scheduled - now)
            elif not interval:
                scheduled = now
            try:
                await operation(terminal, sample, scheduled)
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as error:
                sample.error(type(error).__name__)
            scheduled += interval

    before = parties.snapshot()
    await asyncio.gather(*(loop(index, terminal) for index, terminal in enumerate(terminals)))
    sample.seconds = time.perf_counter() - started
    after = parties.snapshot()
    sample.cpu = {name: after[name] - before[name] for name in after}
    return sample


# -- one backend -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    label: str
    paced: bool = False  # at --rate authentications per second, else as fast as answered


WORKLOADS = {
    w.name: w
    for w in (
        Workload("health", "GET /v1/health"),
        Workload("auth-new-card", "auth, new cards"),
        Workload("auth-known-card", "auth, known cards"),
        Workload("paced-new-card", "auth, new, paced", paced=True),
        Workload("paced-known-card", "auth, known, paced", paced=True),
    )
}


@dataclass
class Row:
    workload: Workload
    unit: str  # "request" or "authentication"
    sample: Sample

    @property
    def latencies(self) -> list[float]:
        return self.sample.operations if self.unit == "authentication" else self.sample.requests

    @property
    def requests_per_second(self) -> float:
        return len(self.sample.requests) / self.sample.seconds

    @property
    def auths_per_second(self) -> float:
        return len(self.sample.operations) / self.sample.seconds

    def percentile(self, fraction: float) -> float:
        ms = sorted(t * 1000 for t in self.latencies)
        return ms[min(len(ms) - 1, round(fraction * (len(ms) - 1)))] if ms else float("nan")


@dataclass
class Flood:
    """Known-card authentications at a paced rate, without and with junk flooding the center."""

    quiet: Sample
    flooded: Sample
    junk: Sample  # the junk's requests (each answered 401)


@dataclass
class BackendResult:
    backend: str
    detail: str
    samples: dict[str, Sample]
    flood: Flood | None = None


async def _wait_open(terminal: Terminal) -> None:
    """Until the center serves sessions with the always-open calendar."""
    deadline = time.monotonic() + 15
    while True:
        status, body = await terminal.post("/v1/sessions", b"")
        if status == 201:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the center refuses sessions: {_code(status, body)}")
        await asyncio.sleep(0.5)


def junk_headers() -> list[dict[str, str]]:
    """The junk's two kinds: unsigned, and signed by a terminal the center has not enrolled (one
    signature, sent again and again: it is refused before its nonce would be looked at)."""
    signed = sign_request(ec.generate_private_key(ec.SECP256R1()), "T-9999", "POST", "/v1/sessions", b"")
    return [{}, signed.as_dict()]


async def flood_junk(url: str, context: ssl.SSLContext, connections: int, stop: asyncio.Event) -> Sample:
    """Junk from ``connections`` keep-alive connections, each sending as soon as answered, until
    ``stop``; every answer must be a 401."""
    sample = Sample()
    kinds = junk_headers()

    async def one(index: int) -> None:
        http = Connection(url, context)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                status, body = await http.request("POST", "/v1/sessions", kinds[index % len(kinds)])
                if status != 401:
                    sample.error(_code(status, body))
                sample.requests.append(time.perf_counter() - started)
                index += 1
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(connections)))
    sample.seconds = time.perf_counter() - started
    return sample


async def compare_flood(
    stack: DevStack,
    terminals: list[Terminal],
    operation: Operation,
    parties: Parties,
    args: argparse.Namespace,
) -> Flood:
    """The same paced authentications, first alone, then beside a junk flood."""
    context = ssl.create_default_context(cafile=stack.center_tls)
    quiet = await drive(terminals, operation, args.flood_duration, parties, args.flood_rate)
    stop = asyncio.Event()
    junk = asyncio.create_task(flood_junk(stack.center_url, context, args.flood_connections, stop))
    await asyncio.sleep(0.5)  # the flood under way
    flooded = await drive(terminals, operation, args.flood_duration, parties, args.flood_rate)
    stop.set()
    return Flood(quiet, flooded, await junk)


async def measure(
    stack: DevStack, parties: Parties, args: argparse.Namespace
) -> tuple[dict[str, Sample], Flood | None]:
    terminals_enrolled = [stack.enroll(f"T-{number:04d}") for number in range(1, args.concurrency + 1)]
    print(
        f"  {len(terminals_enrolled)} terminals enrolled; issuing {args.new_cards} + {KNOWN_CARDS} cards",
        flush=True,
    )
    started = time.monotonic()
    known = issue_cards(stack, KNOWN_CARDS)
    fresh = issue_cards(stack, args.new_cards)
    print(f"  cards issued in {time.monotonic() - started:.1f} s", flush=True)
    context = ssl.create_default_context(cafile=stack.center_tls)
    connection = HttpxConnection if args.client == "httpx" else Connection
    terminals = [Terminal(enrolled, connection(stack.center_url, context)) for enrolled in terminals_enrolled]
    new_cards = iter(fresh)
    reused = 0

    def next_new() -> Card:
        nonlocal new_cards, reused
        try:
            return next(new_cards)
        except StopIteration:  # more authentications than cards: start again (noted below)
            reused += 1
            new_cards = iter(fresh)
            return next(new_cards)

    new, again = authentication(next_new), authentication(itertools.cycle(known).__next__)
    operations: dict[str, Operation] = {
        "health": health,
        "auth-new-card": new,
        "auth-known-card": again,
        "paced-new-card": new,
        "paced-known-card": again,
    }
    try:
        await _wait_open(terminals[0])
        for name in ("health", "auth-known-card"):  # connections, pools, caches: not counted
            await drive(terminals, operations[name], args.warmup, parties)
        samples = {name: Sample() for name in args.workloads}
        for _round in range(args.rounds):
            for name in args.workloads:
                rate = args.rate if WORKLOADS[name].paced else None
                samples[name].add(
                    await drive(terminals, operations[name], args.duration / args.rounds, parties, rate)
                )
        flood = await compare_flood(stack, terminals, again, parties, args) if args.flood_duration else None
    finally:
        for terminal in terminals:
            await terminal.http.close()
    if reused:
        print(f"  NOTE: the {args.new_cards} new cards ran out; some were used twice (--new-cards)")
    return samples, flood


def _parties(stack: DevStack, database: pgserver.PostgresServer | None) -> Parties:
    roots = {"center": [p.pid for p in stack.processes[1:]], "authority": [stack.processes[0].pid]}
    if database is not None:
        roots["postgresql"] = [database.process.pid]
    return Parties(roots)


def _loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The load generator's event loop: uvloop when installed (it costs less per request)."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    return uvloop.new_event_loop


def run_backend(backend: str, args: argparse.Namespace, root: Path) -> BackendResult:
    with contextlib.ExitStack() as cleanup:
        database = None
        center_db = authority_db = None
        if backend == "postgresql":
            database = cleanup.enter_context(pgserver.running_server(settings=PG_SETTINGS))
            center_db = database.url(database.create_database("center"))
            authority_db = database.url(database.create_database("authority"))
        workers = args.pg_workers if backend == "postgresql" else 1
        topology = "multi" if backend == "postgresql" else "single"
        stack = start_stack(
            root / backend, center_db=center_db, authority_db=authority_db, topology=topology, workers=workers
        )
        cleanup.callback(stack.stop)
        stack.load_calendar(ALWAYS_OPEN)
        detail = f"topology {topology}, {workers} center worker process(es)" + (
            f", PostgreSQL {database.version}" if database else ", SQLite WAL"
        )
        print(f"{backend}: {detail}", flush=True)
        with asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
            samples, flood = runner.run(measure(stack, _parties(stack, database), args))
        return BackendResult(backend, detail, samples, flood)


# -- the report --------------------------------------------------------------------------------


def _per_request(sample: Sample, party: str | None = None) -> float:
    """Seconds per request: of the whole machine (inverse throughput) or of one party's CPU."""
    count = max(1, len(sample.requests))
    return (sample.seconds if party is None else sample.cpu.get(party, 0.0)) / count


def report(results: list[BackendResult], args: argparse.Namespace) -> bool:
    cores = os.cpu_count() or 1
    loop = "uvloop" if _loop_factory(args.loop) else "asyncio"
    print()
    print(
        f"center authentication: {args.concurrency} terminals at once, {args.duration:g} s per workload "
        f"in {args.rounds} interleaved rounds, {cores} cores shared by every party"
    )
    print(
        f"load generator: this process, {args.client} HTTP/1.1 client, {loop} loop, one keep-alive TLS "
        "connection per terminal; card signatures made with the card's key directly (cryptography)"
    )
    print(
        "one authentication = POST /v1/sessions + POST /v1/sessions/{id}/resident. 'paced': "
        f"{args.rate:g} authentications/s offered on a fixed schedule, time counted from each "
        "scheduled start; else each terminal goes again as soon as answered (the most the stack does)"
    )
    header = (
        f"{'backend':<11} {'workload':<19} {'per':<14} {'req/s':>6} {'auth/s':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'cost':>5} {'center':>6}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        trivial = result.samples["health"]
        for name in args.workloads:
            workload, sample = WORKLOADS[name], result.samples[name]
            units = ("request",) if name == "health" else ("request", "authentication")
            for unit in units:
                row = Row(workload, unit, sample)
                auths = "" if name == "health" else f"{row.auths_per_second:6.0f}"
                cost = center = ""
                if unit == "request" and not workload.paced:
                    cost = f"{_per_request(sample) / _per_request(trivial):5.2f}"
                    center = f"{_per_request(sample, 'center') / _per_request(trivial, 'center'):6.2f}"
                print(
                    f"{result.backend:<11} {workload.label:<19} {unit:<14} {row.requests_per_second:6.0f} "
                    f"{auths:>6} {row.percentile(0.50):7.1f} {row.percentile(0.95):7.1f} "
                    f"{row.percentile(0.99):7.1f} {cost:>5} {center:>6}"
                )
    print(
        "cost: one request's share of the machine over that of GET /v1/health (inverse throughput, "
        "same run); center: the same from the center processes' CPU time alone"
    )
    print()
    print("CPU time per request (ms), by party; busy = share of all cores in use")
    names = ["center", "authority", "postgresql", "load generator"]
    print(f"{'backend':<11} {'workload':<19} " + " ".join(f"{n:>14}" for n in names) + f" {'busy':>5}")
    for result in results:
        for name in args.workloads:
            sample = result.samples[name]
            cells = [
                f"{_per_request(sample, n) * 1000:14.2f}" if n in sample.cpu else f"{'-':>14}" for n in names
            ]
            busy = sum(sample.cpu.values()) / (sample.seconds * cores)
            print(f"{result.backend:<11} {WORKLOADS[name].label:<19} " + " ".join(cells) + f" {busy:5.0%}")
    for result in results:
        for name in args.workloads:
            if result.samples[name].errors:
                print(f"ERRORS {result.backend} {name}: {result.samples[name].errors}")
    _report_flood(results, args)
    print()
    met = True
    for result in results:
        if result.backend != "postgresql":
            continue
        trivial = result.samples["health"]
        for name in args.workloads:
            if not WORKLOADS[name].paced:
                continue
            row = Row(WORKLOADS[name], "authentication", result.samples[name])
            closed = result.samples.get(name.replace("paced", "auth"))
            ratio = (_per_request(closed, "center") / _per_request(trivial, "center")) if closed else None
            ok = (
                row.auths_per_second >= 0.98 * TARGET_AUTHS
                and row.percentile(0.99) < TARGET_P99_MS
                and not result.samples[name].errors
                and (ratio is None or ratio <= TARGET_RATIO)
            )
            met = met and ok
            shown = f", center cost {ratio:.2f}x GET /v1/health" if ratio is not None else ""
            print(
                f"target (PostgreSQL, {WORKLOADS[name].label}): {TARGET_AUTHS:.0f} auth/s with p99 < "
                f"{TARGET_P99_MS:.0f} ms per authentication, center cost <= {TARGET_RATIO:.0f}x "
                f"GET /v1/health: {row.auths_per_second:.0f} auth/s, p99 {row.percentile(0.99):.1f} ms"
                f"{shown} -> {'MET' if ok else 'NOT MET'}"
            )
    return met


def _report_flood(results: list[BackendResult], args: argparse.Namespace) -> None:
    floods = [(result.backend, result.flood) for result in results if result.flood is not None]
    if not floods:
        return
    print()
    print(
        f"known-card authentications paced at {args.flood_rate:g}/s, {args.flood_duration:g} s without and "
        f"{args.flood_duration:g} s with junk from {args.flood_connections} connections "
        "(unsigned, and from a terminal not enrolled: counted, not audited one by one)"
    )
    header = (
        f"{'backend':<11} {'auth/s':>6} {'p50 ms':>7} {'p99 ms':>7} | {'auth/s':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'junk/s':>7} {'junk p50':>8}"
    )
    print(f"{'':<11} {'without junk':^22} | {'with junk':^39}")
    print(header)
    print("-" * len(header))
    for backend, flood in floods:
        quiet = Row(WORKLOADS["paced-known-card"], "authentication", flood.quiet)
        loud = Row(WORKLOADS["paced-known-card"], "authentication", flood.flooded)
        junk = sorted(flood.junk.requests)
        junk_p50 = junk[len(junk) // 2] * 1000 if junk else float("nan")
        print(
            f"{backend:<11} {quiet.auths_per_second:6.0f} {quiet.percentile(0.5):7.1f} "
            f"{quiet.percentile(0.99):7.1f} | {loud.auths_per_second:6.0f} {loud.percentile(0.5):7.1f} "
            f"{loud.percentile(0.99):7.1f} {len(junk) / max(flood.junk.seconds, 1e-9):7.0f} {junk_p50:8.1f}"
        )
        for name, sample in (("without", flood.quiet), ("with", flood.flooded), ("junk", flood.junk)):
            if sample.errors:
                print(f"ERRORS {backend} flood {name}: {sample.errors}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per workload")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per workload")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of warm-up per workload")
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous terminals")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_AUTHS,
        help="authentications per second offered by the paced workloads",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-workers", type=int, default=2, help="center worker processes on PostgreSQL")
    parser.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="the load generator's HTTP client (see Connection)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="the load generator's event loop (auto: uvloop if installed)",
    )
    parser.add_argument(
        "--new-cards",
        type=int,
        default=0,
        help="distinct cards for the new-card workloads (default: enough for 450/s)",
    )
    parser.add_argument(
        "--flood-duration",
        type=float,
        default=3.0,
        help="seconds of paced authentications without, then with a junk flood (0: not measured)",
    )
    parser.add_argument("--flood-rate", type=float, default=100.0, help="authentications/s beside the flood")
    parser.add_argument("--flood-connections", type=int, default=20, help="connections sending junk")
    parser.add_argument("--workdir", type=Path, help="keep the stacks' directories and logs here")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated, of: {', '.join(WORKLOADS)} (health always runs)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    args.workloads = ["health"] + [
        w.strip() for w in args.workloads.split(",") if w.strip() and w.strip() != "health"
    ]
    if not set(args.workloads) <= set(WORKLOADS):
        parser.error(f"--workloads: of {', '.join(WORKLOADS)}")
    if not args.new_cards:
        new_card_workloads = sum("new-card" in name for name in args.workloads)
        args.new_cards = int(450 * args.duration * new_card_workloads) + 500
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not set(backends) <= {"sqlite", "postgresql"}:
        parser.error("--backends: sqlite and/or postgresql")
    results = []
    with contextlib.ExitStack() as cleanup:
        root = args.workdir or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="koufu-bench-")))
        for backend in backends:
            results.append(run_backend(backend, args, root))
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
