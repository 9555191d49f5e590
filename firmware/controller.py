"""The peripheral controller's application: commands from the kiosk in, device events out.

``Controller(link, clock, devices)`` is built by the board layer (board.py + main.py on the RP2040,
board_unix.py + simulator.py on the unix port) from injected drivers. ``step()`` is one pass of the main
loop and never raises; ``run()`` loops forever. See docs/firmware.md, "The controller".
"""

import gc
import struct

import link
import messages
from ticks import elapsed

HOST_GONE_MS = 5000  # an open payment's escrow goes back after the host is gone this long
# the host asks GET_STATUS every second: this long without any message from it, it is gone, even
# though the link has nothing in flight to notice it by (the board says nothing while nothing happens)
HOST_SILENT_MS = 3000
OUTBOX_LIMIT = 16

# events kept while the link is down and sent when it is up again; the other events (trays, door,
# alarm) are state, sent afresh from the current state each time the link comes up
_MONEY = (messages.COIN, messages.COIN_RETURNED, messages.PAYMENT_ACCEPTED, messages.PAYMENT_RETURNED)
# of the messages a failed link could not confirm, these are queued again: the host may then see one
# twice, never not at all. A COIN carries its payment's number and held total, so a host that had it
# already knows it again, and one that has opened the next payment since knows it is not about that
# one; a COIN it missed would leave the kiosk waiting for a coin it never hears of, because the
# host's end of the link stays up while the board's fails (the kiosk sees no LINK_DOWN)
_RESEND = (messages.COIN, messages.PAYMENT_ACCEPTED, messages.PAYMENT_RETURNED)


class Devices:
    """The drivers the controller drives (any may be None in a test that does not need it)."""

    def __init__(self, coins=None, card=None, paper=None, light=None, buzzer=None, guard=None):
        self.coins = coins
        self.card = card
        self.paper = paper
        self.light = light
        self.buzzer = buzzer
        self.guard = guard


class EscrowStore:
    """The yen in escrow, kept in a small file so a reset can report what it gave back.

    ``path`` None keeps nothing (``load`` returns 0: unknown).
    """

    def __init__(self, path=None):
        self.path = path
        self.value = None

    def load(self):
        if self.path is None:
            return 0
        try:
            with open(self.path, "rb") as file:
                data = file.read()
            return struct.unpack(">I", data)[0] if len(data) == 4 else 0
        except OSError:
            return 0

    def save(self, value):
        if value == self.value:
            return
        self.value = value
        if self.path is None:
            return
        try:
            with open(self.path, "wb") as file:
                file.write(struct.pack(">I", value))
        except OSError:
            pass  # a full or read-only filesystem only loses the report after a reset


