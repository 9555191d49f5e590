"""The card (PICC) side of ISO/IEC 14443-4 for a Type B card, as a pure state machine.

No I/O and no clock: :meth:`IsoDepCard.receive` takes one frame from the reader (without CRC)
and returns what the card does about it — send a frame, run an APDU, note a granted waiting-time
extension, or stay silent. The link that owns the radio (``nfc_link``) decides *when* to ask for
more time (:meth:`IsoDepCard.request_wtx`) and hands the card's answer back with
:meth:`IsoDepCard.complete`.

What is covered, after Type B anticollision (ISO/IEC 14443-3 answered SENSB_REQ already):

* ATTRIB: checks the PUPI, takes the reader's frame size (FSDI, param 2) and CID (param 4),
  answers ``MBLI|CID`` (MBLI 0). Higher-layer data in the ATTRIB is ignored.
* I-blocks with block-number toggling; chained command blocks are acknowledged with R(ACK)
  and re-assembled; a response longer than one frame goes out as chained I-blocks, each
  released by the reader's R(ACK).
* The PICC's block-number rules of ISO/IEC 14443-4: the number starts at 1 on activation;
  every accepted I-block toggles it (whatever number the I-block carries); an R(ACK) or R(NAK)
  carrying the current number asks for the last block again; an R(NAK) carrying the other
  number is answered with R(ACK) (the reader's presence check); an R(ACK) carrying the other
  number while the card chains a response toggles the number and releases the next part.
* S(WTX) requests while an APDU runs; the reader's S(WTX) response grants WTXM × FWT.
  A response finished while a WTX request is unanswered waits for that answer.
* S(DESELECT): answered in kind; the card is then HALTed and ignores everything.
* CID: blocks carrying another CID, or no CID when ours is not 0, are not for this card;
  answers carry the CID byte exactly when the reader's block did. NAD is not supported.
* Invalid blocks (unknown PCB coding, wrong length, R-blocks with data, oversized frames) are
  ignored: the card stays silent and keeps listening, as the standard requires.

Nothing here logs frame contents (they carry PINs and personal data), only PCBs and lengths.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, fields

log = logging.getLogger(__name__)

FRAME_SIZES = (16, 24, 32, 40, 48, 64, 96, 128, 256)  # FSCI/FSDI 0..8 (higher: RFU, read as 8)
CRC_SIZE = 2  # every frame size counts the 2 CRC bytes, which the UDP transport does not carry
CARRIER_HZ = 13.56e6
MAX_WTXM = 59
ATTRIB_CMD = 0x1D
ATTRIB_MIN_LENGTH = 9  # 1D, PUPI (4), param 1..4
MAX_COMMAND = 4 + 3 + 65535 + 3  # the longest extended-length command APDU
WRONG_LENGTH = b"\x67\x00"  # answered, without bothering the card, to a command above MAX_COMMAND

PCB_I = 0x02
PCB_R_ACK = 0xA2
PCB_R_NAK = 0xB2
PCB_S_DESELECT = 0xC2
PCB_S_WTX = 0xF2
BIT_CHAINING = 0x10
BIT_CID = 0x08
BIT_NAD = 0x04
BIT_BLOCK_NUMBER = 0x01


def frame_size(index: int) -> int:
    """FSCI/FSDI → frame size in bytes (CRC included); RFU indexes count as 256."""
    return FRAME_SIZES[min(index, len(FRAME_SIZES) - 1)]


def frame_waiting_time(fwi: int) -> float:
    """FWT in seconds for a frame waiting integer: 256·16/fc · 2^FWI (FWI 15 is RFU, read as 4)."""
    if fwi > 14:
        fwi = 4
    return 256 * 16 / CARRIER_HZ * (1 << fwi)


@dataclass(frozen=True)
class ProtocolInfo:
    """The three protocol-info bytes of the card's SENSB_RES (ATQB), decoded."""

    max_frame_size: int  # FSC: the largest frame the card accepts, CRC included
    protocol_type: int
    fwi: int
    supports_nad: bool
    supports_cid: bool

    @classmethod
    def parse(cls, raw: bytes) -> ProtocolInfo:
        if len(raw) != 3:
            raise ValueError(f"protocol info is 3 bytes, not {len(raw)}")
        return cls(
            max_frame_size=frame_size(raw[1] >> 4),
            protocol_type=raw[1] & 0x0F,
            fwi=raw[2] >> 4,
            supports_nad=bool(raw[2] & 0x02),
            supports_cid=bool(raw[2] & 0x01),
        )

    @property
    def fwt(self) -> float:
        """Frame waiting time in seconds."""
        return frame_waiting_time(self.fwi)


