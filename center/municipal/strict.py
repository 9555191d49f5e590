"""Reading one JSON object strictly (settings, requests): each key at most once and read, the
right type and range, nothing left over; every problem an ``error`` naming its place. Binary
values are unpadded base64url (``docs/protocol.md`` section 2), each bounded by its field's own
byte limit."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from documents import b64url_decode

_MISSING: Any = object()


def base64url_chars(size: int) -> int:
    """The characters of ``size`` bytes in unpadded base64url: 4 for every 3, rounded up."""
    return -(-4 * size // 3)


class StrictObject:
    def __init__(self, document: Any, where: str, error: type[ValueError]) -> None:
        if not isinstance(document, Mapping):
            raise error(f"{where}: must be an object")
        self.document = document
        self.where = where
        self.error = error
        self.read: set[str] = set()

    def fail(self, key: str, problem: str) -> ValueError:
        return self.error(f"{self.where}.{key}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.document

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """The value of ``key`` as it is (``default``, or a refusal, when absent)."""
        self.read.add(key)
        if key not in self.document:
            if default is _MISSING:
                raise self.fail(key, "missing")
            return default
        return self.document[key]

    def take(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """The value of ``key``, of type ``kind`` (never a bool for another type)."""
        value = self.raw(key, default)
        if value is default and key not in self.document:
            return value
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(key, "wrong type")
        return value

    def text(self, key: str, longest: int = 200) -> str:
        """Non-blank, at most ``longest`` characters, no control characters (全角 spaces are fine)."""
        value: str = self.take(key, str)
        if not value.strip() or len(value) > longest or any(unicodedata.category(c)[0] == "C" for c in value):
            raise self.fail(key, f"must be 1-{longest} printable characters")
        return value

    def matching(self, key: str, pattern: re.Pattern[str]) -> str:
        value: str = self.take(key, str)
        if not pattern.fullmatch(value):
            raise self.fail(key, "malformed")
        return value

    def base64(self, key: str, longest: int) -> bytes:
        """1 to ``longest`` bytes in unpadded base64url: the text may be as long as ``longest``
        bytes take (every allowed value fits), and a longer one is refused before it is decoded."""
        text: str = self.take(key, str)
        if len(text) > base64url_chars(longest):
            raise self.fail(key, f"1-{longest} bytes")
        try:
            value = b64url_decode(text)
        except ValueError:
            raise self.fail(key, "not unpadded base64url") from None
        if not 1 <= len(value) <= longest:
            raise self.fail(key, f"1-{longest} bytes")
        return value

    def integer(self, key: str, low: int, high: int, default: Any = _MISSING) -> int:
        value = self.raw(key, default)
        if type(value) is not int or not low <= value <= high:
            raise self.fail(key, f"must be an integer from {low} to {high}")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value: bool = self.take(key, bool, default)
        return value

    def mapping(self, key: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.take(key, Mapping)
        return value

    def list_of_text(self, key: str) -> list[str]:
        value = self.take(key, list)
        if not all(isinstance(item, str) for item in value):
            raise self.fail(key, "must be a list of strings")
        return list(value)

    def done(self) -> None:
        unknown = sorted(set(self.document) - self.read)
        if unknown:
            raise self.error(f"{self.where}: unknown key {unknown[0]!r}")
