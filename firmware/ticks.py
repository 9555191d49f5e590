"""Tick arithmetic: durations on a millisecond clock that wraps, and counters that wrap the same way.

MicroPython's ``time.ticks_ms`` wraps at 2**30, so the time from one reading to a later one is their
difference modulo 2**30 (what ``time.ticks_diff`` gives for a later tick); a clock that never wraps
gives the same answer. Counters written by interrupt handlers are masked alike, so they stay small
integers and adding one never allocates.

Runs unchanged on the board, on the unix port and on CPython (the kiosk host imports ``firmware.link``,
which uses it).
"""

try:
    from micropython import const
except ImportError:

    def const(value):
        return value


MASK = const(0x3FFFFFFF)  # ticks and counters wrap here (2**30 - 1)


def elapsed(now, then):
    """Milliseconds from ``then`` to ``now`` on a clock that wraps at 2**30 (or never wraps)."""
    return (now - then) & MASK
