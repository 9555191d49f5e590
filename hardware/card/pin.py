"""The PIN in memory (暗証番号): a mutable buffer that is wiped as soon as the card has it.

Python strings and ``bytes`` are immutable and cannot be erased, so the kiosk never puts a PIN in
one: digits go from the keypad into a :class:`PinBuffer` (a ``bytearray``), the VERIFY command is
assembled in another ``bytearray``, and both are zeroed right after the card answers. Copies made
beyond our reach (by pyscard or the operating system) are short-lived and not written anywhere.
"""

from __future__ import annotations

from types import TracebackType

from hardware.card.errors import InvalidPinFormatError
from hardware.card.profile import PinPolicy


class PinBuffer:
    """Holds up to ``max_length`` ASCII characters; never shows them in ``repr`` or ``str``."""

    __slots__ = ("_buffer", "_length", "policy")

    def __init__(self, policy: PinPolicy) -> None:
        self.policy = policy
        self._buffer = bytearray(policy.max_length)
        self._length = 0

    @classmethod
    def of(cls, policy: PinPolicy, text: str) -> PinBuffer:
        """For tests, command-line tools and the demo: copy ``text`` in (the caller's string stays)."""
        pin = cls(policy)
        for char in text:
            pin.append(char)
        return pin

    def append(self, char: str) -> None:
        if len(char) != 1 or not char.isascii():
            raise InvalidPinFormatError(f"{self.policy.name}: not an ASCII character")
        if self._length >= len(self._buffer):
            raise InvalidPinFormatError(f"{self.policy.name}: too long")
        self._buffer[self._length] = ord(char)
        self._length += 1

    def backspace(self) -> None:
        if self._length:
            self._length -= 1
            self._buffer[self._length] = 0

    def __len__(self) -> int:
        return self._length

    def validated(self) -> bytearray:
        """A view-copy for the VERIFY command (a ``bytearray`` the caller must wipe).

        :class:`InvalidPinFormatError` if the value does not have the form the card requires, so a
        malformed PIN never reaches the card and never costs a try.
        """
        value = self._buffer[: self._length]
        reason = self.policy.check(value) if value else f"{self.policy.name} is empty"
        if reason:
            wipe(value)
            raise InvalidPinFormatError(reason)
        return value

    def wipe(self) -> None:
        wipe(self._buffer)
        self._length = 0

    def __enter__(self) -> PinBuffer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wipe()

    def __repr__(self) -> str:
        return f"PinBuffer({self.policy.name!r}, {self._length} characters)"

    __str__ = __repr__


def wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
