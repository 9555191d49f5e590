"""The peripheral link: framed, checked, acknowledged messages between the controller and the kiosk.

One module for both ends: it runs unchanged on MicroPython (the RP2040 board, the unix port) and on
CPython (the kiosk host imports it as ``firmware.link``). See docs/firmware.md, "The link protocol".

Layers, each receiving the one below:
- ``crc16``: CRC-16/CCITT-FALSE.
- ``encode_frame`` / ``Decoder``: kind, sequence number, length, payload and CRC, COBS-encoded between
  0x00 delimiters; the decoder is fed byte by byte and resynchronises at the next delimiter.
- ``Link``: version handshake, stop-and-wait delivery of DATA messages with ACKs, retransmission and a
  bounded retry budget, over a transport with ``write(data)`` and a non-blocking ``read()``.
"""

try:
    from micropython import const
except ImportError:

    def const(value):
        return value


try:
    from ticks import elapsed as ticks_elapsed
except ImportError:  # CPython: the kiosk host imports this module as firmware.link
    from firmware.ticks import elapsed as ticks_elapsed

# 1: the first; 2: every payment message names its payment (messages.py). Both ends must speak the
# same: a board and a host of different versions refuse each other at the handshake
PROTOCOL_VERSION = const(2)

# frame kinds (the first byte of every frame); HELLO's layout stays the same in every version
HELLO = const(1)
DATA = const(2)
ACK = const(3)
KIND_NAMES = {HELLO: "HELLO", DATA: "DATA", ACK: "ACK"}

MAX_PAYLOAD = const(64)  # bytes after kind, sequence number and length
MAX_DATA = const(63)  # a DATA payload is one type code and up to 63 bytes
_MAX_RAW = const(69)  # kind, seq, length, payload, CRC
_MAX_ENCODED = const(71)  # COBS adds one byte per 254 and one at the start
DELIMITER = const(0)

HELLO_REPLY = const(1)  # HELLO flag: this HELLO answers the peer's

# link states
HANDSHAKE = const(0)
UP = const(1)
DOWN = const(2)
REFUSED = const(3)
STATE_NAMES = ("HANDSHAKE", "UP", "DOWN", "REFUSED")


class LinkError(Exception):
    """Every error of the link layer."""


class FrameError(LinkError):
    """A frame that cannot be encoded (kind, sequence number or payload out of range)."""


class MessageError(LinkError):
    """A DATA message that cannot be sent: type code not a byte, or its data longer than MAX_DATA."""


class QueueFull(LinkError):
    """More messages are waiting for the peer than the link holds."""

    def __init__(self, limit):
        super().__init__(f"{limit} messages already wait for the peer")
        self.limit = limit


class LinkDown(LinkError):
    """The peer did not acknowledge a message within the retry budget.

    ``unconfirmed`` lists the ``(code, data)`` messages the peer may not have received, oldest first.
    """

    def __init__(self, attempts, unconfirmed):
        super().__init__(f"no ACK after {attempts} attempts; {len(unconfirmed)} messages unconfirmed")
        self.attempts = attempts
        self.unconfirmed = unconfirmed


