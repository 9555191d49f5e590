"""The controller: commands, events, refusals, the link going and coming, the main loop's guarantees."""

import os

import controller
import link
import messages
from fakes import FakeLink, MemoryStore, make_pins
from lossy import LossyLine, ManualClock, XorShift, port_pair


class Stop(Exception):
    pass


class TestController:
    def setUp(self):
        self.clock = ManualClock(10000)
        self.pins = make_pins(self.clock)
        self.devices = controller.build_devices(self.pins, self.clock)
        self.link = FakeLink(state=link.HANDSHAKE)
        self.store = MemoryStore()
        self.app = controller.Controller(self.link, self.clock, self.devices, store=self.store)
        self.pass_ms(5)
        self.link.state = link.UP
        self.pass_ms(5)
        self.link.events()

    def pass_ms(self, ms, step=5):
        end = self.clock.now + ms
        while self.clock.now < end:
            self.clock.advance(step)
            self.app.step()

    def command(self, code, *values):
        self.link.command(code, *values)
        self.pass_ms(5)
        return self.link.events()

    def coin(self, pulses):
        self.pins["coin_pulse"].pulse(pulses)
        self.pass_ms(150)

    def test_payment_with_change(self):
        assert self.pins["coin_inhibit"].level == 1
        assert self.command(messages.OPEN_PAYMENT, 1, 120) == []
        assert self.pins["coin_inhibit"].level == 0
        self.coin(4)
        assert self.link.events() == [(messages.COIN, (1, 500, 500))]
        assert self.pins["coin_inhibit"].level == 1
        assert self.store.value == 500
        self.command(messages.ACCEPT_PAYMENT, 1, 120)
        assert self.pins["hopper100_motor"].level == 1
        self.pins["hopper100_exit"].pulse(3)
        self.pass_ms(10)
        self.pins["hopper50_exit"].pulse(1)
        self.pass_ms(10)
        self.pins["hopper10_exit"].pulse(3)
        self.pass_ms(10)
        assert self.link.events() == [(messages.PAYMENT_ACCEPTED, (1, 120, 380, 0))]
        assert self.store.value == 0

    def test_return_payment(self):
        self.command(messages.OPEN_PAYMENT, 1, 300)
        self.coin(3)
        self.coin(1)
        self.link.events()
        assert self.command(messages.RETURN_PAYMENT, 1) == [(messages.PAYMENT_RETURNED, (1, 110))]
        assert self.pins["escrow_return"].level == 1
        self.pass_ms(150)
        assert self.pins["escrow_return"].level == 0

    def test_refused_commands(self):
        refused = messages.REFUSED
        assert self.command(messages.ACCEPT_PAYMENT, 1, 100) == [
            (refused, (messages.ACCEPT_PAYMENT, messages.REASON_NO_PAYMENT))
        ]
        assert self.command(messages.RETURN_PAYMENT, 1) == [
            (refused, (messages.RETURN_PAYMENT, messages.REASON_NO_PAYMENT))
        ]
        self.command(messages.OPEN_PAYMENT, 1, 100)
        assert self.command(messages.OPEN_PAYMENT, 1, 100) == [
            (refused, (messages.OPEN_PAYMENT, messages.REASON_PAYMENT_OPEN))
        ]
        assert self.command(messages.ACCEPT_PAYMENT, 1, 100) == [
            (refused, (messages.ACCEPT_PAYMENT, messages.REASON_NOT_PAID))
        ]
        assert self.command(messages.CLEAR_ALARM) == [
            (refused, (messages.CLEAR_ALARM, messages.REASON_NOT_MAINTENANCE))
        ]
        assert self.command(messages.SET_LIGHT, 7) == [
            (refused, (messages.SET_LIGHT, messages.REASON_BAD_MESSAGE))
        ]

    def test_malformed_commands_are_refused_never_raised(self):
        self.link.incoming.append((0x55, b""))
        self.link.incoming.append((messages.OPEN_PAYMENT, b"\x01"))
        self.link.incoming.append((messages.COIN, messages.encode(messages.COIN, 1, 10, 10)))
        self.pass_ms(5)
        assert self.link.events() == [
            (messages.REFUSED, (0x55, messages.REASON_BAD_MESSAGE)),
            (messages.REFUSED, (messages.OPEN_PAYMENT, messages.REASON_BAD_MESSAGE)),
            (messages.REFUSED, (messages.COIN, messages.REASON_BAD_MESSAGE)),
        ]
        rand = XorShift(5).rand
        for _ in range(400):
            code = rand(12) if rand(2) else rand(256)
            data = bytes(rand(256) for _ in range(rand(8)))
            self.link.incoming.append((code, data))
            self.pass_ms(5)
            self.link.events()
            if self.devices.coins.busy:
                self.link.command(messages.RETURN_PAYMENT, self.devices.coins.payment)
            self.link.command(messages.SET_MAINTENANCE, 1)
            self.link.command(messages.CLEAR_ALARM)
        assert self.app.errors == 0, self.app.last_error
        assert self.app.refused > 50

    def test_trays_and_door_report_changes(self):
        self.pins["card_tray"].set(1)
        self.pass_ms(40)
        self.pins["paper_tray"].set(1)
        self.pass_ms(40)
        assert self.link.events() == [(messages.CARD_TRAY, (1,)), (messages.PAPER_TRAY, (1,))]
        self.command(messages.SET_MAINTENANCE, 1)
        self.pins["door"].set(1)
        self.pass_ms(40)
        assert self.link.events() == [(messages.DOOR, (1,))]
        status = self.command(messages.GET_STATUS)
        flags, alarm = status[0][1][:2]
        assert flags == (
            messages.STATUS_CARD_PRESENT
            | messages.STATUS_PAPER_PRESENT
            | messages.STATUS_DOOR_OPEN
            | messages.STATUS_MAINTENANCE
        ), flags
        assert alarm == 0

    def test_light_and_buzzer_commands(self):
        self.command(messages.SET_LIGHT, messages.LIGHT_BLINK)
        self.command(messages.SET_BUZZER, messages.BUZZER_TAKE_CARD)
        assert self.pins["light"].level == 1 and self.pins["buzzer"].level == 1
        self.pass_ms(500)
        assert self.pins["light"].level == 0

    def test_alarm_while_paying_returns_the_escrow_and_latches(self):
        self.command(messages.OPEN_PAYMENT, 1, 500)
        self.coin(3)
        self.link.events()
        self.pins["door"].set(1)
        self.pass_ms(5)
        assert self.link.events() == [
            (messages.ALARM, (messages.ALARM_DOOR,)),
            (messages.PAYMENT_RETURNED, (1, 100)),
        ]
        assert self.pins["coin_inhibit"].level == 1 and self.pins["escrow_return"].level == 1
        self.pass_ms(40)
        assert self.link.events() == [(messages.DOOR, (1,))]
        assert self.command(messages.OPEN_PAYMENT, 1, 100) == [
            (messages.REFUSED, (messages.OPEN_PAYMENT, messages.REASON_ALARM))
        ]
        self.pins["door"].set(0)
        self.pass_ms(40)
        assert self.link.events() == [(messages.DOOR, (0,))]
        self.command(messages.SET_MAINTENANCE, 1)
        assert self.command(messages.CLEAR_ALARM) == [(messages.ALARM, (0,))]
        self.command(messages.SET_MAINTENANCE, 0)
        assert self.command(messages.OPEN_PAYMENT, 1, 100) == []

    def test_tamper_reported_on_the_next_pass(self):
        self.pins["tamper"].pulse(1)
        self.pass_ms(5)
        assert self.link.events() == [(messages.ALARM, (messages.ALARM_TAMPER,))]
        self.pass_ms(100)
        assert self.link.events() == []  # latched: reported once

    def test_host_gone_returns_the_escrow_after_5_s(self):
        self.command(messages.OPEN_PAYMENT, 1, 500)
        self.coin(3)
        self.command(messages.SET_BUZZER, messages.BUZZER_TAKE_DOCUMENTS)
        self.link.events()
        self.link.state = link.DOWN
        self.link.failure = link.LinkDown(6, [(messages.COIN, messages.encode(messages.COIN, 1, 100, 100))])
        self.pass_ms(10)
        assert self.pins["coin_inhibit"].level == 1  # coins refused while the host is gone
        assert self.pins["buzzer"].level == 0  # reminders stop
        self.pins["coin_pulse"].pulse(1)
        self.pass_ms(4900)
        assert self.devices.coins.is_open and self.pins["escrow_return"].changes[-1][1] == 0
        self.pass_ms(200)
        assert not self.devices.coins.is_open
        assert self.pins["escrow_return"].changes[-2][1] == 1
        self.pins["card_tray"].set(1)
        self.pass_ms(50)
        assert self.link.sent == []
        self.link.state = link.UP
        self.pass_ms(5)
        assert self.link.events() == [
            (messages.COIN, (1, 100, 100)),  # unconfirmed when the link failed: sent again, first
            (messages.COIN_RETURNED, (1, 10)),
            (messages.PAYMENT_RETURNED, (1, 110)),
            (messages.DOOR, (0,)),
            (messages.CARD_TRAY, (1,)),
            (messages.PAPER_TRAY, (0,)),
        ]

    def test_a_silent_host_is_gone_even_with_the_link_up(self):
        self.command(messages.OPEN_PAYMENT, 1, 500)
        self.coin(3)
        self.link.events()
        self.pass_ms(2800)  # the link stays up, the host says nothing (no heartbeat)
        assert self.pins["coin_inhibit"].level == 0 and self.devices.coins.is_open
        self.pass_ms(300)
        assert self.pins["coin_inhibit"].level == 1  # over 3 s of silence: coins refused
        self.pass_ms(4500)  # gone from 3 s after its last word (the OPEN_PAYMENT); 5 s more to go
        assert self.devices.coins.is_open
        self.pass_ms(400)
        assert not self.devices.coins.is_open  # and 5 s later the escrow goes back
        assert self.link.events() == [(messages.PAYMENT_RETURNED, (1, 100))]

    def test_a_host_that_keeps_asking_is_present(self):
        self.command(messages.OPEN_PAYMENT, 1, 500)
        for _ in range(12):
            self.command(messages.GET_STATUS)
            self.pass_ms(995)
        assert self.pins["coin_inhibit"].level == 0 and self.devices.coins.is_open

    def test_an_alarm_is_not_cleared_while_the_tamper_switch_is_still_tripped(self):
        self.pins["tamper"].set(1)
        self.pass_ms(10)
        assert self.link.events() == [(messages.ALARM, (messages.ALARM_TAMPER,))]
        self.command(messages.SET_MAINTENANCE, 1)
        assert self.command(messages.CLEAR_ALARM) == [
            (messages.REFUSED, (messages.CLEAR_ALARM, messages.REASON_STILL_TRIPPED))
        ]
        assert self.devices.guard.latched == messages.ALARM_TAMPER
        self.pins["tamper"].set(0)
        self.pass_ms(10)
        assert self.command(messages.CLEAR_ALARM) == [(messages.ALARM, (0,))]

    def test_outcome_lost_with_the_link_is_sent_again(self):
        accepted = messages.encode(messages.PAYMENT_ACCEPTED, 1, 100, 0, 0)
        self.link.state = link.DOWN
        self.link.failure = link.LinkDown(
            6, [(messages.PAYMENT_ACCEPTED, accepted), (messages.CARD_TRAY, b"\x01")]
        )
        self.pass_ms(10)
        self.link.state = link.UP
        self.pass_ms(5)
        assert self.link.events()[0] == (messages.PAYMENT_ACCEPTED, (1, 100, 0, 0))

    def test_a_coin_lost_with_the_link_is_sent_again_before_later_events(self):
        self.command(messages.OPEN_PAYMENT, 1, 500)
        self.coin(3)
        self.link.events()
        self.command(messages.GET_STATUS)
        self.link.state = link.DOWN  # the host may not have had the COIN (its ACK may be what was lost)
        self.link.failure = link.LinkDown(
            6,
            [(messages.COIN, messages.encode(messages.COIN, 1, 100, 100)), (messages.STATUS, b"")],
        )
        self.pass_ms(10)
        self.link.state = link.UP
        self.pass_ms(5)
        assert self.link.events() == [
            (messages.COIN, (1, 100, 100)),  # the same total: a host that had it counts it once
            (messages.DOOR, (0,)),
            (messages.CARD_TRAY, (0,)),
            (messages.PAPER_TRAY, (0,)),
        ]

    def test_queue_full_keeps_events_for_the_next_pass(self):
        self.link.queue_full = True
        self.command(messages.GET_STATUS)
        assert self.app.outbox
        self.link.queue_full = False
        self.pass_ms(5)
        assert [code for code, _ in self.link.events()] == [messages.STATUS]

    def test_status(self):
        self.command(messages.OPEN_PAYMENT, 1, 300)
        self.coin(3)
        self.link.events()
        self.pass_ms(2000)
        ((code, values),) = self.command(messages.GET_STATUS)
        flags, alarm, payment, fee, held, cause, uptime, heap_free, crc_errors = values
        assert code == messages.STATUS and flags == messages.STATUS_PAYMENT_OPEN
        assert (alarm, payment, fee, held, cause, crc_errors) == (0, 1, 300, 100, messages.RESET_SOFT, 0)
        assert uptime == 2 and heap_free > 0
        self.command(messages.RETURN_PAYMENT, 1)
        ((code, values),) = self.command(messages.GET_STATUS)
        assert values[2:5] == (messages.NO_PAYMENT, 0, 0)

    def test_payment_commands_name_the_open_payment(self):
        refused = messages.REFUSED
        assert self.command(messages.OPEN_PAYMENT, messages.NO_PAYMENT, 300) == [
            (refused, (messages.OPEN_PAYMENT, messages.REASON_BAD_MESSAGE))
        ]
        assert self.command(messages.OPEN_PAYMENT, 0xFFFF, 300) == []
        self.coin(3)
        assert self.link.events() == [(messages.COIN, (0xFFFF, 100, 100))]
        assert self.command(messages.ACCEPT_PAYMENT, 0xFFFE, 100) == [
            (refused, (messages.ACCEPT_PAYMENT, messages.REASON_NO_PAYMENT))
        ]
        assert self.command(messages.RETURN_PAYMENT, 1) == [
            (refused, (messages.RETURN_PAYMENT, messages.REASON_NO_PAYMENT))
        ]
        assert self.devices.coins.is_open and self.devices.coins.held == 100  # untouched by either
        assert self.command(messages.RETURN_PAYMENT, 0xFFFF) == [(messages.PAYMENT_RETURNED, (0xFFFF, 100))]
        self.pass_ms(150)
        self.coin(1)  # no payment open: refused, about none
        assert self.link.events() == [(messages.COIN_RETURNED, (messages.NO_PAYMENT, 10))]

    def test_a_coin_of_the_last_payment_sent_again_names_that_payment(self):
        """The host's ACKs of payment 1's COIN were lost; it gave up waiting for the board's answer to
        RETURN_PAYMENT and opened payment 2 before the board's link failed and came back."""
        self.command(messages.OPEN_PAYMENT, 1, 500)
        self.coin(3)
        unconfirmed = self.link.sent[:]
        assert [code for code, _ in unconfirmed] == [messages.COIN]
        self.link.sent = []
        self.command(messages.RETURN_PAYMENT, 1)
        self.pass_ms(150)
        assert self.command(messages.OPEN_PAYMENT, 2, 300) == []
        self.link.state = link.DOWN  # the COIN and PAYMENT_RETURNED of payment 1 were never confirmed
        unconfirmed.append((messages.PAYMENT_RETURNED, messages.encode(messages.PAYMENT_RETURNED, 1, 100)))
        self.link.failure = link.LinkDown(6, unconfirmed)  # (MicroPython has no [*a, b])
        self.pass_ms(10)
        self.link.state = link.UP
        self.pass_ms(5)
        assert self.link.events()[:2] == [
            (messages.COIN, (1, 100, 100)),  # payment 1's: the host knows it is not payment 2's
            (messages.PAYMENT_RETURNED, (1, 100)),
        ]
        self.coin(4)
        assert self.link.events() == [(messages.COIN, (2, 500, 500))]

    def test_an_exception_never_escapes_the_loop(self):
        class Broken:
            present = 0

            def poll(self, now):
                raise RuntimeError("sensor gone")

        self.devices.card = Broken()
        self.pass_ms(20)
        assert self.app.errors == 4 and isinstance(self.app.last_error, RuntimeError)

    def test_run_feeds_the_watchdog_every_pass(self):
        import watchdog

        dog = watchdog.FakeWatchdog(2000, self.clock)
        self.app.watchdog = dog
        passes = [0]

        def pause():
            self.clock.advance(1)
            passes[0] += 1
            if passes[0] == 50:
                raise Stop()

        stopped = False
        try:
            self.app.run(pause)
        except Stop:
            stopped = True
        assert stopped and dog.feeds == 50 and not dog.tripped()
        self.clock.advance(2500)  # a loop stuck this long would have been reset
        assert dog.tripped()


