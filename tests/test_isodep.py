"""The card side of ISO 14443-4 (hardware/cardsim/isodep.py), frame by frame.

Frames are written out byte for byte as the standard gives them (PCB, optional CID, INF; no CRC),
so each test also documents one rule of the protocol.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.cardsim.isodep import (
    Deselected,
    Execute,
    IsoDepCard,
    Phase,
    ProtocolInfo,
    Send,
    WaitingTimeExtended,
    frame_size,
    frame_waiting_time,
)

PUPI = bytes.fromhex("4A504B49")
INFO = bytes.fromhex("B381A1")  # FSC 256, ISO 14443-4, FWI 10, CID supported, no NAD
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
OK = b"\x90\x00"

pytestmark = pytest.mark.timeout(60)


def attrib(*, fsdi: int = 8, cid: int = 0, pupi: bytes = PUPI) -> bytes:
    return b"\x1d" + pupi + bytes((0x00, fsdi, 0x01, cid))


def active(*, fsdi: int = 8, cid: int = 0, info: bytes = INFO, **options: int) -> IsoDepCard:
    card = IsoDepCard(PUPI, info, **options)
    assert card.receive(attrib(fsdi=fsdi, cid=cid)) == Send(bytes((cid,)))
    return card


def phase(card: IsoDepCard) -> Phase:
    """The card's phase (a call, so that type checkers do not narrow it across steps)."""
    return card.phase


def exchange(card: IsoDepCard, frame: bytes, response: bytes) -> bytes:
    """One unchained command block and its single-block answer; returns the answer frame."""
    action = card.receive(frame)
    assert isinstance(action, Execute)
    sent = card.complete(response)
    assert sent is not None
    return sent.frame


# -- parameters and activation -----------------------------------------------------------------


def test_protocol_info_of_the_my_number_card() -> None:
    info = ProtocolInfo.parse(INFO)
    assert (info.max_frame_size, info.protocol_type, info.fwi) == (256, 1, 10)
    assert info.supports_cid and not info.supports_nad
    assert info.fwt == pytest.approx(0.3093, abs=1e-4)
    assert frame_waiting_time(13) == pytest.approx(2.474, abs=1e-3)
    assert [frame_size(i) for i in (0, 5, 8, 9, 15)] == [16, 64, 256, 256, 256]


def test_attrib_answers_mbli_and_cid() -> None:
    card = IsoDepCard(PUPI, INFO)
    assert phase(card) is Phase.WAIT_ATTRIB
    assert card.receive(attrib(fsdi=5, cid=3)) == Send(b"\x03")
    assert (phase(card), card.cid, card.fsd) == (Phase.RECEIVING, 3, 64)


def test_attrib_with_higher_layer_data_is_accepted() -> None:
    card = IsoDepCard(PUPI, INFO)
    assert card.receive(attrib() + b"\x01\x02") == Send(b"\x00")


def test_card_without_cid_support_answers_cid_0() -> None:
    card = IsoDepCard(PUPI, bytes.fromhex("B381A0"))
    assert card.receive(attrib(cid=4)) == Send(b"\x00")
    assert card.cid == 0


@pytest.mark.parametrize(
    "frame",
    [
        attrib(pupi=bytes.fromhex("01020304")),  # another card's PUPI
        attrib()[:-1],  # too short
        attrib(cid=15),  # CID 15 is RFU
        b"\x05\x00\x10",  # SENSB_REQ
        b"\x02" + SELECT_JPKI,  # an I-block before activation
        b"",
    ],
)
def test_frames_other_than_our_attrib_are_ignored_before_activation(frame: bytes) -> None:
    card = IsoDepCard(PUPI, INFO)
    assert card.receive(frame) is None
    assert phase(card) is Phase.WAIT_ATTRIB


def test_constructor_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        IsoDepCard(b"\x01\x02\x03", INFO)
    with pytest.raises(ValueError):
        IsoDepCard(PUPI, b"\xb3\x81")
    with pytest.raises(ValueError):
        IsoDepCard(PUPI, INFO, default_wtxm=60)


