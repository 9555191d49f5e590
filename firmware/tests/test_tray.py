"""Presence sensors with debounce, and the card tray's light."""

import messages
import tray
from fakes import FakePin
from lossy import ManualClock


def test_debounced_change_after_30_ms():
    clock = ManualClock(0)
    pin = FakePin()
    sensor = tray.Presence(pin, clock)
    assert sensor.present == 0
    pin.set(1)
    assert sensor.poll(0) is None
    assert sensor.poll(29) is None
    assert sensor.poll(30) == 1
    assert sensor.poll(31) is None and sensor.present == 1


def test_bounces_shorter_than_30_ms_are_ignored():
    clock = ManualClock(0)
    pin = FakePin()
    sensor = tray.Presence(pin, clock)
    for t in range(0, 200, 10):
        pin.set(t // 10 % 2)
        assert sensor.poll(t) is None, t
    pin.set(0)
    assert sensor.poll(300) is None and sensor.present == 0


def test_level_at_start_counts_at_once():
    sensor = tray.Presence(FakePin(1), ManualClock(0))
    assert sensor.present == 1


def test_light_on_off():
    clock = ManualClock(0)
    pin = FakePin(clock=clock)
    light = tray.Light(pin, clock)
    light.set(messages.LIGHT_ON, 0)
    assert pin.level == 1
    light.set(messages.LIGHT_OFF, 10)
    assert pin.level == 0


def test_light_blinks_500_on_500_off():
    clock = ManualClock(0)
    pin = FakePin(clock=clock)
    light = tray.Light(pin, clock)
    clock.now = 1000
    light.set(messages.LIGHT_BLINK, 1000)
    for t in range(1000, 3200, 10):
        clock.now = t
        light.poll(t)
    assert pin.changes == [(1000, 1), (1500, 0), (2000, 1), (2500, 0), (3000, 1)], pin.changes


def test_light_refuses_an_unknown_pattern():
    light = tray.Light(FakePin(), ManualClock(0))
    try:
        light.set(9, 0)
    except ValueError:
        return
    raise AssertionError("no ValueError")
