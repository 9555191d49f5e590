"""A TCP proxy on loopback that breaks connections on purpose, for the tests of the links between
the stack's parts (tests/test_link_faults.py).

:class:`TcpProxy` runs the proxy in a process of its own, as a network element would be: it
shares no file descriptors with the client under test, so nothing one side closes can land on
the other's sockets. It forwards every connection to a target port on loopback. Each connection
meets a :class:`Fate` that a :class:`Plan` gives it by its number (1, 2, … in the order
accepted), so a test knows in advance which connections break:

- ``PASS``: forwarded both ways until either side closes;
- ``RESET_AT_CONNECT``: accepted, then reset (RST) before a byte is forwarded: the client's TLS
  handshake fails, nothing reaches the server;
- ``RESET_AFTER_REQUEST``: forwarded until the client's request has reached the server; the
  client's side is then reset before any answer reaches it, and the server's answer is read and
  dropped (the server did its work; the client never hears of it).

The servers here speak TLS, which the proxy does not open: it follows the client's TLS records,
takes the first application-data record too long to be the handshake's Finished as the request,
and the request as complete once the client has been silent for a moment.

:meth:`TcpProxy.down` resets every connection, open or new, until :meth:`TcpProxy.up`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import TracebackType

TLS_APPLICATION_DATA = 23
TLS_HEADER = 5
LONGEST_FINISHED = 100  # bytes of a TLS 1.3 Finished record: 53 (SHA-256) or 69 (SHA-384)
REQUEST_SENT = 0.05  # seconds of the client's silence after which its request is complete
ANSWER_DRAINED = 1.0  # seconds of the server's silence after which a reset connection is closed
CHUNK = 65536


class Fate(Enum):
    PASS = "pass"
    RESET_AT_CONNECT = "reset at connect"
    RESET_AFTER_REQUEST = "reset after the request"


@dataclass(frozen=True)
class Plan:
    """Connection ``n`` meets ``fates[(n - 1) % len(fates)]``; after connection ``until`` (if
    given), every connection passes."""

    fates: tuple[Fate, ...] = (Fate.PASS,)
    until: int | None = None

    def fate(self, number: int) -> Fate:
        if self.until is not None and number > self.until:
            return Fate.PASS
        return self.fates[(number - 1) % len(self.fates)]

    def to_json(self) -> str:
        return json.dumps({"fates": [fate.value for fate in self.fates], "until": self.until})

    @classmethod
    def from_json(cls, text: str) -> Plan:
        document = json.loads(text)
        return cls(tuple(Fate(value) for value in document["fates"]), document["until"])


def repeating(*fates: Fate, until: int | None = None) -> Plan:
    return Plan(fates, until)


PASSING = Plan()


class TcpProxy:
    """The proxy from ``127.0.0.1:port`` to ``target_port``, in its own process; a context
    manager. What happened to the connections so far: :attr:`accepted`, :attr:`outcomes`."""

    def __init__(self, target_port: int, plan: Plan = PASSING) -> None:
        self.target_port = target_port
        self.plan = plan
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> TcpProxy:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__)), str(self.target_port), self.plan.to_json()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._say("port"))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._process is not None
        with contextlib.suppress(OSError, ValueError):
            self._say("quit")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def down(self) -> None:
        """Every connection reset from now on, the open ones at once (a server gone)."""
        self._say("down")

    def up(self) -> None:
        self._say("up")

    @property
    def accepted(self) -> int:
        return int(json.loads(self._say("counts"))["accepted"])

    @property
    def outcomes(self) -> Counter[Fate]:
        """How many connections met each fate (a reset after the request, once done)."""
        counts = json.loads(self._say("counts"))["outcomes"]
        return Counter({Fate(value): count for value, count in counts.items()})

    def _say(self, command: str) -> str:
        assert self._process is not None and self._process.stdin and self._process.stdout
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        answer = self._process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the proxy to port {self.target_port} has gone")
        return answer.strip()


# -- the proxy's process ---------------------------------------------------------------------------


class _RequestWatch:
    """Follows the client's TLS records; :attr:`seen` once a record that can only be a request
    (application data longer than a Finished) has passed whole."""

    def __init__(self) -> None:
        self.seen = False
        self._header = b""
        self._left = 0  # bytes of the current record's body still to come
        self._kind = 0
        self._length = 0

    def feed(self, data: bytes) -> None:
        while data and not self.seen:
            if self._left == 0:
                take = TLS_HEADER - len(self._header)
                self._header += data[:take]
                data = data[take:]
                if len(self._header) < TLS_HEADER:
                    return
                self._kind, _version, self._length = struct.unpack("!BHH", self._header)
                self._left, self._header = self._length, b""
            taken = min(self._left, len(data))
            self._left -= taken
            data = data[taken:]
            if self._left == 0 and self._kind == TLS_APPLICATION_DATA and self._length > LONGEST_FINISHED:
                self.seen = True


class _Proxy:
    def __init__(self, target_port: int, plan: Plan) -> None:
        self.target_port = target_port
        self.plan = plan
        self.accepted = 0
        self.outcomes: Counter[Fate] = Counter()
        self.down = False
        self.connections: set[asyncio.Task[None]] = set()
        self._open: set[asyncio.StreamWriter] = set()

    def reset_open(self) -> None:
        for writer in list(self._open):
            _reset(writer)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = asyncio.current_task()
        assert connection is not None
        self.connections.add(connection)
        connection.add_done_callback(self.connections.discard)
        self.accepted += 1
        fate = self.plan.fate(self.accepted)
        if self.down or fate is Fate.RESET_AT_CONNECT:
            self.outcomes[Fate.RESET_AT_CONNECT] += 1
            _reset(writer)
            return
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _reset(writer)
            return
        if fate is Fate.PASS:
            self.outcomes[Fate.PASS] += 1
        self._open.update((writer, server_writer))
        try:
            await self._forward(reader, writer, server_reader, server_writer, fate)
        finally:
            for side in (writer, server_writer):
                self._open.discard(side)
                side.close()

    async def _forward(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        server_reader: asyncio.StreamReader,
        server_writer: asyncio.StreamWriter,
        fate: Fate,
    ) -> None:
        request = _RequestWatch() if fate is Fate.RESET_AFTER_REQUEST else None
        upstream = asyncio.ensure_future(_pump(client_reader, server_writer, request=request))
        downstream = asyncio.ensure_future(_pump(server_reader, client_writer, held=request))
        try:
            if request is None:
                await asyncio.wait((upstream, downstream), return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.wait((upstream,))  # until the request is complete, or the client left
                downstream.cancel()  # no answer for the client
                _reset(client_writer)
                if request.seen:
                    self.outcomes[Fate.RESET_AFTER_REQUEST] += 1
                await _drain(server_reader)
        finally:
            for pump in (upstream, downstream):
                pump.cancel()
            await asyncio.gather(upstream, downstream, return_exceptions=True)


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    request: _RequestWatch | None = None,
    held: _RequestWatch | None = None,
) -> None:
    """Copy ``reader`` to ``writer`` until either ends. Client to server, with a ``request`` to
    follow: only until the request is complete. Server to client: nothing once the ``held``
    request was seen."""
    with contextlib.suppress(OSError):
        while True:
            if request is not None and request.seen:
                try:
                    data = await asyncio.wait_for(reader.read(CHUNK), REQUEST_SENT)
                except TimeoutError:
                    return
            else:
                data = await reader.read(CHUNK)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            if held is not None and held.seen:
                continue
            if request is not None:
                request.feed(data)
            writer.write(data)
            await writer.drain()


async def _drain(reader: asyncio.StreamReader) -> None:
    """Read and drop the server's answer until it has been silent for a moment, or closed."""
    with contextlib.suppress(OSError, TimeoutError):
        while await asyncio.wait_for(reader.read(CHUNK), ANSWER_DRAINED):
            pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, not a FIN: SO_LINGER on with a time of zero, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _run(target_port: int, plan: Plan) -> None:
    """The proxy, told what to do one line at a time on stdin, answering one line on stdout."""
    proxy = _Proxy(target_port, plan)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    while command := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if command == "down":
            proxy.down = True
            proxy.reset_open()
        elif command == "up":
            proxy.down = False
        answer = {
            "port": port,
            "counts": json.dumps(
                {
                    "accepted": proxy.accepted,
                    "outcomes": {fate.value: n for fate, n in proxy.outcomes.items()},
                }
            ),
        }.get(command, "ok")
        print(answer, flush=True)
        if command == "quit":
            break
    server.close()
    proxy.reset_open()
    if proxy.connections:  # each ends as its sockets are reset
        await asyncio.wait(proxy.connections, timeout=ANSWER_DRAINED)


if __name__ == "__main__":
    asyncio.run(_run(int(sys.argv[1]), Plan.from_json(sys.argv[2])))
