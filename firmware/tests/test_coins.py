"""Coins: pulse trains, payment state, inhibit, escrow gates and change from the hoppers."""

import coins
import messages
from fakes import FakePin
from lossy import ManualClock


class Rig:
    def __init__(self):
        self.clock = ManualClock(1000)
        clock = self.clock
        self.pulse = FakePin(clock=clock)
        self.inhibit = FakePin(clock=clock)
        self.accept = FakePin(clock=clock)
        self.ret = FakePin(clock=clock)
        self.motors = {}
        self.exits = {}
        hoppers = []
        for value in (10, 50, 100):  # given smallest first: the driver sorts them
            self.motors[value] = FakePin(clock=clock)
            self.exits[value] = FakePin(clock=clock)
            hoppers.append(coins.Hopper(value, self.motors[value], self.exits[value]))
        self.coins = coins.Coins(self.pulse, self.inhibit, self.accept, self.ret, hoppers, clock)
        self.events = []

    def run(self, ms, step=5):
        """Poll every ``step`` ms for ``ms`` ms; keep the events."""
        end = self.clock.now + ms
        while self.clock.now < end:
            self.clock.advance(step)
            self.events.extend(self.coins.poll(self.clock.now))

    def drop(self, pulses):
        self.pulse.pulse(pulses)
        self.run(300)

    def take(self):
        events, self.events = self.events, []
        return events


def test_each_denomination():
    for pulses, value in ((1, 10), (2, 50), (3, 100), (4, 500)):
        rig = Rig()
        rig.coins.open(7, 1000)
        rig.pulse.pulse(pulses)
        rig.run(115)
        assert rig.take() == [], pulses  # the train is not over before the gap
        rig.run(10)
        assert rig.take() == [(messages.COIN, (7, value, value))], pulses
        assert rig.coins.counts[value] == 1


def test_trains_add_up_and_the_gap_separates_them():
    rig = Rig()
    rig.coins.open(7, 1000)
    rig.pulse.pulse(3)
    rig.run(60)
    rig.pulse.pulse(1)  # within the gap: the same train, four pulses
    rig.run(200)
    rig.drop(2)
    assert rig.take() == [(messages.COIN, (7, 500, 500)), (messages.COIN, (7, 50, 550))]
    assert rig.coins.held == 550


def test_unrecognised_train_alone_is_returned_at_once():
    rig = Rig()
    rig.coins.open(7, 300)
    rig.drop(7)
    assert rig.take() == [(messages.COIN_RETURNED, (7, 0))]
    assert rig.ret.changes and rig.ret.changes[0][1] == 1
    assert rig.coins.unrecognised == 1 and rig.coins.held == 0


def test_unrecognised_train_beside_held_coins_stays_in_escrow():
    rig = Rig()
    rig.coins.open(7, 300)
    rig.drop(3)
    rig.ret.changes = []
    rig.drop(5)
    assert rig.take() == [(messages.COIN, (7, 100, 100)), (messages.COIN_RETURNED, (7, 0))]
    assert rig.ret.changes == []  # the return gate would give back the 100 yen too
    assert rig.coins.held == 100


def test_inhibit_while_no_payment_and_once_the_fee_is_reached():
    rig = Rig()
    assert rig.inhibit.level == 1
    rig.drop(3)  # a coin that came although inhibited, with no payment open: it concerns none
    assert rig.take() == [(messages.COIN_RETURNED, (0, 100))]
    assert rig.ret.level == 0 and rig.ret.changes[-2][1] == 1
    rig.coins.open(7, 150)
    assert rig.inhibit.level == 0
    rig.drop(3)
    assert rig.inhibit.level == 0
    rig.drop(2)
    assert rig.inhibit.level == 1
    rig.drop(1)  # over the fee: refused, it stays beside the held coins and is paid back as change
    assert rig.take() == [
        (messages.COIN, (7, 100, 100)),
        (messages.COIN, (7, 50, 150)),
        (messages.COIN_RETURNED, (7, 10)),
    ]
    assert rig.coins.escrow == 160
    rig.coins.enabled = False
    rig.coins.return_all(rig.clock.now)
    assert rig.inhibit.level == 1


def test_disabled_inhibits_an_open_payment():
    rig = Rig()
    rig.coins.open(7, 100)
    rig.run(5)
    assert rig.inhibit.level == 0
    rig.coins.enabled = False
    rig.run(5)
    assert rig.inhibit.level == 1
    rig.drop(1)
    assert rig.take() == [(messages.COIN_RETURNED, (7, 10))]


