"""An emulated card in a PC/SC reader through vsmartcard's ``vpcd`` (仮想カードリーダー接続).

``vpcd`` is an IFD handler loaded by ``pcscd``; it listens on a TCP port (35963 for the first
slot) and treats whoever connects as the card in its reader. This module is that TCP *client*,
serving a :class:`ServedCard` (normally :class:`hardware.cardsim.card.VirtualCard`). Connecting
inserts the card, closing the socket removes it; every PC/SC program (pyscard, OpenSC,
``pcsc_scan``) then sees the card as if it were real.

Wire format, both directions: a 2-byte big-endian length, then the payload. A 1-byte payload
from vpcd is a control message — ``00`` power off, ``01`` power on, ``02`` reset (no answer to
any of the three), ``04`` "send your ATR" (answered with the ATR). Any longer payload is a command
APDU, answered with the complete response APDU. vpcd asks for the ATR on every presence poll
(each ~400 ms), so a connected card is a live one.

Logging never shows the data of VERIFY or CHANGE REFERENCE DATA (INS ``20``/``24``: PINs and
passwords) and never shows response data (personal data); see :func:`describe_command`.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 0x8C7B  # 35963: vpcd's first slot; the second slot listens on 35964

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

MAX_PAYLOAD = 0xFFFF
REDACTED_INS = frozenset({0x20, 0x24})  # VERIFY, CHANGE REFERENCE DATA
_POLL_INTERVAL = 0.2  # how often a serving loop looks at its stop flag (seconds)
_FRAME_TIMEOUT = 5.0  # a frame that has started must be complete within this time


class ServedCard(Protocol):
    """What the link needs from a card (what :class:`hardware.cardsim.card.VirtualCard` has)."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def process(self, command: bytes) -> bytes: ...


class VpcdLinkError(Exception):
    """Base of the errors of the vpcd link."""


class VpcdConnectError(VpcdLinkError):
    """vpcd could not be reached (pcscd not running, vpcd not configured, wrong host or port)."""


class VpcdProtocolError(VpcdLinkError):
    """vpcd sent something that is not a complete frame, or the card's answer cannot be framed."""


def describe_command(apdu: bytes) -> str:
    """Hex of a command APDU for the log; PIN-bearing commands show their header only."""
    if len(apdu) > 4 and apdu[1] in REDACTED_INS:
        return f"{apdu[:4].hex(' ').upper()} <{len(apdu) - 4} bytes redacted>"
    return apdu.hex(" ").upper()


def describe_response(rapdu: bytes) -> str:
    """Length and status word of a response APDU for the log; the data itself is never logged."""
    if len(rapdu) < 2:
        return f"<{len(rapdu)} bytes, no status word>"
    return f"<{len(rapdu) - 2} bytes> {rapdu[-2:].hex(' ').upper()}"


def encode_frame(payload: bytes) -> bytes:
    """``len(payload)`` as 2 bytes big-endian, then the payload."""
    if len(payload) > MAX_PAYLOAD:
        raise VpcdProtocolError(f"payload of {len(payload)} bytes does not fit a vpcd frame")
    return len(payload).to_bytes(2, "big") + payload


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


def read_frame(sock: socket.socket) -> bytes | None:
    """Read one frame; ``None`` when the peer closed the connection between frames."""
    header = _recv_exactly(sock, 2)
    if not header:
        return None
    if len(header) < 2:
        raise VpcdProtocolError("connection closed inside a frame header")
    size = int.from_bytes(header, "big")
    payload = _recv_exactly(sock, size)
    if len(payload) < size:
        raise VpcdProtocolError(f"connection closed after {len(payload)} of {size} payload bytes")
    return payload


