"""The terminal's devices as the workflow sees them (:mod:`kiosk.ports`): the card slot over any
card reader, and in-process stand-ins for the coin mechanism, the printer and the light and buzzer
for tests, load runs and ``make run`` (``stand_ins.py``; the peripheral controller and the store's
printer have their own drivers)."""
