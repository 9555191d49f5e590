"""The watchdog: ``machine.WDT`` on the board, a fake with the same ``feed()`` elsewhere.

``Watchdog(timeout_ms, clock)`` uses the hardware timer when ``machine`` has one; the fake records the
time of the last feed so a test can see that a stuck loop would have tripped it (``tripped(now)``).
"""

from ticks import elapsed


class FakeWatchdog:
    def __init__(self, timeout_ms, clock):
        self.timeout_ms = timeout_ms
        self._clock = clock
        self.last_feed = clock()
        self.feeds = 0

    def feed(self):
        self.last_feed = self._clock()
        self.feeds += 1

    def tripped(self, now=None):
        """True when more than ``timeout_ms`` passed since the last feed: a board would have reset."""
        if now is None:
            now = self._clock()
        return elapsed(now, self.last_feed) > self.timeout_ms


def Watchdog(timeout_ms, clock):
    """The hardware watchdog if there is one, else a ``FakeWatchdog``."""
    try:
        import machine

        wdt = machine.WDT
    except (ImportError, AttributeError):
        return FakeWatchdog(timeout_ms, clock)
    return wdt(timeout=timeout_ms)