class Phase(enum.Enum):
    """Where the card is in the protocol."""

    WAIT_ATTRIB = "wait-attrib"  # selected by anticollision, not yet activated
    RECEIVING = "receiving"  # active, waiting for (the rest of) a command
    PROCESSING = "processing"  # an APDU was handed out; waiting for complete()
    SENDING = "sending"  # chaining a response; waiting for the reader's R(ACK)
    HALTED = "halted"  # deselected


@dataclass(frozen=True)
class Send:
    """Transmit ``frame`` to the reader."""

    frame: bytes


@dataclass(frozen=True)
class Execute:
    """A complete command APDU: run it, then call :meth:`IsoDepCard.complete` with the answer."""

    apdu: bytes


@dataclass(frozen=True)
class WaitingTimeExtended:
    """The reader granted ``wtxm`` × FWT for the next block, counted from now."""

    wtxm: int


@dataclass(frozen=True)
class Deselected:
    """Transmit ``frame`` (the S(DESELECT) response); the card is HALTed afterwards."""

    frame: bytes


Action = Send | Execute | WaitingTimeExtended | Deselected | None


@dataclass
class IsoDepStats:
    """Counters for tests and diagnostics."""

    blocks_received: int = 0
    invalid_blocks: int = 0
    chained_blocks_received: int = 0
    chained_blocks_sent: int = 0
    retransmissions: int = 0
    wtx_requests: int = 0

    def __add__(self, other: IsoDepStats) -> IsoDepStats:
        return IsoDepStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class _Block:
    kind: str  # "I", "ACK", "NAK", "DESELECT", "WTX"
    has_cid: bool
    number: int = 0
    chaining: bool = False
    inf: bytes = b""
    wtxm: int = 0


