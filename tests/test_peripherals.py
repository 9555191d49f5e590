"""The kiosk's driver and adapters against the real firmware: MicroPython's unix port running
``firmware/simulator.py`` behind a pseudo-terminal, the board's mechanics played by
``hardware.peripherals.simulator``: payments, change, refunds, reminders, alarms, and the faults
(a noisy line, a controller reset mid-payment, the host restarting or going away)."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware import link, messages
from hardware.peripherals import CommandRefused, ControllerUnavailable, Event, PeripheralController
from hardware.peripherals.transport import FdTransport, SerialTransport
from kiosk.devices.peripherals import LinkedCashbox
from kiosk.errors import PaymentError, TerminalAlarm
from kiosk.ports import ReminderKind
from support.peripheral_rig import Rig, peripheral_rig


def in_loop(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """An async test run in its own event loop (the kiosk's adapters wake the running loop)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with peripheral_rig(tmp_path) as rig:
        yield rig


def status(rig: Rig) -> dict[str, int]:
    return rig.controller.request(messages.GET_STATUS, answers={"STATUS"}).fields


async def coins(rig: Rig, *values: int) -> list[int]:
    """Drop ``values`` one by one; the escrow's total the kiosk saw after each."""
    seen = []
    for value in values:  # (the acceptor takes coins once the board has opened the payment)
        assert rig.simulator.wait_for(lambda: rig.simulator.output("coin_inhibit") == 0, 5)
        assert rig.simulator.drop_coin(value), f"the acceptor refused {value}"
        seen.append(await asyncio.wait_for(rig.cashbox.wait_for_coins(), 10))
    return seen


def test_the_board_comes_up_and_says_how_it_is(rig: Rig) -> None:
    assert rig.controller.state.up
    assert "BOOTED" in rig.names()
    now = status(rig)
    assert now["fee"] == 0 and now["held"] == 0 and now["alarm"] == 0
    assert now["heap_free"] > 0
    assert rig.simulator.output("coin_inhibit") == 1  # no payment: the acceptor refuses coins


def test_coins_are_refused_while_no_payment_is_open(rig: Rig) -> None:
    assert not rig.simulator.drop_coin(100)
    assert rig.simulator.mechanics.cup == [100]
    status(rig)  # a round trip: any COIN would have come before its answer
    assert "COIN" not in rig.names()


@in_loop
async def test_a_payment_counts_each_denomination_and_pays_the_change(rig: Rig) -> None:
    rig.cashbox.open(680)
    assert rig.simulator.wait_for(lambda: rig.simulator.output("coin_inhibit") == 0, 5)
    assert await coins(rig, 10, 50, 100, 500, 100) == [10, 60, 160, 660, 760]
    assert rig.simulator.wait_for(lambda: rig.simulator.output("coin_inhibit") == 1, 5)  # the fee is in
    assert not rig.simulator.drop_coin(100)  # so the next coin goes straight back
    change = await rig.cashbox.accept(680)
    machine = rig.simulator.mechanics
    assert change == 80
    assert sorted(machine.cash_box) == [10, 50, 100, 100, 500]
    assert sorted(machine.cup) == [10, 10, 10, 50, 100]  # the refused 100, change 50 + 3 × 10
    assert machine.escrow == []
    assert rig.cashbox.held == 0 and rig.cashbox.owed == 0
    assert status(rig)["fee"] == 0


@in_loop
async def test_a_cancelled_payment_gives_back_every_coin(rig: Rig) -> None:
    rig.cashbox.open(300)
    await coins(rig, 100, 100)
    assert await rig.cashbox.return_all() == 200
    assert rig.simulator.mechanics.cup == [100, 100]
    assert rig.simulator.mechanics.cash_box == []
    assert await rig.cashbox.return_all() == 0  # nothing open any more
    rig.cashbox.open(100)  # a new payment can open
    await coins(rig, 100)
    assert await rig.cashbox.accept(100) == 0
    assert rig.simulator.mechanics.cash_box == [100]


@in_loop
async def test_change_the_hoppers_cannot_pay_is_owed_for_the_clerk(rig: Rig) -> None:
    rig.simulator.mechanics.hoppers.update({100: 0, 50: 0, 10: 2})
    rig.cashbox.open(450)
    await coins(rig, 500)
    change = await rig.cashbox.accept(450)
    assert change == 20  # two 10 yen coins, then the hopper is empty
    assert rig.cashbox.owed == 30
    assert rig.simulator.mechanics.cup == [10, 10]


@in_loop
async def test_accepting_an_unpaid_fee_is_refused_and_loses_nothing(rig: Rig) -> None:
    rig.cashbox.open(300)
    await coins(rig, 100)
    with pytest.raises(CommandRefused) as refused:
        rig.controller.request(
            messages.ACCEPT_PAYMENT, rig.cashbox.payment, 300, answers={"PAYMENT_ACCEPTED"}
        )
    assert refused.value.reason == messages.REASON_NOT_PAID
    assert rig.simulator.mechanics.escrow == [100]
    assert await rig.cashbox.return_all() == 100


def test_reminders_blink_and_sound_until_stopped(rig: Rig) -> None:
    machine = rig.simulator.mechanics
    for kind in ReminderKind:
        start = time.monotonic()
        rig.reminder.start(kind)
        assert rig.simulator.wait_for(
            lambda s=start: (
                sum(1 for at, pin, level in list(machine.history) if at > s and pin == "light" and level) >= 2
            ),
            5,
        )
        assert rig.simulator.wait_for(
            lambda s=start: (
                sum(1 for at, pin, level in list(machine.history) if at > s and pin == "buzzer" and level)
                >= 2
            ),
            5,
        )
        rig.reminder.stop()
        assert rig.simulator.wait_for(
            lambda: not rig.simulator.output("light") and not rig.simulator.output("buzzer"), 5
        )
        quiet = time.monotonic()
        time.sleep(1.2)
        assert not [c for c in list(machine.history) if c[0] > quiet and c[1] in ("light", "buzzer")]


def test_the_two_reminders_sound_differently(rig: Rig) -> None:
    """Take your card: two short beeps; take your documents: one long one."""
    machine = rig.simulator.mechanics
    beeps = {}
    for kind in ReminderKind:
        start = time.monotonic()
        rig.reminder.start(kind)
        time.sleep(2.5)
        rig.reminder.stop()
        changes = [(at, level) for at, pin, level in list(machine.history) if at > start and pin == "buzzer"]
        lengths = [round(off - on, 2) for (on, up), (off, _down) in itertools.pairwise(changes) if up]
        beeps[kind] = lengths
    assert max(beeps[ReminderKind.TAKE_CARD]) < 0.3
    assert min(beeps[ReminderKind.TAKE_DOCUMENTS]) > 0.4


def test_the_paper_tray_is_followed(rig: Rig) -> None:
    rig.simulator.paper_out()
    rig.wait_for_event("PAPER_TRAY", where=lambda e: e["present"] == 1)
    assert rig.controller.state.paper_present

    async def taken() -> None:
        waiting = asyncio.ensure_future(rig.tray.wait_until_empty())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        rig.simulator.take_paper()
        await asyncio.wait_for(waiting, 10)

    asyncio.run(taken())
    assert not rig.controller.state.paper_present


def test_the_card_tray_is_followed(rig: Rig) -> None:
    rig.simulator.place_card()
    rig.wait_for_event("CARD_TRAY", where=lambda e: e["present"] == 1)
    rig.simulator.take_card()
    rig.wait_for_event("CARD_TRAY", where=lambda e: e["present"] == 0)


@in_loop
async def test_the_tamper_alarm_is_latched_until_staff_clear_it(rig: Rig) -> None:
    rig.simulator.trip_tamper()
    alarm = await asyncio.wait_for(rig.guard.wait_for_alarm(), 10)
    assert alarm == "tamper"
    rig.simulator.rest_tamper()
    assert status(rig)["alarm"] == messages.ALARM_TAMPER  # still latched
    with pytest.raises(TerminalAlarm):
        rig.cashbox.open(300)  # no payment while out of service
    with pytest.raises(CommandRefused) as refused:
        rig.controller.request(messages.OPEN_PAYMENT, 1, 300, answers={"COIN"})
    assert refused.value.reason == messages.REASON_ALARM
    with pytest.raises(CommandRefused) as outside:
        rig.controller.request(messages.CLEAR_ALARM, answers={"ALARM"})
    assert outside.value.reason == messages.REASON_NOT_MAINTENANCE
    rig.controller.send(messages.SET_MAINTENANCE, 1)
    cleared = rig.controller.request(messages.CLEAR_ALARM, answers={"ALARM"})
    assert cleared["causes"] == 0
    await asyncio.wait_for(rig.guard.wait_until_cleared(), 5)
    assert rig.guard.alarm is None


def test_the_door_opened_in_maintenance_mode_is_no_alarm(rig: Rig) -> None:
    rig.controller.send(messages.SET_MAINTENANCE, 1)
    status(rig)
    rig.simulator.open_door()
    rig.wait_for_event("DOOR", where=lambda e: e["open"] == 1)
    rig.simulator.close_door()
    rig.wait_for_event("DOOR", where=lambda e: e["open"] == 0)
    assert status(rig)["alarm"] == 0
    rig.controller.send(messages.SET_MAINTENANCE, 0)
    status(rig)
    rig.simulator.open_door()
    assert rig.wait_for_event("ALARM")["causes"] == messages.ALARM_DOOR
    assert rig.guard.alarm == "door"


@in_loop
async def test_an_alarm_during_a_payment_gives_the_coins_back(rig: Rig) -> None:
    rig.cashbox.open(500)
    await coins(rig, 100, 100)
    rig.simulator.trip_tamper()
    with pytest.raises((TerminalAlarm, PaymentError)):
        while True:
            await asyncio.wait_for(rig.cashbox.wait_for_coins(), 10)
    assert rig.simulator.wait_for(lambda: rig.simulator.mechanics.cup == [100, 100], 10)
    assert rig.simulator.mechanics.escrow == [] and rig.simulator.mechanics.cash_box == []
    assert await rig.cashbox.return_all() in (0, 200)  # the end screen's refund: nothing twice
    assert rig.simulator.mechanics.cup == [100, 100]


@in_loop
async def test_a_controller_reset_mid_payment_returns_the_escrow_and_charges_nothing_twice(rig: Rig) -> None:
    rig.cashbox.open(300)
    await coins(rig, 100, 100)
    mark = len(rig.events)
    rig.simulator.reset_controller()
    rig.wait_for_event("RESET", timeout=20, after=mark)
    with pytest.raises(PaymentError):
        await asyncio.wait_for(rig.cashbox.wait_for_coins(), 10)
    machine = rig.simulator.mechanics
    assert machine.cup == [100, 100] and machine.escrow == [] and machine.cash_box == []
    assert rig.simulator.exit_codes == [3]
    assert await rig.cashbox.return_all() == 0  # the board already gave them back
    rig.cashbox.open(300)  # the resident pays again, once
    await coins(rig, 100, 100, 100)
    assert await rig.cashbox.accept(300) == 0
    assert machine.cash_box == [100, 100, 100]


@in_loop
async def test_a_kiosk_restarted_mid_payment_has_the_coins_returned(rig: Rig) -> None:
    rig.cashbox.open(300)
    await coins(rig, 100)
    rig.restart_host()  # a new driver, a new link session; the board kept the payment open
    assert rig.simulator.wait_for(lambda: rig.simulator.mechanics.cup == [100], 10)
    assert status(rig)["fee"] == 0
    assert rig.controller.link_statistics["peer_restarts"] == 0  # the board did not restart
    rig.cashbox.open(100)
    await coins(rig, 100)
    assert await rig.cashbox.accept(100) == 0


@in_loop
async def test_a_board_left_alone_returns_the_escrow_itself(rig: Rig) -> None:
    rig.cashbox.open(300)
    await coins(rig, 100)
    assert rig.simulator.wait_for(lambda: rig.simulator.mechanics.escrow == [100], 5)
    rig.controller.close()  # the kiosk is gone: nobody speaks on the line any more
    assert rig.simulator.wait_for(lambda: rig.simulator.mechanics.cup == [100], 20)
    assert rig.simulator.wait_for(lambda: rig.simulator.output("coin_inhibit") == 1, 5)


class NoisyTransport:
    """The line in both directions drops and corrupts bytes (seeded)."""

    def __init__(self, inner: FdTransport, rate: float, seed: int) -> None:
        self.inner = inner
        self.rate = rate
        self.random = random.Random(seed)
        self.damaged = 0

    def fileno(self) -> int:
        return self.inner.fileno()

    def _spoil(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            roll = self.random.random()
            if roll < self.rate / 2:
                self.damaged += 1
                continue  # dropped
            if roll < self.rate:
                self.damaged += 1
                byte ^= 1 << self.random.randrange(8)  # a bit flipped
            out.append(byte)
        return bytes(out)

    def write(self, data: bytes) -> None:
        self.inner.write(self._spoil(data))

    def read(self) -> bytes:
        return self._spoil(self.inner.read())


@in_loop
async def test_a_noisy_line_loses_no_coin_and_counts_none_twice(tmp_path: Path) -> None:
    with peripheral_rig(tmp_path) as rig:
        rig.controller.close()
        noisy = NoisyTransport(rig.simulator.transport, rate=0.02, seed=7)
        rig.simulator.transport = noisy  # type: ignore[assignment]
        rig.connect(max_attempts=20)
        rig.cashbox.open(1000)
        held = []
        for value in (100, 500, 10, 50, 100, 100):
            assert rig.simulator.wait_for(lambda: rig.simulator.output("coin_inhibit") == 0, 10)
            assert rig.simulator.drop_coin(value)
            held.append(await asyncio.wait_for(rig.cashbox.wait_for_coins(), 20))
        assert held == [100, 600, 610, 660, 760, 860]
        assert await rig.cashbox.return_all() == 860
        assert sorted(rig.simulator.mechanics.cup) == [10, 50, 100, 100, 100, 500]
        statistics = rig.controller.link_statistics
        assert noisy.damaged > 0
        assert statistics["crc_errors"] + statistics["framing_errors"] + statistics["retransmissions"] > 0


class LosingCoins:
    """The host's end of a line that, while ``losing``, loses the board's COIN frames (``what="coin"``)
    or the host's ACKs of them (``what="ack"``) and carries every other frame, until the board says
    HELLO again: the board's link gives up on the COIN while the host's stays up."""

    def __init__(self, inner: FdTransport, what: str) -> None:
        self.inner = inner
        self.what = what
        self.losing = False
        self.lost = 0
        self._pending = b""
        self._coin_seqs: set[int] = set()

    def fileno(self) -> int:
        return self.inner.fileno()

    @staticmethod
    def _frame(body: bytes) -> tuple[int, int, bytes] | None:
        frames = link.Decoder().feed(b"\x00" + body + b"\x00")
        return frames[0] if frames else None

    def write(self, data: bytes) -> None:  # (the link writes one frame at a time)
        frame = self._frame(data.strip(b"\x00"))
        if self.losing and frame is not None and frame[0] == link.ACK and frame[1] in self._coin_seqs:
            self.lost += 1
            return
        self.inner.write(data)

    def read(self) -> bytes:
        *bodies, self._pending = (self._pending + self.inner.read()).split(b"\x00")
        kept = b""
        for body in filter(None, bodies):
            frame = self._frame(body)
            if frame is not None and frame[0] == link.HELLO:
                self.losing = False  # the board's link gave up and shakes hands again
                self._coin_seqs.clear()
            elif (
                self.losing
                and frame is not None
                and frame[0] == link.DATA
                and frame[2][:1] == bytes((messages.COIN,))
            ):
                if self.what == "coin":
                    self.lost += 1
                    continue
                self._coin_seqs.add(frame[1])
            kept += b"\x00" + body + b"\x00"
        return kept


def losing_line(rig: Rig, what: str) -> LosingCoins:
    """``rig``'s controller connected again through a :class:`LosingCoins` line (not yet losing)."""
    rig.controller.close()
    line = LosingCoins(rig.simulator.transport, what)
    rig.simulator.transport = line  # type: ignore[assignment]
    rig.connect()
    return line


@in_loop
async def test_a_coin_the_board_could_not_confirm_before_its_link_failed_still_counts(tmp_path: Path) -> None:
    """The board's COIN is lost on the line, every other frame goes through: the board's link fails
    on it (the host's never does, so the kiosk hears of no failure), and the COIN comes again."""
    with peripheral_rig(tmp_path) as rig:
        line = losing_line(rig, "coin")
        rig.cashbox.open(300)
        assert await coins(rig, 100) == [100]
        line.losing = True
        assert rig.simulator.drop_coin(50)
        assert await asyncio.wait_for(rig.cashbox.wait_for_coins(), 10) == 150
        assert not line.losing and line.lost >= 6  # the board sent it 6 times, then its link restarted
        assert rig.controller.link_statistics["peer_restarts"] == 1
        assert "LINK_DOWN" not in rig.names()
        assert await coins(rig, 100) == [250]
        assert await rig.cashbox.return_all() == 250
        assert sorted(rig.simulator.mechanics.cup) == [50, 100, 100]


@in_loop
async def test_a_coin_sent_again_after_the_board_link_restarted_counts_once(tmp_path: Path) -> None:
    """The host's ACKs are lost: the kiosk counted the COIN, the board could not know, and sends it
    again once its link is back; the kiosk recognises it by the total it carries."""
    with peripheral_rig(tmp_path) as rig:
        line = losing_line(rig, "ack")
        rig.cashbox.open(300)
        line.losing = True
        before = len(rig.events)
        assert await coins(rig, 100) == [100]
        again = await asyncio.to_thread(
            rig.wait_for_event, "COIN", after=rig.names().index("COIN", before) + 1
        )
        assert again.fields == {"payment": rig.cashbox.payment, "value": 100, "held": 100}
        assert not line.losing
        assert await coins(rig, 50) == [150]  # not 100 again: the repeat woke nobody
        assert rig.cashbox.held == 150
        assert await rig.cashbox.return_all() == 150


@in_loop
async def test_a_coin_of_the_last_payment_sent_again_after_the_next_opened_counts_for_nothing(
    tmp_path: Path,
) -> None:
    """The host's ACKs of payment 1's COIN are lost. The kiosk gives up waiting for the board to say it
    returned payment 1 (that answer waits behind the unconfirmed COIN), closes it and opens payment
    2. Then the board's link fails, comes back and sends payment 1's COIN and PAYMENT_RETURNED again,
    the COIN with a held total above payment 2's: the kiosk counts neither toward payment 2."""
    with peripheral_rig(tmp_path) as rig:
        line = losing_line(rig, "ack")
        machine = rig.simulator.mechanics
        rig.cashbox.open(300)
        first = rig.cashbox.payment
        line.losing = True
        assert await coins(rig, 100) == [100]
        rig.cashbox.answer_timeout = 0.1  # far shorter than the board's link takes to give up (~1.2 s)
        assert await rig.cashbox.return_all() == 100  # the board had the command: it returns them
        mark = len(rig.events)
        rig.cashbox.open(100)
        second = rig.cashbox.payment
        assert second == messages.next_payment(first)
        returned = await asyncio.to_thread(rig.wait_for_event, "PAYMENT_RETURNED", after=mark)
        assert returned.fields == {"payment": first, "returned": 100} and not line.losing
        again = [event.fields for event in rig.events[mark:] if event.name == "COIN"]
        assert again == [{"payment": first, "value": 100, "held": 100}]  # before the fix: counted
        assert (rig.cashbox.fee, rig.cashbox.payment, rig.cashbox.held) == (100, second, 0)
        assert machine.cup == [100] and machine.escrow == []
        assert await coins(rig, 100) == [100]  # payment 2's own coin, woken by nothing before it
        assert await rig.cashbox.accept(100) == 0
        assert machine.cup == [100] and machine.cash_box == [100] and machine.escrow == []


@in_loop
async def test_the_cashbox_and_the_answers_heed_only_the_open_payment_s_number() -> None:
    """The host's end without a board: messages as the link delivers them, decoded by the driver."""
    reading, writing = os.pipe()
    try:
        controller = PeripheralController(FdTransport(writing))  # not started: nothing is sent
        cashbox = LinkedCashbox(controller)
        controller.state.up = True
        cashbox.open(300)
        payment = cashbox.payment
        other = messages.next_payment(payment)

        def arrives(code: int, *values: int) -> None:
            controller._on_message(code, messages.encode(code, *values))

        arrives(messages.COIN, other, 500, 500)  # another payment's, with a larger total
        arrives(messages.PAYMENT_RETURNED, other, 500)
        arrives(messages.PAYMENT_ACCEPTED, other, 500, 0, 0)
        assert (cashbox.fee, cashbox.held) == (300, 0)
        arrives(messages.COIN, payment, 100, 100)
        arrives(messages.COIN, payment, 100, 100)  # the same again: counted once
        arrives(messages.COIN_RETURNED, payment, 10)
        assert cashbox.held == 100
        assert await asyncio.wait_for(cashbox.wait_for_coins(), 5) == 100

        def of_this_payment(event: Event) -> bool:
            return bool(event["payment"] == payment)

        answer = controller.submit(
            messages.RETURN_PAYMENT, payment, answers={"PAYMENT_RETURNED"}, where=of_this_payment
        )
        controller._drain_outbox()  # onto the link (it waits there for the handshake)
        arrives(messages.PAYMENT_RETURNED, other, 100)
        assert not answer.done() and cashbox.fee == 300
        arrives(messages.PAYMENT_RETURNED, payment, 100)
        assert answer.result(0).fields == {"payment": payment, "returned": 100}
        closed = {"fee": cashbox.fee, "payment": cashbox.payment, "held": cashbox.held}
        assert closed == {"fee": None, "payment": messages.NO_PAYMENT, "held": 0}
        cashbox.open(300)
        assert cashbox.payment == other  # numbered in turn
    finally:
        os.close(reading)
        os.close(writing)


def test_garbage_on_the_line_and_malformed_commands_do_not_stop_the_board(rig: Rig) -> None:
    noise = random.Random(3).randbytes(4000)
    os.write(rig.simulator.transport.fileno(), noise)
    before = status(rig)["crc_errors"]
    for code, data in (
        (messages.OPEN_PAYMENT, b"\x01"),
        (messages.SET_LIGHT, b""),
        (0x55, b"xyz"),
        (messages.BOOTED, b"\x00" * 5),
    ):
        rig.controller.send_raw(code, data)
        refused = rig.wait_for_event("REFUSED", where=lambda e, c=code: e["command"] == c)
        assert refused["reason"] == messages.REASON_BAD_MESSAGE
    after = status(rig)
    assert after["fee"] == 0 and after["crc_errors"] >= before
    assert rig.simulator.running


def test_a_request_to_a_board_that_is_gone_fails_clearly(rig: Rig) -> None:
    rig.simulator.reset_controller(restart=False)
    with pytest.raises(ControllerUnavailable):
        rig.controller.request(messages.GET_STATUS, answers={"STATUS"}, timeout=8)


def test_the_serial_transport_carries_the_link_and_a_missing_port_is_clear(tmp_path: Path) -> None:
    """pyserial on a pty's slave (as on the board's /dev/ttyACM0), a CPython link on its master."""
    master, slave = os.openpty()
    board_side = FdTransport(master)
    stop = threading.Event()

    def board() -> None:
        peer = link.Link(board_side, lambda: time.monotonic_ns() // 1_000_000, 11, retry_ms=100)
        booted = False
        while not stop.is_set():
            for code, _data in peer.poll():
                if code == messages.GET_STATUS:
                    peer.send(
                        messages.STATUS, messages.encode(messages.STATUS, 0, 0, 0, 0, 0, 0, 42, 1234, 0)
                    )
            if peer.state == link.UP and not booted:
                peer.send(messages.BOOTED, messages.encode(messages.BOOTED, messages.RESET_POWER_ON, 0))
                booted = True
            time.sleep(0.001)

    thread = threading.Thread(target=board, daemon=True)
    thread.start()
    transport = SerialTransport(os.ttyname(slave))
    controller = PeripheralController(transport).start()
    try:
        assert controller.wait_until_up(10)
        assert controller.request(messages.GET_STATUS, answers={"STATUS"})["heap_free"] == 1234
    finally:
        controller.close()
        transport.close()
        stop.set()
        thread.join(5)
        os.close(master)
        os.close(slave)
    with pytest.raises(ControllerUnavailable, match="cannot open"):
        SerialTransport(str(tmp_path / "ttyACM9"))
