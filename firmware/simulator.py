"""The peripheral controller on the MicroPython unix port, for the host-side simulator.

``micropython firmware/simulator.py --serial <pty> [--state <dir>] [--session <n>]`` with
MICROPYPATH=firmware. The link runs over the pty; the pins over stdin/stdout (see board_unix.py).
"""

import sys
import time

import board_unix
import controller
import link
import messages
import watchdog


def arguments(argv):
    options = {"serial": None, "state": None, "session": None}
    i = 0
    while i < len(argv):
        name = argv[i]
        if name.startswith("--") and name[2:] in options and i + 1 < len(argv):
            options[name[2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return options


def main(argv):
    options = arguments(argv)
    if options["serial"] is None:
        sys.stderr.write("usage: simulator.py --serial <pty> [--state <dir>] [--session <n>]\n")
        sys.exit(2)
    clock = time.ticks_ms
    if options["session"] is not None:
        session = int(options["session"]) & 0xFFFF
    else:
        session = (time.time_ns() // 1000000) & 0xFFFF  # differs from one start to the next
    transport = board_unix.PtyTransport(options["serial"])
    end = link.Link(transport, clock, session=session)
    pins = board_unix.make_pins()
    devices = controller.build_devices(pins, clock)
    store = controller.EscrowStore(None if options["state"] is None else options["state"] + "/escrow.dat")
    app = controller.Controller(
        end,
        clock,
        devices,
        watchdog=watchdog.FakeWatchdog(8000, clock),
        store=store,
        reset_cause=messages.RESET_SOFT,
    )
    console = board_unix.Console(pins)
    board_unix.say("ready")
    app.run(pause=lambda: console.poll(1))


if __name__ == "__main__":
    main(sys.argv[1:])