class IsoDepCard:
    """One activation of a Type B card, from ATTRIB to DESELECT or field off.

    ``pupi`` and ``protocol_info`` are what the card announced in its SENSB_RES. Create a new
    instance for every activation (the card is powered anew each time it enters the field).
    """

    def __init__(
        self,
        pupi: bytes,
        protocol_info: bytes,
        *,
        max_command: int = MAX_COMMAND,
        default_wtxm: int = 1,
    ) -> None:
        if len(pupi) != 4:
            raise ValueError("the PUPI is 4 bytes")
        _check_wtxm(default_wtxm)
        self.pupi = bytes(pupi)
        self.info = ProtocolInfo.parse(bytes(protocol_info))
        self.max_command = max_command
        self.default_wtxm = default_wtxm
        self.stats = IsoDepStats()
        self.phase = Phase.WAIT_ATTRIB
        self.cid = 0
        self.fsd = FRAME_SIZES[0]  # the reader's frame size, set by ATTRIB
        self._number = 1  # the PICC block number starts at 1
        self._last: bytes | None = None  # last block sent, for retransmission
        self._last_was_wtx = False
        self._with_cid = False
        self._rx = bytearray()
        self._rx_overflow = False
        self._tx = b""
        self._wtx_pending = False
        self._held_response: bytes | None = None

    @property
    def fwt(self) -> float:
        """The card's frame waiting time (seconds) without extension."""
        return self.info.fwt

    @property
    def max_inf(self) -> int:
        """Most INF bytes in one block the card sends (reader's FSD less CRC, PCB and CID)."""
        return self.fsd - CRC_SIZE - 1 - (1 if self._with_cid else 0)

    # -- inputs --------------------------------------------------------------------------------

    def receive(self, frame: bytes | bytearray) -> Action:
        """Feed one frame received from the reader; never raises."""
        frame = bytes(frame)
        if self.phase is Phase.WAIT_ATTRIB:
            return self._attrib(frame)
        if self.phase is Phase.HALTED:
            return None
        block = self._parse(frame)
        self.stats.blocks_received += 1
        if block is None:
            self.stats.invalid_blocks += 1
            log.debug("ignored invalid block (PCB %s, %d bytes)", frame[:1].hex() or "-", len(frame))
            return None
        if block.kind == "I":
            return self._on_i_block(block)
        if block.kind in ("ACK", "NAK"):
            return self._on_r_block(block)
        if block.kind == "DESELECT":
            self._with_cid = block.has_cid
            self.phase = Phase.HALTED
            log.debug("deselected")
            return Deselected(self._build(PCB_S_DESELECT))
        return self._on_wtx_response(block)

    def complete(self, response: bytes | bytearray) -> Send | None:
        """The card's answer to the last :class:`Execute`: the first frame to send, or ``None``
        when it must wait (an S(WTX) request is unanswered, or the APDU was abandoned)."""
        if self.phase is not Phase.PROCESSING:
            log.debug("response dropped: card is %s", self.phase.value)
            return None
        if self._wtx_pending:
            self._held_response = bytes(response)
            return None
        return self._start_response(bytes(response))

    def request_wtx(self, wtxm: int | None = None) -> bytes | None:
        """An S(WTX) request asking for ``wtxm`` × FWT; ``None`` when not processing or when
        an earlier request is still unanswered."""
        wtxm = self.default_wtxm if wtxm is None else wtxm
        _check_wtxm(wtxm)
        if self.phase is not Phase.PROCESSING or self._wtx_pending:
            return None
        return self._send_wtx(wtxm)

    # -- activation ----------------------------------------------------------------------------

    def _attrib(self, frame: bytes) -> Action:
        if len(frame) < ATTRIB_MIN_LENGTH or frame[0] != ATTRIB_CMD or frame[1:5] != self.pupi:
            log.debug("ignored %d-byte frame while waiting for ATTRIB", len(frame))
            return None
        param2, param4 = frame[6], frame[8]
        cid = param4 & 0x0F
        if cid == 0x0F:  # RFU
            return None
        self.cid = cid if self.info.supports_cid else 0
        self.fsd = frame_size(param2 & 0x0F)
        self.phase = Phase.RECEIVING
        log.debug("ATTRIB: CID %d, reader frame size %d", self.cid, self.fsd)
        return Send(bytes((self.cid,)))  # MBLI 0, CID

    def _parse(self, frame: bytes) -> _Block | None:
        """Decode a block addressed to this card; ``None`` for anything invalid or not ours."""
        if not frame or len(frame) > self.info.max_frame_size - CRC_SIZE:
            return None
        pcb = frame[0]
        has_cid = bool(pcb & BIT_CID)
        if has_cid:
            if len(frame) < 2 or not self.info.supports_cid:
                return None
            if frame[1] & 0x30 or frame[1] & 0x0F != self.cid:
                return None
        elif self.cid != 0:
            return None
        inf = frame[1 + has_cid :]
        number = pcb & BIT_BLOCK_NUMBER
        if pcb & 0xE2 == PCB_I:
            if pcb & BIT_NAD:
                return None
            return _Block("I", has_cid, number, bool(pcb & BIT_CHAINING), inf)
        if pcb & 0xE6 == 0xA2:
            if inf:
                return None
            return _Block("NAK" if pcb & 0x10 else "ACK", has_cid, number)
        if pcb & 0xC7 == 0xC2:
            if pcb & 0x30 == 0x00 and not inf:
                return _Block("DESELECT", has_cid)
            if pcb & 0x30 == 0x30 and len(inf) == 1 and 1 <= inf[0] & 0x3F <= MAX_WTXM:
                return _Block("WTX", has_cid, wtxm=inf[0] & 0x3F)
        return None

    # -- blocks --------------------------------------------------------------------------------

    def _on_i_block(self, block: _Block) -> Action:
        if self.phase is Phase.PROCESSING:
            log.debug("ignored I-block while processing")
            return None
        if self.phase is Phase.SENDING:
            log.debug("reader abandoned the response chain with a new command")
            self._tx = b""
            self.phase = Phase.RECEIVING
        self._with_cid = block.has_cid
        self._number ^= 1  # every I-block toggles it
        if len(self._rx) + len(block.inf) > self.max_command:
            self._rx_overflow = True
        else:
            self._rx += block.inf
        if block.chaining:
            self.stats.chained_blocks_received += 1
            return Send(self._emit(self._build(PCB_R_ACK | self._number)))
        apdu, overflow = bytes(self._rx), self._rx_overflow
        self._rx.clear()
        self._rx_overflow = False
        self.phase = Phase.PROCESSING
        self._last = None  # nothing of this exchange sent yet
        self._wtx_pending = False
        self._held_response = None
        if overflow:
            log.debug("command above %d bytes refused", self.max_command)
            return self._start_response(WRONG_LENGTH)
        return Execute(apdu)

    def _on_r_block(self, block: _Block) -> Action:
        if block.number == self._number:  # "send your last block again"
            self._with_cid = block.has_cid
            return self._retransmit()
        if self.phase is Phase.PROCESSING:
            return None
        self._with_cid = block.has_cid
        if block.kind == "NAK":  # presence check
            return Send(self._emit(self._build(PCB_R_ACK | self._number)))
        if self.phase is Phase.SENDING:  # the reader acknowledged our part
            self._number ^= 1
            return self._next_part()
        return None

    def _on_wtx_response(self, block: _Block) -> Action:
        if self.phase is not Phase.PROCESSING or not self._wtx_pending:
            log.debug("ignored unexpected S(WTX)")
            return None
        self._wtx_pending = False
        held, self._held_response = self._held_response, None
        if held is not None:
            return self._start_response(held)
        return WaitingTimeExtended(block.wtxm)

    def _retransmit(self) -> Action:
        """Counted: on a sound link the reader never has to ask for a block again."""
        if self._last is None:
            if self.phase is Phase.PROCESSING:  # the reader timed out before our first S(WTX)
                self.stats.retransmissions += 1
                return Send(self._send_wtx(self.default_wtxm))
            return None
        self.stats.retransmissions += 1
        if self._last_was_wtx and self.phase is Phase.PROCESSING:
            self._wtx_pending = True
        return Send(self._last)

    # -- outputs -------------------------------------------------------------------------------

    def _send_wtx(self, wtxm: int) -> bytes:
        self._wtx_pending = True
        self.stats.wtx_requests += 1
        return self._emit(self._build(PCB_S_WTX, bytes((wtxm,))), wtx=True)

    def _start_response(self, response: bytes) -> Send:
        self.phase = Phase.SENDING
        self._tx = response
        return self._next_part()

    def _next_part(self) -> Send:
        part, self._tx = self._tx[: self.max_inf], self._tx[self.max_inf :]
        pcb = PCB_I | self._number
        if self._tx:
            pcb |= BIT_CHAINING
            self.stats.chained_blocks_sent += 1
        else:
            self.phase = Phase.RECEIVING
        return Send(self._emit(self._build(pcb, part)))

    def _build(self, pcb: int, inf: bytes = b"") -> bytes:
        if self._with_cid:
            return bytes((pcb | BIT_CID, self.cid)) + inf
        return bytes((pcb,)) + inf

    def _emit(self, frame: bytes, *, wtx: bool = False) -> bytes:
        self._last = frame
        self._last_was_wtx = wtx
        return frame


def _check_wtxm(wtxm: int) -> None:
    if not 1 <= wtxm <= MAX_WTXM:
        raise ValueError(f"WTXM must be 1..{MAX_WTXM}, not {wtxm}")
