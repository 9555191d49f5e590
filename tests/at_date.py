"""Run pytest with the clock of every process it starts moved to another date (libfaketime).

A test world has one clock; a test that meets the real clock by accident passes on the day it
was written and fails some day later. Run at other dates, it fails at once::

    python tests/at_date.py year-end -- -m "not daemons"
    python tests/at_date.py "2028-02-29T12:00+09:00" -- tests/test_calendar.py

The first argument is a named moment (:data:`MOMENTS`) or an ISO 8601 time with its offset; the
clock starts there and runs on at its normal pace. Only the wall clock moves: the monotonic clock,
and so every timeout, sleep and wait, is left alone (``DONT_FAKE_MONOTONIC``).

libfaketime comes from the ``libfaketime`` package on PyPI (its own, newer build): Debian 12's
libfaketime 0.9.10 breaks Python's timed waits (a lock or event with a timeout waits for the
shifted time; ``time.sleep`` fails with EINVAL when the monotonic clock is left alone).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable

import libfaketime

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def _next(hour: int, minute: int, *, month: int | None = None, day: int | None = None) -> dt.datetime:
    """The next moment after now, in Japan, at this time (of this day of the year)."""
    now = dt.datetime.now(JST)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if month is not None and day is not None:
        moment = moment.replace(month=month, day=day)
        return moment if moment > now else moment.replace(year=now.year + 1)
    return moment if moment > now else moment + dt.timedelta(days=1)


def _years_ahead(years: int) -> dt.datetime:
    now = dt.datetime.now(JST)
    try:
        return now.replace(year=now.year + years)
    except ValueError:  # 29 February, in a year without one
        return now.replace(year=now.year + years, day=28)


MOMENTS: dict[str, Callable[[], dt.datetime]] = {
    "year-ahead": lambda: _years_ahead(1),
    "two-years": lambda: _years_ahead(2),
    "three-years": lambda: _years_ahead(3),
    "year-end": lambda: _next(23, 59, month=12, day=31),  # 大晦日, in the year-end closure
    "before-opening": lambda: _next(6, 29),  # a minute before the service opens at 6:30
    "leap-day": lambda: dt.datetime(2028, 2, 29, 12, 0, tzinfo=JST),
}


def moment_of(name: str) -> dt.datetime:
    if name in MOMENTS:
        return MOMENTS[name]()
    moment = dt.datetime.fromisoformat(name)
    if moment.utcoffset() is None:
        raise SystemExit(f"at_date: {name!r} needs its offset (…+09:00), or one of {', '.join(MOMENTS)}")
    return moment


def faked_environment(moment: dt.datetime) -> dict[str, str]:
    """The environment that starts the clock of this process's children at ``moment``."""
    _needs_reload, additions = libfaketime.get_reload_information()
    offset = round((moment - dt.datetime.now(dt.UTC)).total_seconds())
    environment = {**os.environ, **additions, "FAKETIME": f"{offset:+d}"}
    if os.environ.get("LD_PRELOAD"):
        environment["LD_PRELOAD"] = f"{additions['LD_PRELOAD']}:{os.environ['LD_PRELOAD']}"
    return environment


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    moment = moment_of(argv[0])
    pytest_args = argv[1:]
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    print(f"at_date: the clock starts at {moment.astimezone(JST).isoformat()} ({argv[0]})", flush=True)
    os.execve(sys.executable, [sys.executable, "-m", "pytest", *pytest_args], faked_environment(moment))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
