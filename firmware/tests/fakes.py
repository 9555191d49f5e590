"""Pins, a link and a store the tests drive by hand (MicroPython and CPython)."""

import link
import messages


class FakePin:
    """A pin at its logical level; ``set``/``pulse`` drive an input, ``changes`` records an output."""

    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, level=0, clock=None):
        self.level = level
        self.clock = clock
        self.handler = None
        self.trigger = 0
        self.changes = []  # (time, level) of each change written by the firmware

    def value(self, level=None):
        if level is None:
            return self.level
        level = 1 if level else 0
        if level != self.level:
            self.level = level
            self.changes.append((self.clock() if self.clock else 0, level))
        return None

    def irq(self, handler=None, trigger=IRQ_RISING | IRQ_FALLING):
        self.handler = handler
        self.trigger = trigger

    def set(self, level):
        level = 1 if level else 0
        if level == self.level:
            return
        self.level = level
        edge = self.IRQ_RISING if level else self.IRQ_FALLING
        if self.handler is not None and self.trigger & edge:
            self.handler(self)

    def pulse(self, n=1):
        for _ in range(n):
            self.set(1)
            self.set(0)


def make_pins(clock):
    import controller

    pins = {}
    for name in controller.INPUTS + controller.OUTPUTS:
        pins[name] = FakePin(clock=clock)
    return pins


class FakeDecoder:
    crc_errors = 0


class FakeLink:
    """What the controller uses of a Link: ``poll``, ``send``, ``state``, ``failure``, ``decoder``."""

    def __init__(self, state=link.UP):
        self.state = state
        self.failure = None
        self.decoder = FakeDecoder()
        self.incoming = []
        self.sent = []
        self.queue_full = False

    def poll(self):
        delivered, self.incoming = self.incoming, []
        return delivered

    def send(self, code, data=b""):
        if self.state != link.UP:
            raise self.failure or link.LinkError("down")
        if self.queue_full:
            raise link.QueueFull(8)
        self.sent.append((code, bytes(data)))

    def command(self, code, *values):
        self.incoming.append((code, messages.encode(code, *values)))

    def events(self, code=None):
        """The events sent so far (decoded), those of ``code`` only if given; forgets them."""
        out = [(c, messages.decode(c, d)) for c, d in self.sent if code is None or c == code]
        self.sent = []
        return out


class MemoryStore:
    def __init__(self, value=0):
        self.value = value
        self.saved = []

    def load(self):
        return self.value

    def save(self, value):
        if value != self.value:
            self.value = value
            self.saved.append(value)
