"""The coin acceptor, its escrow and the change hoppers (硬貨処理).

Pins are injected (``value()``, ``value(v)``, ``irq(handler, trigger)``); ``clock()`` returns
milliseconds. Interrupt handlers only add to integer counters; ``poll(now)`` does the rest in the main
loop. See docs/firmware.md, "Coins, escrow and change".
"""

try:
    from micropython import const
except ImportError:

    def const(value):
        return value


import messages
from ticks import MASK, elapsed

# pulses per coin → yen; any other count is an unrecognised coin
PULSE_VALUES = (0, 10, 50, 100, 500)
TRAIN_GAP_MS = const(120)  # a pulse train ends after this long without a pulse
GATE_MS = const(100)  # how long an escrow solenoid is powered
HOPPER_TIMEOUT_MS = const(1000)  # a hopper that gives no coin for this long is empty


def rising(pin):
    """The trigger value for a rising edge on ``pin`` (machine.Pin and the fake pins name it alike)."""
    return getattr(pin, "IRQ_RISING", 1)


class Pulser:
    """An output held at 1 for ``length_ms`` after ``fire``, then 0, without blocking."""

    def __init__(self, pin, length_ms=GATE_MS):
        self.pin = pin
        self.length_ms = length_ms
        self.since = None
        self.fired = 0
        pin.value(0)

    def fire(self, now):
        self.fired += 1
        self.since = now
        self.pin.value(1)

    def poll(self, now):
        if self.since is not None and elapsed(now, self.since) >= self.length_ms:
            self.since = None
            self.pin.value(0)

    @property
    def active(self):
        return self.since is not None


class Hopper:
    """One change hopper: a motor output and an exit sensor giving one rising pulse per coin."""

    def __init__(self, value, motor, exit_pin):
        self.value = value
        self.motor = motor
        self.exit = exit_pin
        self.count = 0  # written only by the interrupt handler
        self.empty = False
        motor.value(0)
        self._irq = self._on_exit  # bound once: creating it inside the interrupt would allocate
        exit_pin.irq(self._irq, rising(exit_pin))

    def _on_exit(self, pin):
        self.count = (self.count + 1) & MASK