# -- I-blocks and block numbers ----------------------------------------------------------------


def test_block_number_starts_at_1_and_toggles_with_every_i_block() -> None:
    card = active()
    assert card.receive(b"\x02" + SELECT_JPKI) == Execute(SELECT_JPKI)
    assert phase(card) is Phase.PROCESSING
    assert card.complete(OK) == Send(b"\x02\x90\x00")
    assert phase(card) is Phase.RECEIVING
    assert exchange(card, b"\x03\x00\xb0\x00\x00\x04", b"\x30\x82\x06\x1e" + OK) == (
        b"\x03\x30\x82\x06\x1e\x90\x00"
    )
    assert exchange(card, b"\x02\x00\xb0\x00\x00\x04", OK) == b"\x02\x90\x00"


def test_empty_i_block_is_an_empty_apdu() -> None:
    card = active()
    assert card.receive(b"\x02") == Execute(b"")


def test_reader_chaining_is_acknowledged_and_reassembled() -> None:
    card = active()
    command = bytes(range(256)) + bytes(range(100))
    assert card.receive(b"\x12" + command[:200]) == Send(b"\xa2")
    assert phase(card) is Phase.RECEIVING
    assert card.receive(b"\x13" + command[200:300]) == Send(b"\xa3")
    assert card.receive(b"\x02" + command[300:]) == Execute(command)
    assert card.complete(OK) == Send(b"\x02\x90\x00")
    assert card.stats.chained_blocks_received == 2


def test_response_chaining_waits_for_each_r_ack() -> None:
    card = active(fsdi=5)  # the reader takes 64-byte frames: 61 INF bytes per block
    response = bytes(range(150)) + OK
    assert card.receive(b"\x02\x00\xb0\x00\x00\x00") == Execute(b"\x00\xb0\x00\x00\x00")
    assert card.complete(response) == Send(b"\x12" + response[:61])
    assert phase(card) is Phase.SENDING
    assert card.receive(b"\xa3") == Send(b"\x13" + response[61:122])
    assert card.receive(b"\xa2") == Send(b"\x02" + response[122:])
    assert phase(card) is Phase.RECEIVING
    assert card.stats.chained_blocks_sent == 2
    # and the next command gets block number 1 again
    assert exchange(card, b"\x03" + SELECT_JPKI, OK) == b"\x03\x90\x00"


@pytest.mark.parametrize(("extra", "frames"), [(0, 1), (1, 2)])
def test_response_of_exactly_one_frame_is_not_chained(extra: int, frames: int) -> None:
    card = active()  # FSD 256: 253 INF bytes per block
    response = bytes(251 + extra) + OK
    card.receive(b"\x02" + SELECT_JPKI)
    first = card.complete(response)
    assert first is not None and len(first.frame) == min(254, 1 + len(response))
    assert bool(first.frame[0] & 0x10) == (frames == 2)


def test_r_ack_with_current_number_resends_the_last_chained_block() -> None:
    card = active(fsdi=5)
    response = bytes(range(100)) + OK
    card.receive(b"\x02" + SELECT_JPKI)
    card.complete(response)
    second = card.receive(b"\xa3")
    assert second == Send(b"\x03" + response[61:])
    assert card.receive(b"\xa3") == second  # our block got lost: same block again
    assert card.stats.retransmissions == 1


def test_r_nak_with_current_number_resends_the_last_block() -> None:
    card = active()
    answer = exchange(card, b"\x02" + SELECT_JPKI, OK)
    assert card.receive(b"\xb2") == Send(answer)
    assert card.receive(b"\xb2") == Send(answer)


def test_r_nak_with_the_other_number_is_a_presence_check() -> None:
    card = active()
    assert card.receive(b"\xb2") == Send(b"\xa3")  # nothing exchanged yet: our number is 1
    exchange(card, b"\x02" + SELECT_JPKI, OK)
    assert card.receive(b"\xb3") == Send(b"\xa2")
    assert exchange(card, b"\x03" + SELECT_JPKI, OK) == b"\x03\x90\x00"


