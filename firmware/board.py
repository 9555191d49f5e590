"""The board layer of the RP2040: pin numbers, logic levels, the USB serial transport, the reset cause.

Every pin the firmware uses is in PINS with its GPIO number and whether it is active low; the drivers
only ever see logical levels (1 = active). Not run on the development machine (there is no board);
``make firmware`` compiles it.
"""

import select
import sys

import machine
import messages

# name → (GPIO, active low); inputs have their pull-up or pull-down set so an open wire reads inactive
PINS = {
    # inputs
    "coin_pulse": (2, True),  # the acceptor's pulse output is open collector
    "card_tray": (3, True),  # optical sensors pull low when something is in the tray
    "paper_tray": (4, True),
    "door": (5, False),  # the door switch opens (pull-up wins) when the door opens
    "tamper": (6, False),
    "hopper10_exit": (7, True),
    "hopper50_exit": (8, True),
    "hopper100_exit": (9, True),
    # outputs (through driver transistors, active high)
    "coin_inhibit": (16, False),
    "escrow_accept": (17, False),
    "escrow_return": (18, False),
    "light": (19, False),
    "buzzer": (20, False),
    "hopper10_motor": (21, False),
    "hopper50_motor": (22, False),
    "hopper100_motor": (26, False),
}
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


class ActiveLowInput:
    """An active-low input pin with interrupts, seen at its logical level (machine.Signal has no irq)."""

    IRQ_RISING = machine.Pin.IRQ_RISING
    IRQ_FALLING = machine.Pin.IRQ_FALLING

    def __init__(self, pin):
        self.pin = pin

    def value(self, level=None):
        if level is None:
            return 1 - self.pin.value()
        return None

    def irq(self, handler=None, trigger=IRQ_RISING | IRQ_FALLING):
        swapped = 0
        if trigger & self.IRQ_RISING:
            swapped |= self.IRQ_FALLING
        if trigger & self.IRQ_FALLING:
            swapped |= self.IRQ_RISING
        return self.pin.irq(handler=handler, trigger=swapped)


def make_pins():
    pins = {}
    for name, (number, active_low) in PINS.items():
        if name in OUTPUTS:
            pins[name] = machine.Signal(
                machine.Pin(number, machine.Pin.OUT, value=1 if active_low else 0), invert=active_low
            )
        else:
            pull = machine.Pin.PULL_UP if active_low else machine.Pin.PULL_DOWN
            pin = machine.Pin(number, machine.Pin.IN, pull)
            pins[name] = ActiveLowInput(pin) if active_low else pin
    return pins


class UsbSerial:
    """The link's transport over the USB serial port (stdin/stdout), reads never blocking."""

    def __init__(self):
        self.rx = sys.stdin.buffer
        self.tx = sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(self.rx, select.POLLIN)
        self.byte = bytearray(1)

    def write(self, data):
        return self.tx.write(data)

    def read(self, limit=128):
        data = bytearray()
        while len(data) < limit and self.poller.poll(0):
            if self.rx.readinto(self.byte) != 1:
                break
            data.append(self.byte[0])
        return bytes(data)


def reset_cause():
    """machine.reset_cause() as a RESET_* value."""
    cause = machine.reset_cause()
    if cause == getattr(machine, "WDT_RESET", -1):
        return messages.RESET_WATCHDOG
    if cause == getattr(machine, "PWRON_RESET", -1):
        return messages.RESET_POWER_ON
    return messages.RESET_SOFT