class Controller:
    def __init__(
        self,
        link_,
        clock,
        devices,
        watchdog=None,
        store=None,
        reset_cause=messages.RESET_SOFT,
        sleep_ms=None,
        host_gone_ms=HOST_GONE_MS,
        host_silent_ms=HOST_SILENT_MS,
    ):
        self.link = link_
        self._clock = clock
        self.devices = devices
        self.coins = devices.coins
        self.watchdog = watchdog
        self.store = store if store is not None else EscrowStore()
        self.reset_cause = reset_cause
        self._sleep_ms = sleep_ms
        self.host_gone_ms = host_gone_ms
        self.host_silent_ms = host_silent_ms
        self.started = clock()
        self._last_now = self.started
        self.uptime_ms = 0  # added up pass by pass, so it outlives the clock's wrap
        self.errors = 0  # exceptions caught in the main loop
        self.last_error = None
        self.refused = 0
        self.dropped = 0  # events that did not fit the outbox
        self.outbox = []
        self._was_up = False
        self._booted_sent = False
        self._down_since = self.started
        self._heard_at = self.started  # when the host last said anything
        self._alarm_reported = 0
        # coins left in escrow by a reset go back to the resident
        self.returned_at_boot = self.store.load()
        if self.coins is not None:
            self.coins.return_gate.fire(self.started)
            self.coins.enabled = False
        self.store.save(0)
        self._handlers = {
            messages.OPEN_PAYMENT: self._open_payment,
            messages.ACCEPT_PAYMENT: self._accept_payment,
            messages.RETURN_PAYMENT: self._return_payment,
            messages.SET_LIGHT: self._set_light,
            messages.SET_BUZZER: self._set_buzzer,
            messages.SET_MAINTENANCE: self._set_maintenance,
            messages.CLEAR_ALARM: self._clear_alarm,
            messages.GET_STATUS: self._get_status,
        }

    # -- the main loop ----------------------------------------------------------------------------
    def run(self, pause=None):
        """Step forever, feeding the watchdog; ``pause()`` (default: sleep 1 ms) runs between passes."""
        if pause is None:
            import time

            sleep_ms = self._sleep_ms or time.sleep_ms

            def pause():
                sleep_ms(1)

        while True:
            self.step()
            if self.watchdog is not None:
                self.watchdog.feed()
            pause()

    def step(self):
        """One pass: the link, the commands, the drivers, the events. Never raises."""
        try:
            self._step(self._clock())
        except Exception as error:  # the loop must go on: count it, keep the latest for GET_STATUS
            self.errors += 1
            self.last_error = error

    def _step(self, now):
        self.uptime_ms += elapsed(now, self._last_now)
        self._last_now = now
        try:
            delivered = self.link.poll()
        except Exception as error:
            self.errors += 1
            self.last_error = error
            delivered = ()
        up = self.link.state == link.UP
        if delivered or (up and not self._was_up):
            self._heard_at = now
        if up and not self._was_up:
            self._link_came_up()
        elif self._was_up and not up:
            self._link_went_down(now)
        self._was_up = up
        for code, data in delivered:
            try:
                self._dispatch(code, data, now)
            except Exception as error:
                self.errors += 1
                self.last_error = error
                self._emit(messages.REFUSED, code & 0xFF, messages.REASON_BAD_MESSAGE)
        self._poll_devices(now, up)
        self._flush()

    def _poll_devices(self, now, up):
        devices = self.devices
        guard = devices.guard
        coins = self.coins
        if guard is not None:
            door = guard.poll(now)
            if door is not None:
                self._emit(messages.DOOR, door)
            new = guard.latched & ~self._alarm_reported
            if new:
                self._emit(messages.ALARM, guard.latched)
                if coins is not None and coins.is_open:
                    self._return_escrow(now)
            self._alarm_reported = guard.latched
        if coins is not None:
            alarm = guard is not None and guard.latched
            up = up and elapsed(now, self._heard_at) < self.host_silent_ms  # a silent host is gone too
            coins.enabled = up and not alarm
            if up:
                self._down_since = None
            elif self._down_since is None:
                self._down_since = now
            elif coins.is_open and elapsed(now, self._down_since) >= self.host_gone_ms:
                self._return_escrow(now)
            for code, values in coins.poll(now):
                self._emit(code, *values)
            self.store.save(coins.escrow)
        for sensor, code in ((devices.card, messages.CARD_TRAY), (devices.paper, messages.PAPER_TRAY)):
            if sensor is not None:
                present = sensor.poll(now)
                if present is not None:
                    self._emit(code, present)
        if devices.light is not None:
            devices.light.poll(now)
        if devices.buzzer is not None:
            devices.buzzer.poll(now)

    # -- the link coming and going ----------------------------------------------------------------
    def _link_came_up(self):
        # state events are sent afresh from the current state; money events waiting stay, in order
        kept = [item for item in self.outbox if item[0] in _MONEY]
        self.outbox = []
        if not self._booted_sent:
            self._booted_sent = True
            self._emit(messages.BOOTED, self.reset_cause, self.returned_at_boot)
        self.outbox.extend(kept)
        devices = self.devices
        guard = devices.guard
        if guard is not None:
            self._alarm_reported = guard.latched
            if guard.latched:
                self._emit(messages.ALARM, guard.latched)
            self._emit(messages.DOOR, guard.door_open)
        if devices.card is not None:
            self._emit(messages.CARD_TRAY, devices.card.present)
        if devices.paper is not None:
            self._emit(messages.PAPER_TRAY, devices.paper.present)

    def _link_went_down(self, now):
        failure = self.link.failure
        if isinstance(failure, link.LinkDown):
            again = [item for item in failure.unconfirmed if item[0] in _RESEND]
            self.outbox = again + self.outbox
        # reminders stop: nobody is at the host's screen to be reminded of anything
        devices = self.devices
        if devices.buzzer is not None:
            devices.buzzer.set(messages.BUZZER_QUIET, now)
        if devices.light is not None:
            devices.light.set(messages.LIGHT_OFF, now)

    def _return_escrow(self, now):
        """The open payment's coins back to the resident: PAYMENT_RETURNED (payment, returned)."""
        payment = self.coins.payment
        self._emit(messages.PAYMENT_RETURNED, payment, self.coins.return_all(now))

    def _emit(self, code, *values):
        """Queue an event for the host (sent by ``_flush`` when the link is up)."""
        if len(self.outbox) >= OUTBOX_LIMIT:
            for i, item in enumerate(self.outbox):  # make room by dropping the oldest state event
                if item[0] not in _MONEY:
                    del self.outbox[i]
                    break
            else:
                del self.outbox[0]
            self.dropped += 1
        self.outbox.append((code, messages.encode(code, *values)))

    def _flush(self):
        while self.outbox and self.link.state == link.UP:
            code, data = self.outbox[0]
            try:
                self.link.send(code, data)
            except link.QueueFull:
                return  # the next pass tries again
            except link.LinkError:
                return  # the link went down: _link_went_down sorts out what is sent again
            self.outbox.pop(0)

    # -- commands ---------------------------------------------------------------------------------
    def _dispatch(self, code, data, now):
        handler = self._handlers.get(code)
        if handler is None:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
            return
        try:
            values = messages.decode(code, bytes(data))
        except (messages.BadMessage, ValueError, TypeError):
            self._refuse(code, messages.REASON_BAD_MESSAGE)
            return
        handler(code, values, now)

    def _refuse(self, code, reason):
        self.refused += 1
        self._emit(messages.REFUSED, code & 0xFF, reason)

    def _no_coins(self, code):
        if self.coins is None:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
            return True
        return False

    def _open_payment(self, code, values, now):
        if self._no_coins(code):
            return
        payment, fee = values
        guard = self.devices.guard
        if fee == 0 or payment == messages.NO_PAYMENT:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
        elif guard is not None and guard.latched:
            self._refuse(code, messages.REASON_ALARM)
        elif self.coins.busy or self.coins.escrow:
            self._refuse(code, messages.REASON_PAYMENT_OPEN)
        else:
            self.coins.enabled = True
            self.coins.open(payment, fee)

    def _accept_payment(self, code, values, now):
        if self._no_coins(code):
            return
        payment, fee = values
        coins = self.coins
        if not coins.is_open or payment != coins.payment:
            self._refuse(code, messages.REASON_NO_PAYMENT)
        elif coins.held < fee or fee == 0:
            self._refuse(code, messages.REASON_NOT_PAID)
        else:
            events = []
            coins.accept(fee, now, events)
            for event, fields in events:
                self._emit(event, *fields)
            self.store.save(coins.escrow)

    def _return_payment(self, code, values, now):
        if self._no_coins(code):
            return
        if not self.coins.is_open or values[0] != self.coins.payment:
            self._refuse(code, messages.REASON_NO_PAYMENT)
        else:
            self._return_escrow(now)
            self.store.save(0)

    def _set_light(self, code, values, now):
        light = self.devices.light
        if light is None or values[0] > messages.LIGHT_BLINK:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
        else:
            light.set(values[0], now)

    def _set_buzzer(self, code, values, now):
        buzzer = self.devices.buzzer
        if buzzer is None or values[0] > messages.BUZZER_TAKE_DOCUMENTS:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
        else:
            buzzer.set(values[0], now)

    def _set_maintenance(self, code, values, now):
        guard = self.devices.guard
        if guard is None or values[0] > 1:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
            return
        was = guard.maintenance
        guard.set_maintenance(values[0])
        if was and not guard.maintenance and self.coins is not None:
            self.coins.refilled()

    def _clear_alarm(self, code, values, now):
        guard = self.devices.guard
        if guard is None:
            self._refuse(code, messages.REASON_BAD_MESSAGE)
        elif not guard.maintenance:
            self._refuse(code, messages.REASON_NOT_MAINTENANCE)
        elif guard.tamper.value():  # cleared now, it would latch again at once
            self._refuse(code, messages.REASON_STILL_TRIPPED)
        elif not guard.clear():
            self._refuse(code, messages.REASON_NOT_MAINTENANCE)
        else:
            self._alarm_reported = 0
            self._emit(messages.ALARM, guard.latched)

    def _get_status(self, code, values, now):
        self._emit(messages.STATUS, *self.status(now))

    def status(self, now=None):
        """The values of a STATUS event, in its layout's order."""
        if now is None:
            now = self._clock()
        devices = self.devices
        coins = self.coins
        guard = devices.guard
        flags = 0
        if coins is not None and coins.is_open:
            flags |= messages.STATUS_PAYMENT_OPEN
        if devices.card is not None and devices.card.present:
            flags |= messages.STATUS_CARD_PRESENT
        if devices.paper is not None and devices.paper.present:
            flags |= messages.STATUS_PAPER_PRESENT
        if guard is not None and guard.door_open:
            flags |= messages.STATUS_DOOR_OPEN
        if guard is not None and guard.maintenance:
            flags |= messages.STATUS_MAINTENANCE
        crc_errors = getattr(getattr(self.link, "decoder", None), "crc_errors", 0)
        gc.collect()  # the heap free of garbage: what the firmware really holds (a few ms, once a second)
        return (
            flags,
            guard.latched if guard is not None else 0,
            coins.payment if coins is not None else messages.NO_PAYMENT,
            coins.fee if coins is not None else 0,
            coins.held if coins is not None else 0,
            self.reset_cause,
            min(self.uptime_ms // 1000, 0xFFFFFFFF),
            min(gc.mem_free(), 0xFFFFFFFF) if hasattr(gc, "mem_free") else 0,
            min(crc_errors, 0xFFFF),
        )


INPUTS = (
    "coin_pulse",
    "card_tray",
    "paper_tray",
    "door",
    "tamper",
    "hopper10_exit",
    "hopper50_exit",
    "hopper100_exit",
)
OUTPUTS = (
    "coin_inhibit",
    "escrow_accept",
    "escrow_return",
    "light",
    "buzzer",
    "hopper10_motor",
    "hopper50_motor",
    "hopper100_motor",
)
HOPPERS = (100, 50, 10)  # yen; paid largest first


def build_devices(pins, clock):
    """The drivers over ``pins``, a dict by the names in INPUTS and OUTPUTS (logical levels, 1 = active)."""
    import buzzer
    import coins
    import guard
    import tray

    hoppers = []
    for value in HOPPERS:
        name = "hopper" + str(value)
        hoppers.append(coins.Hopper(value, pins[name + "_motor"], pins[name + "_exit"]))
    return Devices(
        coins=coins.Coins(
            pins["coin_pulse"],
            pins["coin_inhibit"],
            pins["escrow_accept"],
            pins["escrow_return"],
            hoppers,
            clock,
        ),
        card=tray.Presence(pins["card_tray"], clock),
        paper=tray.Presence(pins["paper_tray"], clock),
        light=tray.Light(pins["light"], clock),
        buzzer=buzzer.Buzzer(pins["buzzer"], clock),
        guard=guard.Guard(pins["door"], pins["tamper"], clock),
    )