def test_lost_r_ack_during_reader_chaining_is_resent_on_r_nak() -> None:
    card = active()
    assert card.receive(b"\x12" + b"A" * 10) == Send(b"\xa2")
    assert card.receive(b"\xb2") == Send(b"\xa2")
    assert card.receive(b"\x03" + b"B") == Execute(b"A" * 10 + b"B")


def test_r_ack_with_the_other_number_outside_chaining_is_ignored() -> None:
    card = active()
    exchange(card, b"\x02" + SELECT_JPKI, OK)
    assert card.receive(b"\xa3") is None


def test_new_command_abandons_an_unfinished_response_chain() -> None:
    card = active(fsdi=0)  # 16-byte frames
    card.receive(b"\x02" + SELECT_JPKI)
    card.complete(bytes(40) + OK)
    assert phase(card) is Phase.SENDING
    assert card.receive(b"\x03" + SELECT_JPKI) == Execute(SELECT_JPKI)


def test_oversized_command_is_answered_wrong_length_without_running_it() -> None:
    card = active(max_command=10)
    assert card.receive(b"\x12" + bytes(8)) == Send(b"\xa2")
    assert card.receive(b"\x13" + bytes(8)) == Send(b"\xa3")
    assert card.receive(b"\x02" + bytes(1)) == Send(b"\x02\x67\x00")
    assert exchange(card, b"\x03" + bytes(10), OK) == b"\x03\x90\x00"


# -- waiting time extension ---------------------------------------------------------------------


def test_wtx_request_and_reader_answer() -> None:
    card = active()
    card.receive(b"\x02" + SELECT_JPKI)
    assert card.request_wtx(2) == b"\xf2\x02"
    assert card.request_wtx(2) is None  # one request at a time
    assert card.receive(b"\xf2\x02") == WaitingTimeExtended(2)
    assert card.request_wtx() == b"\xf2\x01"
    assert card.receive(b"\xf2\x01") == WaitingTimeExtended(1)
    assert card.complete(bytes(256) + OK) == Send(b"\x12" + bytes(253))
    assert card.stats.wtx_requests == 2


def test_response_finished_during_an_unanswered_wtx_waits_for_the_reader() -> None:
    card = active()
    card.receive(b"\x02" + SELECT_JPKI)
    assert card.request_wtx(3) == b"\xf2\x03"
    assert card.complete(OK) is None
    assert card.receive(b"\xf2\x03") == Send(b"\x02\x90\x00")


def test_r_nak_while_processing_is_answered_with_wtx() -> None:
    card = active()
    card.receive(b"\x02" + SELECT_JPKI)
    assert card.receive(b"\xb2") == Send(b"\xf2\x01")  # reader timed out before our first S(WTX)
    assert card.receive(b"\xf2\x01") == WaitingTimeExtended(1)
    assert card.request_wtx(4) == b"\xf2\x04"
    assert card.receive(b"\xb2") == Send(b"\xf2\x04")  # our S(WTX) got lost: send it again
    assert card.receive(b"\xf2\x04") == WaitingTimeExtended(4)
    assert card.complete(OK) == Send(b"\x02\x90\x00")
    assert (card.stats.retransmissions, card.stats.wtx_requests) == (2, 2)


def test_wtx_is_only_requested_while_processing() -> None:
    card = active()
    assert card.request_wtx(1) is None
    with pytest.raises(ValueError):
        card.request_wtx(0)
    with pytest.raises(ValueError):
        card.request_wtx(60)


def test_unsolicited_wtx_and_blocks_while_processing_are_ignored() -> None:
    card = active()
    assert card.receive(b"\xf2\x01") is None
    card.receive(b"\x02" + SELECT_JPKI)
    assert card.receive(b"\xf2\x01") is None  # no request outstanding
    assert card.receive(b"\x03" + SELECT_JPKI) is None  # the reader must wait
    assert card.receive(b"\xa3") is None
    assert card.complete(OK) == Send(b"\x02\x90\x00")


