"""The watchdog wrapper on the unix port: a fake that records its feeding."""

import watchdog
from lossy import ManualClock


def test_unix_port_gets_the_fake():
    clock = ManualClock(0)
    dog = watchdog.Watchdog(2000, clock)
    assert isinstance(dog, watchdog.FakeWatchdog)


def test_fed_dog_does_not_trip_a_stuck_loop_would():
    clock = ManualClock(0)
    dog = watchdog.FakeWatchdog(2000, clock)
    for _ in range(10):
        clock.advance(1500)
        assert not dog.tripped()
        dog.feed()
    assert dog.feeds == 10 and dog.last_feed == 15000
    clock.advance(2001)
    assert dog.tripped()
