"""The maintenance door and the tamper switch: maintenance mode and the latched alarm.

The interrupt handlers only count rising edges (door opening, tamper tripping); ``poll(now)`` turns
them, and the levels, into latched alarm causes (``ALARM_*`` bits) that stay set until ``clear()`` is
called in maintenance mode. A door opened in maintenance mode raises nothing.
"""

import messages
from ticks import MASK, elapsed

DEBOUNCE_MS = 30


def _rising(pin):
    return getattr(pin, "IRQ_RISING", 1)


class Guard:
    def __init__(self, door, tamper, clock, debounce_ms=DEBOUNCE_MS):
        self.door = door
        self.tamper = tamper
        self.debounce_ms = debounce_ms
        self.maintenance = False
        self.latched = 0  # ALARM_* bits
        self.door_open = 1 if door.value() else 0  # debounced, reported as DOOR events
        self._candidate = self.door_open
        self._since = clock()
        # written only by the interrupt handlers
        self.door_edges = 0
        self.tamper_edges = 0
        # written only by poll (what the handlers' counts were when last looked at)
        self._door_seen = 0
        self._tamper_seen = 0
        self._door_irq = self._on_door  # bound once: binding inside the handler would allocate
        self._tamper_irq = self._on_tamper
        door.irq(self._door_irq, _rising(door))
        tamper.irq(self._tamper_irq, _rising(tamper))

    def _on_door(self, pin):
        if not self.maintenance:
            self.door_edges = (self.door_edges + 1) & MASK

    def _on_tamper(self, pin):
        self.tamper_edges = (self.tamper_edges + 1) & MASK

    def set_maintenance(self, on):
        self.maintenance = bool(on)

    def clear(self):
        """Clear the latched alarm; only in maintenance mode. Returns True when cleared."""
        if not self.maintenance:
            return False
        self.latched = 0
        self._door_seen = self.door_edges
        self._tamper_seen = self.tamper_edges
        return True

    def poll(self, now):
        """Latch new causes; return the new debounced door state when it changed, else None."""
        if self.tamper_edges != self._tamper_seen or self.tamper.value():
            self._tamper_seen = self.tamper_edges
            self.latched |= messages.ALARM_TAMPER
        door = 1 if self.door.value() else 0
        if self.door_edges != self._door_seen or (door and not self.maintenance):
            self._door_seen = self.door_edges
            self.latched |= messages.ALARM_DOOR
        changed = None
        if door != self._candidate:
            self._candidate = door
            self._since = now
        elif door != self.door_open and elapsed(now, self._since) >= self.debounce_ms:
            self.door_open = door
            changed = door
        return changed
