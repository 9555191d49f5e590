"""An in-memory serial line that loses, corrupts and repeats bytes, and a clock the test moves.

Runs on MicroPython and CPython; randomness comes from an injected ``rand(n)`` (0 <= result < n), so a
test seeds it: ``random.Random(seed).randrange`` on CPython, ``XorShift(seed).rand`` anywhere.
"""

try:
    from link import DOWN, HANDSHAKE, QueueFull
except ImportError:
    from firmware.link import DOWN, HANDSHAKE, QueueFull


class XorShift:
    """A small seeded generator for interpreters without ``random``."""

    def __init__(self, seed):
        self._state = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def rand(self, n):
        x = self._state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._state = x
        return x % n


class LossyLine:
    """One direction of the line; rates are per thousand bytes (drop, corrupt) or writes (duplicate)."""

    def __init__(self, rand, drop=0, corrupt=0, duplicate=0):
        self._rand = rand
        self.drop = drop
        self.corrupt = corrupt
        self.duplicate = duplicate
        self._pending = bytearray()

    def write(self, data):
        rand = self._rand
        out = bytearray()
        for byte in data:
            if self.drop and rand(1000) < self.drop:
                continue
            if self.corrupt and rand(1000) < self.corrupt:
                byte ^= 1 << rand(8)
            out.append(byte)
        self._pending.extend(out)
        if self.duplicate and rand(1000) < self.duplicate:
            self._pending.extend(out)
        return len(data)

    def read(self):
        data = bytes(self._pending)
        self._pending = bytearray()
        return data


class Port:
    """One end's transport: it writes into one line and reads from the other."""

    def __init__(self, outgoing, incoming):
        self._outgoing = outgoing
        self._incoming = incoming

    def write(self, data):
        return self._outgoing.write(data)

    def read(self):
        return self._incoming.read()


def port_pair(to_b, to_a):
    """Transports for ends A and B over the lines ``to_b`` (A writes) and ``to_a`` (B writes)."""
    return Port(to_b, to_a), Port(to_a, to_b)


class ManualClock:
    """Milliseconds that pass only when the test says so."""

    def __init__(self, start=0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, ms):
        self.now += ms


def converse(a, b, clock, for_b, for_a, step_ms=10, max_steps=20000):
    """Shake hands, send ``for_b`` from A and ``for_a`` from B until all is acknowledged or a side is down.

    Returns ``(received_by_a, received_by_b)`` as lists of ``(code, data)``.
    """
    waiting = [list(for_b), list(for_a)]
    received = [[], []]
    ends = (a, b)
    for _ in range(max_steps):
        for i in (0, 1):
            while waiting[i]:
                try:
                    ends[i].send(*waiting[i][0])
                except QueueFull:
                    break
                waiting[i].pop(0)
        received[0].extend(a.poll())
        received[1].extend(b.poll())
        if a.state == DOWN or b.state == DOWN:
            break
        shaken = a.state != HANDSHAKE and b.state != HANDSHAKE
        if shaken and not waiting[0] and not waiting[1] and a.idle and b.idle:
            break
        clock.advance(step_ms)
    return received[0], received[1]
