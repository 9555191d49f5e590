"""Interrupt handlers allocate nothing: each runs with the heap locked (allocation raises MemoryError)."""

import coins
import guard
import micropython
from fakes import FakePin
from lossy import ManualClock


def locked(handler, pin, times=3):
    micropython.heap_lock()
    try:
        for _ in range(times):
            handler(pin)
    finally:
        micropython.heap_unlock()


def test_the_check_catches_an_allocating_handler():
    pin = FakePin()
    box = []

    def allocating(p):
        box.append([p])

    try:
        locked(allocating, pin)
    except MemoryError:
        return
    raise AssertionError("an allocating handler ran with the heap locked")


def test_coin_pulse_handler_does_not_allocate():
    clock = ManualClock(0)
    pulse = FakePin()
    hopper_exit = FakePin()
    hopper = coins.Hopper(10, FakePin(), hopper_exit)
    acceptor = coins.Coins(pulse, FakePin(), FakePin(), FakePin(), [hopper], clock)
    acceptor.pulses = 0x3FFFFFFE  # across the wrap too
    locked(pulse.handler, pulse)
    assert acceptor.pulses == 1
    locked(hopper_exit.handler, hopper_exit)
    assert hopper.count == 3


def test_guard_handlers_do_not_allocate():
    door = FakePin()
    tamper = FakePin()
    g = guard.Guard(door, tamper, ManualClock(0))
    locked(door.handler, door)
    locked(tamper.handler, tamper)
    g.set_maintenance(1)
    locked(door.handler, door)
    assert (g.door_edges, g.tamper_edges) == (3, 3)


def test_handlers_are_bound_once():
    pulse = FakePin()
    acceptor = coins.Coins(pulse, FakePin(), FakePin(), FakePin(), [], ManualClock(0))
    assert pulse.handler is acceptor._irq