# -- DESELECT and CID ---------------------------------------------------------------------------


def test_deselect_is_answered_and_halts_the_card() -> None:
    card = active()
    assert card.receive(b"\xc2") == Deselected(b"\xc2")
    assert phase(card) is Phase.HALTED
    assert card.receive(b"\x02" + SELECT_JPKI) is None
    assert card.receive(attrib()) is None
    assert card.complete(OK) is None


def test_deselect_while_processing_drops_the_response() -> None:
    card = active()
    card.receive(b"\x02" + SELECT_JPKI)
    assert card.receive(b"\xc2") == Deselected(b"\xc2")
    assert card.complete(OK) is None


def test_cid_assigned_by_attrib_is_required_and_echoed() -> None:
    card = active(cid=1)
    assert card.receive(b"\x02" + SELECT_JPKI) is None  # no CID: not for us
    assert card.receive(b"\x0a\x02" + SELECT_JPKI) is None  # CID 2: another card
    assert card.receive(b"\x0a\x31" + SELECT_JPKI) is None  # b6-b5 of the CID byte set
    assert card.receive(b"\x0a\x01" + SELECT_JPKI) == Execute(SELECT_JPKI)
    assert card.request_wtx(1) == b"\xfa\x01\x01"
    assert card.receive(b"\xfa\x01\x01") == WaitingTimeExtended(1)
    assert card.complete(OK) == Send(b"\x0a\x01\x90\x00")
    assert card.receive(b"\xbb\x01") == Send(b"\xaa\x01")
    assert card.receive(b"\xca\x01") == Deselected(b"\xca\x01")


def test_cid_0_accepts_blocks_with_and_without_cid() -> None:
    card = active()
    assert exchange(card, b"\x0a\x00" + SELECT_JPKI, OK) == b"\x0a\x00\x90\x00"
    assert exchange(card, b"\x03" + SELECT_JPKI, OK) == b"\x03\x90\x00"


def test_cid_byte_shrinks_the_information_field() -> None:
    card = active(fsdi=0, cid=2)  # 16-byte frames: PCB + CID + 12 INF bytes
    card.receive(b"\x0a\x02" + SELECT_JPKI[:12])
    sent = card.complete(bytes(20) + OK)
    assert sent == Send(b"\x1a\x02" + bytes(12))


def test_blocks_with_cid_are_ignored_by_a_card_without_cid() -> None:
    card = active(info=bytes.fromhex("B381A0"))
    assert card.receive(b"\x0a\x00" + SELECT_JPKI) is None
    assert card.receive(b"\x02" + SELECT_JPKI) == Execute(SELECT_JPKI)


# -- invalid frames -----------------------------------------------------------------------------

INVALID_FRAMES = [
    b"",
    b"\x00" + SELECT_JPKI,  # b2 of an I-block must be 1
    b"\x22" + SELECT_JPKI,  # b6 of an I-block must be 0
    b"\x06" + SELECT_JPKI,  # NAD: not supported
    b"\x0a",  # CID bit without CID byte
    b"\xa2\x00",  # R-block with INF
    b"\xa6",  # R-block with b3 set
    b"\x82",  # R-block with b6 clear
    b"\xb0",  # R-block with b2 clear
    b"\xf2",  # S(WTX) without WTXM
    b"\xf2\x00",  # WTXM 0
    b"\xf2\x3c",  # WTXM 60
    b"\xf2\x01\x02",  # S(WTX) too long
    b"\xc2\x00",  # S(DESELECT) with INF
    b"\xd2",  # S-block 01: RFU
    b"\xf0\x00",  # S(PARAMETERS)-like PCB: not supported
    b"\x42",  # b8-b7 = 01: RFU
    b"\x02" + bytes(254),  # 255 bytes: larger than FSC 256 less CRC
]


