"""Wrong staff codes back off, across restarts (kiosk/staff_backoff.py), with an injected clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.staff_backoff import ALARM_AFTER, FILE_NAME, MAX_DELAY, StaffCodeBackoff, WrongCode, delay_after


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_each_wrong_code_doubles_the_wait_up_to_fifteen_minutes(tmp_path: Path, clock: Clock) -> None:
    backoff = StaffCodeBackoff.beside(tmp_path / "journal.json", clock=clock)
    assert backoff.path == tmp_path / FILE_NAME
    assert backoff.wait() == 0
    delays = []
    for _ in range(12):
        counted = backoff.wrong()
        assert backoff.wait() == counted.delay
        delays.append(counted.delay)
        clock.now += counted.delay - 0.5
        assert backoff.wait() == 0.5  # still refused half a second before
        clock.now += 0.5
        assert backoff.wait() == 0
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, MAX_DELAY, MAX_DELAY]
    assert MAX_DELAY == 900 and delay_after(10_000) == MAX_DELAY


def test_the_backoff_survives_a_restart(tmp_path: Path, clock: Clock) -> None:
    journal = tmp_path / "journal.json"
    for _ in range(3):
        StaffCodeBackoff.beside(journal, clock=clock).wrong()
    restarted = StaffCodeBackoff.beside(journal, clock=clock)  # new objects over the same file
    assert restarted.wait() == 4
    assert restarted.wrong().in_a_row == 4
    assert StaffCodeBackoff.beside(journal, clock=clock).wait() == 8
    assert not list(tmp_path.glob("*.partial"))  # written whole, then moved into place


def test_five_wrong_codes_in_a_row_are_an_alarm_and_the_right_code_resets(
    tmp_path: Path, clock: Clock
) -> None:
    backoff = StaffCodeBackoff(tmp_path / FILE_NAME, clock=clock)
    alarms = [backoff.wrong().alarm for _ in range(2 * ALARM_AFTER)]
    assert ALARM_AFTER == 5
    assert [i + 1 for i, alarm in enumerate(alarms) if alarm] == [5, 10]
    assert backoff.right() is True  # an alarm had been raised: the center is told it cleared
    assert not backoff.path.exists() and backoff.wait() == 0
    assert backoff.wrong() == WrongCode(in_a_row=1, delay=1.0, alarm=False)  # counted from one again
    assert backoff.right() is False


def test_a_clock_set_back_waits_no_longer_than_the_longest_delay(tmp_path: Path, clock: Clock) -> None:
    backoff = StaffCodeBackoff(tmp_path / FILE_NAME, clock=clock)
    backoff.wrong()
    clock.now -= 86_400
    assert backoff.wait() == MAX_DELAY


@pytest.mark.parametrize("text", ["", "{", '{"wrong": "x", "retry_at": 0, "alarmed": false}', "[]"])
def test_an_unreadable_file_fails_closed(tmp_path: Path, clock: Clock, text: str) -> None:
    backoff = StaffCodeBackoff(tmp_path / FILE_NAME, clock=clock)
    backoff.path.write_text(text, encoding="ascii")
    assert backoff.wait() == MAX_DELAY
    assert backoff.wrong().in_a_row == ALARM_AFTER + 1


def test_the_file_holds_counts_and_times_only(tmp_path: Path, clock: Clock) -> None:
    backoff = StaffCodeBackoff(tmp_path / FILE_NAME, clock=clock)
    backoff.wrong()
    backoff.wrong()
    assert json.loads(backoff.path.read_text(encoding="ascii")) == {
        "wrong": 2,
        "retry_at": clock.now + 2,
        "alarmed": False,
    }
