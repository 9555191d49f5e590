"""The card tray and the printer's output tray: presence sensors and the card tray's light.

Pins are injected; ``poll(now)`` is called from the main loop with the time in milliseconds.
"""

import messages
from ticks import elapsed

DEBOUNCE_MS = 30
BLINK_ON_MS = 500
BLINK_PERIOD_MS = 1000


class Presence:
    """A presence sensor (1 = something in the tray) whose level must hold ``debounce_ms`` to count.

    ``present`` is the debounced state (the level at start counts at once); ``poll(now)`` returns the
    new state when it changed, else None.
    """

    def __init__(self, pin, clock, debounce_ms=DEBOUNCE_MS):
        self.pin = pin
        self.debounce_ms = debounce_ms
        self.present = 1 if pin.value() else 0
        self._candidate = self.present
        self._since = clock()

    def poll(self, now):
        level = 1 if self.pin.value() else 0
        if level != self._candidate:
            self._candidate = level
            self._since = now
            return None
        if level != self.present and elapsed(now, self._since) >= self.debounce_ms:
            self.present = level
            return level
        return None


class Light:
    """The card tray's light: LIGHT_OFF, LIGHT_ON or LIGHT_BLINK (500 ms on, 500 ms off)."""

    def __init__(self, pin, clock):
        self.pin = pin
        self.pattern = messages.LIGHT_OFF
        self._since = clock()
        self._level = 0
        pin.value(0)

    def set(self, pattern, now):
        if pattern not in (messages.LIGHT_OFF, messages.LIGHT_ON, messages.LIGHT_BLINK):
            raise ValueError("unknown light pattern")
        if pattern != self.pattern:
            self.pattern = pattern
            self._since = now
        self.poll(now)

    def poll(self, now):
        if self.pattern == messages.LIGHT_BLINK:
            level = 1 if elapsed(now, self._since) % BLINK_PERIOD_MS < BLINK_ON_MS else 0
        else:
            level = 1 if self.pattern == messages.LIGHT_ON else 0
        if level != self._level:
            self._level = level
            self.pin.value(level)