@pytest.mark.parametrize("frame", INVALID_FRAMES)
def test_invalid_blocks_are_ignored_and_change_nothing(frame: bytes) -> None:
    card = active()
    exchange(card, b"\x02" + SELECT_JPKI, OK)
    assert card.receive(frame) is None
    assert card.stats.invalid_blocks == 1
    assert phase(card) is Phase.RECEIVING
    assert exchange(card, b"\x03" + SELECT_JPKI, OK) == b"\x03\x90\x00"


def test_largest_valid_frame_is_accepted() -> None:
    card = active()
    command = bytes(253)
    assert card.receive(b"\x02" + command) == Execute(command)


# -- properties ---------------------------------------------------------------------------------

structured_frames = st.builds(
    lambda pcb, cid, inf: bytes((pcb,)) + (bytes((cid,)) if pcb & 0x08 else b"") + inf,
    st.sampled_from([0x02, 0x03, 0x12, 0x13, 0x0A, 0x1B, 0xA2, 0xA3, 0xB2, 0xB3, 0xC2, 0xF2, 0xFA]),
    st.integers(0, 255),
    st.binary(max_size=4),
)
frames = st.one_of(st.binary(max_size=300), structured_frames)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), frames),
        st.tuples(st.just("complete"), st.binary(max_size=600)),
        st.tuples(st.just("wtx"), st.integers(1, 59)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fsdi=st.integers(0, 15), cid=st.integers(0, 14), ops=operations)
def test_any_sequence_of_events_never_raises(fsdi: int, cid: int, ops: list[tuple[str, object]]) -> None:
    card = IsoDepCard(PUPI, INFO)
    card.receive(attrib(fsdi=fsdi, cid=cid))
    limit = frame_size(fsdi) - 2
    for kind, value in ops:
        if kind == "receive":
            assert isinstance(value, bytes)
            action = card.receive(value)
            frame = action.frame if isinstance(action, Send | Deselected) else None
        elif kind == "complete":
            assert isinstance(value, bytes)
            sent = card.complete(value)
            frame = sent.frame if sent else None
        else:
            assert isinstance(value, int)
            frame = card.request_wtx(value)
        if frame is not None:
            assert 1 <= len(frame) <= limit


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(frames, max_size=30))
def test_random_frames_before_and_after_attrib_never_raise(ops: list[bytes]) -> None:
    card = IsoDepCard(PUPI, INFO)
    for frame in ops:
        card.receive(frame)
    card.receive(attrib())
    for frame in ops:
        action = card.receive(frame)
        assert action is None or isinstance(action, Send | Execute | WaitingTimeExtended | Deselected)


@settings(max_examples=100, deadline=None)
@given(
    command=st.binary(min_size=1, max_size=2000),
    cuts=st.lists(st.integers(1, 253), min_size=1, max_size=20),
    response=st.binary(max_size=3000),
    fsdi=st.integers(0, 8),
)
def test_chaining_both_ways_preserves_the_bytes(
    command: bytes, cuts: list[int], response: bytes, fsdi: int
) -> None:
    card = active(fsdi=fsdi)
    number, offset, index = 0, 0, 0
    action = None
    while offset < len(command):
        size = cuts[index % len(cuts)]
        index += 1
        part, offset = command[offset : offset + size], offset + size
        more = offset < len(command)
        action = card.receive(bytes((0x02 | (0x10 if more else 0) | number,)) + part)
        if more:
            assert action == Send(bytes((0xA2 | number,)))
        number ^= 1
    assert action == Execute(command)
    sent = card.complete(response)
    received = b""
    while sent is not None:
        assert len(sent.frame) <= frame_size(fsdi) - 2
        assert sent.frame[0] & 0x01 == number ^ 1
        received += sent.frame[1:]
        if not sent.frame[0] & 0x10:
            break
        ack = card.receive(bytes((0xA2 | number,)))
        number ^= 1
        assert isinstance(ack, Send)
        sent = ack
    assert received == response
    assert phase(card) is Phase.RECEIVING
