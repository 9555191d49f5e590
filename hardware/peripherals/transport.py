"""Byte transports for :class:`firmware.link.Link` on the host: ``write(data)`` and a non-blocking
``read()``, plus ``fileno()`` so the link thread can sleep in ``select`` until bytes arrive.

- :class:`SerialTransport`: the board's USB serial port (``/dev/ttyACM0``) through pyserial.
- :class:`FdTransport`: a file descriptor, such as the master side of the simulator's pseudo-terminal.
"""

from __future__ import annotations

import os
import tty

import serial

from hardware.peripherals.errors import ControllerUnavailable

BAUD = 115_200  # USB CDC ignores it; a UART bridge does not
READ_CHUNK = 512


class FdTransport:
    """A non-blocking file descriptor (not closed by this object unless :meth:`close` is called)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        if os.isatty(fd):
            tty.setraw(fd)  # no echo, no line discipline: the frames' bytes pass as they are

    def fileno(self) -> int:
        return self.fd

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                try:
                    view = view[os.write(self.fd, view) :]
                except BlockingIOError:
                    return  # the line is full: the link's retransmission covers what is dropped
        except OSError as error:
            raise ControllerUnavailable(f"cannot write to the controller: {error.strerror}") from None

    def read(self) -> bytes:
        try:
            return os.read(self.fd, READ_CHUNK)
        except BlockingIOError:
            return b""
        except OSError:  # the other side is gone (EIO on a pty whose slave closed): nothing to read
            return b""

    def close(self) -> None:
        os.close(self.fd)


class SerialTransport:
    """The board's serial port (pyserial, non-blocking)."""

    def __init__(self, port: str, *, baud: int = BAUD) -> None:
        try:
            self._serial = serial.Serial(port, baud, timeout=0, write_timeout=0.5)
        except serial.SerialException as error:
            raise ControllerUnavailable(f"cannot open {port}: {error}") from None

    def fileno(self) -> int:
        return int(self._serial.fileno())

    def write(self, data: bytes) -> None:
        try:
            self._serial.write(data)
        except serial.SerialTimeoutException:
            return  # dropped: the link retransmits
        except serial.SerialException as error:
            raise ControllerUnavailable(f"cannot write to the controller: {error}") from None

    def read(self) -> bytes:
        try:
            return bytes(self._serial.read(READ_CHUNK))
        except serial.SerialException:
            return b""

    def close(self) -> None:
        self._serial.close()
