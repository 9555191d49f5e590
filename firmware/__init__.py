"""The peripheral controller's MicroPython firmware; ``firmware.link`` is shared with the kiosk host."""