def _quick_ack(sock: socket.socket) -> None:
    """Have the kernel acknowledge vpcd's next segments at once (Linux ``TCP_QUICKACK``).

    vpcd writes without TCP_NODELAY and sends a frame's length and payload in two writes, so
    Nagle's algorithm holds the payload back until the length is acknowledged; with Linux's
    delayed ACKs that costs ~40 ms per message. Quick-ack mode does not last, so it is renewed
    after every frame.
    """
    if hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class VpcdLink:
    """One emulated card in one vpcd slot: :meth:`attach` inserts it, :meth:`detach` removes it.

    Both may be called any number of times, in any order. The card is powered off whenever the
    connection ends (removal or pcscd going away), so its volatile security state never survives.
    """

    def __init__(self, card: ServedCard, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    def __repr__(self) -> str:
        return f"VpcdLink({self.host}:{self.port}, attached={self.attached})"

    @property
    def attached(self) -> bool:
        """True while the connection to vpcd is open (vpcd may still need a poll to notice it)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def attach(self) -> None:
        """Connect to vpcd (card inserted) and serve it in a background thread.

        Raises :class:`VpcdConnectError` when vpcd does not accept the connection. A no-op while
        attached. Does not reconnect when vpcd closes the connection; :func:`run_vpcd` does.
        vpcd serves one card per slot: a second link to an occupied slot waits in the TCP backlog
        (pcscd only sees it once the first card is gone).
        """
        with self._lock:
            if self.attached:
                return
            sock = self._connect()
            self._stop = threading.Event()
            self._sock = sock
            self._thread = threading.Thread(
                target=self._serve_and_close,
                args=(sock, self._stop),
                name=f"vpcd-link-{self.port}",
                daemon=True,
            )
            self._thread.start()

    def detach(self, timeout: float = 5.0) -> None:
        """Close the connection (card removed) and wait for the serving thread to end."""
        with self._lock:
            thread, sock = self._thread, self._sock
            self._thread = self._sock = None
            self._stop.set()
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed by the peer
                    sock.shutdown(socket.SHUT_RDWR)
            if thread is not None:
                thread.join(timeout)
                if thread.is_alive():
                    raise VpcdLinkError(f"vpcd link thread for port {self.port} did not stop")

    def serve_forever(self, stop: threading.Event, retry_interval: float = 0.5) -> None:
        """Keep the card inserted until ``stop`` is set, reconnecting whenever pcscd restarts."""
        waiting_logged = False
        while not stop.is_set():
            try:
                sock = self._connect()
            except VpcdConnectError as exc:
                if not waiting_logged:
                    log.warning("%s; retrying every %g s", exc, retry_interval)
                    waiting_logged = True
                stop.wait(retry_interval)
                continue
            waiting_logged = False
            self._serve_and_close(sock, stop)
            if not stop.is_set():
                log.warning("vpcd at %s:%d closed the connection (pcscd stopped?)", self.host, self.port)
                stop.wait(retry_interval)

    # -- internals -----------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=_FRAME_TIMEOUT)
        except OSError as exc:
            raise VpcdConnectError(
                f"cannot connect to vpcd at {self.host}:{self.port}: {exc.strerror or exc}"
            ) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _quick_ack(sock)
        log.info("card inserted: connected to vpcd at %s:%d", self.host, self.port)
        return sock

    def _serve_and_close(self, sock: socket.socket, stop: threading.Event) -> None:
        try:
            self._serve(sock, stop)
        except (OSError, VpcdProtocolError) as exc:
            log.warning("vpcd link to %s:%d failed: %s", self.host, self.port, exc)
        finally:
            sock.close()
            self.card.power_off()
            log.info("card removed from vpcd at %s:%d", self.host, self.port)

    def _serve(self, sock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            readable, _, _ = select.select([sock], [], [], _POLL_INTERVAL)
            if not readable:
                continue
            payload = read_frame(sock)
            if payload is None:
                return
            answer = self.handle(payload)
            if answer is not None:
                sock.sendall(encode_frame(answer))
            _quick_ack(sock)

    def handle(self, payload: bytes) -> bytes | None:
        """The card's answer to one vpcd payload, or ``None`` when none is due."""
        if len(payload) == 1:
            return self._control(payload[0])
        if not payload:
            log.warning("ignoring an empty frame from vpcd")
            return None
        log.debug("> %s", describe_command(payload))
        try:
            answer = self.card.process(payload)
        except Exception:  # the contract says never, but vpcd must get an answer regardless
            log.exception("card raised while processing %s", describe_command(payload))
            answer = b"\x6f\x00"
        log.debug("< %s", describe_response(answer))
        return answer

    def _control(self, code: int) -> bytes | None:
        if code == CTRL_GET_ATR:
            return self.card.atr
        if code == CTRL_POWER_ON:
            log.debug("power on")
            self.card.power_on()
        elif code == CTRL_RESET:
            log.debug("reset")
            self.card.power_on()
        elif code == CTRL_POWER_OFF:
            log.debug("power off")
            self.card.power_off()
        else:
            log.warning("ignoring unknown vpcd control byte %02X", code)
        return None


def run_vpcd(
    card: ServedCard, host: str, port: int, stop: threading.Event, retry_interval: float = 0.5
) -> None:
    """Keep ``card`` in the vpcd reader at ``host:port`` until ``stop`` is set (CLI entry point).

    Waits for pcscd when it is not running yet and reconnects (every ``retry_interval`` seconds)
    when it restarts.
    """
    VpcdLink(card, host, port).serve_forever(stop, retry_interval)