def test_gate_pulses_100_ms_without_blocking():
    rig = Rig()
    rig.coins.open(7, 100)
    rig.drop(3)
    start = rig.clock.now
    rig.coins.return_all(start)
    rig.run(200, step=1)
    assert rig.ret.changes[-2:] == [(start, 1), (start + 100, 0)], rig.ret.changes


def test_accept_with_change():
    rig = Rig()
    rig.coins.open(7, 120)
    rig.drop(3)
    rig.drop(2)
    rig.take()
    rig.coins.accept(120, rig.clock.now, rig.events)
    rig.run(10)
    assert rig.accept.changes[0][1] == 1
    assert rig.motors[100].changes == [] and rig.motors[50].changes == []
    assert rig.motors[10].level == 1
    rig.exits[10].pulse(2)
    rig.run(50)
    assert rig.motors[10].level == 1 and rig.take() == []
    rig.exits[10].pulse(1)
    rig.run(10)
    assert rig.motors[10].level == 0
    assert rig.take() == [(messages.PAYMENT_ACCEPTED, (7, 120, 30, 0))]
    assert rig.coins.total == 120 and not rig.coins.busy


def test_accept_exact_pays_nothing():
    rig = Rig()
    rig.coins.open(7, 100)
    rig.drop(3)
    rig.take()
    rig.coins.accept(100, rig.clock.now, rig.events)
    assert rig.take() == [(messages.PAYMENT_ACCEPTED, (7, 100, 0, 0))]
    for motor in rig.motors.values():
        assert motor.changes == []


def test_empty_hoppers_leave_change_owed():
    rig = Rig()
    rig.coins.open(7, 60)
    rig.drop(4)  # 500 yen: 440 change
    rig.take()
    rig.coins.accept(60, rig.clock.now, rig.events)
    rig.run(10)
    assert rig.motors[100].level == 1
    rig.exits[100].pulse(2)  # then the 100 hopper runs dry
    rig.run(995)
    assert rig.motors[100].level == 1
    rig.run(20)
    assert rig.motors[100].level == 0 and rig.motors[50].level == 1
    rig.exits[50].pulse(4)
    rig.run(10)
    assert rig.motors[50].level == 0 and rig.motors[10].level == 1
    rig.run(1100)  # the 10 hopper is empty as well
    assert rig.motors[10].level == 0
    assert rig.take() == [(messages.PAYMENT_ACCEPTED, (7, 60, 440, 40))]
    assert rig.coins.hoppers[0].empty and rig.coins.hoppers[2].empty
    rig.coins.refilled()
    assert not rig.coins.hoppers[0].empty


def test_return_all():
    rig = Rig()
    rig.coins.open(7, 1000)
    rig.drop(4)
    rig.drop(1)
    assert rig.coins.return_all(rig.clock.now) == 510
    assert not rig.coins.is_open and rig.coins.held == 0 and rig.inhibit.level == 1
    assert rig.ret.level == 1


def test_counters_wrap_as_small_integers():
    rig = Rig()
    rig.coins.open(7, 1000)
    rig.coins.pulses = rig.coins._taken = rig.coins._seen = 0x3FFFFFFF
    rig.drop(2)
    assert rig.take() == [(messages.COIN, (7, 50, 50))]
    assert rig.coins.pulses == 1


def test_every_event_names_its_payment():
    rig = Rig()
    assert rig.coins.payment == messages.NO_PAYMENT
    rig.coins.open(41, 100)
    rig.drop(4)
    rig.coins.accept(100, rig.clock.now, rig.events)
    assert rig.coins.payment == messages.NO_PAYMENT and rig.coins.busy  # closed, the change still paying
    rig.drop(1)  # while the hoppers pay: refused, and about no payment
    rig.exits[100].pulse(4)
    rig.run(10)
    assert rig.take() == [
        (messages.COIN, (41, 500, 500)),
        (messages.COIN_RETURNED, (messages.NO_PAYMENT, 10)),
        (messages.PAYMENT_ACCEPTED, (41, 100, 400, 0)),
    ]
    rig.coins.open(42, 300)  # the next payment: its own number on its coins
    rig.drop(3)
    assert rig.take() == [(messages.COIN, (42, 100, 100))]
    assert rig.coins.payment == 42
    assert rig.coins.return_all(rig.clock.now) == 100
    assert rig.coins.payment == messages.NO_PAYMENT
