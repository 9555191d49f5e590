"""The board layer of the MicroPython unix port: fake pins over stdin/stdout, the link over a pty.

Line protocol (ASCII, one per line; docs/firmware.md, "The simulator"):
stdin → firmware: ``set <pin> <0|1>``, ``pulse <pin> <n>``, ``reset`` (exit 3), ``quit`` (exit 0);
stdout ← firmware: ``ready``, ``out <pin> <0|1>``. Nothing else goes to stdout.
"""

import select
import sys
import termios

import controller

IRQ_FALLING = 4
IRQ_RISING = 8
EXIT_RESET = 3


def say(line):
    """One line to the host-side simulator, flushed."""
    out = sys.stdout
    out.write(line + "\n")
    if hasattr(out, "flush"):
        out.flush()


class SimPin:
    """A pin at its logical level. Outputs report each change on stdout; inputs are set from stdin."""

    IRQ_FALLING = IRQ_FALLING
    IRQ_RISING = IRQ_RISING

    def __init__(self, name, output=False, level=0):
        self.name = name
        self.output = output
        self.level = level
        self.handler = None
        self.trigger = 0
        if output:
            say("out " + name + " " + str(level))

    def value(self, level=None):
        if level is None:
            return self.level
        level = 1 if level else 0
        if level != self.level:
            self.level = level
            if self.output:
                say("out " + self.name + " " + str(level))

    def irq(self, handler=None, trigger=IRQ_RISING | IRQ_FALLING):
        self.handler = handler
        self.trigger = trigger

    def drive(self, level):
        """The outside world sets this input; its handler runs on the matching edge."""
        level = 1 if level else 0
        if level == self.level:
            return
        self.level = level
        edge = IRQ_RISING if level else IRQ_FALLING
        if self.handler is not None and self.trigger & edge:
            self.handler(self)


def make_pins():
    pins = {}
    for name in controller.INPUTS:
        pins[name] = SimPin(name)
    for name in controller.OUTPUTS:
        pins[name] = SimPin(name, output=True)
    return pins


class LineReader:
    """Reads bytes from a file without blocking (one byte at a time while poll says more are waiting)."""

    def __init__(self, file):
        self.file = file
        self.poller = select.poll()
        self.poller.register(file, select.POLLIN)
        self._byte = bytearray(1)
        self.closed = False

    def read(self, limit=256, timeout_ms=0):
        data = bytearray()
        while len(data) < limit and not self.closed:
            ready = self.poller.poll(timeout_ms if not data else 0)
            if not ready:
                break
            if ready[0][1] & select.POLLIN and self.file.readinto(self._byte) == 1:
                data.append(self._byte[0])
            else:
                self.closed = True  # end of file or hang-up
        return bytes(data)


class PtyTransport:
    """The link's transport over the pty the host-side simulator made (raw mode, non-blocking reads)."""

    def __init__(self, path):
        self.file = open(path, "r+b")  # noqa: SIM115 (open as long as the program runs)
        termios.setraw(self.file.fileno())
        self.reader = LineReader(self.file)

    def write(self, data):
        self.file.write(data)
        return len(data)

    def read(self):
        return self.reader.read()


class Console:
    """The commands on stdin: ``set``, ``pulse``, ``reset``, ``quit``; unknown lines are ignored."""

    def __init__(self, pins, stream=None):
        self.pins = pins
        stream = stream if stream is not None else getattr(sys.stdin, "buffer", sys.stdin)
        self.reader = LineReader(stream)
        self._pending = b""

    def poll(self, timeout_ms=0):
        """Carry out the complete lines waiting (waiting up to ``timeout_ms`` for the first byte)."""
        data = self.reader.read(4096, timeout_ms)
        if data:
            self._pending += data
            while b"\n" in self._pending:
                line, self._pending = self._pending.split(b"\n", 1)
                self.command(line.decode().strip())
        if self.reader.closed:
            sys.exit(0)  # the host-side simulator is gone: stop like ``quit``

    def command(self, line):
        words = line.split()
        if not words:
            return
        if words[0] == "quit":
            sys.exit(0)
        if words[0] == "reset":
            sys.exit(EXIT_RESET)
        if len(words) != 3 or words[0] not in ("set", "pulse"):
            return
        pin = self.pins.get(words[1])
        if pin is None or pin.output:
            return
        try:
            number = int(words[2])
        except ValueError:
            return
        if words[0] == "set":
            if number in (0, 1):
                pin.drive(number)
        else:
            for _ in range(max(0, min(number, 1000))):
                pin.drive(1)
                pin.drive(0)
