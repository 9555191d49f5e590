"""Deterministic CBOR (決定的CBOR, RFC 8949 §4.2): one byte string for one value, so that a
signature over it means one thing and a sealed message has one form.

**Writing** is cbor2's ``canonical=True``: every item in its shortest form, definite lengths, map
keys sorted by their encodings' length, then bytewise. For the keys this protocol's maps hold (text
keys, or small integer keys: the COSE headers and the page code's claims) that is exactly RFC 8949
§4.2.1's core deterministic order (bytewise order of the keys' encodings), which the specification
states.

**Reading** (:func:`decode`) is bounded (size, nesting) and strict: no indefinite lengths, no
duplicate keys, and the bytes must be exactly the deterministic encoding of what they hold, so one
value has one form and any change is a refusal. Everything refused is
:class:`~documents.errors.MalformedDocument`, whose message never quotes the data.

**Plain values** (:func:`check_plain`) are what a document's content, an offer and a refusal may
hold: maps with text keys, arrays, text, integers within ±(2**53 - 1) (so a JSON reader of the same
content reads them exactly, as I-JSON asks), booleans and null; byte strings only where a format
says so. No floats: amounts are integer yen.
"""

from __future__ import annotations

from typing import Any

import cbor2

from documents.errors import MalformedDocument

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1


def encode(value: Any) -> bytes:
    """The deterministic encoding of ``value``."""
    return bytes(cbor2.dumps(value, canonical=True))


def decode(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_DEPTH, what: str) -> Any:
    """The value ``data`` holds, if ``data`` is at most ``max_bytes`` of deterministic CBOR nested at
    most ``max_depth`` deep (cbor2 counts the top item as 0); else :class:`MalformedDocument`
    naming ``what``."""
    if not isinstance(data, bytes | bytearray):
        raise MalformedDocument(f"the {what} is not a byte string")
    if len(data) > max_bytes:
        raise MalformedDocument(f"the {what} is over {max_bytes} bytes")
    try:
        value = cbor2.loads(
            bytes(data), max_depth=max_depth, allow_indefinite=False, allow_duplicate_keys=False
        )
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError, UnicodeError):
        raise MalformedDocument(f"the {what} is not CBOR within the limits") from None
    if not is_deterministic(data, value):
        raise MalformedDocument(f"the {what} is not deterministic CBOR")
    return value


def is_deterministic(data: bytes, value: Any) -> bool:
    """Whether ``data`` is exactly the deterministic encoding of ``value``."""
    try:
        return encode(value) == bytes(data)
    except (cbor2.CBOREncodeError, ValueError, TypeError, OverflowError, RecursionError):
        return False


def check_plain(value: Any, *, max_depth: int = MAX_DEPTH, allow_bytes: bool = False) -> None:
    """``ValueError`` unless ``value`` is a plain value (see the module's docstring) nested at most
    ``max_depth`` deep (the top item at depth 1). Iterative, so the depth is ours to limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise ValueError(f"nested deeper than {max_depth}")
        kind = type(item)
        if kind is dict:
            for key, element in item.items():
                if type(key) is not str:
                    raise ValueError("map keys must be text")
                _check_text(key)
                stack.append((element, depth + 1))
        elif kind is list:
            stack.extend((element, depth + 1) for element in item)
        elif kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                raise ValueError("integers must be within ±(2**53 - 1)")
        elif kind is str:
            _check_text(item)
        elif kind is bytes and allow_bytes:
            continue
        elif kind is float:
            raise ValueError("floats are not allowed (amounts are integer yen)")
        elif kind not in (bool, type(None)):
            raise ValueError(f"{kind.__name__} is not a plain value")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be Unicode scalar values (no unpaired surrogates)") from None
