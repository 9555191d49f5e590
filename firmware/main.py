"""The peripheral controller on the RP2040: build the pins, the link and the drivers, and run."""

import os
import time

import board
import controller
import link
import micropython
import watchdog

WATCHDOG_MS = 4000

micropython.kbd_intr(-1)  # the link's bytes may hold 0x03: it must not interrupt the program
clock = time.ticks_ms
session = int.from_bytes(os.urandom(2), "big")  # a new number each start (the clock starts alike)
end = link.Link(board.UsbSerial(), clock, session=session)
devices = controller.build_devices(board.make_pins(), clock)
app = controller.Controller(
    end, clock, devices, store=controller.EscrowStore("escrow.dat"), reset_cause=board.reset_cause()
)
app.watchdog = watchdog.Watchdog(WATCHDOG_MS, clock)  # last: once started it cannot be stopped
app.run()
