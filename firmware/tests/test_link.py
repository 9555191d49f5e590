"""The link on the interpreter the board runs: ``micropython run.py`` with firmware/ on MICROPYPATH."""

import link
from lossy import LossyLine, ManualClock, XorShift, converse, port_pair


def make_pair(rand, drop=0, corrupt=0, duplicate=0, version_b=link.PROTOCOL_VERSION):
    clock = ManualClock(1000)
    to_b = LossyLine(rand, drop, corrupt, duplicate)
    to_a = LossyLine(rand, drop, corrupt, duplicate)
    port_a, port_b = port_pair(to_b, to_a)
    a = link.Link(port_a, clock, session=0xA1)
    b = link.Link(port_b, clock, session=0xB2, version=version_b)
    return a, b, clock, to_b


def test_crc_check_value():
    assert link.crc16(b"123456789") == 0x29B1


def test_frame_vector():
    frame = link.encode_frame(link.DATA, 5, b"\x00\x01abc")
    assert frame == b"\x00\x04\x02\x05\x05\x07\x01abco\\\x00", frame
    assert link.Decoder().feed(frame) == [(link.DATA, 5, b"\x00\x01abc")]


def test_decoder_byte_by_byte_after_garbage():
    decoder = link.Decoder()
    frames = []
    for byte in b"\x17\x99\xff" + link.encode_frame(link.ACK, 200):
        frames.extend(decoder.feed(byte))
    assert frames == [(link.ACK, 200, b"")]
    assert decoder.errors == 1


def test_decoder_counts_oversized_and_corrupted():
    decoder = link.Decoder()
    good = link.encode_frame(link.DATA, 1, bytes(range(1, 65)))
    bad = bytearray(good)
    bad[10] ^= 0x04
    assert decoder.feed(b"\x01" * 300 + b"\x00" + bytes(bad) + good) == [(link.DATA, 1, bytes(range(1, 65)))]
    assert decoder.oversize == 1
    assert decoder.crc_errors == 1


def test_messages_both_ways_on_a_clean_line():
    a, b, clock, _ = make_pair(XorShift(1).rand)
    for_b = [(1, b"coin"), (2, b""), (255, bytes(63))]
    for_a = [(7, b"\x00\x00")]
    got_a, got_b = converse(a, b, clock, for_b, for_a)
    assert got_b == for_b, got_b
    assert got_a == for_a, got_a
    assert a.state == link.UP and b.state == link.UP


def test_lossy_line_delivers_each_message_once_in_order():
    for seed in range(4):
        a, b, clock, _ = make_pair(XorShift(seed).rand, drop=5, corrupt=5, duplicate=100)
        for_b = [(i, bytes((i,)) * (i % 20)) for i in range(30)]
        got_a, got_b = converse(a, b, clock, for_b, [(9, b"x")] * 5)
        if a.state == link.DOWN or b.state == link.DOWN:
            assert for_b[: len(got_b)] == got_b
        else:
            assert got_b == for_b
            assert got_a == [(9, b"x")] * 5


def test_dead_line_reports_link_down():
    a, b, clock, to_b = make_pair(XorShift(3).rand)
    converse(a, b, clock, [], [])
    assert a.state == link.UP
    to_b.drop = 1000
    converse(a, b, clock, [(1, b"lost")], [])
    assert a.state == link.DOWN
    assert isinstance(a.failure, link.LinkDown)
    assert a.failure.unconfirmed == [(1, b"lost")]
    try:
        a.send(2)
    except link.LinkDown:
        pass
    else:
        raise AssertionError("send on a down link must raise LinkDown")


def test_version_mismatch_refuses():
    a, b, clock, _ = make_pair(XorShift(4).rand, version_b=1)  # a board of the first version
    converse(a, b, clock, [], [], max_steps=50)
    assert a.state == link.REFUSED and b.state == link.REFUSED
    assert a.failure.theirs == 1 and b.failure.theirs == 2
