"""The buzzer: quiet, "take your card" and "take your documents" reminders, repeated until stopped.

A pattern is a tuple of durations in milliseconds, sounding and silent in turn, starting sounding.
"""

import messages
from ticks import elapsed

PATTERNS = {
    messages.BUZZER_QUIET: (),
    messages.BUZZER_TAKE_CARD: (100, 100, 100, 1200),  # two short beeps, then silence
    messages.BUZZER_TAKE_DOCUMENTS: (600, 1400),  # one long beep, then silence
}


class Buzzer:
    def __init__(self, pin, clock):
        self.pin = pin
        self.pattern = messages.BUZZER_QUIET
        self._steps = ()
        self._period = 0
        self._since = clock()
        self._level = 0
        pin.value(0)

    def set(self, pattern, now):
        steps = PATTERNS.get(pattern)
        if steps is None:
            raise ValueError("unknown buzzer pattern")
        if pattern != self.pattern:
            self.pattern = pattern
            self._steps = steps
            self._period = sum(steps)
            self._since = now
        self.poll(now)

    def poll(self, now):
        level = 0
        if self._period:
            at = elapsed(now, self._since) % self._period
            for i, length in enumerate(self._steps):
                if at < length:
                    level = 1 if i % 2 == 0 else 0
                    break
                at -= length
        if level != self._level:
            self._level = level
            self.pin.value(level)
