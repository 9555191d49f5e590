"""Wrong staff codes back off (係員暗証番号の試行制限), across restarts.

After each wrong code the next try is refused until a delay that doubles — 1 s, 2 s, 4 s … up to
15 minutes — and after :data:`ALARM_AFTER` wrong codes in a row the center is told (an alarm,
``staff_code``). A right code resets the count. The count survives a restart: it is kept in a small
file beside the order journal, written atomically, holding only counts and times::

    {"wrong": 3, "retry_at": 1767225600.0, "alarmed": false}

— never the code, nor anything typed. The clock is the wall clock (a restart resets a monotonic
one), injected for the tests; a retry further ahead than the longest delay (a clock set back) is
taken as the longest delay. A file that cannot be read is taken as the alarm's count with the
longest delay: the terminal fails closed, not open.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "staff-code-backoff.json"  # beside the order journal
FIRST_DELAY = 1.0  # seconds refused after the first wrong code; doubled after each one more
MAX_DELAY = 900.0  # 15 minutes: the longest refusal
ALARM_AFTER = 5  # wrong codes in a row that the center is told of (again at every 5 more)


@dataclass(frozen=True)
class WrongCode:
    """What a wrong code did: the count in a row, the refusal it started, whether to raise the alarm."""

    in_a_row: int
    delay: float
    alarm: bool


class StaffCodeBackoff:
    """The count of wrong staff codes in a row and when the next try is taken, kept in ``path``."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock

    @classmethod
    def beside(cls, journal: Path, *, clock: Callable[[], float] = time.time) -> StaffCodeBackoff:
        """The backoff of the terminal whose order journal is ``journal``."""
        return cls(journal.with_name(FILE_NAME), clock=clock)

    def wait(self) -> float:
        """Seconds until a code is taken again (0: now)."""
        _wrong, retry_at, _alarmed = self._read()
        return max(0.0, min(retry_at - self.clock(), MAX_DELAY))

    def wrong(self) -> WrongCode:
        """Count one more wrong code and refuse the next try for the doubled delay."""
        wrong, _retry_at, alarmed = self._read()
        wrong += 1
        delay = delay_after(wrong)
        alarm = wrong % ALARM_AFTER == 0
        self._write(wrong, self.clock() + delay, alarmed or alarm)
        return WrongCode(wrong, delay, alarm)

    def right(self) -> bool:
        """The right code: the count starts again. Whether an alarm had been raised (to clear it)."""
        _wrong, _retry_at, alarmed = self._read()
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(".partial").unlink(missing_ok=True)
        return alarmed

    def _read(self) -> tuple[int, float, bool]:
        try:
            data = json.loads(self.path.read_text(encoding="ascii"))
            wrong, retry_at, alarmed = int(data["wrong"]), float(data["retry_at"]), bool(data["alarmed"])
            if wrong < 0 or not math.isfinite(retry_at):
                raise ValueError("out of range")
            return wrong, retry_at, alarmed
        except FileNotFoundError:
            return 0, 0.0, False
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            log.warning("staff code backoff unreadable: taken as %d wrong codes", ALARM_AFTER)
            retry_at = self.clock() + MAX_DELAY
            self._write(ALARM_AFTER, retry_at, True)
            return ALARM_AFTER, retry_at, True

    def _write(self, wrong: int, retry_at: float, alarmed: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        with open(partial, "w", encoding="ascii") as file:
            json.dump({"wrong": wrong, "retry_at": retry_at, "alarmed": alarmed}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)


def delay_after(wrong: int) -> float:
    """The refusal after ``wrong`` wrong codes in a row: 1 s, 2 s, 4 s … at most 15 minutes."""
    if wrong <= 0:
        return 0.0
    return min(FIRST_DELAY * 2.0 ** min(wrong - 1, 30), MAX_DELAY)
