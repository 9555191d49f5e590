"""The maintenance door, the tamper switch, the latched alarm."""

import guard
import messages
from fakes import FakePin
from lossy import ManualClock


def make():
    clock = ManualClock(0)
    door = FakePin()
    tamper = FakePin()
    return guard.Guard(door, tamper, clock), door, tamper


def test_door_outside_maintenance_latches_at_once():
    g, door, _ = make()
    door.set(1)
    door.set(0)  # opened and shut between two passes: the interrupt saw it
    g.poll(0)
    assert g.latched == messages.ALARM_DOOR
    g.poll(100)
    assert g.latched == messages.ALARM_DOOR  # latched: stays after the door shut


def test_door_in_maintenance_is_no_alarm_and_is_reported():
    g, door, _ = make()
    g.set_maintenance(1)
    door.set(1)
    assert g.poll(0) is None
    assert g.poll(30) == 1 and g.door_open == 1
    door.set(0)
    g.poll(40)
    assert g.poll(70) == 0
    assert g.latched == 0


def test_leaving_maintenance_with_the_door_open_latches():
    g, door, _ = make()
    g.set_maintenance(1)
    door.set(1)
    g.poll(0)
    g.set_maintenance(0)
    g.poll(10)
    assert g.latched == messages.ALARM_DOOR


def test_tamper_latches_and_clears_only_in_maintenance():
    g, _, tamper = make()
    tamper.pulse(1)
    g.poll(0)
    assert g.latched == messages.ALARM_TAMPER
    assert not g.clear()
    assert g.latched == messages.ALARM_TAMPER
    g.set_maintenance(1)
    assert g.clear()
    g.poll(10)
    assert g.latched == 0


def test_tamper_level_still_high_latches_again_after_clear():
    g, _, tamper = make()
    tamper.set(1)
    g.set_maintenance(1)
    g.poll(0)
    assert g.clear()
    g.poll(10)
    assert g.latched == messages.ALARM_TAMPER


def test_both_causes():
    g, door, tamper = make()
    door.set(1)
    tamper.set(1)
    g.poll(0)
    assert g.latched == messages.ALARM_DOOR | messages.ALARM_TAMPER