class Coins:
    """Payment state, the acceptor's pulse trains, the escrow gates and change payout.

    ``poll(now)`` returns a list of events ``(code, values)`` for the controller to send.
    ``enabled`` (set by the controller) is False while the link is down or an alarm is latched: the
    inhibit output is then on whatever the payment state.
    """

    def __init__(
        self,
        pulse,
        inhibit,
        escrow_accept,
        escrow_return,
        hoppers,
        clock,
        gap_ms=TRAIN_GAP_MS,
        hopper_timeout_ms=HOPPER_TIMEOUT_MS,
        gate_ms=GATE_MS,
    ):
        self._clock = clock
        self.inhibit = inhibit
        self.accept_gate = Pulser(escrow_accept, gate_ms)
        self.return_gate = Pulser(escrow_return, gate_ms)
        self.hoppers = sorted(hoppers, key=lambda hopper: -hopper.value)  # largest first
        self.gap_ms = gap_ms
        self.hopper_timeout_ms = hopper_timeout_ms
        self.enabled = True
        # payment
        self.payment = messages.NO_PAYMENT  # the open payment's number, chosen by the host
        self.fee = 0  # 0: no payment open
        self.held = 0  # yen of recognised coins taken toward the fee
        self.stray = 0  # yen of refused coins that stayed in escrow beside held coins
        self.counts = {value: 0 for value in messages.COINS}
        self.total = 0  # every yen ever taken into the cash box
        self.unrecognised = 0
        # the pulse train: ``pulses`` is written only by the interrupt handler
        self.pulses = 0
        self._taken = 0
        self._seen = 0
        self._last_pulse = clock()
        # change payout in progress
        self._paying = None  # (payment, accepted, change) while the hoppers run
        self._owed = 0
        self._hopper = -1
        self._target = 0
        self._start_count = 0
        self._last_coin = 0
        self._given = 0
        self._inhibited = None
        self._irq = self._on_pulse
        pulse.irq(self._irq, rising(pulse))
        self._update_inhibit()

    # -- interrupt ---------------------------------------------------------------------------------
    def _on_pulse(self, pin):
        self.pulses = (self.pulses + 1) & MASK

    # -- state ---------------------------------------------------------------------------------------
    @property
    def is_open(self):
        return self.fee != 0

    @property
    def busy(self):
        """A payment is open or change is being paid out."""
        return self.fee != 0 or self._paying is not None

    @property
    def escrow(self):
        """Yen lying in escrow (held toward the fee and refused coins beside them)."""
        return self.held + self.stray

    def open(self, payment, fee):
        self.payment = payment
        self.fee = fee
        self.held = 0
        self.stray = 0
        for value in self.counts:
            self.counts[value] = 0
        self._update_inhibit()

    def return_all(self, now):
        """Every coin in escrow back to the resident; the payment closes. Returns the yen given back."""
        returned = self.escrow
        self.return_gate.fire(now)
        self._close()
        return returned

    def accept(self, fee, now, events):
        """The escrow into the cash box; change (held − fee, plus refused coins) paid by the hoppers."""
        change = self.held + self.stray - fee
        self.total += fee
        self.accept_gate.fire(now)
        self._paying = (self.payment, fee, change)
        self._close()
        self._owed = change
        self._hopper = -1
        self._next_hopper(now, events)

    def _close(self):
        self.payment = messages.NO_PAYMENT
        self.fee = 0
        self.held = 0
        self.stray = 0
        for value in self.counts:
            self.counts[value] = 0
        self._update_inhibit()

    def _update_inhibit(self):
        refuse = not self.enabled or self.fee == 0 or self.held >= self.fee
        level = 1 if refuse else 0
        if level != self._inhibited:
            self._inhibited = level
            self.inhibit.value(level)

    # -- the main loop's part -----------------------------------------------------------------------
    def poll(self, now=None):
        if now is None:
            now = self._clock()
        events = []
        self.accept_gate.poll(now)
        self.return_gate.poll(now)
        self._update_inhibit()
        pulses = self.pulses
        if pulses != self._seen:
            self._seen = pulses
            self._last_pulse = now
        elif pulses != self._taken and elapsed(now, self._last_pulse) >= self.gap_ms:
            count = (pulses - self._taken) & MASK
            self._taken = pulses
            self._coin(count, now, events)
        if self._paying is not None:
            self._pay(now, events)
        return events

    def _coin(self, count, now, events):
        value = PULSE_VALUES[count] if count < len(PULSE_VALUES) else 0
        if value and self.enabled and self.fee and self.held < self.fee:
            self.held += value
            self.counts[value] += 1
            events.append((messages.COIN, (self.payment, value, self.held)))
            self._update_inhibit()
            return
        # refused: an unrecognised coin, or one that came although the acceptor was inhibited
        if not value:
            self.unrecognised += 1
        events.append((messages.COIN_RETURNED, (self.payment, value)))
        if self.escrow == 0:
            self.return_gate.fire(now)  # alone in escrow: it goes straight back
        else:
            self.stray += value  # it lies beside held coins: back with them, or paid back as change

    def _next_hopper(self, now, events):
        while True:
            self._hopper += 1
            if self._hopper >= len(self.hoppers) or self._owed <= 0:
                payment, accepted, change = self._paying
                self._paying = None
                events.append((messages.PAYMENT_ACCEPTED, (payment, accepted, change, max(self._owed, 0))))
                return
            hopper = self.hoppers[self._hopper]
            target = self._owed // hopper.value
            if target and not hopper.empty:
                self._target = target
                self._start_count = hopper.count
                self._given = 0
                self._last_coin = now
                hopper.motor.value(1)
                return

    def _pay(self, now, events):
        hopper = self.hoppers[self._hopper]
        given = (hopper.count - self._start_count) & MASK
        if given >= self._target:
            done = True
        elif given != self._given:
            self._given = given
            self._last_coin = now
            return
        else:
            done = elapsed(now, self._last_coin) >= self.hopper_timeout_ms
            if done:
                hopper.empty = True
        if done:
            hopper.motor.value(0)
            self._owed -= given * hopper.value
            self._next_hopper(now, events)

    @property
    def paying(self):
        return self._paying is not None

    def refilled(self):
        """Staff may have refilled the hoppers (maintenance mode ended): try the empty ones again."""
        for hopper in self.hoppers:
            hopper.empty = False