class VersionMismatch(LinkError):
    """The peer speaks another protocol version; the link refuses to carry messages."""

    def __init__(self, ours, theirs):
        super().__init__(f"protocol version {theirs} from the peer, this side speaks {ours}")
        self.ours = ours
        self.theirs = theirs


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR)."""
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def encode_frame(kind, seq, payload=b""):
    """Return the bytes on the wire for one frame: 0x00, COBS(kind, seq, length, payload, CRC), 0x00."""
    if kind not in KIND_NAMES:
        raise FrameError(f"unknown frame kind {kind}")
    if not 0 <= seq <= 255:
        raise FrameError(f"sequence number {seq} is not a byte")
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(f"payload of {len(payload)} bytes, at most {MAX_PAYLOAD}")
    raw = bytearray((kind, seq, len(payload)))
    raw.extend(payload)
    raw.extend(crc16(raw).to_bytes(2, "big"))
    return b"\x00" + _cobs_encode(raw) + b"\x00"


def _cobs_encode(raw):
    out = bytearray(len(raw) + 2)
    code_at = 0
    code = 1
    n = 1
    for byte in raw:
        if byte == 0:
            out[code_at] = code
            code_at = n
            n += 1
            code = 1
        else:
            out[n] = byte
            n += 1
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at = n
                n += 1
                code = 1
    out[code_at] = code
    return bytes(out[:n])


class Decoder:
    """Turns received bytes into frames ``(kind, seq, payload)``; never raises on bad input.

    Bad frames are dropped and counted: ``crc_errors`` (checksum wrong), ``framing_errors`` (broken
    COBS, length byte wrong, unknown kind) and ``oversize`` (no delimiter within the longest frame).
    The length byte matters: a delimiter damaged into 0x01 appends a zero to the frame, and a CRC
    without final XOR still checks over ``frame + 0x00``.
    """

    def __init__(self):
        self._buf = bytearray(_MAX_ENCODED)
        self._raw = bytearray(_MAX_RAW)
        self._n = 0
        self._skipping = False
        self.crc_errors = 0
        self.framing_errors = 0
        self.oversize = 0

    @property
    def errors(self):
        return self.crc_errors + self.framing_errors + self.oversize

    def feed(self, data):
        """Take one byte (an int) or a bytes-like chunk; return the frames completed by it."""
        frames = []
        if isinstance(data, int):
            self._byte(data & 0xFF, frames)
        else:
            for byte in data:
                self._byte(byte, frames)
        return frames

    def _byte(self, byte, frames):
        if byte == DELIMITER:
            if self._skipping:
                self._skipping = False
            elif self._n:
                frame = self._decode(self._n)
                if frame is not None:
                    frames.append(frame)
            self._n = 0
        elif self._skipping:
            pass
        elif self._n == _MAX_ENCODED:
            self.oversize += 1
            self._skipping = True
            self._n = 0
        else:
            self._buf[self._n] = byte
            self._n += 1

    def _decode(self, length):
        buf = self._buf
        raw = self._raw
        i = 0
        n = 0
        while i < length:
            code = buf[i]
            end = i + code
            if end > length:
                self.framing_errors += 1
                return None
            i += 1
            while i < end:
                if n == _MAX_RAW:
                    self.oversize += 1
                    return None
                raw[n] = buf[i]
                n += 1
                i += 1
            if code != 0xFF and i < length:
                if n == _MAX_RAW:
                    self.oversize += 1
                    return None
                raw[n] = 0
                n += 1
        if n < 5 or raw[2] != n - 5:
            self.framing_errors += 1
            return None
        if crc16(memoryview(raw)[: n - 2]) != (raw[n - 2] << 8) | raw[n - 1]:
            self.crc_errors += 1
            return None
        if raw[0] not in KIND_NAMES:
            self.framing_errors += 1
            return None
        return raw[0], raw[1], bytes(raw[3 : n - 2])


class Link:
    """One end of the link: ``send`` queues DATA messages, ``poll`` moves bytes and returns messages.

    ``transport`` has ``write(data)`` and ``read()`` (bytes waiting, or None/b"" without blocking).
    ``clock()`` returns milliseconds (``time.ticks_ms`` on the board, a monotonic clock on the host).
    ``session`` (0..65535) names this start of the program; a new one tells the peer to start counting
    sequence numbers afresh. Nothing here blocks or starts a thread: the caller's loop calls ``poll``.
    """

    def __init__(
        self,
        transport,
        clock,
        session=None,
        retry_ms=200,
        max_attempts=6,
        queue_limit=8,
        version=PROTOCOL_VERSION,
    ):
        self._transport = transport
        self._clock = clock
        self.decoder = Decoder()
        self.version = version
        self.session = (clock() if session is None else session) & 0xFFFF
        self.peer_session = None
        self.retry_ms = retry_ms
        self.max_attempts = max_attempts
        self.queue_limit = queue_limit
        self.state = HANDSHAKE
        self.failure = None
        self._queue = []
        self._inflight = None
        self._attempts = 0
        self._sent_at = None
        self._hello_at = None
        self._tx_seq = 0
        self._rx_expected = 0
        self.retransmissions = 0
        self.duplicates = 0
        self.stale = 0
        self.peer_restarts = 0

    @property
    def idle(self):
        """True when every message sent has been acknowledged."""
        return self._inflight is None and not self._queue

    def send(self, code, data=b""):
        """Queue a DATA message; raises the link's failure when it is down or refused."""
        if self.state in (DOWN, REFUSED):
            raise self.failure
        if not isinstance(code, int) or not 0 <= code <= 255:
            raise MessageError(f"type code {code!r} is not a byte")
        if len(data) > MAX_DATA:
            raise MessageError(f"message data of {len(data)} bytes, at most {MAX_DATA}")
        if len(self._queue) >= self.queue_limit:
            raise QueueFull(self.queue_limit)
        self._queue.append((code, bytes(data)))

    def poll(self):
        """Read what arrived, answer it, (re)transmit what is due; return delivered ``(code, data)``."""
        now = self._clock()
        delivered = []
        incoming = self._transport.read()
        if incoming:
            for kind, seq, payload in self.decoder.feed(incoming):
                if kind == HELLO:
                    self._on_hello(payload)
                elif kind == DATA:
                    self._on_data(seq, payload, delivered)
                else:
                    self._on_ack(seq)
        self._drive(now)
        return delivered

    def _write(self, kind, seq, payload=b""):
        self._transport.write(encode_frame(kind, seq, payload))

    def _send_hello(self, flags):
        payload = bytes((self.version, flags, self.session >> 8, self.session & 0xFF))
        self._write(HELLO, 0, payload)

    def _on_hello(self, payload):
        if len(payload) < 4:
            self.decoder.framing_errors += 1
            return
        if self.state == REFUSED:
            return
        if payload[0] != self.version:
            self.failure = VersionMismatch(self.version, payload[0])
            self.state = REFUSED
            self._queue = []
            self._inflight = None
            if not payload[1] & HELLO_REPLY:
                self._send_hello(HELLO_REPLY)
            return
        session = (payload[2] << 8) | payload[3]
        if session != self.peer_session:
            if self.peer_session is not None:
                self.peer_restarts += 1
            self.peer_session = session
            self._restart_numbering()
        if not payload[1] & HELLO_REPLY:
            self._send_hello(HELLO_REPLY)
        self.state = UP
        self.failure = None

    def _restart_numbering(self):
        self._tx_seq = 0
        self._rx_expected = 0
        if self._inflight is not None:
            self._attempts = 0
            self._sent_at = None

    def _on_data(self, seq, payload, delivered):
        if self.state != UP:
            if self.state == HANDSHAKE:
                self._hello_at = None  # the peer believes the link is up: say HELLO again now
            self.stale += 1
            return
        if not payload:
            self.decoder.framing_errors += 1
            return
        if seq == self._rx_expected:
            delivered.append((payload[0], payload[1:]))
            self._rx_expected = (seq + 1) & 0xFF
            self._write(ACK, seq)
        elif (self._rx_expected - seq) & 0xFF <= 128:
            self.duplicates += 1  # our ACK was lost: confirm again, deliver nothing
            self._write(ACK, seq)
        else:
            self.stale += 1

    def _on_ack(self, seq):
        if self.state == UP and self._inflight is not None and seq == self._tx_seq:
            self._inflight = None
            self._tx_seq = (self._tx_seq + 1) & 0xFF
        else:
            self.stale += 1

    def _drive(self, now):
        if self.state == REFUSED:
            return
        if self.state != UP:
            if self._hello_at is None or ticks_elapsed(now, self._hello_at) >= self.retry_ms:
                self._send_hello(0)
                self._hello_at = now
            return
        if self._inflight is None:
            if not self._queue:
                return
            self._inflight = self._queue.pop(0)
            self._attempts = 0
            self._sent_at = None
        if self._sent_at is not None and ticks_elapsed(now, self._sent_at) < self.retry_ms:
            return
        if self._attempts >= self.max_attempts:
            self._go_down()
            return
        if self._attempts:
            self.retransmissions += 1
        self._attempts += 1
        self._sent_at = now
        code, data = self._inflight
        self._write(DATA, self._tx_seq, bytes((code,)) + data)

    def _go_down(self):
        unconfirmed = [self._inflight]
        unconfirmed.extend(self._queue)
        self.failure = LinkDown(self._attempts, unconfirmed)
        self.state = DOWN
        self._inflight = None
        self._queue = []
        self.session = (self.session + 1) & 0xFFFF  # the peer must start counting afresh too
        self.peer_session = None
        self._tx_seq = 0
        self._rx_expected = 0
        self._hello_at = None