def test_booted_after_start_with_the_escrow_returned():
    clock = ManualClock(500)
    pins = make_pins(clock)
    devices = controller.build_devices(pins, clock)
    rand = XorShift(1).rand
    host_port, board_port = port_pair(LossyLine(rand), LossyLine(rand))
    board = link.Link(board_port, clock, session=7)
    host = link.Link(host_port, clock, session=9)
    store = MemoryStore(260)
    app = controller.Controller(board, clock, devices, store=store, reset_cause=messages.RESET_WATCHDOG)
    assert pins["escrow_return"].level == 1  # coins left in escrow by the reset go back at once
    assert store.value == 0
    got = []
    for _ in range(100):
        app.step()
        got.extend(host.poll())
        clock.advance(5)
    assert pins["escrow_return"].level == 0
    assert got[0] == (messages.BOOTED, messages.encode(messages.BOOTED, messages.RESET_WATCHDOG, 260)), got
    assert [code for code, _ in got].count(messages.BOOTED) == 1


def test_escrow_store_keeps_the_total_in_a_file():
    path = "escrow_test.dat"
    try:
        store = controller.EscrowStore(path)
        assert store.load() == 0
        store.save(1234)
        assert controller.EscrowStore(path).load() == 1234
    finally:
        if path in os.listdir():
            os.remove(path)
    assert controller.EscrowStore().load() == 0
