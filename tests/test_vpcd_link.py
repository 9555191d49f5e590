"""The vpcd protocol byte for byte, against a fake vpcd server socket (no pcscd involved)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hardware.cardsim.vpcd_link import (
    VpcdConnectError,
    VpcdLink,
    VpcdProtocolError,
    describe_command,
    encode_frame,
    run_vpcd,
)

ATR = bytes.fromhex("3BDA13FF8131FB468012392F31C173C601C03B")
SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
VERIFY_1234 = bytes.fromhex("0020008004") + b"1234"
TIMEOUT = 5.0


class StubCard:
    """Records what the link asks of it; answers a command with its reversed bytes + 90 00."""

    def __init__(self) -> None:
        self.atr = ATR
        self.calls: list[str] = []
        self.commands: list[bytes] = []

    def power_on(self) -> bytes:
        self.calls.append("on")
        return self.atr

    def power_off(self) -> None:
        self.calls.append("off")

    def process(self, command: bytes) -> bytes:
        self.commands.append(command)
        if command == b"\xde\xad":
            raise RuntimeError("emulator bug")
        return command[::-1] + b"\x90\x00"


class FakeVpcd:
    """The server side of vpcd: listens, accepts the card, sends frames and reads answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(TIMEOUT)
        self.port: int = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> socket.socket:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(TIMEOUT)
        return self.conn

    def send(self, raw: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(raw)

    def recv_exactly(self, size: int) -> bytes:
        assert self.conn is not None
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            assert chunk, f"link closed after {len(data)} of {size} bytes"
            data += chunk
        return data

    def recv_frame(self) -> bytes:
        size = int.from_bytes(self.recv_exactly(2), "big")
        return self.recv_exactly(size)

    def assert_silent(self, seconds: float = 0.3) -> None:
        """The link sends nothing (control messages other than 04 get no answer)."""
        assert self.conn is not None
        self.conn.settimeout(seconds)
        try:
            assert self.conn.recv(1) == b"", "the link answered a message that needs no answer"
        except TimeoutError:
            pass
        finally:
            self.conn.settimeout(TIMEOUT)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def server() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


@pytest.fixture
def stub() -> StubCard:
    return StubCard()


@pytest.fixture
def link(server: FakeVpcd, stub: StubCard) -> Iterator[VpcdLink]:
    link = VpcdLink(stub, "127.0.0.1", server.port)
    link.attach()
    server.accept()
    yield link
    link.detach()


def test_atr_request_is_answered_with_length_prefixed_atr(server: FakeVpcd, link: VpcdLink) -> None:
    server.send(b"\x00\x01\x04")
    assert server.recv_exactly(2 + len(ATR)) == b"\x00\x13" + ATR


def test_power_control_messages_get_no_answer(server: FakeVpcd, link: VpcdLink, stub: StubCard) -> None:
    for control in (b"\x01", b"\x02", b"\x00"):
        server.send(b"\x00\x01" + control)
        server.assert_silent(0.1)
    assert stub.calls == ["on", "on", "off"]  # reset is a warm reset: power_on again
    server.send(b"\x00\x01\x04")  # the stream is still in step
    assert server.recv_frame() == ATR


def test_unknown_control_byte_is_ignored(server: FakeVpcd, link: VpcdLink, stub: StubCard) -> None:
    server.send(b"\x00\x01\x03")
    server.assert_silent(0.1)
    assert stub.calls == [] and stub.commands == []
    server.send(b"\x00\x01\x04")
    assert server.recv_frame() == ATR


def test_apdu_round_trip_exact_bytes(server: FakeVpcd, link: VpcdLink, stub: StubCard) -> None:
    server.send(b"\x00\x0f" + SELECT_JPKI)
    assert server.recv_exactly(2 + 17) == b"\x00\x11" + SELECT_JPKI[::-1] + b"\x90\x00"
    assert stub.commands == [SELECT_JPKI]


def test_two_byte_apdu_is_a_command_not_a_control_message(
    server: FakeVpcd, link: VpcdLink, stub: StubCard
) -> None:
    server.send(b"\x00\x02\x00\x01")
    assert server.recv_frame() == b"\x01\x00\x90\x00"
    assert stub.calls == []


def test_frames_split_across_segments_and_long_frames(
    server: FakeVpcd, link: VpcdLink, stub: StubCard
) -> None:
    command = bytes.fromhex("00B00000000100") + bytes(300)  # 307 bytes: length 01 33
    frame = b"\x01\x33" + command
    for piece in (frame[:1], frame[1:150], frame[150:]):  # a lone header byte, then the rest
        server.send(piece)
        time.sleep(0.05)
    assert server.recv_exactly(2) == (309).to_bytes(2, "big")
    assert server.recv_exactly(309) == command[::-1] + b"\x90\x00"
    assert stub.commands == [command]


def test_back_to_back_frames_in_one_segment(server: FakeVpcd, link: VpcdLink) -> None:
    server.send(b"\x00\x01\x04" + b"\x00\x02\xaa\xbb" + b"\x00\x01\x04")
    assert server.recv_frame() == ATR
    assert server.recv_frame() == b"\xbb\xaa\x90\x00"
    assert server.recv_frame() == ATR


def test_card_exception_becomes_6f00(server: FakeVpcd, link: VpcdLink) -> None:
    server.send(b"\x00\x02\xde\xad")
    assert server.recv_frame() == b"\x6f\x00"
    server.send(b"\x00\x01\x04")
    assert server.recv_frame() == ATR


def test_server_closing_ends_the_link_and_powers_the_card_off(
    server: FakeVpcd, link: VpcdLink, stub: StubCard
) -> None:
    assert link.attached
    assert server.conn is not None
    server.conn.close()
    assert wait_until(lambda: not link.attached)
    assert stub.calls == ["off"]


def test_truncated_frame_ends_the_link(
    server: FakeVpcd, link: VpcdLink, stub: StubCard, caplog: pytest.LogCaptureFixture
) -> None:
    assert server.conn is not None
    server.send(b"\x00\x05\x00\xa4")  # announces 5 bytes, sends 2
    server.conn.shutdown(socket.SHUT_WR)
    assert wait_until(lambda: not link.attached)
    assert stub.commands == []
    assert stub.calls == ["off"]
    assert "closed after 2 of 5 payload bytes" in caplog.text


def test_detach_closes_the_socket_and_attach_reconnects(
    server: FakeVpcd, link: VpcdLink, stub: StubCard
) -> None:
    for _ in range(3):
        link.detach()
        assert not link.attached
        assert server.conn is not None and server.conn.recv(1) == b""  # EOF: card removed
        link.detach()  # repeatable
        link.attach()
        link.attach()  # a no-op while attached: one connection only
        server.accept()
        server.send(b"\x00\x01\x04")
        assert server.recv_frame() == ATR
    assert stub.calls == ["off"] * 3


def test_attach_without_vpcd_raises_connect_error(stub: StubCard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    link = VpcdLink(stub, "127.0.0.1", port)  # nobody listens there any more
    with pytest.raises(VpcdConnectError, match=f"127.0.0.1:{port}") as info:
        link.attach()
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert not link.attached


def test_verify_data_and_response_data_never_reach_the_log(
    server: FakeVpcd, link: VpcdLink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hardware.cardsim.vpcd_link")
    server.send(encode_frame(VERIFY_1234))
    assert server.recv_frame() == VERIFY_1234[::-1] + b"\x90\x00"
    server.send(encode_frame(SELECT_JPKI))
    server.recv_frame()
    assert "00 20 00 80 <5 bytes redacted>" in caplog.text
    assert "31 32 33 34" not in caplog.text and "1234" not in caplog.text
    assert "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01" in caplog.text  # other commands: shown
    assert "<15 bytes> 90 00" in caplog.text  # responses: length and status word only
    assert "01 00 00 00 26 00 F0 92 D3" not in caplog.text


def test_describe_command_redacts_change_reference_data() -> None:
    assert describe_command(bytes.fromhex("0024018008") + b"12345678") == ("00 24 01 80 <9 bytes redacted>")
    assert describe_command(bytes.fromhex("00200080")) == "00 20 00 80"  # the tries query


def test_encode_frame_rejects_oversized_payload() -> None:
    assert encode_frame(b"\x04") == b"\x00\x01\x04"
    with pytest.raises(VpcdProtocolError):
        encode_frame(bytes(0x10000))


def test_run_vpcd_waits_for_pcscd_reconnects_and_stops(stub: StubCard) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    stop = threading.Event()
    runner = threading.Thread(target=run_vpcd, args=(stub, "127.0.0.1", port, stop, 0.05))
    runner.start()
    try:
        time.sleep(0.2)  # run_vpcd finds nobody listening and retries
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(TIMEOUT)
            for _ in range(2):  # pcscd starts, then restarts
                conn, _ = server.accept()
                with conn:
                    conn.settimeout(TIMEOUT)
                    conn.sendall(b"\x00\x01\x04")
                    assert conn.makefile("rb").read(2 + len(ATR)) == b"\x00\x13" + ATR
            conn, _ = server.accept()
            with conn:
                stop.set()
                runner.join(TIMEOUT)
                assert not runner.is_alive()
                conn.settimeout(TIMEOUT)
                assert conn.recv(1) == b""  # stop removed the card
    finally:
        stop.set()
        runner.join(TIMEOUT)
    assert stub.calls == ["off"] * 3
