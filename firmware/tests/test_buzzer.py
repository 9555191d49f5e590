"""The buzzer's patterns and their timing."""

import buzzer
import messages
from fakes import FakePin
from lossy import ManualClock


def run(pattern, until):
    clock = ManualClock(0)
    pin = FakePin(clock=clock)
    sounder = buzzer.Buzzer(pin, clock)
    sounder.set(pattern, 0)
    for t in range(0, until):
        clock.now = t
        sounder.poll(t)
    return pin.changes, sounder


def test_take_card_two_short_beeps_then_silence():
    changes, _ = run(messages.BUZZER_TAKE_CARD, 3100)
    assert changes == [
        (0, 1),
        (100, 0),
        (200, 1),
        (300, 0),
        (1500, 1),
        (1600, 0),
        (1700, 1),
        (1800, 0),
        (3000, 1),
    ], changes


def test_take_documents_one_long_beep_then_silence():
    changes, _ = run(messages.BUZZER_TAKE_DOCUMENTS, 4100)
    assert changes == [(0, 1), (600, 0), (2000, 1), (2600, 0), (4000, 1)], changes


def test_quiet_stops_at_once():
    _, sounder = run(messages.BUZZER_TAKE_DOCUMENTS, 100)
    sounder.set(messages.BUZZER_QUIET, 100)
    assert sounder.pin.level == 0
    for t in range(100, 3000, 50):
        sounder.poll(t)
    assert sounder.pin.level == 0 and len(sounder.pin.changes) == 2


def test_unknown_pattern_is_refused():
    sounder = buzzer.Buzzer(FakePin(), ManualClock(0))
    try:
        sounder.set(3, 0)
    except ValueError:
        return
    raise AssertionError("no ValueError")
